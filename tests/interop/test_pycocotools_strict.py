"""Strict-only errors of `coco-instance` are data pycocotools (the installed 2.0.x) refuses (differential).

A small valid COCO file is broken one way at a time (a key only strict requires, deleted; the fault of a
strict-only rule); labelspec's strict profile reports an error that lenient does not, and pycocotools,
asked to do what it does with that data (index the file, list annotations, rasterise, evaluate), raises.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labelspec

pytestmark = pytest.mark.interop

from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

DATASET: dict[str, Any] = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
    "categories": [{"id": 1, "name": "car", "supercategory": "vehicle"}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "segmentation": [[4, 4, 30, 4, 30, 20, 4, 20]],
            "area": 416.0,
            "bbox": [4, 4, 26, 16],
            "iscrowd": 0,
        }
    ],
}


def _load(tmp_path: Path, dataset: dict[str, Any]) -> COCO:
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(dataset))
    return COCO(str(path))


def _evaluate(coco: COCO, iou_type: str) -> None:
    detections = coco.loadRes([dict(a, score=1.0) for a in DATASET["annotations"]])
    evaluation = COCOeval(coco, detections, iou_type)
    evaluation.evaluate()


def _use(coco: COCO) -> None:
    """What a pycocotools user does with a ground-truth file: list, rasterise, evaluate."""
    for annotation in coco.loadAnns(coco.getAnnIds()):
        coco.annToMask(annotation)
    coco.getCatIds(supNms=["vehicle"])
    _evaluate(coco, "segm")
    _evaluate(coco, "bbox")


def _errors(dataset: dict[str, Any], profile: str) -> set[str]:
    report = labelspec.validate(dataset, format="coco-instance", profile=profile)
    return {f.rule for f in report.files[-1].findings if f.severity == "error"}


def _without(path: tuple[Any, ...], key: str) -> Callable[[dict[str, Any]], None]:
    def change(dataset: dict[str, Any]) -> None:
        node: Any = dataset
        for token in path:
            node = node[token]
        del node[key]

    return change


def _set(path: tuple[Any, ...], key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(dataset: dict[str, Any]) -> None:
        node: Any = dataset
        for token in path:
            node = node[token]
        node[key] = value

    return change


BREAKS = {
    "no annotations": _without((), "annotations"),
    "annotation without segmentation": _without(("annotations", 0), "segmentation"),
    "annotation without area": _without(("annotations", 0), "area"),
    "annotation without bbox": _without(("annotations", 0), "bbox"),
    "annotation without iscrowd": _without(("annotations", 0), "iscrowd"),
    "image without width": _without(("images", 0), "width"),
    "image without height": _without(("images", 0), "height"),
    "category without supercategory": _without(("categories", 0), "supercategory"),
    "COCO-ANNOTATION-ID-MISSING": _without(("annotations", 0), "id"),
    "COCO-POLYGON-TOO-FEW-POINTS": _set(("annotations", 0), "segmentation", [[4, 4, 30, 4]]),
}


def test_the_file_is_valid_and_used_by_pycocotools(tmp_path: Path) -> None:
    assert not _errors(DATASET, "strict")
    _use(_load(tmp_path, DATASET))


@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_a_strict_only_error_is_refused_by_pycocotools(tmp_path: Path, fault: str) -> None:
    broken = copy.deepcopy(DATASET)
    BREAKS[fault](broken)
    strict_only = _errors(broken, "strict") - _errors(broken, "lenient")
    assert strict_only, f"{fault}: strict adds no error"
    if fault.startswith("COCO-"):
        assert fault in strict_only
    with pytest.raises((KeyError, TypeError, ValueError, IndexError)):
        _use(_load(tmp_path, broken))
