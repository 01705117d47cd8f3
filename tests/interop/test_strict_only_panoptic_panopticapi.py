"""Strict-only COCO panoptic errors, run through panopticapi's own code (the format's reference).

panopticapi (github.com/cocodataset/panopticapi) is not on PyPI itself; ``panopticapi-lite`` 0.2.0 is, and
ships its ``panopticapi.evaluation``, ``panopticapi.utils`` and ``combine_semantic_and_instance_predictions``
modules (the format converters are not in it). It pins ``numpy<2`` although those modules run unchanged on
numpy 2, so the Makefile installs it with ``--no-deps`` beside the test extra. A panoptic dataset written at
test time by datumaro 1.13.12 (``test_strict_only_panoptic._written``), completed with what strict also
requires of categories (``supercategory``, ``color``), is the baseline panopticapi reads; each test breaks it
in one way, strict reports exactly that error (lenient does not) and panopticapi's code raises or loses data.
"""

from __future__ import annotations

import copy
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.interop

if os.environ.get("CI"):  # the Makefile installs it: in CI a missing oracle fails instead of skipping
    import panopticapi.evaluation  # noqa: F401
else:
    pytest.importorskip("panopticapi.evaluation", reason="pip install --no-deps panopticapi-lite==0.2.0")

from panopticapi.combine_semantic_and_instance_predictions import (  # noqa: E402
    combine_to_panoptic_single_core,
)
from panopticapi.evaluation import pq_compute_single_core  # noqa: E402
from panopticapi.utils import IdGenerator  # noqa: E402
from strict_only import errors  # noqa: E402
from test_strict_only_panoptic import _written  # noqa: E402

FORMAT = "coco-panoptic"


def _errors(document: Any, profile: str) -> set[tuple[str, str]]:
    return errors(document, FORMAT, profile)


def _strict_only(document: Any) -> set[tuple[str, str]]:
    return _errors(document, "strict") - _errors(document, "lenient")


