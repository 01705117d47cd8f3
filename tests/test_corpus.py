"""Exports as real producers write them (built from the notes): lenient accepts them all, and malformed
ones are rejected with located findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import labelspec
from labelspec import format_ids
from labelspec.validator.compiler import PROFILES

CORPUS = Path(__file__).resolve().parent / "corpus"


def _entries() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for index in sorted(CORPUS.glob("*/index.yaml")):
        for entry in yaml.safe_load(index.read_text()) or []:
            out.append((index.parent.name, entry))
    return out


ENTRIES = _entries()


def test_corpus_covers_every_format() -> None:
    assert {fmt for fmt, _ in ENTRIES} >= set(format_ids.IDS)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("format_id", "entry"), ENTRIES, ids=[f"{f}/{e['file']}" for f, e in ENTRIES])
def test_corpus_document(format_id: str, entry: dict[str, Any], profile: str) -> None:
    path = CORPUS / format_id / entry["file"]
    assert path.exists(), path
    report = labelspec.validate(path, format=format_id, profile=profile)
    assert len(report.files) == 1
    file = report.files[0]
    assert file.readable, file.findings
    detail = "\n".join(f"  {f.pointer} {f.rule} {f.message}" for f in file.findings)
    expected = entry["verdict"][profile]
    assert ("valid" if file.valid else "invalid") == expected, f"{profile}: expected {expected}\n{detail}"
    for want in (entry.get("expect") or {}).get(profile, []):
        hits = [f for f in file.findings if f.rule == want["rule"] and f.pointer == want["pointer"]]
        assert hits, f"{profile}: expected {want['rule']} at {want['pointer']}\n{detail}"
    for finding in file.findings:
        assert finding.message and not finding.message.startswith("<")
        assert finding.pointer == "" or finding.pointer.startswith("/")
