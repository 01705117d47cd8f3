"""Conversion speed and memory of labelspec against peer converters, as whole processes, in one run.

    python benchmarks/convert.py [--images 20000] [--samples 200] [--repeat 3] [--no-train2017]
                                 [--out benchmarks/RESULTS.md]

Input: a COCO instance file generated at a fixed seed into ``benchmarks/.cache/`` (not committed; reused
when present): ``--images`` images (default 20 000, about 6.7 objects each, 80 categories), every object
with a polygon, its bbox and area, as COCO writes them; a file of train2017's size (118 000 images, about
790 000 objects, 224 MB; ``--no-train2017`` skips it) on which labelspec and labelformat are measured once
(peak memory: issue 14's "memory stays bounded"), converted to YOLO and to COCO instance
(``--coco-to-coco`` runs the latter on ``--images`` without the large file). A Segments.ai
``segmentation-bitmap`` release of ``--samples`` samples (640x480, 2 to 9 instances each, image and
label bitmap PNGs generated at a fixed seed into the cache) whose media URLs point at an HTTP server this
script starts on 127.0.0.1.

Tools, each its own process run by a small wrapper process that reports the tool's wall time, its user
and system CPU time and its peak RSS (``getrusage(RUSAGE_CHILDREN)`` of its only child); the row is the
run with the least CPU time of ``--repeat`` runs, with the 1-minute load average before it. On a shared
machine CPU time is the fairer comparison (load stretches wall time, much less CPU time); the generated
notes give both ratios and call a target met only when labelspec is at least as fast by both.

- ``labelspec convert coco.json --to yolo`` (validation of the input and of the output included);
- labelformat (the ``bench`` extra): ``labelformat convert --task object-detection --input-format coco
  --output-format yolov8``, which neither validates its input nor its output;
- Segments bitmap release -> COCO instance: ``labelspec convert release.json --to coco-instance
  --allow-private-network`` against the segments-ai SDK's ``SegmentsDataset`` + ``export_dataset(...,
  export_format="coco-instance")`` (the test extra); both fetch the bitmaps from the local server into an
  empty cache at every run (the SDK also fetches every image: its loader does).

The results replace the conversion section of ``benchmarks/RESULTS.md`` (between the
``<!-- conversions -->`` markers; ``benchmarks/run.py`` keeps that section when it rewrites the file), which
the documentation site includes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import io
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CACHE, PYTHON  # noqa: E402  (the validation benchmark's cache folder and interpreter)

BEGIN, END = "<!-- conversions -->", "<!-- /conversions -->"
SEED = 14
TRAIN2017_IMAGES = 118_000
TARGET_RATIO = 1.0  # issue 14: a conversion, validation included, at least as fast as the peer
SCRATCH = CACHE / "convert-outputs"  # every run's output, removed at the end (see scratch())
RECENTLY_DELETED_S = 65  # ext4 (no journal) skips inodes deleted this recently (60 s once written back)
MEMORY_TARGET = 2**30  # issue 14: memory stays bounded on a train2017-sized COCO file (well under 1 GiB)


def coco_input(images: int) -> Path:
    path = CACHE / f"coco-{images}.json"
    if path.exists() and path.with_suffix(".objects").exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    out: dict[str, list[dict[str, object]]] = {"images": [], "annotations": []}
    next_id = 1
    for image_id in range(1, images + 1):
        width, height = rng.choice([(640, 480), (640, 427), (500, 375), (1280, 720)])
        out["images"].append(
            {"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": width, "height": height}
        )
        for _ in range(rng.choice([2, 4, 6, 7, 8, 9, 11])):
            x, y = rng.uniform(0, width - 20), rng.uniform(0, height - 20)
            w, h = rng.uniform(5, width - x), rng.uniform(5, height - y)
            polygon: list[float] = []
            for _ in range(rng.randint(4, 12)):
                polygon += [round(x + rng.uniform(0, w), 2), round(y + rng.uniform(0, h), 2)]
            out["annotations"].append(
                {
                    "id": next_id,
                    "image_id": image_id,
                    "category_id": rng.randint(1, 80),
                    "segmentation": [polygon],
                    "area": round(w * h * 0.6, 2),
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "iscrowd": 0,
                }
            )
            next_id += 1
    document = {
        "info": {"description": "labelspec benchmark"},
        "images": out["images"],
        "annotations": out["annotations"],
        "categories": [{"id": i, "name": f"class_{i}", "supercategory": "thing"} for i in range(1, 81)],
    }
    path.write_text(json.dumps(document))
    path.with_suffix(".objects").write_text(str(len(out["annotations"])))
    return path


# ---------------------------------------------------------------------- Segments bitmap release peer

SEGMENTS_SDK = """
import sys
from segments import SegmentsDataset
from segments.utils import export_dataset
dataset = SegmentsDataset(sys.argv[1], labelset="ground-truth", segments_dir=sys.argv[2])
export_dataset(dataset, export_folder=sys.argv[3], export_format="coco-instance")
"""


def segments_media(samples: int) -> tuple[Path, list[list[dict[str, int]]]]:
    """The folder of images and label bitmaps (``img-N.png``, ``bitmap-N.png``) and each sample's objects."""
    import numpy as np
    from PIL import Image

    from labelspec.codecs.segments_bitmap import ids_to_rgba

    root = CACHE / f"segments-{samples}"
    objects_file = root / "objects.json"
    if objects_file.exists():
        return root, json.loads(objects_file.read_text())
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    every: list[list[dict[str, int]]] = []
    for n in range(samples):
        ids = np.zeros((480, 640), np.uint32)
        objects = []
        for instance in range(1, rng.randint(2, 9) + 1):
            x, y = rng.randrange(0, 600), rng.randrange(0, 440)
            ids[y : y + rng.randint(20, 200), x : x + rng.randint(20, 200)] = instance
            objects.append({"id": instance, "category_id": rng.randint(1, 5)})
        shade = np.full((480, 640, 3), rng.randrange(256), np.uint8)
        for name, array in ((f"img-{n}.png", shade), (f"bitmap-{n}.png", ids_to_rgba(ids))):
            buffer = io.BytesIO()
            Image.fromarray(array).save(buffer, format="PNG")
            (root / name).write_bytes(buffer.getvalue())
        every.append(objects)
    objects_file.write_text(json.dumps(every))
    return root, every


