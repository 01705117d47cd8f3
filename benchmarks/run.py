"""Validation speed and memory of labelspec against its peers, as whole processes, on generated exports.

    python benchmarks/run.py [--suites encord,segments,datagym,coco,panoptic] [--sizes 10MB,100MB,1GB]
                             [--quick] [--coco-only] [--no-peers] [--repeat 3] [--out benchmarks/RESULTS.md]

Inputs are generated at a fixed seed (:data:`SEED`) with labelspec's fixture generators into
``benchmarks/.cache/`` (not committed; reused when present): Encord exports of video label rows (up to 100
frames, 10 objects per row) with their ontology, of about 10 MB, 100 MB and 1 GB; a Segments.ai release
(vector task), a Segments.ai multi-sensor sequence release (lidar and camera sequences) and a DataGym
export (image tasks) of about 100 MB each; a COCO instance file shaped like
train2017 (:func:`coco_input`, 445 MB, and a 1/20 slice); a COCO panoptic file shaped like
panoptic_train2017, cut at about 100 MB (:func:`panoptic_input`, and a 1/20 slice). Rows, samples and tasks
are generated one by one and written out streaming; the large inputs repeat a pool of generated items with
fresh ids in every copy, so that the rules comparing items (duplicate ids) stay silent.

Every tool runs as its own process (start-up and schema loading included), timed from outside (best of
``--repeat`` runs); peak RSS from ``resource.getrusage(RUSAGE_CHILDREN)`` of a wrapper process. The baseline
is a process that reads the file and runs ``orjson.loads`` on it with the garbage collector disabled. Peers,
side by side in the same run: jsonschema-rs, fastjsonschema (the ``bench`` extra) and python-jsonschema
(structure only, on labelspec's compiled schema), pycocotools' ``COCO()`` load, the Encord SDK's
``LabelRowV2.from_labels_dict`` (offline, as in tests/interop/encord_sdk.py) and the segments-ai SDK's
``segments.typing`` models (as in tests/interop/test_segments_sdk.py). Before measuring, the package is
byte-compiled, as ``pip install`` does (a checkout run with ``PYTHONDONTWRITEBYTECODE`` would otherwise
compile every module at each start).

The measurements go to ``benchmarks/results.json`` (one entry per suite, with the date and command it was
measured with; ``--suites`` re-measures only those suites and keeps the others), and ``benchmarks/RESULTS.md``
is rendered from it, notes included: every target verdict there is computed from the measured numbers. The
documentation site's benchmark page is that file. Other scripts may add suites to :data:`SUITES`.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
PYTHON = sys.executable
SIZES = {"10MB": 10 * 10**6, "100MB": 100 * 10**6, "1GB": 1000 * 10**6}
ITEMS_BYTES = 100 * 10**6  # the Segments and DataGym inputs
POOL_BYTES = 60 * 10**6  # unique Encord rows generated at most; bigger exports repeat them
SEED = 8
TARGET_RATIO = 1.0  # full validation takes at most this many times the baseline (issue 16)

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


def _repeated(items: list[Any], refresh: Callable[[Any, int], Any]) -> Iterator[bytes]:
    """The items, then copies of them refreshed by ``refresh(item, copy)``, serialised, without end."""
    number = 0
    while True:
        item = items[number % len(items)]
        copy = number // len(items)
        yield orjson.dumps(refresh(orjson.loads(orjson.dumps(item)), copy) if copy else item)
        number += 1


def _write_list(out: Any, items: Iterator[bytes], size: int, written: int) -> None:
    first = True
    for text in items:
        if written >= size:
            return
        out.write(text if first else b"," + text)
        written += len(text) + (0 if first else 1)
        first = False


def datagym_input(size: int = ITEMS_BYTES) -> Path:
    """A DataGym export of about ``size`` bytes: 2 000 generated image tasks, repeated with fresh media
    ids."""
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.datagym import build_export

    path = CACHE / f"datagym-{size // 10**6}MB.json"
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
        head = b"[" + orjson.dumps(export[0]) + b","
        out.write(head)
        _write_list(out, _repeated(export[1:], refresh), size, len(head))
        out.write(b"]")
    tmp.replace(path)
    return path


def segments_input(size: int = ITEMS_BYTES) -> Path:
    """A Segments.ai release (vector task) of about ``size`` bytes: 2 000 generated samples, repeated with
    fresh uuids and names."""
    return _segments_release(size, "vector", 2000, {})


def segments_sequence_input(size: int = ITEMS_BYTES) -> Path:
    """A Segments.ai multi-sensor sequence release of about ``size`` bytes: 300 generated samples (a lidar
    point-cloud sequence and a camera image sequence each, 1-40 frames, up to 8 tracks with their cuboids,
    polygons and polylines), repeated with fresh uuids and names."""
    return _segments_release(size, "multisensor-sequence", 300, {"max_frames": 40, "max_objects": 8})


def _segments_release(size: int, task_type: str, pool_size: int, knobs: dict[str, int]) -> Path:
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.segments import build_release

    kind = "" if task_type == "vector" else f"-{task_type}"
    path = CACHE / f"segments{kind}-{size // 10**6}MB.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    release = build_release(
        RandomDraw(SEED),
        profile="lenient",
        task_types=[task_type],
        min_items=pool_size,
        max_items=pool_size,
        **knobs,  # type: ignore[arg-type]
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
        _write_list(out, _repeated(pool, refresh), size, len(head))
        out.write(head[at:])
    tmp.replace(path)
    return path


# COCO instances shaped like train2017 (instances_train2017.json: 118 287 images, 860 001 annotations).
COCO_IMAGES = 118_287
COCO_ANNOTATIONS = 805_000
COCO_GAPS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}  # COCO's 80 category ids are 1..90 without these


def _coco_head(info: dict[str, object]) -> bytes:
    """The bytes of a COCO file up to its images list: info and COCO's eight licenses."""
    licenses = [
        {"url": f"http://creativecommons.org/licenses/by/{k}/", "id": k, "name": f"License {k}"}
        for k in range(1, 9)
    ]
    return b'{"info":' + orjson.dumps(info) + b',"licenses":' + orjson.dumps(licenses) + b',"images":['


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
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(_coco_head(info))
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


