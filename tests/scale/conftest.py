"""Shared inputs of the tests of validator/scale (item by item, in parts, over processes), each compared with
the reference path: generated exports (valid and single-fault mutants)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FORMATS = ("encord", "datagym", "segments")


def generated(
    out: Path, format_id: str, invalid: bool, count: int = 12, seed: int = 7
) -> list[dict[str, str]]:
    """``labelspec generate`` into ``out``: the manifest's entries with absolute paths."""
    args = [sys.executable, "-m", "labelspec", "generate", format_id, "--count", str(count)]
    args += ["--seed", str(seed)]
    args += ["--out", str(out)] + (["--invalid"] if invalid else [])
    subprocess.run(args, check=True, capture_output=True)
    entries = json.loads((out / "manifest.json").read_text())["files"]
    for entry in entries:
        for key in ("path", "ontology"):
            if key in entry:
                entry[key] = str(out / entry[key])
    return list(entries)


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], list[dict[str, str]]]:
    base = tmp_path_factory.mktemp("generated")
    return {
        (fmt, invalid): generated(base / f"{fmt}-{invalid}", fmt, invalid)
        for fmt in FORMATS
        for invalid in (False, True)
    }


@pytest.fixture(autouse=True)
def reference_path_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests compare the reference path's ways of working (in memory, item by item, over processes);
    the native fast path, which would otherwise take Encord files first, is compared in tests/native."""
    from labelspec.validator.native import fastpath

    monkeypatch.setenv("LABELSPEC_NATIVE", "0")
    fastpath.native.cache_clear()
    yield
    monkeypatch.undo()
    fastpath.native.cache_clear()
