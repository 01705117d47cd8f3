"""The fast structural path (jsonschema-rs, then the reference validator on what it rejects) gives exactly
the findings of the reference path (python-jsonschema alone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from labelspec.validator.compiler import PROFILES, compile_schema
from labelspec.validator.examples import documented_examples
from labelspec.validator.structural import structural_findings
from tests.generators.structural_sites import NO_SITE, schema_keywords
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


def _generated(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Generated files (valid and single-fault mutants) with their format and manifest entry."""
    import subprocess
    import sys

    out = []
    for format_id in ("encord", "datagym", "segments", "coco-instance", "coco-panoptic"):
        for invalid in (False, True):
            folder = tmp_path_factory.mktemp(f"{format_id}-{invalid}")
            args = [sys.executable, "-m", "labelspec", "generate", format_id, "--count", "15", "--seed", "11"]
            subprocess.run([*args, "--out", str(folder)] + (["--invalid"] if invalid else []), check=True)
            manifest = json.loads((folder / "manifest.json").read_text())
            for entry in manifest["files"]:
                resolved = {k: str(folder / entry[k]) for k in ("path", "ontology", "png_dir") if k in entry}
                out.append({**entry, **resolved, "format": format_id})
    return out


@pytest.fixture(scope="module")
def generated_documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _generated(tmp_path_factory)


class _Pairs(list):  # type: ignore[type-arg]
    """An object as parsed, keys in order and repeats kept."""


def _repeated_keys(node: Any, at: str = "") -> list[str]:
    """Pointers of repeated keys, found by a parse that keeps every pair (not the validator's scanner)."""
    out: list[str] = []
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, value in node:
            here = at + "/" + key.replace("~", "~0").replace("/", "~1")
            if key in seen:
                out.append(here)
            seen.add(key)
            out += _repeated_keys(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _repeated_keys(value, f"{at}/{index}")
    return out


def _key(finding: Any) -> tuple[str, str, str, str]:
    return (finding.pointer, finding.rule, finding.severity, finding.message)


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_documents_and_mutants(generated_documents: list[dict[str, Any]], profile: str) -> None:
    """The whole report of a file through the public API (native decider, compiled schemas, streaming)
    equals the reference computation: python-jsonschema alone, then every Python rule on the parsed
    document, with repeated keys located by an independent parse."""
    import labelspec
    from labelspec.validator.native.fastpath import native_report
    from labelspec.validator.rules import RuleContext, semantic_findings

    certified = flagged = 0
    for entry in generated_documents:
        format_id, path = entry["format"], entry["path"]
        text = Path(path).read_text(encoding="utf-8")
        document = json.loads(text)
        ontology = json.loads(Path(entry["ontology"]).read_text()) if "ontology" in entry else None
        png_dir = Path(entry["png_dir"]) if "png_dir" in entry else None
        _same(document, format_id, profile)
        report = labelspec.validate(
            path, format=format_id, profile=profile, ontology=entry.get("ontology"), png_dir=png_dir
        )
        fast = report.files[-1].findings
        context = RuleContext(
            document=document,
            format=format_id,
            profile=profile,
            ontology=ontology,
            png_dir=png_dir,
            duplicate_keys=_repeated_keys(json.loads(text, object_pairs_hook=_Pairs)),
        )
        reference = structural_findings(document, format_id, profile, reference=True)
        reference += semantic_findings(context)
        assert sorted(map(_key, fast)) == sorted(map(_key, reference)), path
        certified += native_report(path, format_id, profile, ontology) is not None
        flagged += bool(reference)
    # Neither side is vacuous: the native decider certified files, and the mutants have findings.
    assert certified >= 15, certified
    assert flagged >= 5 * 15, flagged


def _stacked(format_id: str, profile: str, operator_id: str, faults: int) -> Any:
    """A generated document with up to ``faults`` faults of ``operator_id`` (each mutant mutated again at
    another drawn site), or None when the operator has no site in it. Built by construction, no validator."""
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.mutants import build_subject, mutate, variants

    choices = variants(format_id)
    for attempt, knobs in enumerate([{"min_items": 3, **k} for k in choices] + choices * 2):
        draw = RandomDraw(f"pruned-{format_id}-{profile}-{operator_id}-{attempt}")
        subject = build_subject(draw, format_id, profile, **knobs)
        mutated = 0
        for _ in range(faults):
            mutant = mutate(draw, subject, operator_id)
            if mutant is None:
                break
            subject, mutated = mutant.subject, mutated + 1
        if mutated:
            return json.loads(subject.text) if subject.text is not None else subject.document
    return None


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", ["datagym", "segments", "encord", "encord-ontology", "coco-instance",
                                       "coco-panoptic"])  # fmt: skip
def test_mutants_of_every_operator_stacked(format_id: str, profile: str) -> None:
    """The fast path's python-jsonschema skips every value jsonschema-rs finds valid where it descends
    (a COCO annotation with a negative area is not walked number by number): on documents with up to
    three faults of each operator, its findings are python-jsonschema's own, messages and all."""
    from labelspec.generators.fixtures.mutants import operators_for

    operators, missing = operators_for(format_id, profile), []
    for operator_id in operators:
        document = _stacked(format_id, profile, operator_id, 3)
        if document is None:
            missing.append(operator_id)
            continue
        _same(document, format_id, profile)
    # every rule has a mutant; a schema keyword family may have none only where the schema lacks the keyword
    # or no single edit can break it alone (NO_SITE, with the reason)
    assert not [m for m in missing if not m.startswith("schema.")], missing
    used = schema_keywords(compile_schema(format_id, profile))
    unexplained = [
        family
        for family in missing
        if _keyword(family) in used and (format_id, profile, family) not in NO_SITE
    ]
    assert not unexplained, unexplained


def _keyword(family: str) -> str:
    keyword = family.removeprefix("schema.")
    return "closed" if keyword == "additionalProperties" else keyword