def faulty_coco_input(path: Path, every: bool, errors: bool = False) -> Path:
    """``path`` with findings (the old area kept under another key). ``every`` False: the first annotation
    of every 32 MiB with the area -1 (14 annotations, each a schema error and a COCO-AREA-NOT-POSITIVE
    warning); True: every annotation with the area 0 (805 000 COCO-AREA-NOT-POSITIVE warnings: the size of
    the report); True with ``errors``: every annotation with the area -1 (1.61 M findings: a schema error
    and a warning each, python-jsonschema's error path at scale). The native pass is "not sure" at the
    first one; the reference path reports them."""
    suffix = (
        ".faulty-every-error.json" if every and errors else ".faulty-every.json" if every else ".faulty.json"
    )
    faulty = path.with_name(path.stem + suffix)
    if faulty.exists():
        return faulty
    tmp = faulty.with_suffix(".tmp")
    area = b'"area":-1,"area_was":' if errors or not every else b'"area":0,"area_was":'
    with path.open("rb") as source, tmp.open("wb") as out:
        while chunk := source.read(32 * 2**20):  # a key cut by a chunk boundary is left as it is
            out.write(chunk.replace(b'"area":', area, -1 if every else 1))
    tmp.replace(faulty)
    return faulty


# COCO panoptic shaped like panoptic_train2017.json (118 287 images, one annotation each, about 11 segments
# per image; 133 categories: 80 things with COCO's instance ids, 53 stuff classes with ids 92..200).
PANOPTIC_IMAGES = 118_287
PANOPTIC_BYTES = 100 * 10**6  # the benchmark's size: the first images of that shape up to ~100 MB


