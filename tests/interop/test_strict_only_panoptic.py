"""Every strict-only error of the `coco-panoptic` profile is grounded in a real consumer.

COCO panoptic has no vendor SDK, and pycocotools cannot load a panoptic file. The reference consumer is the
format's own implementation, panopticapi: it is cited at a pinned commit in each strict audit reason
(schemas/coco-panoptic/audit.yaml, rules.yaml), and its evaluation, utils and combine modules are run in
test_strict_only_panoptic_panopticapi.py. Where datumaro 1.13.12 (``coco_panoptic``), the other panoptic
reader installed with the tests, checks a key, the proof is run here: a
panoptic dataset datumaro itself wrote (at test time) is broken in exactly that way, strict reports it,
and datumaro refuses it. A new strict-only site or rule without a pinned citation fails
``test_every_strict_only_error_cites_its_consumer``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labelspec
from labelspec import audit

pytestmark = pytest.mark.interop

from datumaro.components.annotation import AnnotationType, LabelCategories, Mask  # noqa: E402
from datumaro.components.dataset import Dataset as DmDataset  # noqa: E402
from datumaro.components.dataset_base import DatasetItem  # noqa: E402
from datumaro.components.media import Image as DmImage  # noqa: E402
from strict_only import strict_only_rules, strict_only_sites  # noqa: E402

FORMAT = "coco-panoptic"
PANOPTICAPI = "github.com/cocodataset/panopticapi/blob/7bb4655548f98f3fedc07bf37e9040a992b054b0/"


def _strict_only() -> dict[str, str]:
    """Strict-only site or rule -> its strict audit reason."""
    found = {site.id: audit.site_reason(FORMAT, site, "strict") for site in strict_only_sites(FORMAT)}
    for spec in strict_only_rules(FORMAT):
        found[spec.id] = audit.rule_reason(spec, "strict")
    return found


def test_every_strict_only_error_cites_its_consumer() -> None:
    found = _strict_only()
    assert found, "no strict-only error: the test would prove nothing"
    for error, reason in found.items():
        assert PANOPTICAPI in reason, f"{error}: its strict reason cites no pinned panopticapi line: {reason}"


def _written(folder: Path) -> Path:
    """A one-image panoptic dataset written by datumaro's own coco_panoptic exporter."""
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[2:5, 2:6] = 1
    item = DatasetItem(
        id="a",
        subset="train",
        media=DmImage.from_numpy(data=np.zeros((8, 8, 3), dtype=np.uint8)),
        annotations=[Mask(mask, label=0, id=1, group=1)],
    )
    labels = LabelCategories()
    labels.add("thing")
    DmDataset.from_iterable([item], categories={AnnotationType.label: labels}).export(
        str(folder), "coco_panoptic", save_media=False
    )
    return folder / "annotations" / "panoptic_train.json"


def _errors(document: Any, profile: str) -> set[str]:
    report = labelspec.validate(document, format=FORMAT, profile=profile)
    return {f.rule for f in report.files[-1].findings if f.severity == "error"}


def test_a_segment_without_iscrowd_is_refused_by_datumaro(tmp_path: Path) -> None:
    path = _written(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    DmDataset.import_from(str(tmp_path), "coco_panoptic")  # datumaro reads its own output
    del document["annotations"][0]["segments_info"][0]["iscrowd"]
    path.write_text(json.dumps(document), encoding="utf-8")
    assert "schema.required" in _errors(document, "strict") - _errors(document, "lenient")
    with pytest.raises(Exception, match="coco_panoptic"):
        DmDataset.import_from(str(tmp_path), "coco_panoptic")
