"""Validation speed and memory of labelspec against its peers, as whole processes, on generated exports.

    python benchmarks/run.py [--sizes 10MB,100MB,1GB] [--quick] [--no-peers] [--coco-only] [--out ...]

Inputs are generated at a fixed seed with labelspec's fixture generators into ``benchmarks/.cache/`` (not
committed; reused when present): Encord exports of video label rows (up to 100 frames, 10 objects per row)
with their ontology, of about 10 MB, 100 MB and 1 GB; a Segments release of 100 000 samples and a DataGym
export of 100 000 tasks; a COCO instance file shaped like train2017 (:func:`coco_input`, 445 MB). Rows,
samples and tasks are generated one by one and written out streaming; the
1 GB export (and the 100 000-item ones) repeat a pool of generated items, with fresh ids in every copy so
that cross-item rules (duplicate ids) stay silent.

Every tool runs as its own process (start-up and schema loading included), timed from outside; peak RSS
from ``resource.getrusage(RUSAGE_CHILDREN)``. The baseline is a process that reads the file and runs
``orjson.loads`` on it with the garbage collector disabled. Peers: jsonschema-rs (structure only),
fastjsonschema (structure only; the ``bench`` extra), python-jsonschema (10 MB only: it is ~50x), the
Encord SDK's ``LabelRowV2.from_labels_dict`` (offline, as in tests/interop/encord_sdk.py). Results go to
``benchmarks/RESULTS.md`` (the docs site includes it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
PYTHON = sys.executable
SIZES = {"10MB": 10 * 10**6, "100MB": 100 * 10**6, "1GB": 1000 * 10**6}
POOL_BYTES = 60 * 10**6  # unique Encord rows generated at most; bigger exports repeat them
SEED = 8

# ---------------------------------------------------------------------------------------------- inputs


def _fresh(text: str, copy: int) -> str:
    """A variant of an id for the copy-th repetition of an item (same length and form)."""
    return text if copy == 0 else f"{text[:-8]}{copy:08x}"[-len(text) :] if len(text) >= 8 else text


def encord_input(size: int, profile: str = "lenient") -> tuple[Path, Path]:
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.encord import build_ontology, build_row

    label = next((k for k, v in SIZES.items() if v == size), str(size))
    stem = f"encord-{label}" if profile == "lenient" else f"encord-{profile}-{label}"
    path, ontology_path = CACHE / f"{stem}.json", CACHE / f"{stem}.ontology.json"
    if path.exists() and ontology_path.exists():
        return path, ontology_path
    CACHE.mkdir(parents=True, exist_ok=True)
    draw = RandomDraw(SEED)
    ontology = build_ontology(draw, profile=profile)
    pool: list[bytes] = []
    pool_size = written = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(b"[")
        repeated = 0
        while written < size:
            if pool_size < min(size, POOL_BYTES):
                row = build_row(
                    draw, ontology, profile=profile, data_type="video", max_frames=100, max_objects=10
                )
                text = orjson.dumps(row)
                pool.append(text)
                pool_size += len(text)
            else:
                row = orjson.loads(pool[repeated % len(pool)])
                row["label_hash"] = _fresh(row["label_hash"], 1 + repeated // len(pool))
                text = orjson.dumps(row)
                repeated += 1
            out.write((b"," if written else b"") + text)
            written += len(text) + 1
        out.write(b"]")
    ontology_path.write_bytes(orjson.dumps(ontology))
    tmp.replace(path)
    return path, ontology_path


def faulty_encord_input(path: Path) -> Path:
    """``path`` with one rule finding in its last row (an impossible date): the native fast path reads the
    whole file before it hands the file to the reference path, its worst case."""
    from labelspec.validator.scale.split import scan_items

    faulty = path.with_name(path.stem + ".faulty.json")
    if faulty.exists():
        return faulty
    data = path.read_bytes()
    layout = scan_items(data)
    assert layout is not None
    start, end = layout.starts[-1], layout.ends[-1]
    row = orjson.loads(data[start:end])
    row["created_at"] = "2022-02-30 21:33:02"  # ENC-DATETIME-INVALID
    faulty.write_bytes(data[:start] + orjson.dumps(row) + data[end:])
    return faulty


def _repeated(items: list[Any], count: int, refresh: Any) -> Iterator[Any]:
    for number in range(count):
        item = items[number % len(items)]
        copy = number // len(items)
        yield refresh(orjson.loads(orjson.dumps(item)), copy) if copy else item


def datagym_input(tasks: int) -> Path:
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.datagym import build_export

    path = CACHE / f"datagym-{tasks}.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    export = build_export(
        RandomDraw(SEED), profile="lenient", data_types=["image"], min_items=2000, max_items=2000
    )

    def refresh(task: dict[str, Any], copy: int) -> dict[str, Any]:
        for key in ("internal_media_ID", "internal_image_ID"):
            if isinstance(task.get(key), str):
                task[key] = _fresh(task[key], copy)
        return task

    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(b"[" + orjson.dumps(export[0]))
        for task in _repeated(export[1:], tasks, refresh):
            out.write(b"," + orjson.dumps(task))
        out.write(b"]")
    tmp.replace(path)
    return path


def segments_input(samples: int) -> Path:
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.segments import build_release

    path = CACHE / f"segments-{samples}.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    release = build_release(
        RandomDraw(SEED), profile="lenient", task_types=["vector"], min_items=2000, max_items=2000
    )
    pool = release["dataset"].pop("samples")

    def refresh(sample: dict[str, Any], copy: int) -> dict[str, Any]:
        if isinstance(sample.get("uuid"), str):
            sample["uuid"] = _fresh(sample["uuid"], copy)
        if isinstance(sample.get("name"), str):
            sample["name"] = f"{copy}-{sample['name']}"
        return sample

    release["dataset"]["samples"] = []
    head = orjson.dumps(release)
    marker = b'"samples":[]'
    at = head.index(marker) + len(marker) - 1
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(head[:at])
        for number, sample in enumerate(_repeated(pool, samples, refresh)):
            out.write((b"," if number else b"") + orjson.dumps(sample))
        out.write(head[at:])
    tmp.replace(path)
    return path


# COCO instances shaped like train2017 (instances_train2017.json: 118 287 images, 860 001 annotations).
COCO_IMAGES = 118_287
COCO_ANNOTATIONS = 805_000
COCO_GAPS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}  # COCO's 80 category ids are 1..90 without these


def coco_input(scale: int = 1) -> Path:
    """A COCO instance file shaped like train2017 (``scale``: 1/scale of its images and annotations).

    Images of train2017's sizes (640 on the long side for most, 240..640 on the other), ids drawn from a
    sparse range; 80 categories with COCO's ids (gaps included); annotations on random images: 99 % single
    objects with one polygon of 8..40 points (8 % a second part) and 1 % crowds with an uncompressed RLE
    of the image's size (as train2017 stores them); boxes, areas and masks agree with the image, so the
    file has no finding. Written element by element (numpy draws), about 445 MB at scale 1."""
    import numpy as np

    path = CACHE / (f"coco-train2017-shape-{scale}.json" if scale > 1 else "coco-train2017-shape.json")
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    images, annotations = COCO_IMAGES // scale, COCO_ANNOTATIONS // scale
    category_ids = [i for i in range(1, 91) if i not in COCO_GAPS]
    landscape = rng.random(images) < 0.75
    long_side = np.where(rng.random(images) < 0.9, 640, rng.integers(300, 640, images))
    short_side = rng.integers(240, 640, images)
    widths, heights = np.where(landscape, long_side, short_side), np.where(landscape, short_side, long_side)
    image_ids = rng.choice(np.arange(1, 600_000), size=images, replace=False)
    info = {
        "description": "COCO 2017 Dataset (benchmark shape)",
        "url": "http://cocodataset.org",
        "version": "1.0",
        "year": 2017,
        "contributor": "COCO Consortium",
        "date_created": "2017/09/01",
    }
    licenses = [
        {"url": f"http://creativecommons.org/licenses/by/{k}/", "id": k, "name": f"License {k}"}
        for k in range(1, 9)
    ]
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(
            b'{"info":' + orjson.dumps(info) + b',"licenses":' + orjson.dumps(licenses) + b',"images":['
        )
        for k in range(images):
            image_id = int(image_ids[k])
            name = f"{image_id:012d}.jpg"
            image = {
                "license": k % 8 + 1,
                "file_name": name,
                "coco_url": f"http://images.cocodataset.org/train2017/{name}",
                "height": int(heights[k]),
                "width": int(widths[k]),
                "date_captured": "2013-11-14 11:18:45",
                "flickr_url": f"http://farm{k % 9 + 1}.staticflickr.com/{k % 9000}/{image_id}_{k:010x}_z.jpg",
                "id": image_id,
            }
            out.write((b"," if k else b"") + orjson.dumps(image))
        out.write(b'],"annotations":[')
        on_image = rng.integers(0, images, annotations)
        crowd = rng.random(annotations) < 0.01
        points = rng.integers(8, 41, annotations)
        categories = rng.choice(np.array(category_ids), annotations)
        annotation_ids = rng.choice(np.arange(1, 2_500_000), size=annotations, replace=False)
        for k in range(annotations):
            i = int(on_image[k])
            h, w = int(heights[i]), int(widths[i])
            bw, bh = rng.uniform(4, w), rng.uniform(4, h)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            segmentation: Any
            if crowd[k]:
                cuts = np.sort(rng.integers(0, h * w, 2 * int(rng.integers(100, 700))))
                counts = np.diff(np.concatenate(([0], cuts, [h * w]))).tolist()
                segmentation = {"counts": counts, "size": [h, w]}
                area = float(sum(counts[1::2]) or 1)
            else:
                n = int(points[k])
                angles = np.sort(rng.uniform(0, 2 * np.pi, n))
                radius = rng.uniform(0.6, 1.0, n)
                xs, ys = (
                    x + bw / 2 * (1 + radius * np.cos(angles)),
                    y + bh / 2 * (1 + radius * np.sin(angles)),
                )
                flat = np.empty(2 * n)
                flat[0::2], flat[1::2] = xs, ys
                segmentation = [np.round(flat, 2).tolist()]
                if rng.random() < 0.08:  # a second part (an occluded object)
                    m = int(rng.integers(8, 41))
                    part = np.empty(2 * m)
                    part[0::2], part[1::2] = rng.uniform(x, x + bw, m), rng.uniform(y, y + bh, m)
                    segmentation.append(np.round(part, 2).tolist())
                shoelace = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))
                area = round(float(shoelace), 4) or 1.0
            annotation = {
                "segmentation": segmentation,
                "area": area,
                "iscrowd": int(crowd[k]),
                "image_id": int(image_ids[i]),
                "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)],
                "category_id": int(categories[k]),
                "id": int(annotation_ids[k]),
            }
            out.write((b"," if k else b"") + orjson.dumps(annotation))
        named = [
            {"supercategory": f"group{(i - 1) // 8}", "id": i, "name": f"class{i}"} for i in category_ids
        ]
        out.write(b'],"categories":' + orjson.dumps(named) + b"}")
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------------------------- tools

BASELINE = """
import gc, sys, orjson
gc.disable()
with open(sys.argv[1], "rb") as f:
    orjson.loads(f.read())
