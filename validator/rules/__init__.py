"""Semantic rules: the checks JSON Schema cannot express (references across a document, decoded masks).

Each rule is catalogued in ``schemas/<format>/rules.yaml`` (id, severity per profile, title, rationale,
failing and passing examples) and implemented by one function registered with :func:`rule`.
``rules.yaml`` also catalogues structural findings that have a fix: an entry with ``schema_finding:``
names the findings of the schema it stands for (see :class:`SchemaFinding`); it has no check of its own,
so it is left out of :func:`catalogue` and listed by :func:`schema_entries`. A check
receives a :class:`RuleContext` and yields ``(pointer, message)`` or ``(pointer, message, hint)``; the
engine turns them into findings with the catalogued severity for the active profile.

Checks run on documents that may be structurally invalid: they must read defensively (``isinstance``
before use) and skip what they cannot interpret; the structural findings already cover it.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any

from labelspec import format_ids
from labelspec.validator.compiler import list_formats, load_format_yaml
from labelspec.validator.report import Finding, Severity
from labelspec.validator.rules import generic
from labelspec.validator.rules.base import (
    CHECKS,
    CROSS_ITEM_RULES,
    GENERIC_FORMAT,
    RULE_ABORTED,
    SECTIONED_RULES,
    Check,
    CrossItemRules,
    Hit,
    RuleContext,
    SectionIndex,
    cross_item,
    implementation,
    rule,
)


@dataclass(frozen=True)
class SchemaFinding:
    """The structural findings a catalogue entry stands for: their rule (``schema.<keyword>``), a regular
    expression their pointer matches and a text their message contains (either may be absent)."""

    rule: str
    pointer: str | None = None
    message: str | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        if self.pointer is not None and not re.search(self.pointer, finding.pointer):
            return False
        return self.message is None or self.message in finding.message

    def to_json(self) -> dict[str, str]:
        out = {"rule": self.rule}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.message is not None:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class RuleSpec:
    id: str
    format: str
    severity: dict[str, Severity]
    title: str
    rationale: str
    example: Any = None
    example_definition: str | None = None
    passing_example: Any = None
    needs: tuple[str, ...] = ()
    # Why the rule is an error, per profile where it is one (labelspec.audit; rules.yaml `audit:`).
    audit: dict[str, str] | None = None
    # Set on entries that stand for structural findings (reported by the schema, not by a check).
    schema_finding: SchemaFinding | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "format": self.format,
            "severity": dict(self.severity),
            "title": self.title,
            "rationale": self.rationale,
            "needs": list(self.needs),
        }
        if self.schema_finding is not None:
            out["schema_finding"] = self.schema_finding.to_json()
        return out


@functools.cache
def catalogue(format_id: str) -> tuple[RuleSpec, ...]:
    """The rules catalogued for a format (``rules.yaml``), plus the generic JSON rules."""
    specs: list[RuleSpec] = []
    sources = [(GENERIC_FORMAT, generic.CATALOGUE)]
    if format_id != GENERIC_FORMAT:
        sources.append((format_id, load_format_yaml(format_id, "rules.yaml") or []))
    for owner, entries in sources:
        specs.extend(_spec(owner, entry) for entry in entries if "schema_finding" not in entry)
    return tuple(specs)


@functools.cache
def schema_entries(format_id: str) -> tuple[RuleSpec, ...]:
    """The entries of a format's ``rules.yaml`` that stand for structural findings (``schema_finding:``).
    Their severity lists only the profiles whose schema reports them."""
    if format_id == GENERIC_FORMAT:
        return ()
    entries = load_format_yaml(format_id, "rules.yaml") or []
    return tuple(_spec(format_id, entry) for entry in entries if "schema_finding" in entry)


def _spec(owner: str, entry: dict[str, Any]) -> RuleSpec:
    severity = entry["severity"]
    if isinstance(severity, str):
        severity = {"lenient": severity, "strict": severity}
    found = entry.get("schema_finding")
    return RuleSpec(
        id=entry["id"],
        format=owner,
        severity=severity,
        title=entry["title"],
        rationale=entry.get("rationale", ""),
        example=entry.get("example"),
        example_definition=entry.get("example_definition"),
        passing_example=entry.get("passing_example"),
        needs=tuple(entry.get("needs", [])),
        audit=entry.get("audit"),
        schema_finding=None if found is None else SchemaFinding(**found),
    )


def all_rules(format_id: str | None = None) -> list[RuleSpec]:
    formats = [format_id] if format_id else list(list_formats())
    seen: dict[str, RuleSpec] = {}
    for fmt in formats:
        for spec in catalogue(fmt):
            if format_id is None and spec.format == GENERIC_FORMAT and spec.id in seen:
                continue
            seen.setdefault(spec.id, spec)
    return list(seen.values())


def all_entries(format_id: str | None = None) -> list[RuleSpec]:
    """Everything the catalogue explains: the rules, then the structural findings it catalogues."""
    formats = [format_id] if format_id else list(list_formats())
    return all_rules(format_id) + [spec for fmt in formats for spec in schema_entries(fmt)]


def load_checks(format_id: str) -> None:
    """Import the format's rule modules (labelspec.format_ids): each registers its checks when imported (the
    generic rules are imported with this package)."""
    format_ids.load_all(format_id, "rules")


def semantic_findings(
    context: RuleContext, only: frozenset[str] | None = None, skip: frozenset[str] = frozenset()
) -> list[Finding]:
    """Run every catalogued rule of the context's format (or only the rules ``only`` names), but those
    ``skip`` names."""
    load_checks(context.format)
    findings: list[Finding] = []
    for spec in catalogue(context.format):
        if (only is not None and spec.id not in only) or spec.id in skip:
            continue
        if "ontology" in spec.needs and context.ontology is None:
            continue
        if "png_dir" in spec.needs and context.png_dir is None:
            continue
        check = CHECKS.get(spec.id)
        if check is None:
            continue
        severity = spec.severity.get(context.profile, "error")
        findings.extend(_run(check, spec, severity, context))
    return findings


def _run(check: Check, spec: RuleSpec, severity: Severity, context: RuleContext) -> list[Finding]:
    """The rule's findings; if the rule raises, what it found so far and ``internal.rule-aborted``.

    A rule that fails on one document is a defect of labelspec, not of the document: the run goes on with
    the other rules and documents, and the finding (an error: the document was not fully checked) names
    the rule so that the defect can be reported."""
    found: list[Finding] = []
    try:
        for hit in check(context):
            hint = hit[2] if len(hit) == 3 else None
            found.append(Finding(spec.id, severity, hit[0], hit[1], hint))
    except (RecursionError, MemoryError):
        found.append(rule_aborted(spec.id, "the document is too deep or too large for it"))
    except Exception as exc:  # any defect of one rule stays on this document
        if os.environ.get("LABELSPEC_DEBUG"):
            raise
        found.append(rule_aborted(spec.id, f"{type(exc).__name__}: {_shorten(str(exc))}"))
    return found


def rule_aborted(rule_id: str, reason: str) -> Finding:
    return Finding(
        RULE_ABORTED,
        "error",
        "",
        f"rule {rule_id} aborted on this document ({reason}); the document is not fully checked",
        "a defect of labelspec: please report it with the document (LABELSPEC_DEBUG=1 raises instead)",
    )


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "CROSS_ITEM_RULES",
    "GENERIC_FORMAT",
    "RULE_ABORTED",
    "SECTIONED_RULES",
    "Check",
    "CrossItemRules",
    "Hit",
    "RuleContext",
    "RuleSpec",
    "SchemaFinding",
    "SectionIndex",
    "all_entries",
    "all_rules",
    "catalogue",
    "cross_item",
    "implementation",
    "load_checks",
    "rule",
    "schema_entries",
    "semantic_findings",
]
