"""Repairing one document: validate, apply the fixes its findings ask for, re-validate, repeat.

A fix is applied when its rule is selected (``rules``; default all), when it is safe or unsafe fixes are
allowed, and when the finding it repairs is reported under the profile. Fixes are applied pass by pass
(a pass fixes every finding reported by one validation; the next validation sees their effect), at most
:data:`MAX_PASSES` times. The result is validated before anyone writes it: a fix whose pass would add a
finding that was not there before is undone, and its findings are reported as not repaired.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from labelspec.fix.catalogue import FixSpec, fixes
from labelspec.fix.fixers import FIXERS, ROOT_FIXERS, Change
from labelspec.validator.engine import validate_document
from labelspec.validator.report import FileReport, Finding

MAX_PASSES = 5
# When a pass adds findings, at most this many of its fixes are retried one by one.
ONE_BY_ONE = 64


@dataclass
class FixOutcome:
    document: Any
    original: Any  # the input (None without keep_original)
    before: FileReport
    after: FileReport
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (fix id, pointer, description)
    refused: list[tuple[str, Finding]] = field(default_factory=list)  # (fix id, finding) undone or unfixable

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def left(self) -> list[Finding]:
        """The findings still reported after fixing."""
        return list(self.after.findings)


def _kinds(findings: Iterable[Finding]) -> Counter[str]:
    return Counter(f.rule for f in findings)


def _chosen(spec: FixSpec, rules: frozenset[str] | None, unsafe: bool) -> bool:
    if rules is not None and spec.id not in rules and spec.rule not in rules:
        return False
    return spec.safety == "safe" or unsafe


def fix_document(
    document: Any,
    format_id: str,
    profile: str,
    *,
    ontology: Any = None,
    rules: frozenset[str] | None = None,
    unsafe: bool = False,
    name: str = "<document>",
    keep_original: bool = True,
) -> FixOutcome:
    """Repair ``document``. The input itself is never changed: each pass edits a copy. Without
    ``keep_original`` the outcome does not hold on to the input (a caller that gives its last reference
    away then has at most two copies of a large export in memory: the current one and a pass's trial)."""
    current = document
    catalogue = fixes(format_id)

    def check(doc: Any) -> FileReport:
        return validate_document(doc, name=name, format=format_id, profile=profile, ontology=ontology)

    before = report = check(current)
    outcome = FixOutcome(current, document if keep_original else None, before, before)
    del document
    failed: set[tuple[str, str]] = set()
    for _ in range(MAX_PASSES):
        todo = [
            (spec, finding)
            for finding in report.findings
            for spec in catalogue
            if spec.repairs(finding)
            and _chosen(spec, rules, unsafe)
            and (spec.id, finding.pointer) not in failed
        ]
        if not todo:
            break
        step = _attempt(current, todo, check, report)
        if step is None:
            # The pass as a whole added findings: try its fixes one by one, keeping those that add none.
            progressed = False
            for item in todo[:ONE_BY_ONE]:
                single = _attempt(current, [item], check, report)
                if single is None or single[3]:
                    failed.add((item[0].id, item[1].pointer))
                    outcome.refused.append((item[0].id, item[1]))
                    continue
                current, report, applied, _ = single
                outcome.changes.extend(applied)
                progressed = True
            for item in todo[ONE_BY_ONE:]:
                failed.add((item[0].id, item[1].pointer))
                outcome.refused.append((item[0].id, item[1]))
            if not progressed:
                break
            continue
        trial, result, applied, idle = step
        for spec, finding in idle:  # the fix found nothing it could change there
            failed.add((spec.id, finding.pointer))
            outcome.refused.append((spec.id, finding))
        if not applied:
            break
        current, report = trial, result
        outcome.changes.extend(applied)
    outcome.document = current
    outcome.after = report
    return outcome


def _attempt(
    current: Any, todo: list[tuple[FixSpec, Finding]], check: Any, report: FileReport
) -> tuple[Any, FileReport, list[tuple[str, str, str]], list[tuple[FixSpec, Finding]]] | None:
    """Apply ``todo`` to a copy of ``current``: the copy, its report, the changes and the fixes that
    changed nothing; None when the result has more findings of some rule than before."""
    trial = deepcopy(current)
    applied: list[tuple[str, str, str]] = []
    idle: list[tuple[FixSpec, Finding]] = []
    # Deepest pointers first, later array items before earlier ones: a removal never moves a pointer
    # still to be fixed.
    for spec, finding in sorted(todo, key=lambda item: _order(item[1].pointer), reverse=True):
        changes: list[Change]
        if spec.id in ROOT_FIXERS:
            replaced = ROOT_FIXERS[spec.id](trial, finding)
            changes = []
            if replaced is not None:
                trial, changes = replaced
        else:
            changes = FIXERS[spec.id](trial, finding)
        if not changes:
            idle.append((spec, finding))
        applied.extend((spec.id, pointer, text) for pointer, text in changes)
    if not applied:
        return trial, report, applied, idle
    result = check(trial)
    # Replacing the whole document (a single row wrapped in its list) lets the validator look inside it
    # for the first time: findings it then reports were hidden, not added.
    unmasked = any(spec.id in ROOT_FIXERS for spec, _ in todo)
    if not result.readable or (not unmasked and _kinds(result.findings) - _kinds(report.findings)):
        return None
    return trial, result, applied, idle


def _order(pointer: str) -> tuple[int, list[tuple[int, int, str]]]:
    parts = pointer.split("/")[1:]
    return len(parts), [(1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts]