@pytest.fixture()
def dataset(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """datumaro's panoptic file (categories completed with supercategory and color) and its PNG folder."""
    path = _written(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    for category in document["categories"]:
        category.setdefault("supercategory", "object")
        category.setdefault("color", [220, 20, 60])
    assert not _errors(document, "strict"), _errors(document, "strict")
    return document, path.with_suffix("")


def _evaluate(gt: dict[str, Any], pred: dict[str, Any], folder: Path) -> Any:
    """panopticapi's per-image PQ computation (`pq_compute_single_core`, without its process pool)."""
    categories = {c["id"]: c for c in gt["categories"]}
    pairs = list(zip(gt["annotations"], pred["annotations"], strict=True))
    return pq_compute_single_core(0, pairs, str(folder), str(folder), categories)


@pytest.mark.parametrize("key", ["iscrowd", "area"])
def test_a_ground_truth_segment_without_iscrowd_or_area_breaks_pq(
    dataset: tuple[dict[str, Any], Path], key: str
) -> None:
    document, folder = dataset
    stats = _evaluate(document, document, folder)
    assert sum(c.tp for c in stats.pq_per_cat.values()) == 1  # the file matches itself
    broken = copy.deepcopy(document)
    del broken["annotations"][0]["segments_info"][0][key]
    assert ("schema.required", "/annotations/0/segments_info/0") in _strict_only(broken)
    with pytest.raises(KeyError, match=key):
        _evaluate(broken, document, folder)


def test_a_repeated_segment_id_loses_an_entry(dataset: tuple[dict[str, Any], Path]) -> None:
    """`pq_compute_single_core` keys segments by id: of two entries with one id, one silently disappears."""
    document, folder = dataset
    broken = copy.deepcopy(document)
    segments = broken["annotations"][0]["segments_info"]
    segments.append(dict(segments[0], area=segments[0]["area"] + 5))
    assert "COCO-PANOPTIC-SEGMENT-ID-DUPLICATE" in {rule for rule, _ in _strict_only(broken)}
    stats = _evaluate(broken, document, folder)
    counted = sum(c.tp + c.fn for c in stats.pq_per_cat.values())
    assert counted == 1 < len(segments)  # two ground-truth entries, one segment evaluated


def test_a_category_without_color_breaks_the_id_generator(dataset: tuple[dict[str, Any], Path]) -> None:
    """`panopticapi.utils.IdGenerator` (segment ids for new panoptic PNGs) reads each category's colour."""
    document, _ = dataset
    categories = {c["id"]: c for c in document["categories"]}
    assert all(IdGenerator(categories).get_id(cid) > 0 for cid in categories)
    broken = copy.deepcopy(document)
    del broken["categories"][0]["color"]
    assert ("schema.required", "/categories/0") in _strict_only(broken)
    with pytest.raises(KeyError, match="color"):
        generator = IdGenerator({c["id"]: c for c in broken["categories"]})
        for cid in categories:
            generator.get_id(cid)


@pytest.mark.parametrize("change", ["missing", "null"])
@pytest.mark.parametrize("key", ["width", "height"])
def test_an_image_without_a_size_breaks_the_png_writer(
    dataset: tuple[dict[str, Any], Path], tmp_path: Path, key: str, change: str
) -> None:
    """`combine_to_panoptic_single_core` sizes each new panoptic PNG from the image record (np.zeros)."""
    document, _ = dataset
    out = tmp_path / "combined"
    out.mkdir()

    def combine(doc: dict[str, Any]) -> Any:
        images = {img["id"]: img for img in doc["images"]}
        categories = {c["id"]: c for c in doc["categories"]}
        empty: defaultdict[Any, list[Any]] = defaultdict(list)
        return combine_to_panoptic_single_core(
            0, list(images), images, empty, empty, str(out), 0.5, 0, categories
        )

    assert len(combine(document)) == len(document["images"])
    broken = copy.deepcopy(document)
    if change == "missing":
        del broken["images"][0][key]
    else:
        broken["images"][0][key] = None
    missing = change == "missing"
    expected = ("schema.required", "/images/0") if missing else ("schema.type", f"/images/0/{key}")
    assert expected in _strict_only(broken)
    with pytest.raises(KeyError if change == "missing" else TypeError):
        combine(broken)


# Every strict-only constraint of coco-panoptic (a required key strict adds, a type it narrows, a rule that is
# a strict error only): run above with panopticapi's code, or only cited at a pinned commit because the code
# that reads it is not shipped by panopticapi-lite (its converters).
EXECUTED = {
    ("image required", "width"),
    ("image required", "height"),
    ("image.width type", ""),
    ("image.height type", ""),
    ("panoptic_category required", "color"),
    ("segment_info required", "iscrowd"),
    ("segment_info required", "area"),
    ("COCO-PANOPTIC-SEGMENT-ID-DUPLICATE", ""),
}
CITED_ONLY = {
    # converters/panoptic2detection_coco_format.py passes categories on to pycocotools (getCatIds reads it)
    ("panoptic_category required", "supercategory"),
    # the same converter turns segments into detection annotations; pycocotools COCOeval reads their bbox
    ("segment_info required", "bbox"),
}


def test_every_strict_only_constraint_is_executed_or_cited() -> None:
    from labelspec import audit
    from labelspec.validator.rules import all_rules

    lenient = {site.id: site.value for site in audit.sites(FORMAT, "lenient")}
    found: set[tuple[str, str]] = set()
    for site in audit.sites(FORMAT, "strict"):
        before = lenient.get(site.id)
        if before == site.value:
            continue
        if site.keyword == "required":
            found |= {(site.id, key) for key in set(site.value) - set(before or [])}
        else:
            found.add((site.id, ""))
    for spec in all_rules(FORMAT):
        if spec.severity.get("strict") == "error" and spec.severity.get("lenient") != "error":
            found.add((spec.id, ""))
    assert found == EXECUTED | CITED_ONLY
