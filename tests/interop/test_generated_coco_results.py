"""Generated COCO results files load in pycocotools (2.0.x) ``COCO.loadRes`` and ``COCOeval`` runs on them.

``labelspec.generators.coco_results`` writes a ground-truth file and a results file of one kind (boxes,
compressed-RLE masks, keypoints). The oracle is pycocotools itself: ``loadRes`` asserts that every result
names an image of the ground truth and derives areas and boxes; COCOeval then evaluates every result. The
results file is also structurally valid as the schema's ``results_file`` under both profiles.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelspec import generators
from labelspec.generators.fixtures import coco
from labelspec.validator.structural import structural_findings
from tests.conftest import examples

pytestmark = pytest.mark.interop

_IOU = {"bbox": "bbox", "segmentation": "segm", "keypoints": "keypoints"}


def _coco(dataset: dict[str, Any]) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO()
        ground_truth.dataset = json.loads(json.dumps(dataset))
        ground_truth.createIndex()
    return ground_truth


def check_loaded(truth: COCO, detections: COCO, results: list[dict[str, Any]]) -> None:
    """``loadRes`` kept every result, measured a positive area and a box inside its image for each."""
    assert len(detections.anns) == len(results)
    for ann in detections.anns.values():
        assert ann["area"] > 0, ann  # loadRes measured the box, mask or keypoint extent
        image = truth.imgs[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert x >= -1e-6 and x + w <= image["width"] + 1e-6, ann
        assert y >= -1e-6 and y + h <= image["height"] + 1e-6, ann


@pytest.mark.parametrize("kind", coco.RESULT_KINDS)
def test_generated_results_load_in_pycocotools_and_evaluate(kind: str) -> None:
    @settings(max_examples=examples(8), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(generators.coco_results(kind=kind, max_items=3))
    def check(pair: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        ground_truth, results = pair
        for profile in ("lenient", "strict"):
            assert structural_findings(results, "coco-instance", profile, "results_file") == []
        with contextlib.redirect_stdout(io.StringIO()):
            truth = _coco(ground_truth)
            detections = truth.loadRes(json.loads(json.dumps(results)))
            check_loaded(truth, detections, results)
            evaluation = COCOeval(truth, detections, _IOU[kind])
            if kind == "keypoints":  # custom keypoints: their own sigmas, only the categories that have them
                named = [c for c in ground_truth["categories"] if c.get("keypoints")]
                evaluation.params.catIds = [c["id"] for c in named]
                evaluation.params.kpt_oks_sigmas = np.full(len(named[0]["keypoints"]), 0.05)
            evaluation.evaluate()
            evaluation.accumulate()
        matched = {i for e in evaluation.evalImgs if e for i in e["dtIds"]}
        assert matched <= set(detections.anns) and matched, "COCOeval considered none of the results"
        assert np.isfinite(evaluation.eval["precision"]).all()

    check()
