"""The fast structural path (jsonschema-rs, then the reference validator on what it rejects) gives exactly
the findings of the reference path (python-jsonschema alone)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from labelspec.validator.examples import documented_examples
from labelspec.validator.schemas import PROFILES
from labelspec.validator.structural import structural_findings
from tests.json_strategies import CORPUS, mutated_documents


def _all_corpus_documents() -> list[tuple[str, Any]]:
    out = []
    for index in sorted(CORPUS.glob("*/index.yaml")):
        for entry in yaml.safe_load(index.read_text()) or []:
            path = index.parent / entry["file"]
            if path.suffix == ".json":
                out.append((index.parent.name, json.loads(path.read_text())))
    return out


def _same(document: Any, format_id: str, profile: str, definition: str | None = None) -> None:
    fast = structural_findings(document, format_id, profile, definition)
    reference = structural_findings(document, format_id, profile, definition, reference=True)
    assert fast == reference


@pytest.mark.parametrize("profile", PROFILES)
def test_corpus_and_documented_examples(profile: str) -> None:
    for format_id, document in _all_corpus_documents():
        _same(document, format_id, profile)
    for example in documented_examples():
        _same(example.load(), example.format, profile, example.definition)


@given(mutated_documents(), st.sampled_from(PROFILES))
def test_mutated_documents(case: tuple[str, Any], profile: str) -> None:
    format_id, document = case
    _same(document, format_id, profile)


def _generated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any]]:
    import subprocess
    import sys

    out = []
    for format_id in ("encord", "datagym", "segments", "coco-instance", "coco-panoptic"):
        for invalid in (False, True):
            folder = tmp_path_factory.mktemp(f"{format_id}-{invalid}")
            args = [sys.executable, "-m", "labelspec", "generate", format_id, "--count", "15", "--seed", "11"]
            subprocess.run([*args, "--out", str(folder)] + (["--invalid"] if invalid else []), check=True)
            manifest = json.loads((folder / "manifest.json").read_text())
            out += [(format_id, json.loads((folder / e["path"]).read_text())) for e in manifest["files"]]
    return out


@pytest.fixture(scope="module")
def generated_documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any]]:
    return _generated(tmp_path_factory)


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_documents_and_mutants(generated_documents: list[tuple[str, Any]], profile: str) -> None:
    """Full validation (structure and rules) through the fast path equals the reference path."""
    from labelspec.validator.rules import RuleContext, semantic_findings

    for format_id, document in generated_documents:
        _same(document, format_id, profile)
        context = RuleContext(document=document, format=format_id, profile=profile)
        reference = structural_findings(document, format_id, profile, reference=True)
        reference += semantic_findings(context)
        fast = structural_findings(document, format_id, profile)
        fast += semantic_findings(RuleContext(document=document, format=format_id, profile=profile))
        assert fast == reference
