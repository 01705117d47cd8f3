"""COCO -> YOLO through the installed CLI, checked against boxes recomputed from the COCO JSON with plain
``json`` and arithmetic (an oracle independent of the converter's model and writer).

A clean COCO instance file is converted streamed, one image at a time (labelspec/convert/readers/
coco_stream.py: the native checks certify the file and give every element's byte offsets); with
``LABELSPEC_NATIVE=0`` the same file takes the in-memory path. Both must give the oracle's label files, on
a file whose annotations come image by image (read in blocks, several of them) and on one whose
annotations are shuffled (read element by element).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

SIZES = [(640, 480), (640, 427), (500, 375), (1280, 720), (427, 640)]


def _coco(images: int, seed: int, shuffled: bool) -> dict[str, Any]:
    """A realistic COCO instance file: polygons (some in two parts, some past the border), plain boxes,
    sparse image and category ids, file names with folders; a few images without objects."""
    rng = random.Random(seed)
    out: dict[str, Any] = {
        "info": {"description": "oracle test"},
        "licenses": [],
        "images": [],
        "annotations": [],
        "categories": [
            {"id": c, "name": f"class {c}", "supercategory": "thing"} for c in (1, 2, 3, 5, 8, 13, 21, 90)
        ],
    }
    ids = rng.sample(range(1, 10 * images), images)
    next_id = 1
    for image_id in ids:
        width, height = rng.choice(SIZES)
        out["images"].append(
            {"id": image_id, "file_name": f"train/{image_id:012d}.jpg", "width": width, "height": height}
        )
        for _ in range(rng.choice([0, 1, 3, 6, 12])):
            x, y = rng.uniform(0, width - 10), rng.uniform(0, height - 10)
            w, h = rng.uniform(2, width - x), rng.uniform(2, height - y)
            annotation: dict[str, Any] = {
                "id": next_id,
                "image_id": image_id,
                "category_id": rng.choice(out["categories"])["id"],
                "iscrowd": 0,
                "area": round(w * h / 2, 2) + 1,
                "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
            }
            if rng.random() < 0.8:
                parts = []
                for _ in range(1 if rng.random() < 0.9 else 2):
                    ring: list[float] = []
                    for _ in range(rng.randint(3, 20)):
                        ring += [round(x + rng.uniform(0, w), 2), round(y + rng.uniform(0, h), 2)]
                    parts.append(ring)
                annotation["segmentation"] = parts
            out["annotations"].append(annotation)
            next_id += 1
    if shuffled:
        rng.shuffle(out["annotations"])
    return out


def _oracle(coco: dict[str, Any]) -> dict[str, list[list[float]]]:
    """labels/<stem>.txt -> its lines (class, cx, cy, w, h), recomputed from the JSON: the class is the
    category's position in the file's list; the box is the extent of every polygon part's points (else the
    bbox), clipped to the image and divided by its size."""
    classes = {c["id"]: i for i, c in enumerate(coco["categories"])}
    images = {i["id"]: i for i in coco["images"]}
    labels: dict[str, list[list[float]]] = {
        f"labels/{os.path.splitext(i['file_name'])[0]}.txt": [] for i in coco["images"]
    }
    for annotation in coco["annotations"]:
        image = images[annotation["image_id"]]
        width, height = image["width"], image["height"]
        if annotation.get("segmentation"):
            xs = [v for ring in annotation["segmentation"] for v in ring[0::2]]
            ys = [v for ring in annotation["segmentation"] for v in ring[1::2]]
            x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        else:
            x, y, w, h = annotation["bbox"]
            x0, y0, x1, y1 = x, y, x + w, y + h
        x0, x1 = max(0.0, min(x0, width)), max(0.0, min(x1, width))
        y0, y1 = max(0.0, min(y0, height)), max(0.0, min(y1, height))
        if x1 <= x0 or y1 <= y0:
            continue
        stem = os.path.splitext(image["file_name"])[0]
        labels[f"labels/{stem}.txt"].append(
            [
                classes[annotation["category_id"]],
                (x0 + x1) / 2 / width,
                (y0 + y1) / 2 / height,
                (x1 - x0) / width,
                (y1 - y0) / height,
            ]
        )
    return labels


def _written(out: Path) -> dict[str, list[list[float]]]:
    found: dict[str, list[list[float]]] = {}
    for path in (out / "labels").rglob("*.txt"):
        lines = [[float(v) for v in line.split()] for line in path.read_text().splitlines()]
        found[path.relative_to(out).as_posix()] = lines
    return found


def _same(written: dict[str, list[list[float]]], expected: dict[str, list[list[float]]]) -> None:
    assert written.keys() == expected.keys()
    for name, lines in expected.items():
        got = written[name]
        assert len(got) == len(lines), name
        for ours, theirs in zip(got, lines, strict=True):  # same order: the annotations' order in the file
            assert ours[0] == theirs[0], name
            assert ours[1:] == pytest.approx(theirs[1:], abs=1e-6), name


@pytest.mark.parametrize(("images", "shuffled"), [(1500, False), (300, True)])
def test_coco_to_yolo_matches_boxes_recomputed_from_the_json(
    tmp_path: Path, cli: list[str], images: int, shuffled: bool
) -> None:
    from labelspec.convert.readers import coco_stream
    from labelspec.validator.native.fastpath import certified_coco

    coco = _coco(images, seed=images, shuffled=shuffled)
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco))
    columns = certified_coco(source, "lenient")
    assert columns is not None and coco_stream.usable(columns), "the file must take the streamed path"
    expected = _oracle(coco)
    assert sum(map(len, expected.values())) > 3 * images

    outputs = {}
    for name, env in (("streamed", {}), ("in-memory", {"LABELSPEC_NATIVE": "0"})):
        out = tmp_path / name
        report = tmp_path / f"{name}.report.json"
        done = subprocess.run(
            [*cli, "convert", str(source), "--to", "yolo", "-o", str(out), "--report", str(report)],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert done.returncode == 0, done.stderr
        _same(_written(out), expected)
        data = (out / "data.yaml").read_text()
        assert f"nc: {len(coco['categories'])}" in data
        outputs[name] = json.loads(report.read_text())
    streamed, in_memory = outputs["streamed"], outputs["in-memory"]
    assert streamed["counts"] == in_memory["counts"]
    assert streamed["summary"] == in_memory["summary"]
    assert streamed["mappings"] == in_memory["mappings"]


@pytest.mark.parametrize("shuffled", [False, True])
def test_streamed_reader_gives_the_in_memory_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shuffled: bool
) -> None:
    """Image by image, the streamed reader's annotations are the in-memory reader's (same model objects,
    same order), with multipolygons and boxes; small blocks, so that the sequential reader crosses many
    block boundaries (an element never straddles two reads)."""
    from labelspec.convert.model import ConversionReport
    from labelspec.convert.readers import coco, coco_stream
    from labelspec.convert.registry import ReadOptions
    from labelspec.validator.native.fastpath import certified_coco

    monkeypatch.setattr(coco_stream, "BLOCK", 4096)
    document = _coco(200, seed=7, shuffled=shuffled)
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(document))
    columns = certified_coco(source, "lenient")
    assert columns is not None
    whole = coco.read(document, ReadOptions(), ConversionReport("coco-instance", "yolo"))
    streamed = coco_stream.stream(source, columns, ReadOptions(), ConversionReport("coco-instance", "yolo"))
    assert streamed.media == whole.media
    assert streamed.categories == whole.categories
    groups = list(streamed.groups())
    assert [item for item, _ in groups] == list(whole.media)
    for item, of_item in groups:
        assert of_item == [a for a in whole.annotations if a.media_id == item.id]
    assert streamed.report.counts["annotations"] == len(whole.annotations)