def panoptic_input(size: int = PANOPTIC_BYTES, scale: int = 1) -> Path:
    """A COCO panoptic file shaped like panoptic_train2017 (``scale``: 1/scale of it), cut at about
    ``size`` bytes: images of train2017's sizes (sparse ids), one annotation per image naming its PNG, 1..30
    segments per image (about 11 on average) with distinct colour ids, categories from the 133 panoptic
    classes (things are crowds 1 % of the time), boxes inside their image and positive areas, so the file
    has no finding (the PNGs themselves are not written: without --png-dir no rule reads them)."""
    import numpy as np

    label = f"{size // 10**6}MB" + (f"-{scale}" if scale > 1 else "")
    path = CACHE / f"coco-panoptic-train2017-shape-{label}.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    images = PANOPTIC_IMAGES
    things = [i for i in range(1, 91) if i not in COCO_GAPS]
    stuff = sorted(int(i) for i in rng.choice(np.arange(92, 201), size=53, replace=False))
    categories = [
        {"supercategory": f"group{i // 10}", "isthing": int(i < 91), "id": i, "name": f"class{i}",
         "color": [int(c) for c in rng.integers(0, 256, 3)]}
        for i in things + stuff
    ]  # fmt: skip
    landscape = rng.random(images) < 0.75
    long_side = np.where(rng.random(images) < 0.9, 640, rng.integers(300, 640, images))
    short_side = rng.integers(240, 640, images)
    widths, heights = np.where(landscape, long_side, short_side), np.where(landscape, short_side, long_side)
    image_ids = rng.choice(np.arange(1, 600_000), size=images, replace=False)
    per_image = np.clip(rng.poisson(11, images), 1, 30)
    budget = max(size // scale, 1)
    annotations: list[bytes] = []
    image_texts: list[bytes] = []
    written = 0
    for k in range(images):
        if written >= budget:
            break
        image_id, h, w = int(image_ids[k]), int(heights[k]), int(widths[k])
        name = f"{image_id:012d}"
        image_texts.append(
            orjson.dumps({"license": k % 8 + 1, "file_name": f"{name}.jpg", "coco_url":
                          f"http://images.cocodataset.org/train2017/{name}.jpg", "height": h, "width": w,
                          "date_captured": "2013-11-14 11:18:45", "id": image_id})
        )  # fmt: skip
        count = int(per_image[k])
        colours = np.unique(rng.integers(1, 2**24, size=count))  # distinct colour ids (a repeat is dropped)
        count = len(colours)
        chosen = rng.choice(np.array(things + stuff), size=count)
        segments = []
        for colour, category in zip(colours.tolist(), chosen.tolist(), strict=True):
            bw, bh = int(rng.integers(1, w + 1)), int(rng.integers(1, h + 1))
            x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
            crowd = int(category < 91 and rng.random() < 0.01)
            area = int(rng.integers(1, bw * bh + 1))
            segments.append(
                {
                    "id": colour,
                    "category_id": category,
                    "iscrowd": crowd,
                    "bbox": [x, y, bw, bh],
                    "area": area,
                }
            )
        text = orjson.dumps({"segments_info": segments, "file_name": f"{name}.png", "image_id": image_id})
        annotations.append(text)
        written += len(text) + len(image_texts[-1]) + 2
    info = {
        "description": "COCO 2018 Panoptic Dataset (benchmark shape)",
        "url": "http://cocodataset.org",
        "version": "1.0",
        "year": 2018,
        "contributor": "COCO Consortium",
        "date_created": "2018-06-01",
    }
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(_coco_head(info))
        out.write(b",".join(image_texts))
        out.write(b'],"annotations":[')
        out.write(b",".join(annotations))
        out.write(b'],"categories":' + orjson.dumps(categories) + b"}")
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

# The models segments-ai 1.33.0 reads a release with, per part (tests/interop/test_segments_sdk.py).
SEGMENTS_SDK = """
import gc, sys, orjson
from segments import typing as t
gc.disable()
MODELS = {
    "vector": (t.ImageSampleAttributes, t.ImageVectorLabelAttributes),
    "multisensor-sequence": (t.MultiSensorSampleAttributes, t.MultiSensorLabelAttributes),
    "bboxes": (t.ImageSampleAttributes, t.ImageVectorLabelAttributes),
    "keypoints": (t.ImageSampleAttributes, t.ImageVectorLabelAttributes),
    "segmentation-bitmap": (t.ImageSampleAttributes, t.ImageSegmentationLabelAttributes),
}
with open(sys.argv[1], "rb") as f:
    release = orjson.loads(f.read())
dataset = release["dataset"]
t.TaskType(dataset["task_type"])
t.TaskAttributes.model_validate(dataset["task_attributes"])
for labelset in dataset["labelsets"]:
    t.Labelset.model_validate(labelset)
sample_model, label_model = MODELS[dataset["task_type"]]
failed = 0
for sample in dataset["samples"]:
    try:
        sample_model.model_validate(sample["attributes"])
        for label in sample["labels"].values():
            if label is not None:
                t.LabelStatus(label["label_status"])
                label_model.model_validate(label["attributes"])
    except Exception:
        failed += 1
print(f"{failed} of {len(dataset['samples'])} samples rejected", file=sys.stderr)
sys.exit(1 if failed else 0)
"""


@dataclass(frozen=True)
class Run:
    """One process: wall seconds, CPU seconds (user + system), peak RSS in bytes, exit code."""

    seconds: float
    cpu: float
    rss: int
    code: int


def sample(command: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> Run:
    """One process, measured (``env``: extra environment variables)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_maxrss
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    # ru_maxrss of children is the maximum over all children so far: a smaller process reads as 0 here
    return Run(seconds, cpu, (usage.ru_maxrss if usage.ru_maxrss > before else 0) * 1024, done.returncode)


def best_of(command: list[str], repeat: int, env: dict[str, str] | None = None) -> Run:
    """Best time of ``repeat`` runs (the machine is shared: the best run is the least disturbed one), with
    the least CPU time of the runs (on a shared machine CPU time is disturbed less than wall time)."""
    runs = [sample(command, env) for _ in range(repeat)]
    best = min(runs, key=lambda r: r.seconds)
    return Run(best.seconds, min(r.cpu for r in runs), max(r.rss for r in runs), best.code)


def run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 3600
) -> tuple[float, int, int]:
    """(seconds, peak RSS in bytes, exit code) of one process (benchmarks/convert.py)."""
    one = sample(command, env, timeout)
    return one.seconds, one.rss, one.code


def measured(command: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(best seconds, peak RSS, exit code) of ``repeat`` runs (benchmarks/convert.py)."""
    best = best_of(command, repeat, env)
    return best.seconds, best.rss, best.code


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

        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(compile_schema(format_id, "lenient")))
    return path


def labelspec(*args: str) -> list[str]:
    return [PYTHON, "-m", "labelspec", "validate", "--quiet", *args]


def has(module: str) -> bool:
    return subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True).returncode == 0


