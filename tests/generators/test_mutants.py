"""Single-fault mutants: every operator yields documents rejected with exactly the expected rule ids, and
every catalogued semantic rule has an operator."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelspec.generators.fixtures import encord, mutants, segments
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.compiler import compile_schema, list_formats
from labelspec.validator.rules import all_rules
from tests.conftest import examples
from tests.generators.structural_sites import NO_SITE, schema_keywords

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


def _check(
    mutant: mutants.Mutant,
    original: mutants.Subject,
    severity: str | None = None,
    before: list[Any] | None = None,
) -> None:
    """Validated afresh, the mutant has exactly the operator's stated rules among the findings the original
    did not have, and the operator's rule at the stated pointer. A valid document may carry warnings; a
    copied item carries its original's, so a warning the original already has is not counted as new."""
    before = mutants.findings(original) if before is None else before
    assert not [f for f in before if f.severity == "error"], "the original is invalid"
    known = {(f.rule, f.pointer) for f in before}
    inherited = {f.rule for f in before}
    new = {
        (f.rule, f.pointer)
        for f in mutants.findings(mutant.subject)
        if ((f.rule, f.pointer) not in known and (f.severity == "error" or f.rule not in inherited))
        or f.rule in mutant.expect
    } - known
    assert {rule for rule, _ in new} == set(mutant.expect), (mutant.operator, mutant.pointer, sorted(new))
    assert (mutant.operator, mutant.pointer) in new, (mutant.operator, mutant.pointer, sorted(new))
    if severity is not None:  # the operator's own findings, with the severity the construction states
        found = mutants.findings(mutant.subject)
        mine = {f.severity for f in found if (f.rule, f.pointer) == (mutant.operator, mutant.pointer)}
        assert mine == {severity}, (mutant.operator, mutant.pointer, mine)


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
        "schema.const",
        "schema.maxLength",
        "schema.exclusiveMinimum",
    }


# Operators whose mutants are known to break more than their rule on some documents (strict xfail: the
# test fails as soon as one of them is fixed, so the list can only shrink).
PENDING: dict[str, str] = {}


@pytest.mark.parametrize(
    "rule_id",
    [
        pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=PENDING[r])) if r in PENDING else r
        for r in CATALOGUE
    ],
)
def test_operator_breaks_exactly_its_rule_at_its_pointer(rule_id: str) -> None:
    """Every mutant an operator builds over a fixed set of documents, in both profiles, is checked; an
    operator that builds no mutant at all fails."""
    if rule_id not in mutants.SEMANTIC_OPERATORS:
        pytest.fail(f"no mutant operator for {rule_id}")
    format_id = "datagym" if rule_id == "JSON-DUPLICATE-KEY" else _owner(rule_id)
    built = 0
    for profile, seed, knobs in itertools.product(("lenient", "strict"), range(3), SEARCH[format_id]):
        tag = f"{rule_id}/{profile}/{seed}/{knobs}"
        subject = mutants.build_subject(RandomDraw(tag), format_id, profile, **knobs)
        mutant = mutants.mutate(RandomDraw(f"{tag}/mutant"), subject, rule_id)
        if mutant is not None:
            assert rule_id in mutant.expect and mutant.operator == rule_id
            _check(mutant, subject)
            built += 1
    assert built, f"operator {rule_id} found no site in {format_id} documents"


@functools.cache
def _structural_subjects(format_id: str, profile: str) -> list[tuple[mutants.Subject, list[Any]]]:
    """Documents of every knob variant (two seeds; six for formats of one or two variants), with their
    findings (shared by the 14 families)."""
    out = []
    variants = mutants.variants(format_id, profile)
    for seed, knobs in itertools.product(range(2 if len(variants) > 2 else 6), variants):
        try:
            draw = RandomDraw(f"structural/{seed}/{knobs}")
            subject = mutants.build_subject(draw, format_id, profile, **knobs)
        except ValueError:  # a knob variant the profile does not allow
            continue
        out.append((subject, mutants.findings(subject)))
    return out


