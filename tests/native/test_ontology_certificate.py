"""An Encord ontology given with --ontology is certified clean by the shipped schema program plus the
reference's own rules (validator/native/fastpath.py certify_ontology) instead of jsonschema-rs: the
reports are exactly the reference path's, clean ontologies are really certified, and no mutant is."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import build_subject
from labelspec.validator.compiler import PROFILES
from labelspec.validator.engine import iter_loaded, load_ontology
from labelspec.validator.examples import documented_examples
from labelspec.validator.native.fastpath import certify_ontology
from tests.native.equivalence import every_mutant, write_document

FORMAT = "encord-ontology"


def _reports(path: Path, profile: str) -> tuple[list[dict[str, Any]], bool]:
    """The reports with the certificate (checked equal to the reference path's) and whether it certified."""
    reference = [report.to_json() for report in load_ontology(path, profile)[0]]
    fast = [report.to_json() for report in load_ontology(path, profile, certify_ontology)[0]]
    assert fast == reference
    certified = [certify_ontology(loaded, profile) is not None for loaded in iter_loaded(path)]
    return fast, all(certified) and bool(certified)


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_ontologies_are_certified_when_clean(
    native: ModuleType, profile: str, tmp_path: Path
) -> None:
    certified = 0
    for number in range(8):
        subject = build_subject(RandomDraw(f"ontology-{profile}-{number}"), FORMAT, profile)
        path = tmp_path / "ontology.json"
        path.write_bytes(orjson.dumps(subject.document))
        reports, sure = _reports(path, profile)
        clean = all(not report["findings"] for report in reports)
        assert sure == clean, number
        certified += sure
    assert certified >= 4


@pytest.mark.parametrize("profile", PROFILES)
def test_documented_examples_give_the_reference_reports(
    native: ModuleType, profile: str, tmp_path: Path
) -> None:
    for example in documented_examples(FORMAT):
        if example.definition:  # a snippet of an ontology, not one given with --ontology
            continue
        path = tmp_path / "example.json"
        path.write_bytes(orjson.dumps(example.load()))
        _reports(path, profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    for operator_id, mutant in every_mutant(FORMAT, profile, "ontology-mutant"):
        path = write_document(tmp_path / "mutant.json", mutant.subject.document, mutant.subject.text)
        reports, sure = _reports(path, profile)
        assert not sure, operator_id
        assert reports[0]["findings"], operator_id


def test_unreadable_and_odd_ontologies_take_the_reference_path(native: ModuleType, tmp_path: Path) -> None:
    cases = {
        "broken.json": b'{"objects": [',
        "repeated.json": b'{"objects": [], "objects": [], "classifications": []}',
        "list.json": b"[]",
        "huge.json": b'{"objects": [], "classifications": [], "x": 123456789012345678901234567890}',
        "wrapped.json": b'{"editor": {"objects": [], "classifications": []}}',
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        _reports(path, "lenient")
