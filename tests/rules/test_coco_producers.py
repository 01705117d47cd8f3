"""COCO files in the shapes real producers write them (issue classes: CVAT/datumaro/Roboflow dates,
Encord's COCO exporter, COCO-Annotator colours, labelformat's id-less annotations, COCO image-info files).

Each document is built from the producer's writer code as cited in the discrepancy register
(COCO-D09..D13); the differential tests in tests/interop/ run the producers themselves where they install.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import labelspec


def _image(**extra: Any) -> dict[str, Any]:
    return {"id": 1, "width": 8, "height": 6, "file_name": "a.jpg", **extra}


def _encord_exporter_file() -> dict[str, Any]:
    """What encord.utilities.coco.exporter.CocoExporter.export() returns for a point, a polygon and a
    skeleton object on one 8x6 image (get_info, get_category, get_point, get_polygon, get_skeleton)."""
    common = {"iscrowd": 0, "image_id": 0}

    def attributes(track: int) -> dict[str, Any]:
        return {
            "track_id": track,
            "encord_track_uuid": f"h{track}",
            "classifications": {},
            "manual_annotation": True,
        }

    return {
        "info": {
            "description": "row.jpg",
            "contributor": None,
            "date_created": None,
            "url": None,
            "version": None,
            "year": None,
        },
        "categories": [
            {"supercategory": "point", "id": 1, "name": "pin", "keypoints": "keypoint", "skeleton": []},
            {"supercategory": "polygon", "id": 2, "name": "roof"},
            {"supercategory": "skeleton", "id": 3, "name": "pose"},
        ],
        "images": [
            {
                "coco_url": "https://x/row.jpg",
                "id": 0,
                "image_title": "row.jpg",
                "file_name": "images/h.jpg",
                "height": 6,
                "width": 8,
            }
        ],
        "annotations": [
            {
                **common,
                "id": 0,
                "category_id": 1,
                "area": 0,
                "bbox": [4.0, 3.0, 0, 0],
                "segmentation": [[4.0, 3.0]],
                "keypoints": [4.0, 3.0, 2],
                "num_keypoints": 1,
                "attributes": attributes(0),
            },
            {
                **common,
                "id": 1,
                "category_id": 2,
                "area": 4.0,
                "bbox": [1.0, 1.0, 2.0, 2.0],
                "segmentation": [[1.0, 1.0, 3.0, 1.0, 3.0, 3.0, 1.0, 3.0]],
                "keypoints": None,
                "num_keypoints": None,
                "attributes": attributes(1),
            },
            {
                **common,
                "id": 2,
                "category_id": 3,
                "area": 0,
                "bbox": [1.0, 1.0, 4.0, 3.0],
                "segmentation": [],
                "keypoints": [1.0, 1.0, 2, 5.0, 4.0, 1],
                "num_keypoints": 2,
                "attributes": attributes(2),
            },
        ],
    }


def _findings(document: Any, profile: str) -> list[tuple[str, str, str]]:
    report = labelspec.validate(document, format="coco-instance", profile=profile)
    return [(f.rule, f.severity, f.pointer) for f in report.files[-1].findings]


def _errors(document: Any, profile: str) -> list[tuple[str, str, str]]:
    return [f for f in _findings(document, profile) if f[1] == "error"]


@pytest.mark.parametrize("date", [0, 1700000000, "2024-01-01 10:00:00", None])
def test_any_date_captured_is_accepted_silently(date: Any) -> None:
    document = {
        "images": [_image(date_captured=date, license=0, flickr_url="", coco_url="")],
        "annotations": [],
        "categories": [{"id": 1, "name": "car", "supercategory": ""}],
    }
    assert _findings(document, "lenient") == []
    assert _findings(document, "strict") == []


def test_encord_exporter_output_is_lenient_valid_with_visible_quirks() -> None:
    document = _encord_exporter_file()
    assert _errors(document, "lenient") == []
    warned = {(rule, pointer) for rule, severity, pointer in _findings(document, "lenient")}
    assert ("COCO-POLYGON-TOO-FEW-POINTS", "/annotations/0/segmentation/0") in warned
    assert ("COCO-CATEGORY-KEYPOINTS-NOT-LIST", "/categories/0/keypoints") in warned
    # null keypoints are a missing key to every consumer: no finding on the polygon object
    assert not [f for f in _findings(document, "lenient") if f[2].startswith("/annotations/1")]
    # strict: what pycocotools cannot rasterise or evaluate (one-point polygon, empty polygon list, area 0)
    assert set(_errors(document, "strict")) == {
        ("COCO-POLYGON-TOO-FEW-POINTS", "error", "/annotations/0/segmentation/0"),
        ("COCO-AREA-NOT-POSITIVE", "error", "/annotations/0/area"),
        ("COCO-AREA-NOT-POSITIVE", "error", "/annotations/2/area"),
        ("schema.minItems", "error", "/annotations/2/segmentation"),
    }


def test_encord_exporter_output_converts_a_point_to_a_point(cli: list[str], tmp_path: Path) -> None:
    source = tmp_path / "encord_coco.json"
    source.write_text(json.dumps(_encord_exporter_file()))
    out = tmp_path / "out.json"
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", "coco-instance", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    written = json.loads(out.read_text())
    by_category = {a["category_id"]: a for a in written["annotations"]}
    assert by_category[1]["keypoints"][:2] == [4.0, 3.0]
    assert len(written["annotations"]) == 3  # the point did not become an extra zero-size box


@pytest.mark.parametrize("colour", ["#a3c2f0", "red", [255, 0, 0, 128], {"r": 1}, None])
def test_non_coco_keys_are_not_type_checked(colour: Any) -> None:
    document = {
        "images": [_image()],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 1, 2, 2],
                "area": 4,
                "iscrowd": 0,
                "segmentation": [[1, 1, 3, 1, 3, 3]],
                "points": "not a list",
                "attributes": {"occluded": False},
            }
        ],
        "categories": [{"id": 1, "name": "car", "supercategory": "vehicle", "color": colour}],
    }
    assert _findings(document, "lenient") == []
    assert _findings(document, "strict") == []


def test_coco_keys_stay_typed() -> None:
    document = {
        "images": [_image(width="8")],
        "annotations": [],
        "categories": [{"id": 1, "name": "car", "keypoints": 3}],
    }
    rules = {(rule, pointer) for rule, _, pointer in _errors(document, "lenient")}
    assert rules == {("schema.type", "/images/0/width"), ("schema.type", "/categories/0/keypoints")}


def test_coco_annotator_hex_colour_survives_conversion(cli: list[str], tmp_path: Path) -> None:
    source = tmp_path / "annotator.json"
    source.write_text(
        json.dumps(
            {
                "images": [_image()],
                "annotations": [
                    {
                        "id": 1,
                        "image_id": 1,
                        "category_id": 1,
                        "bbox": [1, 1, 2, 2],
                        "area": 4,
                        "iscrowd": 0,
                        "segmentation": [[1, 1, 3, 1, 3, 3]],
                    }
                ],
                "categories": [{"id": 1, "name": "car", "supercategory": "vehicle", "color": "#a3c2f0"}],
            }
        )
    )
    out = tmp_path / "segments.json"
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", "segments", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "#a3c2f0" in out.read_text().lower() or "163" in out.read_text()


def test_annotations_without_id_are_a_lenient_warning_and_a_strict_error() -> None:
    document = {
        "images": [_image()],
        "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
        "categories": [{"id": 1, "name": "car"}],
    }
    assert _findings(document, "lenient") == [("COCO-ANNOTATION-ID-MISSING", "warning", "/annotations/0")]
    assert ("COCO-ANNOTATION-ID-MISSING", "error", "/annotations/0") in _errors(document, "strict")


def test_image_info_file_without_annotations() -> None:
    document = {"info": {"year": 2017}, "images": [_image()], "categories": [{"id": 1, "name": "car"}]}
    assert _errors(document, "lenient") == []
    assert ("schema.required", "error", "") in _errors(document, "strict")