"""

JSONSCHEMA_RS = """
import gc, json, sys, orjson, jsonschema_rs
gc.disable()
schema = json.load(open(sys.argv[2]))
with open(sys.argv[1], "rb") as f:
    document = orjson.loads(f.read())
print(jsonschema_rs.Draft7Validator(schema).is_valid(document))
"""

FASTJSONSCHEMA = """
import gc, json, sys, orjson, fastjsonschema
gc.disable()
check = fastjsonschema.compile(json.load(open(sys.argv[2])))
with open(sys.argv[1], "rb") as f:
    document = orjson.loads(f.read())
try:
    check(document); print(True)
except fastjsonschema.JsonSchemaException:
    print(False)
"""

PYTHON_JSONSCHEMA = """
import gc, json, sys, orjson, jsonschema
gc.disable()
validator = jsonschema.Draft7Validator(json.load(open(sys.argv[2])))
with open(sys.argv[1], "rb") as f:
    document = orjson.loads(f.read())
print(sum(1 for _ in validator.iter_errors(document)) == 0)
"""

PYCOCOTOOLS = """
import gc, sys
from pycocotools.coco import COCO
gc.disable()
COCO(sys.argv[1])
"""

ENCORD_SDK = """
import gc, sys, orjson
sys.path.insert(0, sys.argv[3])
from tests.interop.encord_sdk import build_label_row
gc.disable()
ontology = orjson.loads(open(sys.argv[2], "rb").read())
with open(sys.argv[1], "rb") as f:
    rows = orjson.loads(f.read())

