"""Encord's own COCO exporter (``encord.utilities.coco.exporter.CocoExporter``) writes COCO at test time
from label rows the SDK itself wrote (``LabelRowV2.to_encord_dict``); labelspec lenient accepts it all.

The rows are generated strict Encord image rows with their ontology, loaded and written back by the SDK
(``encord_sdk.sdk_round_trip``), then exported with the ontology the SDK parsed. The exporter's quirks
(null keypoints, one-point polygons, a string of keypoint names, COCO-D10) are warnings, never errors.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import labelspec
from labelspec import generators
from tests.conftest import examples

pytestmark = pytest.mark.interop

pytest.importorskip("encord")
pytest.importorskip("cv2")  # the exporter module imports OpenCV and shapely (encord[coco])
pytest.importorskip("shapely")

from encord.objects.ontology_structure import OntologyStructure  # noqa: E402
from encord.utilities.coco.exporter import CocoExporter  # noqa: E402
from encord_sdk import sdk_round_trip  # noqa: E402

# Shapes the exporter turns into COCO annotations (it has no branch for the others).
SHAPES = ["bounding_box", "polygon", "point", "polyline", "skeleton", "bitmask"]


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


def test_exporter_output_is_lenient_valid() -> None:
    exported: list[int] = []

    @settings(
        max_examples=examples(10),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        generators.encord_export_with_ontology(
            profile="strict", data_types=["image"], max_items=2, shapes=SHAPES, min_size=16, max_size=64
        )
    )
    def check(example: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
        rows, ontology = example
        written = []
        for row in rows:
            again, reason = sdk_round_trip(row, ontology)
            assert again is not None, reason
            written.append(again)
        coco = json.loads(json.dumps(CocoExporter(written, OntologyStructure.from_dict(ontology)).export()))
        report = labelspec.validate(coco, format="coco-instance", profile="lenient")
        errors = [f for f in report.files[-1].findings if f.severity == "error"]
        assert errors == [], errors
        exported.append(len(coco["annotations"]))

    check()
    assert sum(exported) > 0, "the exporter wrote no annotation at all: the test would prove nothing"
