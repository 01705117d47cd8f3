"""Every documented example has its verdict per profile, and every invalid verdict is explained."""

from __future__ import annotations

import pytest

from labelspec.validator.compiler import PROFILES, load_format_yaml
from labelspec.validator.examples import (
    DocumentedExample,
    check_example,
    documented_examples,
    verdict_matches,
)

EXAMPLES = list(documented_examples())
VENDOR_FORMATS_WITH_DOCS = ("datagym", "segments", "encord")


def _id(example: DocumentedExample) -> str:
    return f"{example.format}/{example.file}"


def test_every_vendor_format_has_documented_examples() -> None:
    for fmt in VENDOR_FORMATS_WITH_DOCS:
        assert any(e.format == fmt for e in EXAMPLES), f"{fmt} has no documented examples"


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_has_a_verdict_for_every_profile(example: DocumentedExample) -> None:
    assert example.path.is_file(), f"missing file {example.path}"
    assert set(example.verdict) == set(PROFILES)
    assert set(example.verdict.values()) <= {"valid", "invalid"}
    assert example.source, "say where the example comes from"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_verdict(example: DocumentedExample, profile: str) -> None:
    report = check_example(example, profile)
    assert report.readable, report.findings
    detail = "\n".join(f"  {f.pointer} {f.rule} {f.message}" for f in report.findings)
    assert verdict_matches(example, report), (
        f"expected {example.verdict[profile]} under {profile}, labelspec says "
        f"{'valid' if report.valid else 'invalid'}\n{detail}"
    )
    rules = {f.rule for f in report.findings}
    for rule in example.expect.get(profile, []):
        assert rule in rules, f"expected a {rule} finding under {profile}; got {sorted(rules)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_invalid_verdicts_are_explained_by_the_register(example: DocumentedExample) -> None:
    register = {entry["id"] for entry in load_format_yaml(example.format, "discrepancies.yaml") or []}
    unknown = [d for d in example.discrepancies if d not in register]
    assert not unknown, f"cites discrepancies missing from the register: {unknown}"
    if "invalid" in example.verdict.values():
        assert example.discrepancies, "an invalid documented example must cite the discrepancy explaining it"
