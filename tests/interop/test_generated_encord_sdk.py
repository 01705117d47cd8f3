"""Generated strict Encord exports load in the Encord SDK (encord 0.1.211, offline) without loss.

Every row of a strict ``encord_export_with_ontology`` example is parsed by ``LabelRowV2.from_labels_dict``
against the generated ontology (``encord_sdk.build_label_row``), written back with ``to_encord_dict`` and
compared with the input (nothing dropped or changed, see ``encord_sdk``); the SDK's output loads again.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from labelspec import generators
from labelspec.generators.fixtures.encord import DATA_TYPES
from tests.conftest import examples

pytestmark = pytest.mark.interop

pytest.importorskip("encord")

from encord_sdk import sdk_loads_without_loss, sdk_round_trip  # noqa: E402  (needs the SDK)


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_generated_strict_rows_load_and_round_trip(data_type: str) -> None:
    @settings(
        max_examples=examples(6),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(generators.encord_export_with_ontology(profile="strict", data_types=[data_type], max_items=2))
    def check(example: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
        rows, ontology = example
        for row in rows:
            loaded, reason = sdk_loads_without_loss(row, ontology)
            assert loaded, f"{data_type} row: {reason}"
            written, reason = sdk_round_trip(row, ontology)
            assert written is not None, reason
            again, reason = sdk_loads_without_loss(written, ontology)
            assert again, f"to_encord_dict() output of a {data_type} row: {reason}"

    check()
