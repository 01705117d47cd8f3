"""The fixes catalogue, read from the specification.

A fix of a semantic rule is declared in ``schemas/<format>/rules.yaml`` next to its rule::

    fix: {safety: safe, title: Move the labels under "0" to the labels root}

A fix of a schema finding (whose rule is a JSON Schema keyword, such as ``schema.required``) is declared
in ``schemas/<format>/fixes.yaml``, naming the findings it repairs by rule, pointer pattern and message::

    - id: ENC-FIX-BRANCH-NAME
      repairs: {rule: schema.required, pointer: '^/\\d+$', message: "'branch_name'"}
      safety: safe
      title: Add branch_name "main"
      rationale: ...

``safe``: the repaired document means the same to every reader, so it is applied by default.
``unsafe``: it drops or rewrites data that some reader could still use; applied only with
``--unsafe-fixes`` (or ``--to-strict``, for the findings the strict profile rejects).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from labelspec.validator.report import Finding
from labelspec.validator.schemas import list_formats, load_format_yaml

Safety = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class FixSpec:
    id: str
    format: str
    rule: str
    safety: Safety
    title: str
    rationale: str = ""
    pointer: str | None = None
    message: str | None = None

    def repairs(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        if self.pointer is not None and not re.search(self.pointer, finding.pointer):
            return False
        return self.message is None or self.message in finding.message

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
    """Every fix declared for a format: those of its rules, then those of its schema findings."""
    found: list[FixSpec] = []
    for entry in load_format_yaml(format_id, "rules.yaml") or []:
        fix = entry.get("fix")
        if fix:
            found.append(
                FixSpec(
                    id=entry["id"],
                    format=format_id,
                    rule=entry["id"],
                    safety=_safety(fix.get("safety"), entry["id"]),
                    title=fix["title"],
                    rationale=" ".join(str(fix.get("rationale", "")).split()),
                )
            )
    for entry in load_format_yaml(format_id, "fixes.yaml") or []:
        repairs = entry["repairs"]
        found.append(
            FixSpec(
                id=entry["id"],
                format=format_id,
                rule=repairs["rule"],
                safety=_safety(entry.get("safety"), entry["id"]),
                title=entry["title"],
                rationale=" ".join(str(entry.get("rationale", "")).split()),
                pointer=repairs.get("pointer"),
                message=repairs.get("message"),
            )
        )
    return tuple(found)


def fixes_for_rule(format_id: str, rule_id: str) -> list[FixSpec]:
    formats = list_formats() if format_id == "json" else [format_id]
    return [fix for fmt in formats for fix in fixes(fmt) if fix.rule == rule_id]


def all_fixes() -> list[FixSpec]:
    return [fix for fmt in list_formats() for fix in fixes(fmt)]
