"""Every C twin of an Encord or Segments rule says which Python function it mirrors, and says it right.

labelspec/native/encord_rules.c, encord_ontology.c and segments_rules.c list the rules they mirror as
``"ENC-…", /* mirrors validator/rules/<module>.py::<function> */`` (SEG-… alike) and tag each site that
decides a rule with ``/* ENC-…: mirrors validator/rules/<module>.py::<function> */``; the function must be
the registered check of that rule, in that module.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from labelspec.validator.rules import implementation, load_checks

ROOT = Path(__file__).resolve().parents[2]
TAG = re.compile(
    r"(?:\"|/\* )([A-Z]+(?:-[A-Z0-9]+)+)(?:\", /\*|:) mirrors validator/rules/(\w+)\.py::(\w+) \*/"
)
SOURCES = {
    "encord_rules.c": "row_rule_ids",
    "encord_ontology.c": "ontology_rule_ids",
    "segments_rules.c": "segments_rule_ids",
}


def _tags(source: str) -> list[tuple[str, str, str, int]]:
    """(rule id, module, function, line) of every tag of a C source."""
    text = (ROOT / "labelspec" / "native" / source).read_text(encoding="utf-8")
    return [
        (m.group(1), m.group(2), m.group(3), text.count("\n", 0, m.start()) + 1) for m in TAG.finditer(text)
    ]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_tag_names_the_check_of_its_rule(source: str) -> None:
    load_checks("encord")
    load_checks("segments")
    tags = _tags(source)
    assert tags
    for rule_id, module, function, line in tags:
        check = implementation(rule_id)
        assert check is not None, f"{source}:{line}: {rule_id} has no check"
        where = (check.__module__, check.__name__)
        assert where == (f"labelspec.validator.rules.{module}", function), (
            f"{source}:{line}: {rule_id} is {where}"
        )


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_mirrored_rule_is_listed_and_tagged_at_a_site(native: ModuleType, source: str) -> None:
    mirrored = {r for r in getattr(native, SOURCES[source])() if r != "JSON-DUPLICATE-KEY"}
    tags = _tags(source)
    listed = {rule_id for rule_id, *_ in tags if rule_id in mirrored}
    assert listed == mirrored
    sites = [rule_id for rule_id, *_ in tags]
    untagged = sorted(r for r in mirrored if sites.count(r) < 2)  # the list's tag, and at least one site
    assert not untagged, f"{source}: no site tagged for {untagged}"