def byte_compile() -> None:
    """Byte-compile labelspec as an installation does (the sources are mapped from the checkout)."""
    for folder in ("labelspec", "validator", "generators"):
        compileall.compile_dir(ROOT / folder, quiet=1)


# ---------------------------------------------------------------------------------------------- measuring

# Kinds of rows: the baseline; "full": labelspec's full validation (structure and every rule, lenient), the
# row every target is about; "variant": other labelspec runs (--jobs, reference path, a fault, strict);
# "peer": another tool.
BASE, FULL, VARIANT, PEER = "baseline", "full", "variant", "peer"


@dataclass
class Row:
    input: str
    size: int
    tool: str
    kind: str
    seconds: float
    ratio: float
    rss: int
    code: int
    # user + system CPU seconds (least of the runs) and the 1-minute load average when measured; None in
    # rows measured before they were recorded
    cpu: float | None = None
    load: float | None = None


@dataclass
class Bench:
    """Measures tools on inputs; each input's rows start with its baseline."""

    repeat: int
    peers: bool
    rows: list[Row] = field(default_factory=list)
    baselines: dict[str, float] = field(default_factory=dict)
    # what the suite says beside its numbers (peers that do not apply, what an input leaves out)
    remarks: list[str] = field(default_factory=list)

    def baseline(self, name: str, path: Path, times: int | None = None) -> None:
        command = [PYTHON, "-c", BASELINE, str(path)]
        self.tool(name, path, "orjson.loads, gc off (baseline)", BASE, command, times)

    def tool(
        self,
        name: str,
        path: Path,
        tool: str,
        kind: str,
        command: list[str],
        times: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        load = os.getloadavg()[0]
        result = best_of(command, times or self.repeat, env)
        seconds, code = result.seconds, result.code
        rss = peak_rss(command, env)
        if kind == BASE:
            self.baselines[name] = seconds
        ratio = seconds / self.baselines[name] if self.baselines.get(name) else 1.0
        row = Row(name, path.stat().st_size, tool, kind, seconds, ratio, rss, code, result.cpu, load)
        self.rows.append(row)
        print(
            f"{name:>26}  {tool:<46} {seconds:8.2f} s  {ratio:6.2f}x  cpu {result.cpu:7.2f} s  "
            f"{rss / 2**20:8.0f} MiB  {code}  load {load:.1f}"
        )
        sys.stdout.flush()

    def schema_peers(self, name: str, path: Path, format_id: str, python_jsonschema: bool = True) -> None:
        """jsonschema-rs, fastjsonschema and python-jsonschema on labelspec's compiled lenient schema."""
        if not self.peers:
            return
        schema = str(schema_file(format_id))
        rs = [PYTHON, "-c", JSONSCHEMA_RS, str(path), schema]
        self.tool(name, path, "jsonschema-rs (structure only)", PEER, rs)
        if has("fastjsonschema"):
            fast = [PYTHON, "-c", FASTJSONSCHEMA, str(path), schema]
            self.tool(name, path, "fastjsonschema (structure only)", PEER, fast)
        if python_jsonschema:
            slow = [PYTHON, "-c", PYTHON_JSONSCHEMA, str(path), schema]
            self.tool(name, path, "python-jsonschema (structure only)", PEER, slow, 1)


def encord_suite(bench: Bench, args: argparse.Namespace) -> None:
    for size in args.sizes:
        path, ontology = encord_input(SIZES[size])
        name = f"Encord {size}"
        times = 1 if size == "1GB" else None
        bench.baseline(name, path, times)
        full = ["--ontology", str(ontology), str(path)]
        bench.tool(name, path, "labelspec validate (full, lenient)", FULL, labelspec(*full), times)
        bench.tool(name, path, "labelspec validate --jobs 2", VARIANT, labelspec("--jobs", "2", *full), times)
        reference = {"LABELSPEC_NATIVE": "0"}
        bench.tool(
            name, path, "labelspec, reference path (LABELSPEC_NATIVE=0)", VARIANT, labelspec(*full), times,
            reference,
        )  # fmt: skip
        if size == "1GB":
            continue
        faulty = faulty_encord_input(path)
        one_fault = labelspec(*full[:-1], str(faulty))
        bench.tool(name, path, "labelspec, one fault in the last row", VARIANT, one_fault)
        # python-jsonschema takes ~50x: measured at 10 MB only
        bench.schema_peers(name, path, "encord", python_jsonschema=size == "10MB")
        if bench.peers and has("encord"):  # the SDK needs strict-profile rows
            path, ontology = encord_input(SIZES[size], "strict")
            name = f"Encord {size} (strict)"
            bench.baseline(name, path)
            strict = ["--profile", "strict", "--ontology", str(ontology), str(path)]
            bench.tool(name, path, "labelspec validate --profile strict", FULL, labelspec(*strict))
            sdk = [PYTHON, "-c", ENCORD_SDK, str(path), str(ontology), str(ROOT)]
            bench.tool(name, path, "Encord SDK LabelRowV2.from_labels_dict", PEER, sdk, 1)


def items_suite(format_id: str, title: str, make: Callable[[], Path]) -> Callable[[Bench, Any], None]:
    def suite(bench: Bench, args: argparse.Namespace) -> None:
        path = make()
        name = f"{title} {path.stat().st_size / 1e6:.0f} MB"
        bench.baseline(name, path)
        bench.tool(name, path, "labelspec validate (full, lenient)", FULL, labelspec(str(path)))
        bench.tool(name, path, "labelspec validate --jobs 2", VARIANT, labelspec("--jobs", "2", str(path)))
        reference = {"LABELSPEC_NATIVE": "0"}
        bench.tool(
            name, path, "labelspec, reference path (LABELSPEC_NATIVE=0)", VARIANT, labelspec(str(path)),
            None, reference,
        )  # fmt: skip
        bench.schema_peers(name, path, format_id)
        if format_id == "segments" and bench.peers and has("segments.typing"):
            sdk = [PYTHON, "-c", SEGMENTS_SDK, str(path)]
            bench.tool(name, path, "segments-ai SDK segments.typing models", PEER, sdk, 1)

    return suite


def segments_suite(bench: Bench, args: argparse.Namespace) -> None:
    """The vector release, then a multi-sensor sequence release of the same size (frames, tracks, sensors)."""
    items_suite("segments", "Segments release", segments_input)(bench, args)
    items_suite("segments", "Segments multi-sensor sequence release", segments_sequence_input)(bench, args)


def coco_suite(bench: Bench, args: argparse.Namespace) -> None:
    """COCO instances shaped like train2017: baseline, labelspec (fast and reference path), peers side by
    side. python-jsonschema (about 50x) runs on a 1/20 slice, next to the baseline and labelspec there."""
    path = coco_input()
    name = "COCO train2017 shape"
    bench.baseline(name, path)
    bench.tool(name, path, "labelspec validate (full, lenient)", FULL, labelspec(str(path)))
    reference = {"LABELSPEC_NATIVE": "0"}
    bench.tool(
        name, path, "labelspec, reference path (LABELSPEC_NATIVE=0)", VARIANT, labelspec(str(path)), 1,
        reference,
    )  # fmt: skip
    # With findings the native pass is not sure: the reference path reads the file section by section.
    faulty_inputs = (
        (False, False, "with findings (14 areas -1)"),
        (True, False, "with findings (every area 0)"),
        (True, True, "with findings (every area -1: 1.61 M)"),
    )
    for every, errors, tool in faulty_inputs:
        faulty = faulty_coco_input(path, every, errors)
        bench.tool(name, path, f"labelspec {tool}", VARIANT, labelspec(str(faulty)), 1)
    every_error = faulty_coco_input(path, True, True)
    tool = "labelspec --jobs 2 with findings (every area -1: 1.61 M)"
    bench.tool(name, path, tool, VARIANT, labelspec("--jobs", "2", str(every_error)), 1)
    if not bench.peers:
        return
    if has("pycocotools"):
        bench.tool(name, path, "pycocotools COCO() load", PEER, [PYTHON, "-c", PYCOCOTOOLS, str(path)])
    bench.schema_peers(name, path, "coco-instance", python_jsonschema=False)
    part = coco_input(scale=20)
    name = "COCO train2017 shape / 20"
    bench.baseline(name, part)
    bench.tool(name, part, "labelspec validate (full, lenient)", FULL, labelspec(str(part)))
    slow = [PYTHON, "-c", PYTHON_JSONSCHEMA, str(part), str(schema_file("coco-instance"))]
    bench.tool(name, part, "python-jsonschema (structure only)", PEER, slow, 1)


def panoptic_suite(bench: Bench, args: argparse.Namespace) -> None:
    """COCO panoptic shaped like panoptic_train2017, ~100 MB: baseline, labelspec (fast and reference path),
    the schema validators (python-jsonschema on a 1/20 slice, next to the baseline and labelspec there)."""
    path = panoptic_input()
    name = f"COCO panoptic {path.stat().st_size / 1e6:.0f} MB"
    bench.baseline(name, path)
    bench.tool(name, path, "labelspec validate (full, lenient)", FULL, labelspec(str(path)))
    reference = {"LABELSPEC_NATIVE": "0"}
    bench.tool(
        name, path, "labelspec, reference path (LABELSPEC_NATIVE=0)", VARIANT, labelspec(str(path)), 1,
        reference,
    )  # fmt: skip
    bench.remarks.append(
        f"{name}: no PNGs are given (--png-dir), so the rules that read them do not run (with a PNG folder "
        "the fast path steps aside: those rules have no native twin). Peers that do not apply: pycocotools' "
        "COCO() indexes annotations by their `id`, which panoptic annotations do not have (it raises "
        "KeyError); panopticapi, the reference reader, is not on PyPI."
    )
    if not bench.peers:
        return
    bench.schema_peers(name, path, "coco-panoptic", python_jsonschema=False)
    part = panoptic_input(scale=20)
    name = f"COCO panoptic {part.stat().st_size / 1e6:.0f} MB (1/20)"
    bench.baseline(name, part)
    bench.tool(name, part, "labelspec validate (full, lenient)", FULL, labelspec(str(part)))
    slow = [PYTHON, "-c", PYTHON_JSONSCHEMA, str(part), str(schema_file("coco-panoptic"))]
    bench.tool(name, part, "python-jsonschema (structure only)", PEER, slow, 1)


# Suites by name, in the order of the results; other scripts may register theirs (name -> function).
SUITES: dict[str, Callable[[Bench, argparse.Namespace], None]] = {
    "encord": encord_suite,
    "segments": segments_suite,
    "datagym": items_suite("datagym", "DataGym export", datagym_input),
    "coco": coco_suite,
    "panoptic": panoptic_suite,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", default=",".join(SUITES), help=f"among {','.join(SUITES)}")
    parser.add_argument("--sizes", default="10MB,100MB", help="Encord sizes among 10MB,100MB,1GB")
    parser.add_argument("--quick", action="store_true", help="Encord 10MB only, one run per tool")
    parser.add_argument("--coco-only", action="store_true", help="the COCO suite only (--suites coco)")
    parser.add_argument("--no-peers", action="store_true", help="labelspec and the baseline only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    suites = ["encord"] if args.quick else [s.strip() for s in args.suites.split(",") if s.strip()]
    if args.coco_only:
        suites = ["coco"]
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suites {unknown}; known: {', '.join(SUITES)}")
    args.sizes = ["10MB"] if args.quick else [s.strip() for s in args.sizes.split(",") if s.strip()]
    bench = Bench(repeat=1 if args.quick else args.repeat, peers=not args.no_peers)
    byte_compile()
    command = " ".join(["python", "benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    store = args.out.with_name("results.json")
    results = load_results(store)
    for suite in suites:
        bench.rows, bench.remarks = [], []
        SUITES[suite](bench, args)
        results[suite] = {
            "measured": dt.date.today().isoformat(),
            "command": command,
            "machine": machine(),
            "rows": [asdict(row) for row in bench.rows],
            "remarks": bench.remarks,
        }
    ordered = {name: results[name] for name in [*SUITES, *results] if name in results}
    store.write_text(json.dumps(ordered, indent=1) + "\n")
    write_results(args.out, ordered)
    return 0


def load_results(store: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(store.read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


# ---------------------------------------------------------------------------------------------- report


def render(results: dict[str, Any]) -> list[str]:
    """RESULTS.md (without the conversion section) from the stored measurements."""
    lines = [
        "# Benchmark results",
        "",
        "*Written by `benchmarks/run.py` from `benchmarks/results.json`; do not edit by hand.*",
        "",
        "Each tool is a whole process (start-up and schema loading included). *ratio* is the time over the "
        "baseline, a process that reads the file and runs `orjson.loads` with the garbage collector "
        "disabled. labelspec runs full validation: structure and every semantic rule, profile lenient "
        "(Encord: with the ontology). The schema validators check structure only, on labelspec's compiled "
        "schema; the SDKs parse with their own models. Peak RSS of the process. Each time is the best of "
        "the runs (the SDKs and python-jsonschema: one run). *CPU s*: user + system CPU seconds of the "
        "process (the least of the runs; on a shared machine it is disturbed less than the wall time), "
        "*load*: the 1-minute load average when the row was measured.",
        "",
        "Measured:",
        "",
    ]
    for name, suite in results.items():
        lines.append(f"- {name}: {suite['measured']} on {suite['machine']}; command: `{suite['command']}`")
    lines += [
        "",
        "| input | size | tool | seconds | ratio | CPU s | peak RSS | load |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    rows = [Row(**row) for suite in results.values() for row in suite["rows"]]
    for row in rows:
        tool = f"**{row.tool}**" if row.kind == FULL else row.tool
        cpu = "-" if row.cpu is None else f"{row.cpu:.2f}"
        load = "-" if row.load is None else f"{row.load:.1f}"
        lines.append(
            f"| {row.input} | {row.size / 1e6:.0f} MB | {tool} | {row.seconds:.2f} | {row.ratio:.2f}x | "
            f"{cpu} | {row.rss / 2**20:.0f} MiB | {load} |"
        )
    lines += ["", "## Notes (computed from the table above)", ""]
    lines += notes(rows)
    remarks = [remark for suite in results.values() for remark in suite.get("remarks", [])]
    if remarks:
        lines += ["", "Said by the suites:", ""] + [f"- {remark}" for remark in remarks]
    return lines


def notes(rows: list[Row]) -> list[str]:
    """The verdict on each target, from the numbers: full validation <= TARGET_RATIO x the baseline, and
    faster than every peer measured on the same input."""
    out: list[str] = []
    inputs = list(dict.fromkeys(row.input for row in rows))
    met = total = 0
    slices: list[str] = []
    for name in inputs:
        group = [row for row in rows if row.input == name]
        full = next((row for row in group if row.kind == FULL), None)
        base = next((row for row in group if row.kind == BASE), None)
        if full is None or base is None:
            continue
        speed = full.ratio <= TARGET_RATIO
        peers = [row for row in group if row.kind == PEER]
        slower_than = [row for row in peers if row.seconds <= full.seconds]
        verdict = speed and not slower_than
        if _is_slice(name):
            slices.append(name)
        else:
            total += 1
            met += verdict
        text = (
            f"- **{name}: {'met' if verdict else 'NOT met'}.** {full.tool}: {full.seconds:.2f} s, "
            f"{full.ratio:.2f}x the baseline ({base.seconds:.2f} s; target ≤ {TARGET_RATIO:.1f}x: "
            f"{'met' if speed else 'not met'}), peak RSS {full.rss / 2**20:.0f} MiB against "
            f"{base.rss / 2**20:.0f} MiB for the baseline."
        )
        if peers:
            fastest = min(peers, key=lambda row: row.seconds)
            if slower_than:
                text += " Not faster than " + ", ".join(
                    f"{row.tool} ({row.seconds:.2f} s, {row.ratio:.2f}x)" for row in slower_than
                )
                text += "."
            else:
                text += (
                    f" Faster than every peer measured ({len(peers)}); the fastest, {fastest.tool}, takes "
                    f"{fastest.seconds:.2f} s ({fastest.ratio:.2f}x)."
                )
        variants = [row for row in group if row.kind == VARIANT]
        if variants:
            text += (
                " Other runs: "
                + "; ".join(f"{row.tool} {row.ratio:.2f}x, {row.rss / 2**20:.0f} MiB" for row in variants)
                + "."
            )
        runs = [row for row in group if row.kind in (FULL, VARIANT)]
        if name.startswith("COCO") and not _is_slice(name):  # issue 16: COCO memory target
            worst = max(runs, key=lambda row: row.rss)
            within = worst.rss <= 2**30
            text += (
                f" Peak RSS ≤ 1 GB on every labelspec run (with findings and on the reference path too): "
                f"{'met' if within else 'NOT met'} (largest: {worst.tool}, {worst.rss / 2**20:.0f} MiB)."
            )
        if full.code != 0:
            text += f" (labelspec exited with {full.code}: the input is not clean.)"
        out.append(text)
    head = f"Targets met on {met} of {total} full-size inputs."
    if slices:
        # the slow peers (python-jsonschema) run on 1/20 slices; the inputs the targets name are full size
        head += (
            f" Not counted: the 1/20 slices ({', '.join(slices)}), which exist to time python-jsonschema; "
            "start-up dominates them, and their verdicts are shown for information."
        )
    out.insert(0, head + "\n")
    return out


def _is_slice(name: str) -> bool:
    """The 1/20 cut of a suite's input, made for the peers too slow for the full size."""
    return name.endswith(("/ 20", "(1/20)"))


def write_results(out: Path, results: dict[str, Any]) -> None:
    lines = render(results)
    # keep the conversion section that benchmarks/convert.py maintains
    previous = out.read_text() if out.exists() else ""
    begin, end = "<!-- conversions -->", "<!-- /conversions -->"
    if begin in previous and end in previous:
        lines += ["", previous[previous.index(begin) : previous.index(end) + len(end)]]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