failed = 0
for row in rows:
    try:
        build_label_row(row, ontology).from_labels_dict(row)
    except Exception:
        failed += 1
print(f"{failed} of {len(rows)} rows rejected", file=sys.stderr)
sys.exit(1 if failed else 0)
"""


def run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 3600
) -> tuple[float, int, int]:
    """(seconds, peak RSS in bytes, exit code) of one process (``env``: extra environment variables)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    # ru_maxrss of children is the maximum over all children so far: a smaller process reads as 0 here
    return seconds, (peak if peak > before else 0) * 1024, done.returncode


def measured(command: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Best time of ``repeat`` runs, and the peak RSS measured in a separate /usr/bin/time-free way."""
    best: tuple[float, int, int] | None = None
    for _ in range(repeat):
        result = run(command, env)
        if best is None or result[0] < best[0]:
            best = (result[0], max(result[1], best[1] if best else 0), result[2])
    assert best is not None
    return best


def peak_rss(command: list[str], env: dict[str, str] | None = None) -> int:
    """Peak RSS of one run, measured in a fresh wrapper process (ru_maxrss of its only child)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    out = subprocess.run(
        [PYTHON, "-c", probe, *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return int(out.stdout.strip())


def schema_file(format_id: str) -> Path:
    path = CACHE / f"{format_id}.schema.json"
    if not path.exists():
        from labelspec.validator.compiler import compile_schema

        path.write_text(json.dumps(compile_schema(format_id, "lenient")))
    return path


def labelspec(*args: str) -> list[str]:
    return [PYTHON, "-m", "labelspec", "validate", "--quiet", *args]


def has(module: str) -> bool:
    return subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True).returncode == 0


def coco_rows(bench: Any, peers: bool, repeat: int) -> None:
    """COCO instances shaped like train2017: baseline, labelspec (fast and reference path), peers side by
    side. python-jsonschema (about 50x) runs on a 1/20 slice, next to the baseline and labelspec there."""
    path = coco_input()
    name = "COCO train2017 shape"
    baseline = [PYTHON, "-c", BASELINE, str(path)]
    base = bench(name, path, "orjson.loads, gc off (baseline)", baseline, None, repeat)
    bench(name, path, "labelspec validate (full, lenient)", labelspec(str(path)), base, repeat)
    reference = {"LABELSPEC_NATIVE": "0"}
    bench(
        name, path, "labelspec, reference path (LABELSPEC_NATIVE=0)", labelspec(str(path)), base, 1, reference
    )
    if not peers:
        return
    if has("pycocotools"):
        bench(name, path, "pycocotools COCO() load", [PYTHON, "-c", PYCOCOTOOLS, str(path)], base, repeat)
    schema = str(schema_file("coco-instance"))
    bench(
        name,
        path,
        "jsonschema-rs (structure only)",
        [PYTHON, "-c", JSONSCHEMA_RS, str(path), schema],
        base,
        repeat,
    )
    if has("fastjsonschema"):
        fast = [PYTHON, "-c", FASTJSONSCHEMA, str(path), schema]
        bench(name, path, "fastjsonschema (structure only)", fast, base, 1)
    part = coco_input(scale=20)
    name = "COCO train2017 shape / 20"
    base = bench(
        name, part, "orjson.loads, gc off (baseline)", [PYTHON, "-c", BASELINE, str(part)], None, repeat
    )
    bench(name, part, "labelspec validate (full, lenient)", labelspec(str(part)), base, repeat)
    bench(
        name,
        part,
        "python-jsonschema (structure only)",
        [PYTHON, "-c", PYTHON_JSONSCHEMA, str(part), schema],
        base,
        1,
    )


# ---------------------------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10MB,100MB", help="Encord sizes among 10MB,100MB,1GB")
    parser.add_argument("--quick", action="store_true", help="10MB only, one run per tool, no 100k inputs")
    parser.add_argument("--no-peers", action="store_true", help="labelspec and the baseline only")
    parser.add_argument("--items", type=int, default=100_000, help="Segments samples / DataGym tasks")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--coco-only", action="store_true", help="only the COCO train2017-shaped input")
    args = parser.parse_args(argv)
    sizes = ["10MB"] if args.quick else [s.strip() for s in args.sizes.split(",") if s.strip()]
    repeat = 1 if args.quick else args.repeat
    rows: list[dict[str, Any]] = []
    peers = not args.no_peers

    def bench(
        input_name: str,
        path: Path,
        tool: str,
        command: list[str],
        baseline: float | None,
        times: int,
        env: dict[str, str] | None = None,
    ) -> float:
        seconds, _, code = measured(command, times, env)
        rss = peak_rss(command, env)
        ratio = seconds / baseline if baseline else 1.0
        size = path.stat().st_size
        rows.append(
            {"input": input_name, "size": size, "tool": tool, "seconds": seconds, "ratio": ratio, "rss": rss}
        )
        print(f"{input_name:>22}  {tool:<44} {seconds:8.2f} s  {ratio:6.2f}x  {rss / 2**20:8.0f} MiB  {code}")
        sys.stdout.flush()
        return seconds

    for size in [] if args.coco_only else sizes:
        path, ontology = encord_input(SIZES[size])
        name = f"Encord {size}"
        times = 1 if size == "1GB" else repeat
        baseline = [PYTHON, "-c", BASELINE, str(path)]
        base = bench(name, path, "orjson.loads, gc off (baseline)", baseline, None, times)
        full = ["--ontology", str(ontology), str(path)]
        bench(name, path, "labelspec validate (full, lenient)", labelspec(*full), base, times)
        bench(name, path, "labelspec validate --jobs 2", labelspec("--jobs", "2", *full), base, times)
        reference = {"LABELSPEC_NATIVE": "0"}
        bench(
            name,
            path,
            "labelspec, reference path (LABELSPEC_NATIVE=0)",
            labelspec(*full),
            base,
            times,
            reference,
        )
        bench(
            name,
            path,
            "labelspec, reference path, --jobs 2",
            labelspec("--jobs", "2", *full),
            base,
            times,
            reference,
        )
        if size != "1GB":
            faulty = faulty_encord_input(path)
            bench(
                name,
                faulty,
                "labelspec, one fault in the last row",
                labelspec(*full[:-1], str(faulty)),
                base,
                times,
            )
        if not peers or size == "1GB":
            continue
        schema = str(schema_file("encord"))
        rs = [PYTHON, "-c", JSONSCHEMA_RS, str(path), schema]
        bench(name, path, "jsonschema-rs (structure only)", rs, base, times)
        if has("fastjsonschema"):
            fast = [PYTHON, "-c", FASTJSONSCHEMA, str(path), schema]
            bench(name, path, "fastjsonschema (structure only)", fast, base, times)
        if size == "10MB":
            bench(name, path, "python-jsonschema (structure only)",
                  [PYTHON, "-c", PYTHON_JSONSCHEMA, str(path), schema], base, 1)  # fmt: skip
        if has("encord"):  # the SDK needs strict-profile rows (branch_name, createdAt, spaces)
            path, ontology = encord_input(SIZES[size], "strict")
            name = f"Encord {size} (strict)"
            baseline = [PYTHON, "-c", BASELINE, str(path)]
            base = bench(name, path, "orjson.loads, gc off (baseline)", baseline, None, times)
            full = ["--profile", "strict", "--ontology", str(ontology), str(path)]
            bench(name, path, "labelspec validate --profile strict", labelspec(*full), base, times)
            sdk = [PYTHON, "-c", ENCORD_SDK, str(path), str(ontology), str(ROOT)]
            bench(name, path, "Encord SDK LabelRowV2.from_labels_dict", sdk, base, 1)

    if not args.quick and not args.coco_only:
        for name, path in (
            (f"Segments {args.items} samples", segments_input(args.items)),
            (f"DataGym {args.items} tasks", datagym_input(args.items)),
        ):
            baseline = [PYTHON, "-c", BASELINE, str(path)]
            base = bench(name, path, "orjson.loads, gc off (baseline)", baseline, None, repeat)
            bench(name, path, "labelspec validate (full, lenient)", labelspec(str(path)), base, repeat)
            jobs = labelspec("--jobs", "2", str(path))
            bench(name, path, "labelspec validate --jobs 2", jobs, base, repeat)
            if peers:
                fmt = "segments" if name.startswith("Segments") else "datagym"
                rs = [PYTHON, "-c", JSONSCHEMA_RS, str(path), str(schema_file(fmt))]
                bench(name, path, "jsonschema-rs (structure only)", rs, base, repeat)
    if not args.quick:
        coco_rows(bench, peers, repeat)
    command = " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])])
    write_results(args.out, rows, command)
    return 0


def write_results(out: Path, rows: list[dict[str, Any]], command: str) -> None:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.date.today().isoformat()} on {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()}; command: `{command}`.",
        "",
        "Each tool is a whole process (start-up and schema loading included). *ratio* is the time over the "
        "baseline, a process that reads the file and runs `orjson.loads` with the garbage collector "
        "disabled. labelspec runs full validation: structure and every semantic rule, profile lenient "
        "(Encord: with the ontology). Peers check structure only (the Encord SDK: its parser). Peak RSS "
        "of the process.",
        "",
        "| input | size | tool | seconds | ratio | peak RSS |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['input']} | {row['size'] / 1e6:.0f} MB | {row['tool']} | {row['seconds']:.2f} | "
            f"{row['ratio']:.2f}x | {row['rss'] / 2**20:.0f} MiB |"
        )
    # keep the conversion section that benchmarks/convert.py maintains
    previous = out.read_text() if out.exists() else ""
    begin, end = "<!-- conversions -->", "<!-- /conversions -->"
    if begin in previous and end in previous:
        lines += ["", previous[previous.index(begin) : previous.index(end) + len(end)]]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
