"""Conversion speed and memory of labelspec against peer converters, as whole processes, in one run.

    python benchmarks/convert.py [--images 20000] [--samples 300] [--repeat 1] [--train2017]
                                 [--out benchmarks/RESULTS.md]

Input: a COCO instance file generated at a fixed seed into ``benchmarks/.cache/`` (not committed; reused
when present): ``--images`` images (default 20 000, about 6.7 objects each, 80 categories), every object
with a polygon, its bbox and area, as COCO writes them. ``--train2017`` adds a file of train2017's size
(118 000 images) and measures labelspec's peak memory on it. A Segments.ai ``segmentation-bitmap``
release of ``--samples`` samples (640x480, 2 to 9 instances each, image and label bitmap PNGs generated at
a fixed seed into the cache) whose media URLs point at an HTTP server this script starts on 127.0.0.1.

Tools, each its own process, timed from outside (best of ``--repeat``), peak RSS of the process:

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
import platform
import random
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CACHE, PYTHON, measured, peak_rss, run  # noqa: E402  (the validation benchmark's process runner)

BEGIN, END = "<!-- conversions -->", "<!-- /conversions -->"
SEED = 14


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


def segments_rows(samples: int, repeat: int) -> list[tuple[str, str, float, int]]:
    """labelspec and the segments-ai SDK, each from an empty cache, on one release served locally."""
    root, objects = segments_media(samples)
    rows: list[tuple[str, str, float, int]] = []
    local = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    label = f"Segments bitmap release, {samples} samples 640x480 ({sum(map(len, objects))} objects)"
    work = CACHE / "segments-work"
    with served(root) as base:
        release = segments_release(objects, base, CACHE / f"segments-{samples}.json")
        labelspec = [PYTHON, "-m", "labelspec", "convert", str(release), "--to", "coco-instance", "-o",
                     str(work / "out.json"), "--allow-private-network", "--force"]  # fmt: skip
        sdk = [PYTHON, "-c", SEGMENTS_SDK, str(release), str(work / "sdk-cache"), str(work / "sdk-out")]
        for tool, command in (
            ("labelspec convert --to coco-instance (validates input and output)", labelspec),
            ("segments-ai SDK export_dataset (coco-instance, no validation)", sdk),
        ):
            best: tuple[float, int] | None = None
            for _ in range(max(repeat, 1)):
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                seconds, _, code = run(command, {**local, "LABELSPEC_CACHE_DIR": str(work / "cache")})
                assert code == 0, f"{tool} failed ({code})"
                best = (seconds, 0) if best is None or seconds < best[0] else best
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            rss = peak_rss(command, {**local, "LABELSPEC_CACHE_DIR": str(work / "cache")})
            assert best is not None
            rows.append((label, tool, best[0], rss))
    return rows


def _labelformat() -> str | None:
    found = shutil.which("labelformat", path=str(Path(PYTHON).parent))
    return found or shutil.which("labelformat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300, help="Segments release samples (0: skip)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--train2017", action="store_true", help="also measure memory at 118 000 images")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, float, int]] = []
    inputs = [args.images] + ([118_000] if args.train2017 else [])
    for images in inputs:
        source = coco_input(images)
        objects, megabytes = int(source.with_suffix(".objects").read_text()), source.stat().st_size / 1e6
        label = f"COCO {images} images / {objects} objects ({megabytes:.0f} MB)"
        out = CACHE / "out-labelspec"
        shutil.rmtree(out, ignore_errors=True)
        command = [
            PYTHON,
            "-m",
            "labelspec",
            "convert",
            str(source),
            "--to",
            "yolo",
            "-o",
            str(out),
            "--force",
        ]
        seconds, _, code = measured(command, args.repeat)
        assert code == 0, f"labelspec convert failed ({code})"
        rss = peak_rss(command)  # in a wrapper of its own: ru_maxrss of children is a maximum so far
        rows.append((label, "labelspec convert --to yolo (validates input and output)", seconds, rss))
        tool = _labelformat()
        if tool is not None and images == args.images:
            target = CACHE / "out-labelformat"
            shutil.rmtree(target, ignore_errors=True)
            peer = [tool, "convert", "--task", "object-detection", "--input-format", "coco", "--input-file",
                    str(source), "--output-format", "yolov8", "--output-file", str(target / "data.yaml"),
                    "--output-split", "train"]  # fmt: skip
            seconds, _, code = measured(peer, args.repeat)
            assert code == 0, f"labelformat failed ({code})"
            rss = peak_rss(peer)
            rows.append((label, "labelformat convert (coco -> yolov8, no validation)", seconds, rss))
    if args.samples:
        rows += segments_rows(args.samples, args.repeat)
    write_results(args.out, rows, " ".join(["python", "benchmarks/convert.py", *(argv or sys.argv[1:])]))
    return 0


def notes(rows: list[tuple[str, str, float, int]]) -> list[str]:
    """Generated from the numbers: each peer comparison against issue 14's target (labelspec, validation
    of both ends included, at least as fast as the peer on the same input), and the memory rows."""
    out: list[str] = []
    by_input: dict[str, dict[str, tuple[float, int]]] = {}
    for label, tool, seconds, rss in rows:
        by_input.setdefault(label, {})[tool.split(" ")[0]] = (seconds, rss)
    for label, tools in by_input.items():
        ours = tools.get("labelspec")
        for peer, (seconds, rss) in tools.items():
            if peer == "labelspec" or ours is None:
                continue
            ratio = ours[0] / seconds
            verdict = "met" if ratio <= 1.0 else "NOT met"
            out.append(
                f"- **{label}**: labelspec {ours[0]:.2f} s against {peer} {seconds:.2f} s: {ratio:.2f}x the "
                f"peer's time (target at most 1.00x: {verdict}); peak RSS {ours[1] / 2**20:.0f} MiB against "
                f"{rss / 2**20:.0f} MiB."
            )
        if len(tools) == 1 and ours is not None:
            out.append(f"- **{label}**: labelspec {ours[0]:.2f} s, peak RSS {ours[1] / 2**20:.0f} MiB.")
    return out


def section(rows: list[tuple[str, str, float, int]], command: str) -> str:
    lines = [
        BEGIN,
        "",
        "## Conversions",
        "",
        f"Measured {dt.date.today().isoformat()}, Python {platform.python_version()}; command: `{command}`. "
        "Whole processes, best of the runs, peak RSS of the process. The machine is shared: compare tools "
        "within one table, not across dates.",
        "",
        "| input | tool | seconds | peak RSS |",
        "|---|---|---:|---:|",
        *(
            f"| {label} | {tool} | {seconds:.2f} | {rss / 2**20:.0f} MiB |"
            for label, tool, seconds, rss in rows
        ),
        "",
        "Notes (generated from the table):",
        "",
        *notes(rows),
        "",
        END,
    ]
    return "\n".join(lines)


def previous_rows(text: str) -> list[tuple[str, str, float, int]]:
    """The table rows of the conversion section already in RESULTS.md (as this script wrote them)."""
    if BEGIN not in text or END not in text:
        return []
    rows = []
    for line in text[text.index(BEGIN) : text.index(END)].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[3].endswith(" MiB"):
            rows.append((cells[0], cells[1], float(cells[2]), int(float(cells[3][:-4]) * 2**20)))
    return rows


def write_results(out: Path, rows: list[tuple[str, str, float, int]], command: str) -> None:
    text = out.read_text() if out.exists() else "# Benchmark results\n"
    measured_now = {label for label, *_ in rows}
    kept = [row for row in previous_rows(text) if row[0] not in measured_now]
    if kept:  # inputs this run did not measure keep their last measured rows (e.g. --train2017)
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