def segments_release(objects: list[list[dict[str, int]]], base: str, path: Path) -> Path:
    samples = [
        {
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "name": f"sample-{n}.png",
            "attributes": {"image": {"url": f"{base}/img-{n}.png"}},
            "metadata": {},
            "labels": {
                "ground-truth": {
                    "label_status": "LABELED",
                    "attributes": {
                        "format_version": "0.1",
                        "annotations": [{**o, "attributes": {}} for o in sample],
                        "segmentation_bitmap": {"url": f"{base}/bitmap-{n}.png"},
                    },
                }
            },
        }
        for n, sample in enumerate(objects)
    ]
    categories = [{"id": i, "name": f"class_{i}", "color": [40 * i, 0, 0]} for i in range(1, 6)]
    release = {
        "name": "v1",
        "description": "",
        "created_at": "2024-08-08 21:18:34.274388+00:00",
        "dataset": {
            "name": "bench",
            "description": "",
            "owner": "jane",
            "task_type": "segmentation-bitmap",
            "task_attributes": {"format_version": "0.1", "categories": categories},
            "labelsets": [{"name": "ground-truth", "description": ""}],
            "samples": samples,
        },
    }
    path.write_text(json.dumps(release))
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def served(root: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving ``root``; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def segments_rows(samples: int, repeat: int) -> list[Row]:
    """labelspec and the segments-ai SDK, each from an empty cache, on one release served locally."""
    root, objects = segments_media(samples)
    rows: list[Row] = []
    local = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    label = f"Segments bitmap release, {samples} samples 640x480 ({sum(map(len, objects))} objects)"

    with served(root) as base:
        release = segments_release(objects, base, CACHE / f"segments-{samples}.json")

        def labelspec(work: Path) -> list[str]:
            return [PYTHON, "-m", "labelspec", "convert", str(release), "--to", "coco-instance", "-o",
                    str(work / "out.json"), "--allow-private-network", "--force"]  # fmt: skip

        def sdk(work: Path) -> list[str]:
            return [PYTHON, "-c", SEGMENTS_SDK, str(release), str(work / "sdk-cache"), str(work / "sdk-out")]

        for tool, command in (
            ("labelspec convert --to coco-instance (validates input and output)", labelspec),
            ("segments-ai SDK export_dataset (coco-instance, no validation)", sdk),
        ):
            rows.append(
                measure(
                    label,
                    tool,
                    command,
                    repeat,
                    lambda work: {**local, "LABELSPEC_CACHE_DIR": str(work / "cache")},
                )
            )
    return rows


def _labelformat() -> str | None:
    found = shutil.which("labelformat", path=str(Path(PYTHON).parent))
    return found or shutil.which("labelformat")


@dataclass(frozen=True)
class Row:
    input: str
    tool: str
    wall: float  # seconds
    user: float  # CPU seconds
    sys: float
    rss: int  # bytes
    load: float  # 1-minute load average before the run

    @property
    def cpu(self) -> float:
        return self.user + self.sys


# Runs argv[1:] as the only child; prints its wall time, CPU times and peak RSS as JSON.
PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write(done.stderr.decode(errors="replace")[-2000:] if done.returncode else "")
print(json.dumps({"code": done.returncode, "wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime,
                  "rss": usage.ru_maxrss * 1024}))
"""


def measure(
    label: str,
    tool: str,
    command: Callable[[Path], list[str]],
    repeat: int,
    env: Callable[[Path], dict[str, str]] | None = None,
) -> Row:
    """The run with the least CPU time of ``repeat``; every run gets a new empty folder of its own
    (``command(folder)``, ``env(folder)``) that stays until the whole benchmark is over (:func:`scratch`)."""
    best: Row | None = None
    for _ in range(max(repeat, 1)):
        folder = Path(tempfile.mkdtemp(dir=SCRATCH))
        load = os.getloadavg()[0]
        done = subprocess.run(
            [PYTHON, "-c", PROBE, *command(folder)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env(folder) if env is not None else {})},
        )
        result = json.loads(done.stdout)
        assert result["code"] == 0, f"{tool} failed ({result['code']}): {done.stderr[-2000:]}"
        row = Row(label, tool, result["wall"], result["user"], result["sys"], result["rss"], load)
        if best is None or row.cpu < best.cpu:
            best = row
    assert best is not None
    return best


@contextmanager
def scratch() -> Iterator[Path]:
    """The folder the tools write their outputs into, removed only when every run is over.

    Why not remove each output before the next run: on ext4 without a journal (this machine's root file
    system) the inode allocator skips inodes deleted in the last 60 s (300 s while their inode table
    block is not written back: fs/ext4/ialloc.c, ``recently_deleted``), looking each one up, so a tool
    that creates 100 000 files right after 100 000 were deleted paid several seconds of system time for
    the deletion (seen in ``perf``: ``find_inode_bit`` -> ``recently_deleted``), and which tool paid it
    depended on the run order. A leftover of an interrupted run is removed first, then given that time."""
    if SCRATCH.exists():
        shutil.rmtree(SCRATCH, ignore_errors=True)
        os.sync()
        time.sleep(RECENTLY_DELETED_S)
    SCRATCH.mkdir(parents=True)
    try:
        yield SCRATCH
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


def coco_rows(images: int, repeat: int) -> list[Row]:
    """labelspec and labelformat converting one COCO file to YOLO (each run writes a new output folder)."""
    source = coco_input(images)
    objects, megabytes = int(source.with_suffix(".objects").read_text()), source.stat().st_size / 1e6
    label = f"COCO {images} images / {objects} objects ({megabytes:.0f} MB)"

    def labelspec(out: Path) -> list[str]:
        return [PYTHON, "-m", "labelspec", "convert", str(source), "--to", "yolo", "-o", str(out / "yolo")]

    rows = [measure(label, "labelspec convert --to yolo (validates input and output)", labelspec, repeat)]
    tool = _labelformat()
    if tool is not None:
        found = tool

        def labelformat(out: Path) -> list[str]:
            return [found, "convert", "--task", "object-detection", "--input-format", "coco",
                    "--input-file", str(source), "--output-format", "yolov8",
                    "--output-file", str(out / "yolo" / "data.yaml"), "--output-split", "train"]  # fmt: skip

        rows.append(
            measure(label, "labelformat convert (coco -> yolov8, no validation)", labelformat, repeat)
        )
    return rows


def coco_to_coco_rows(images: int) -> list[Row]:
    """Memory of a COCO -> COCO conversion (one run each): labelspec writes a clean file streamed, the
    output as it goes (the target is one JSON document); labelformat's COCO output for comparison."""
    source = coco_input(images)
    objects, megabytes = int(source.with_suffix(".objects").read_text()), source.stat().st_size / 1e6
    label = f"COCO {images} images / {objects} objects ({megabytes:.0f} MB) -> COCO instance"

    def labelspec(out: Path) -> list[str]:
        return [
            PYTHON,
            "-m",
            "labelspec",
            "convert",
            str(source),
            "--to",
            "coco-instance",
            "-o",
            str(out / "out.json"),
        ]

    rows = [measure(label, "labelspec convert --to coco-instance (validates input and output)", labelspec, 1)]
    tool = _labelformat()
    if tool is not None:
        found = tool

        def labelformat(out: Path) -> list[str]:
            return [found, "convert", "--task", "object-detection", "--input-format", "coco",
                    "--input-file", str(source), "--output-format", "coco",
                    "--output-file", str(out / "out.json")]  # fmt: skip

        rows.append(measure(label, "labelformat convert (coco -> coco, no validation)", labelformat, 1))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200, help="Segments release samples (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-train2017", action="store_true", help="skip the 118 000-image memory runs")
    parser.add_argument(
        "--coco-to-coco", action="store_true", help="with --no-train2017: the COCO -> COCO row on --images"
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    with scratch():
        rows = coco_rows(args.images, args.repeat)
        if not args.no_train2017:
            rows += coco_rows(TRAIN2017_IMAGES, 1)
            rows += coco_to_coco_rows(TRAIN2017_IMAGES)
        elif args.coco_to_coco:
            rows += coco_to_coco_rows(args.images)
        if args.samples:
            rows += segments_rows(args.samples, args.repeat)
    write_results(args.out, rows, " ".join(["python", "benchmarks/convert.py", *(argv or sys.argv[1:])]))
    return 0


def _verdict(ours: Row, peer: Row) -> str:
    wall, cpu = ours.wall / peer.wall, ours.cpu / peer.cpu
    met = "met" if wall <= TARGET_RATIO and cpu <= TARGET_RATIO else "NOT met"
    return (
        f"labelspec {ours.wall:.2f} s wall / {ours.cpu:.2f} s CPU against {peer.tool.split(' ')[0]} "
        f"{peer.wall:.2f} s / {peer.cpu:.2f} s: {wall:.2f}x the peer's wall time, {cpu:.2f}x its CPU time "
        f"(target at most {TARGET_RATIO:.2f}x by both: **{met}**)"
    )


def notes(rows: list[Row]) -> list[str]:
    """Generated from the numbers: each peer comparison against issue 14's speed target (labelspec, with
    validation of both ends, at least as fast as the peer on the same input: wall and CPU time), and the
    train2017-size memory target (peak RSS under MEMORY_TARGET)."""
    out: list[str] = []
    by_input: dict[str, list[Row]] = {}
    for row in rows:
        by_input.setdefault(row.input, []).append(row)
    for label, measured_rows in by_input.items():
        ours = next((r for r in measured_rows if r.tool.startswith("labelspec")), None)
        if ours is None:
            continue
        peers = [r for r in measured_rows if r is not ours]
        memory = f"peak RSS {ours.rss / 2**20:.0f} MiB" + "".join(
            f" against {r.tool.split(' ')[0]} {r.rss / 2**20:.0f} MiB" for r in peers
        )
        if " -> " in label:  # a memory row (COCO -> COCO): the issue sets no speed target there
            big = f" {TRAIN2017_IMAGES} images" in f" {label}"
            met = "met" if ours.rss < MEMORY_TARGET else "NOT met"
            target = f" (memory target: under {MEMORY_TARGET / 2**30:.0f} GiB: **{met}**)" if big else ""
            speed = "; ".join(
                f"{ours.cpu / p.cpu:.2f}x {p.tool.split(' ')[0]}'s CPU time (no speed target for this target)"
                for p in peers
            )
            out.append(f"- **{label}**: {memory}{target}" + (f"; {speed}" if speed else "") + ".")
            continue
        if f" {TRAIN2017_IMAGES} images" in f" {label}":
            met = "met" if ours.rss < MEMORY_TARGET else "NOT met"
            memory += f" (memory target: under {MEMORY_TARGET / 2**30:.0f} GiB at train2017 size: **{met}**)"
            out.append(f"- **{label}**: {memory}; " + "; ".join(_verdict(ours, p) for p in peers) + ".")
            continue
        speed = "; ".join(_verdict(ours, p) for p in peers) or f"labelspec {ours.wall:.2f} s"
        out.append(f"- **{label}**: {speed}; {memory}.")
    return out


def section(rows: list[Row], command: str) -> str:
    loads = [r.load for r in rows]
    lines = [
        BEGIN,
        "",
        "## Conversions",
        "",
        f"Measured {dt.date.today().isoformat()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, 1-minute load average {min(loads):.1f}..{max(loads):.1f} during the runs; "
        f"command: `{command}`. Whole processes: wall time, user + system CPU time and peak RSS of the "
        "tool's process (the run with the least CPU time); load: the 1-minute load average before that run. "
        "Compare tools within one table, not across dates.",
        "",
        "| input | tool | wall s | CPU s (user + sys) | peak RSS | load |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r.input} | {r.tool} | {r.wall:.2f} | {r.cpu:.2f} ({r.user:.2f} + {r.sys:.2f}) | "
            f"{r.rss / 2**20:.0f} MiB | {r.load:.1f} |"
            for r in rows
        ),
        "",
        "Notes (generated from the table):",
        "",
        *notes(rows),
        "",
        END,
    ]
    return "\n".join(lines)


