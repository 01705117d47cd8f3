"""The fixes catalogue, read from the specification.

Each fix is declared in ``schemas/<format>/rules.yaml`` next to the entry of what it repairs::

    fix: {safety: safe, title: Move the labels under "0" to the labels root}

The entry is a semantic rule, or a structural finding that the catalogue names (``schema_finding:``
gives its rule, such as ``schema.required``, a pointer pattern and a message text; see
``labelspec.validator.rules.SchemaFinding``). The fix has the id of its entry.

``safe``: the repaired document means the same to every reader, so it is applied by default.
``unsafe``: it drops or rewrites data that some reader could still use; applied only with
``--unsafe-fixes`` (or ``--to-strict``, for the findings the strict profile rejects).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from labelspec.validator.compiler import list_formats, load_format_yaml
from labelspec.validator.report import Finding
from labelspec.validator.rules import SchemaFinding, catalogue, schema_entries

Safety = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class FixSpec:
    id: str
    format: str
    rule: str
    safety: Safety
    title: str
    rationale: str = ""
    # What a structural finding must look like (None for a semantic rule: every finding of ``rule``).
    schema_finding: SchemaFinding | None = None

    def repairs(self, finding: Finding) -> bool:
        if self.schema_finding is not None:
            return self.schema_finding.matches(finding)
        return finding.rule == self.rule

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "rule": self.rule, "safety": self.safety, "title": self.title}
        if self.rationale:
            out["rationale"] = self.rationale
        return out


def _safety(value: Any, where: str) -> Safety:
    if value not in ("safe", "unsafe"):
        raise ValueError(f"{where}: fix safety must be 'safe' or 'unsafe', not {value!r}")
    return "safe" if value == "safe" else "unsafe"


@functools.cache
def fixes(format_id: str) -> tuple[FixSpec, ...]:
    """Every fix declared for a format: those of its rules, then those of its structural findings."""
    found: list[FixSpec] = []
    for spec in (*catalogue(format_id), *schema_entries(format_id)):
        if spec.format != format_id:
            continue  # the generic JSON rules declare no fix
        fix = fix_entry(format_id, spec.id)
        if fix is None:
            continue
        found.append(
            FixSpec(
                id=spec.id,
                format=format_id,
                rule=spec.id if spec.schema_finding is None else spec.schema_finding.rule,
                safety=_safety(fix.get("safety"), spec.id),
                title=fix["title"],
                rationale=" ".join(str(fix.get("rationale", "")).split()),
                schema_finding=spec.schema_finding,
            )
        )
    return tuple(found)


def fix_entry(format_id: str, entry_id: str) -> dict[str, Any] | None:
    """The ``fix:`` of a ``rules.yaml`` entry, None without one."""
    for entry in load_format_yaml(format_id, "rules.yaml") or []:
        if entry.get("id") == entry_id:
            fix = entry.get("fix")
            return fix if isinstance(fix, dict) else None
    return None


def fixes_for_rule(format_id: str, rule_id: str) -> list[FixSpec]:
    """The fix of a catalogue entry (a rule, or a structural finding by its entry id)."""
    formats = list_formats() if format_id == "json" else [format_id]
    return [fix for fmt in formats for fix in fixes(fmt) if fix.id == rule_id]


def all_fixes() -> list[FixSpec]:
    return [fix for fmt in list_formats() for fix in fixes(fmt)]
