"""What a rule module builds on: the context a check reads, the registry it registers in.

Rule modules (``rules/<format>.py``) import from here only; the package (``rules/__init__``) reads the
catalogue and runs the registered checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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


def catalogued_ids(format_id: str) -> tuple[str, ...]:
    """The ids of the rules ``schemas/<format>/rules.yaml`` lists for the format's own checks (not the
    entries that stand for structural findings): a rule module takes its rule ids from here."""
    entries = load_format_yaml(format_id, "rules.yaml") or []
    return tuple(entry["id"] for entry in entries if "schema_finding" not in entry)


def implementation(rule_id: str) -> Check | None:
    return CHECKS.get(rule_id)