_ROW = re.compile(
    r"\| (?P<input>[^|]+) \| (?P<tool>[^|]+) \| (?P<wall>[0-9.]+) \| [0-9.]+ \((?P<user>[0-9.]+) \+ "
    r"(?P<sys>[0-9.]+)\) \| (?P<rss>[0-9.]+) MiB \| (?P<load>[0-9.]+) \|"
)


def previous_rows(text: str) -> list[Row]:
    """The table rows of the conversion section already in RESULTS.md (as this script writes them; rows
    of the older layout without CPU times are not kept)."""
    if BEGIN not in text or END not in text:
        return []
    rows = []
    for line in text[text.index(BEGIN) : text.index(END)].splitlines():
        found = _ROW.fullmatch(line.strip())
        if found:
            rows.append(
                Row(
                    found["input"].strip(),
                    found["tool"].strip(),
                    float(found["wall"]),
                    float(found["user"]),
                    float(found["sys"]),
                    int(float(found["rss"]) * 2**20),
                    float(found["load"]),
                )
            )
    return rows


def write_results(out: Path, rows: list[Row], command: str) -> None:
    text = out.read_text() if out.exists() else "# Benchmark results\n"
    measured_now = {row.input for row in rows}
    kept = [row for row in previous_rows(text) if row.input not in measured_now]
    if kept:  # inputs this run did not measure keep their last measured rows (e.g. --no-train2017)
        rows = rows + kept
        command += " (rows of other inputs: from the previous run)"
    block = section(rows, command)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
