"""Fuzzing: whatever the input, validation returns a report; it never raises."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import labelspec
from labelspec.validator.schemas import PROFILES, list_formats
from tests.json_strategies import json_values, mutated_documents


def _assert_well_formed(report: labelspec.Report) -> None:
    assert report.files
    for file in report.files:
        for finding in file.findings:
            assert finding.severity in ("error", "warning")
            assert finding.pointer == "" or finding.pointer.startswith("/")
            assert finding.message
            assert not finding.rule.startswith("internal."), finding


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    _assert_well_formed(labelspec.validate(data))


@given(json_values, st.sampled_from(list_formats()), st.sampled_from(PROFILES))
def test_random_json_never_raises(document: Any, format_id: str, profile: str) -> None:
    _assert_well_formed(labelspec.validate(document, format=format_id, profile=profile))


@given(mutated_documents(), st.sampled_from(PROFILES))
def test_mutated_documents_never_raise(case: tuple[str, Any], profile: str) -> None:
    format_id, document = case
    _assert_well_formed(labelspec.validate(document, format=format_id, profile=profile))
    _assert_well_formed(labelspec.validate(json.dumps(document).encode(), format=format_id, profile=profile))
