"""Single-fault mutants: every operator yields documents rejected with exactly the expected rule ids, and
every catalogued semantic rule has an operator."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labelspec
from labelspec.generators.fixtures import encord, mutants, segments
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.rules import all_rules
from labelspec.validator.schemas import list_formats

# Knob sets tried, in order, when looking for a document an operator applies to.
SEARCH: dict[str, list[dict[str, Any]]] = {
    "datagym": [{"data_types": ["image"], "min_items": 2}]
    + [
        {"data_types": ["image"], "min_items": 2, "shapes": [s]}
        for s in ("line", "polygon", "image_segmentation")
    ],
    "segments": [{"task_types": [t], "min_items": 2} for t in segments.TASK_TYPES],
    "encord": [{"data_types": [t], "min_items": 2, "max_items": 3} for t in encord.DATA_TYPES],
    "encord-ontology": [{}],
    "coco-instance": [{"min_items": 2}, {"min_items": 2, "shapes": ["keypoints", "polygon"]}],
    "coco-panoptic": [{"min_items": 2}],
    "yolo": [{"min_items": 2}],
}
GENERATED = tuple(SEARCH)


def _owner(rule_id: str) -> str:
    for format_id in GENERATED:
        if any(spec.id == rule_id and spec.format != "json" for spec in all_rules(format_id)):
            return format_id
    raise AssertionError(f"{rule_id} belongs to no generated format")


def _profile(rule_id: str, format_id: str) -> str:
    for profile in ("lenient", "strict"):
        if mutants.severity_of(rule_id, format_id, profile) == "error":
            return profile
    return "lenient"


CATALOGUE = sorted({spec.id for format_id in list_formats() for spec in all_rules(format_id)})


def _check(mutant: mutants.Mutant) -> None:
    """The mutant, validated afresh through the public API, has exactly its expected error rule ids."""
    subject = mutant.subject
    found = mutants.findings(subject)
    errors = {f.rule for f in found if f.severity == "error"}
    expected_errors = {
        r for r in mutant.expect if mutants.severity_of(r, subject.format, subject.profile) == "error"
    }
    assert errors == expected_errors, (mutant.operator, mutant.pointer, sorted(errors), mutant.expect)
    assert set(mutant.expect) <= {f.rule for f in found}
    if subject.text is None and subject.pngs is None and subject.format != "yolo":
        report = labelspec.validate(
            subject.document, format=subject.format, profile=subject.profile, ontology=subject.ontology
        )
        assert {f.rule for f in report.files[-1].findings if f.severity == "error"} == expected_errors


def test_every_catalogued_rule_has_a_mutant_operator() -> None:
    """Fails for every rule of the catalogue (``labelspec rules``) that no operator breaks."""
    missing = [rule_id for rule_id in CATALOGUE if rule_id not in mutants.SEMANTIC_OPERATORS]
    assert not missing, f"catalogued rules without a mutant operator: {missing}"


def test_operators_cover_every_structural_family() -> None:
    assert set(mutants.STRUCTURAL_FAMILIES) >= {
        "schema.type",
        "schema.required",
        "schema.enum",
        "schema.pattern",
        "schema.minimum",
        "schema.maximum",
        "schema.minItems",
        "schema.maxItems",
        "schema.additionalProperties",
    }


@pytest.mark.parametrize("rule_id", CATALOGUE)
def test_operator_breaks_exactly_its_rule(rule_id: str) -> None:
    if rule_id not in mutants.SEMANTIC_OPERATORS:
        pytest.fail(f"no mutant operator for {rule_id}")
    format_id = "datagym" if rule_id == "JSON-DUPLICATE-KEY" else _owner(rule_id)
    profile = _profile(rule_id, format_id)
    for seed, knobs in itertools.product(range(3), SEARCH[format_id]):
        subject = mutants.build_subject(RandomDraw(f"{rule_id}/{seed}/{knobs}"), format_id, profile, **knobs)
        mutant = mutants.mutate(RandomDraw(f"{rule_id}/{seed}"), subject, rule_id, budget=25)
        if mutant is not None:
            assert rule_id in mutant.expect
            _check(mutant)
            return
    pytest.fail(f"operator {rule_id} found no site in {format_id} documents ({profile})")


@settings(
    max_examples=min(settings.default.max_examples, 25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    format_id=st.sampled_from(GENERATED),
    profile=st.sampled_from(("lenient", "strict")),
    family=st.sampled_from(mutants.STRUCTURAL_FAMILIES),
    seed=st.integers(0, 10_000),
)
def test_structural_mutants_are_rejected_with_exactly_their_rule(
    format_id: str, profile: str, family: str, seed: int
) -> None:
    subject = mutants.build_subject(RandomDraw(seed), format_id, profile, max_items=2)
    mutant = mutants.mutate(RandomDraw(seed + 1), subject, family, budget=15)
    if mutant is not None:
        assert mutant.expect == (family,)
        _check(mutant)


def test_every_generated_format_has_error_operators_in_both_profiles() -> None:
    for format_id, profile in itertools.product(GENERATED, ("lenient", "strict")):
        operators = mutants.operators_for(format_id, profile, errors_only=True)
        assert any(op.startswith("schema.") for op in operators)
        assert any(not op.startswith("schema.") for op in operators)
