"""pycocotools as a producer: ``COCO.loadRes`` result datasets and ``mask.encode`` RLE are accepted.

pycocotools (the version installed with labelspec, 2.0.x) builds the documents here at test time:
``loadRes`` turns detection, segmentation and keypoint results into a ground-truth-shaped dataset (it adds
ids, areas, iscrowd and polygons of boxes); ``mask.encode`` writes compressed RLE. Uncompressed RLE is
computed independently (column-major run lengths with numpy) and checked against pycocotools' decoder
before labelspec sees it. Masks read back through ``labelspec convert`` must decode to the same pixels.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import labelspec
from tests.conftest import examples

pytestmark = pytest.mark.interop

mask_utils = pytest.importorskip("pycocotools.mask")
from pycocotools.coco import COCO  # noqa: E402

SETTINGS = settings(
    max_examples=examples(20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WIDTH, HEIGHT = 12, 9


def _ground_truth() -> dict[str, Any]:
    return {
        "images": [{"id": 1, "width": WIDTH, "height": HEIGHT, "file_name": "a.png"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 1, 4, 3],
                "area": 12,
                "iscrowd": 0,
                "segmentation": [[1, 1, 5, 1, 5, 4, 1, 4]],
                "keypoints": [2, 2, 2, 4, 3, 2],
                "num_keypoints": 2,
            }
        ],
        "categories": [
            {"id": 1, "name": "thing", "supercategory": "all", "keypoints": ["a", "b"], "skeleton": [[1, 2]]}
        ],
    }


def _coco(document: dict[str, Any]) -> COCO:
    coco = COCO()
    coco.dataset = copy.deepcopy(document)
    coco.createIndex()
    return coco


def _errors(document: Any, profile: str) -> list[str]:
    report = labelspec.validate(document, format="coco-instance", profile=profile)
    return [f"{f.pointer} {f.rule} {f.message}" for f in report.files[-1].findings if f.severity == "error"]


def _json(value: Any) -> Any:
    """What a user writes with json.dump after loadRes (compressed counts are bytes in pycocotools)."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, (np.generic, np.ndarray)):  # loadRes leaves numpy areas and boxes
        return value.tolist()
    raise TypeError(type(value))


masks = hnp.arrays(np.uint8, (HEIGHT, WIDTH), elements=st.integers(0, 1)).filter(lambda m: m.any())


def _uncompressed(mask: np.ndarray[Any, Any]) -> list[int]:
    """Column-major run lengths starting with a run of zeros (the COCO definition), without pycocotools."""
    flat = mask.flatten(order="F")
    runs, current, length = [], 0, 0
    for value in flat:
        if value == current:
            length += 1
        else:
            runs.append(length)
            current, length = int(value), 1
    runs.append(length)
    return runs


@SETTINGS
@given(st.lists(masks, min_size=1, max_size=3), st.sampled_from(["bbox", "segm", "keypoints"]))
def test_loadres_datasets_are_valid(mask_list: list[np.ndarray[Any, Any]], kind: str) -> None:
    results = []
    for index, mask in enumerate(mask_list):
        rle = mask_utils.encode(np.asfortranarray(mask))
        result: dict[str, Any] = {"image_id": 1, "category_id": 1, "score": 0.5 + index / 10}
        if kind == "bbox":
            result["bbox"] = [float(v) for v in mask_utils.toBbox(rle)]
        elif kind == "segm":
            result["segmentation"] = rle
        else:
            ys, xs = np.nonzero(mask)
            result["keypoints"] = [float(xs[0]), float(ys[0]), 2, float(xs[-1]), float(ys[-1]), 2]
        results.append(result)
    produced = _json(_coco(_ground_truth()).loadRes(results).dataset)
    assert _errors(produced, "lenient") == []
    assert _errors(produced, "strict") == [] or kind == "keypoints"  # loadRes gives keypoints no segmentation


@SETTINGS
@given(masks, st.sampled_from([0, 1]))
def test_encoded_masks_are_valid_in_both_profiles(mask: np.ndarray[Any, Any], iscrowd: int) -> None:
    compressed = mask_utils.encode(np.asfortranarray(mask))
    uncompressed = {"size": [HEIGHT, WIDTH], "counts": _uncompressed(mask)}
    # the independent encoding is what pycocotools means by uncompressed RLE
    decoded = mask_utils.decode(mask_utils.frPyObjects(uncompressed, HEIGHT, WIDTH))
    assert np.array_equal(decoded, mask)
    for segmentation in (_json(compressed), uncompressed):
        document = _ground_truth()
        annotation = document["annotations"][0]
        annotation.update(
            segmentation=segmentation,
            iscrowd=iscrowd,
            area=int(mask.sum()),
            bbox=[float(v) for v in mask_utils.toBbox(compressed)],
        )
        assert _errors(document, "lenient") == []
        assert _errors(document, "strict") == []


def test_converted_masks_decode_to_the_same_pixels(cli: list[str], tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    mask_list = [(rng.random((HEIGHT, WIDTH)) > 0.5).astype(np.uint8) for _ in range(3)]
    document = _ground_truth()
    document["annotations"] = []
    for index, mask in enumerate(mask_list):
        compressed = mask_utils.encode(np.asfortranarray(mask))
        segmentation = (
            _json(compressed) if index % 2 else {"size": [HEIGHT, WIDTH], "counts": _uncompressed(mask)}
        )
        document["annotations"].append(
            {
                "id": index + 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 1,
                "area": int(mask.sum()),
                "bbox": [float(v) for v in mask_utils.toBbox(compressed)],
                "segmentation": segmentation,
            }
        )
    source, out = tmp_path / "masks.json", tmp_path / "out.json"
    source.write_text(json.dumps(document))
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", "coco-instance", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = _coco(json.loads(out.read_text()))
    for index, mask in enumerate(mask_list):
        assert np.array_equal(written.annToMask(written.anns[index + 1]), mask)
