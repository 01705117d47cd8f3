"""Fuzzing: whatever the input, validation returns a report; it never raises, and no rule gives up.

Besides random JSON and randomly edited corpus documents, every format gets hostile values (numbers too
long for int(), very long strings, unusual Unicode, deep nesting: ``tests/json_strategies.py``), as parsed
documents, as JSON bytes and as files through the CLI; YOLO gets hostile label lines and names files."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

import labelspec
from labelspec.validator.compiler import PROFILES, list_formats
from tests.conftest import labelspec_command
from tests.json_strategies import (
    UNUSUAL_CHARACTERS,
    hostile_documents,
    hostile_leaves,
    json_values,
    mutated_documents,
)


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


def _json_bytes(document: Any) -> bytes | None:
    """The document as JSON text, or None when JSON cannot hold it (a lone surrogate, too deep for orjson)."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return None


@given(hostile_documents(), st.sampled_from(PROFILES))
def test_hostile_documents_never_raise(case: tuple[str, Any], profile: str) -> None:
    format_id, document = case
    _assert_well_formed(labelspec.validate(document, format=format_id, profile=profile))
    _assert_well_formed(labelspec.validate(document, profile=profile))  # detection sees it too
    data = _json_bytes(document)
    if data is not None:
        _assert_well_formed(labelspec.validate(data, format=format_id, profile=profile))


@given(hostile_documents(), st.sampled_from(PROFILES))
def test_hostile_files_through_the_cli(case: tuple[str, Any], profile: str) -> None:
    """The installed CLI, on the file (native fast path, then the reference path), never fails inside."""
    format_id, document = case
    data = _json_bytes(document)
    if data is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_bytes(data)
        command = [*labelspec_command(), "validate", "--output", "json", "--format", format_id]
        result = subprocess.run(
            [*command, "--profile", profile, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), result.stderr
    report = json.loads(result.stdout)
    assert not [f for file in report["files"] for f in file["findings"] if f["rule"].startswith("internal.")]


yolo_tokens = (
    st.sampled_from(["0", "1", "0.5", "0.25", "1e-3", "-1", "7"])
    | hostile_leaves.filter(lambda v: isinstance(v, str)).map(lambda v: v.replace("\n", " ")[:6000])
    | st.text(alphabet=st.sampled_from(UNUSUAL_CHARACTERS + "0123456789.-+e "), max_size=20)
)
yolo_lines = st.lists(yolo_tokens, min_size=0, max_size=12).map(" ".join)


@given(
    st.lists(yolo_lines, max_size=6),
    st.sampled_from(["", "names: [a, b]\n", "names: {0: a, 1: b}\n", "kpt_shape: [2, 3]\nnames: [a]\n"]),
    hostile_leaves.filter(lambda v: isinstance(v, str) and len(v) < 7000),
)
def test_hostile_yolo_datasets_never_raise(lines: list[str], data_yaml: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "labels").mkdir()
        (root / "labels" / "a.txt").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        if data_yaml:
            (root / "data.yaml").write_text(data_yaml)
        else:
            (root / "classes.txt").write_text(f"a\n{name}\n", encoding="utf-8", errors="surrogatepass")
        for profile in PROFILES:
            _assert_well_formed(labelspec.validate(root, profile=profile))
