"""What a rule module builds on: the context a check reads, the registry it registers in.

Rule modules (``rules/<format>.py``) import from here only; the package (``rules/__init__``) reads the
catalogue and runs the registered checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from labelspec.validator.compiler import load_format_yaml

T = TypeVar("T")
Hit = tuple[str, str] | tuple[str, str, str]
Check = Callable[["RuleContext"], Iterable[Hit]]

CHECKS: dict[str, Check] = {}
# The finding of a rule that raised (see rules.semantic_findings); not catalogued, as it reports
# labelspec, not the input.
RULE_ABORTED = "internal.rule-aborted"
# Rules that apply to every JSON format regardless of its own catalogue.
GENERIC_FORMAT = "json"


@dataclass
class RuleContext:
    """What a check may look at."""

    document: Any
    format: str
    profile: str
    ontology: Any = None
    png_dir: Path | None = None
    duplicate_keys: list[str] = field(default_factory=list)
    _memo: dict[Callable[[RuleContext], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def memo(self, build: Callable[[RuleContext], T]) -> T:
        """``build(self)``, computed once per context: what several rules of one document share (an index, a
        walk over the document). The one way rule modules remember anything about a document: it lives as
        long as the context does."""
        if build in self._memo:
            found: T = self._memo[build]
            return found
        value = self._memo[build] = build(self)
        return value

    def provide(self, build: Callable[[RuleContext], T], value: T) -> None:
        """Give ``memo(build)`` a value computed elsewhere: item-by-item validation of a sectioned export
        (:data:`SECTIONED_RULES`) builds the index over the whole file and hands it to each batch."""
        self._memo[build] = value


def rule(rule_id: str) -> Callable[[Check], Check]:
    """Register the check implementing ``rule_id``."""

    def register(check: Check) -> Check:
        if rule_id in CHECKS:
            raise ValueError(f"rule {rule_id} is implemented twice")
        CHECKS[rule_id] = check
        return check

    return register


# Rules that compare items of a list-shaped export with each other (everything else looks at one item,
# plus the document's header). Item-by-item validation (labelspec.validator.scale.streaming) runs them
# once over a skeleton of the document: each item reduced by ``project`` to what these rules read.
@dataclass(frozen=True)
class CrossItemRules:
    rule_ids: frozenset[str]
    project: Callable[[Any], Any]


CROSS_ITEM_RULES: dict[str, CrossItemRules] = {}


def cross_item(format_id: str, rule_ids: Iterable[str], project: Callable[[Any], Any]) -> None:
    """Declare the rules of ``format_id`` that compare items (see :data:`CROSS_ITEM_RULES`)."""
    CROSS_ITEM_RULES[format_id] = CrossItemRules(frozenset(rule_ids), project)


class SectionIndex(Protocol):
    """What the rules of a sectioned export compare items through, built one item at a time."""

    def add(self, section: str, position: int, item: Any) -> None: ...

    def extend(self, other: Any) -> None:
        """Add what ``other`` (an index of the same format) read, as if its items came after these."""


# Formats whose root object holds several arrays of items (COCO: images, categories, annotations; see
# labelspec.format_ids ``sections``). Their rules read what they compare across items through one index,
# ``ctx.memo(index)``, which ``new_index(format).add(section, position, item)`` builds item by item:
# the whole-document path builds it from the document, item-by-item validation
# (labelspec.validator.scale.sections) from the items as it reads them, and provides it to every batch.
# ``once``: the rules that compare items of the same section (duplicate ids); they run once, over the
# index, never per batch. Every other rule reads at most the index's context sections (the ones listed
# before the last), which are complete before the last section's batches run.
@dataclass(frozen=True)
class SectionedRules:
    once: frozenset[str]
    index: Callable[[RuleContext], SectionIndex]
    new_index: Callable[[str], SectionIndex]


SECTIONED_RULES: dict[str, SectionedRules] = {}


def sectioned(
    format_id: str,
    once: Iterable[str],
    index: Callable[[RuleContext], SectionIndex],
    new_index: Callable[[str], SectionIndex],
) -> None:
    """Declare how the rules of a sectioned export read across items (see :data:`SECTIONED_RULES`)."""
    SECTIONED_RULES[format_id] = SectionedRules(frozenset(once), index, new_index)


def catalogued_ids(format_id: str) -> tuple[str, ...]:
    """The ids of the rules ``schemas/<format>/rules.yaml`` lists for the format's own checks (not the
    entries that stand for structural findings): a rule module takes its rule ids from here."""
    entries = load_format_yaml(format_id, "rules.yaml") or []
    return tuple(entry["id"] for entry in entries if "schema_finding" not in entry)


def implementation(rule_id: str) -> Check | None:
    return CHECKS.get(rule_id)
