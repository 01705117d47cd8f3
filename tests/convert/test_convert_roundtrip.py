"""Property and interoperability tests: generated COCO files round-trip through the canonical model;
COCO outputs load in pycocotools and their masks decode equal to the source masks (COCO RLE, COCO
polygons, Encord bitmasks decoded with the exact codec)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from pycocotools.coco import COCO

import labelspec
from labelspec import generators
from labelspec.codecs.encord_bitmask import decode_mask
from labelspec.convert.api import convert
from labelspec.convert.model import ConversionReport
from labelspec.convert.readers import coco as coco_reader
from labelspec.convert.registry import ReadOptions
from labelspec.convert.writers.coco_instance import WRITER as COCO_WRITER
from tests.conftest import CORPUS


def _coco(path: Path) -> COCO:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        return COCO(str(path))


def _assert_same_masks(source: COCO, output: COCO, id_map: dict[int, int] | None = None) -> None:
    for annotation in source.loadAnns(source.getAnnIds()):
        if not annotation.get("segmentation"):
            continue
        converted = output.anns[(id_map or {}).get(annotation["id"], annotation["id"])]
        assert np.array_equal(source.annToMask(annotation), output.annToMask(converted)), annotation["id"]


def _by_id(items: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {item["id"]: item for item in items}


def _flat(values: list[float] | None) -> list[float]:
    return list(values or [])


def _check_round_trip(document: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, once, twice = Path(folder, "in.json"), Path(folder, "once.json"), Path(folder, "twice.json")
        source.write_text(json.dumps(document))
        report = convert(source, "coco-instance", once)
        assert report.lossless, report.to_json()
        assert labelspec.validate(once, format="coco-instance", profile="strict").valid
        output = json.loads(once.read_text())
        # ids, names, sizes and structure are kept exactly
        assert _by_id(output["images"]).keys() == _by_id(document["images"]).keys()
        for image_id, image in _by_id(document["images"]).items():
            written = _by_id(output["images"])[image_id]
            assert (written["file_name"], written["width"], written["height"]) == (
                image["file_name"],
                image["width"],
                image["height"],
            )
        for category_id, category in _by_id(document["categories"]).items():
            written = _by_id(output["categories"])[category_id]
            assert written["name"] == category["name"]
            assert written.get("keypoints") == category.get("keypoints")
            assert written.get("skeleton") == category.get("skeleton")
        source_anns, written_anns = _by_id(document["annotations"]), _by_id(output["annotations"])
        assert written_anns.keys() == source_anns.keys()
        for ann_id, annotation in source_anns.items():
            written = written_anns[ann_id]
            assert (written["image_id"], written["category_id"], written["iscrowd"]) == (
                annotation["image_id"],
                annotation["category_id"],
                annotation["iscrowd"],
            )
            assert written["bbox"] == pytest.approx(annotation["bbox"], abs=0.011)
            # coordinates are written rounded to 6 decimals (documented in the writer): float noise such
            # as 5.869999999999999 becomes 5.87
            assert _flat(written.get("keypoints")) == pytest.approx(
                _flat(annotation.get("keypoints")), abs=1e-6
            )
            if isinstance(annotation["segmentation"], dict):  # RLE: same pixels, same pixel count
                assert written["area"] == annotation["area"]
            else:  # polygons: kept as polygons, area normalised to the pixel area (documented)
                assert len(written["segmentation"]) == len(annotation["segmentation"])
                for ring, source_ring in zip(
                    written["segmentation"], annotation["segmentation"], strict=True
                ):
                    assert ring == pytest.approx(source_ring, abs=1e-6)
        _assert_same_masks(_coco(source), _coco(once))
        # a second pass changes nothing: the conversion is idempotent
        convert(once, "coco-instance", twice)
        assert twice.read_bytes() == once.read_bytes()


@given(generators.coco_instance(profile="strict", max_items=2, max_objects=3, max_size=96))
def test_coco_instance_round_trips_through_the_model(document: dict[str, Any]) -> None:
    _check_round_trip(document)


def test_pycocotools_ground_truth_round_trips() -> None:
    _check_round_trip(json.loads((CORPUS / "coco-instance" / "pycocotools_ground_truth.json").read_text()))


@given(generators.encord_export_with_ontology(data_types=["image", "video"], max_size=64))
def test_generated_encord_exports_convert_to_valid_coco_with_exact_bitmasks(pair: Any) -> None:
    rows, ontology = pair
    with tempfile.TemporaryDirectory() as folder:
        source, onto, out = (
            Path(folder, "rows.json"),
            Path(folder, "ontology.json"),
            Path(folder, "coco.json"),
        )
        source.write_text(json.dumps(rows))
        onto.write_text(json.dumps(ontology))
        # every status: the generated rows include NOT_LABELLED ones, which the default leaves out
        report = convert(source, "coco-instance", out, ontology=onto, statuses=["all"])
        assert labelspec.validate(out, format="coco-instance").valid
        coco = _coco(out)
        expected = _encord_bitmasks(rows)
        masks = [a for a in coco.loadAnns(coco.getAnnIds()) if isinstance(a["segmentation"], dict)]
        holes = _count(report, "polygon with holes")  # written as RLE too
        assert len(masks) == len(expected) + holes
        image_names = {img["id"]: img["file_name"] for img in coco.dataset["images"]}
        decoded = Counter((image_names[a["image_id"]], coco.annToMask(a).tobytes()) for a in masks)
        assert not Counter(expected) - decoded  # every bitmask decodes to exactly the codec's pixels
        yolo = Path(folder, "yolo")
        convert(source, "yolo", yolo, ontology=onto, statuses=["all"])
        assert labelspec.validate(yolo, format="yolo").valid


def _count(report: ConversionReport, what: str) -> int:
    return sum(1 for loss in report.losses if loss.what == what)


def _encord_bitmasks(rows: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """(file name as the reader names it, full-image mask bytes) of every bitmask, via the exact codec."""
    found = []
    for row in rows:
        for data_hash, unit in row["data_units"].items():
            labels = unit.get("labels") or {}
            framed = row["data_type"] not in ("image", "img_group")
            blobs = [(int(k), v) for k, v in labels.items()] if framed else [(None, labels)]
            for frame, blob in blobs:
                for obj in blob.get("objects") or []:
                    if "bitmask" not in obj:
                        continue
                    raw = obj["bitmask"]
                    mask = decode_mask(raw["rleString"], raw["height"], raw["width"])
                    full = np.zeros((unit["height"], unit["width"]), dtype=np.uint8)
                    full[
                        raw["top"] : raw["top"] + mask.shape[0], raw["left"] : raw["left"] + mask.shape[1]
                    ] = mask
                    title = unit.get("data_title") or data_hash
                    name = title if frame is None else f"{title.rsplit('.', 1)[0]}_{frame:06d}.jpg"
                    found.append((name, full.tobytes()))
    return found


def test_encord_bitmask_matches_pycocotools_and_the_codec(tmp_path: Path) -> None:
    out = tmp_path / "coco.json"
    convert(CORPUS / "encord" / "video-row.json", "coco-instance", out)
    coco = _coco(out)
    masks = [a for a in coco.loadAnns(coco.getAnnIds()) if isinstance(a["segmentation"], dict)]
    assert masks
    expected = decode_mask("02220N:0F20N", 6, 6)  # notes §5: four 2x2 corner squares
    for annotation in masks:
        assert np.array_equal(coco.annToMask(annotation).astype(bool), expected)
        assert annotation["area"] == 16 and annotation["bbox"] == [0, 0, 6, 6]


def test_polygon_with_hole_becomes_rle_and_is_reported(tmp_path: Path) -> None:
    from labelspec.convert.model import Annotation, Category, LabelledDataset, MediaItem, Polygon

    outer = (0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0)
    hole = (3.0, 3.0, 7.0, 3.0, 7.0, 7.0, 3.0, 7.0)
    dataset = LabelledDataset(
        (MediaItem("1", "a.jpg", 12, 12),),
        (Category("1", "frame"),),
        (Annotation("1", "1", "1", Polygon((outer, hole))),),
    )
    report = ConversionReport("test", "coco-instance")
    document = COCO_WRITER.build(dataset, report)
    (annotation,) = document["annotations"]
    assert isinstance(annotation["segmentation"], dict)
    assert [loss.kind for loss in report.losses] == ["approximated"]
    from pycocotools import mask as mask_utils

    pixels = mask_utils.decode({**annotation["segmentation"], "counts": annotation["segmentation"]["counts"]})
    assert pixels[5, 5] == 0 and pixels[1, 1] == 1 and annotation["area"] == int(pixels.sum())
    assert annotation["bbox"] == [0, 0, 10, 10]


def test_segments_sdk_coco_faults_are_not_reproduced(tmp_path: Path) -> None:
    """schemas/segments/notes.md#s9-1: reversed corners give negative sizes, polygons go to `points`, no
    area/iscrowd/segmentation. labelspec writes proper COCO."""
    out = tmp_path / "coco.json"
    report = convert(
        CORPUS / "coco-instance" / "export_coco-instance_jane_streets_v0.3.json", "coco-instance", out
    )
    document = json.loads(out.read_text())
    for annotation in document["annotations"]:
        assert {"segmentation", "area", "iscrowd", "bbox"} <= annotation.keys()
        assert annotation["bbox"][2] >= 0 and annotation["bbox"][3] >= 0
    polygon = _by_id(document["annotations"])[4]
    assert polygon["segmentation"] == [[1, 1, 4, 1, 4, 5, 1, 5]] and "points" not in polygon
    assert _by_id(document["annotations"])[2]["bbox"] == [2.25, 2, 3.25, 2]
    whats = {(loss.kind, loss.what) for loss in report.losses}
    assert ("approximated", "box") in whats and ("dropped", "annotation") in whats  # the empty polyline


def test_category_ids_are_mapped_when_not_integers(tmp_path: Path) -> None:
    from labelspec.convert.model import Annotation, Box, Category, LabelledDataset, MediaItem

    dataset = LabelledDataset(
        (MediaItem("img-a", "a.jpg", 8, 6),),
        (Category("featA", "car"), Category("featB", "bus")),
        (Annotation("x", "img-a", "featB", Box(1, 1, 2, 2)),),
    )
    report = ConversionReport("test", "coco-instance")
    document = COCO_WRITER.build(dataset, report)
    assert [c["id"] for c in document["categories"]] == [1, 2]
    assert document["annotations"][0]["category_id"] == 2
    assert report.mappings["category_id"] == {"featA": 1, "featB": 2} and report.lossless
    assert report.to_json()["mappings"]["image_id"] == {"img-a": 1}


def test_reader_keeps_keypoints_with_their_region() -> None:
    document = json.loads((CORPUS / "coco-instance" / "pycocotools_ground_truth.json").read_text())
    dataset = coco_reader.read(document, ReadOptions(), ConversionReport("coco-instance", "x"))
    paired = [a for a in dataset.annotations if a.track_id is not None]
    assert paired and len(paired) % 2 == 0