@pytest.mark.parametrize("family", mutants.STRUCTURAL_FAMILIES)
@pytest.mark.parametrize("profile", ("lenient", "strict"))
@pytest.mark.parametrize("format_id", mutants.FORMATS)
def test_structural_operator_breaks_exactly_its_keyword_at_its_pointer(
    format_id: str, profile: str, family: str
) -> None:
    """Every structural mutant (built from the schema, the validator never asked) is rejected with exactly
    its family at its pointer, with the severity the schema gives that place; a family whose keyword the
    schema uses must build at least one mutant, unless listed in NO_SITE with the reason."""
    keyword = family.removeprefix("schema.")
    used = schema_keywords(compile_schema(format_id, profile))
    in_schema = ("closed" if keyword == "additionalProperties" else keyword) in used
    built = 0
    for number, (subject, before) in enumerate(_structural_subjects(format_id, profile)):
        mutant = mutants.mutate(RandomDraw(f"structural/{family}/{number}"), subject, family)
        if mutant is not None:
            assert mutant.expect == (family,) and mutant.operator == family
            _check(mutant, subject, severity="error", before=before)
            built += 1
        if "x-severity" in used and number % 3 == 0:
            # A place under ``x-severity: warning``: the same kind of edit is reported as a warning.
            draw = RandomDraw(f"structural/{family}/{number}/warning")
            found = mutants.candidates(draw, subject, family)
            warned = next((c for c in found if c.severity == "warning"), None)
            if warned is not None:
                warning = mutants.Mutant(warned.subject, warned.expect, family, warned.pointer)
                _check(warning, subject, severity="warning", before=before)
    listed = (format_id, profile, family) in NO_SITE
    if not in_schema:
        assert not built, f"{family}: mutants although the {format_id} {profile} schema has no {keyword}"
    elif listed:
        assert not built, f"{family} found a site in {format_id} {profile}: delete it from NO_SITE"
    else:
        assert built, f"{family}: no mutant in any {format_id} {profile} document (list it in NO_SITE?)"


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    format_id=st.sampled_from(GENERATED),
    profile=st.sampled_from(("lenient", "strict")),
    family=st.sampled_from(mutants.STRUCTURAL_FAMILIES),
    seed=st.integers(0, 10_000),
)
def test_structural_mutants_of_random_documents_are_rejected_with_exactly_their_rule(
    format_id: str, profile: str, family: str, seed: int
) -> None:
    subject = mutants.build_subject(RandomDraw(seed), format_id, profile, max_items=2)
    mutant = mutants.mutate(RandomDraw(seed + 1), subject, family)
    if mutant is not None:
        assert mutant.expect == (family,)
        _check(mutant, subject, severity="error")


@pytest.mark.parametrize("keyword", mutants.UNUSED_KEYWORDS)
def test_keywords_without_an_operator_are_used_by_no_schema(keyword: str) -> None:
    """No structural operator is written for a keyword no compiled schema uses; this fails (naming the
    schemas) as soon as one does, and the operator is then due."""
    users = [
        f"{format_id} {profile}"
        for format_id in list_formats()
        for profile in ("lenient", "strict")
        if keyword in schema_keywords(compile_schema(format_id, profile))
    ]
    assert not users, f"{keyword} is used by {users}: write its structural operator"
    assert f"schema.{keyword}" not in mutants.STRUCTURAL_FAMILIES


def test_no_site_entries_give_their_reason() -> None:
    vague = [key for key, reason in NO_SITE.items() if len(reason.split()) < 6]
    assert not vague, vague


def test_every_generated_format_has_error_operators_in_both_profiles() -> None:
    for format_id, profile in itertools.product(GENERATED, ("lenient", "strict")):
        operators = mutants.operators_for(format_id, profile, errors_only=True)
        assert any(op.startswith("schema.") for op in operators)
        assert any(not op.startswith("schema.") for op in operators)
