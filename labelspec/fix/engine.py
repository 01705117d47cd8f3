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
from labelspec.fix.fixers import FIXERS, Change, resolve, tokens
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
    """Repair ``document`` in place (``outcome.document`` is the same object).

    A pass edits the document itself after copying the items it touches (see :class:`_Undo`), and puts
    them back when the pass is refused: a large export is held once, plus copies of a few items. With
    ``keep_original`` a copy of the input is kept as ``outcome.original`` (for a diff)."""
    current = document
    catalogue = fixes(format_id)

    def check(doc: Any) -> FileReport:
        return validate_document(doc, name=name, format=format_id, profile=profile, ontology=ontology)

    before = report = check(current)
    outcome = FixOutcome(current, deepcopy(document) if keep_original else None, before, before)
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
                if single is None or single[2]:
                    failed.add((item[0].id, item[1].pointer))
                    outcome.refused.append((item[0].id, item[1]))
                    continue
                report, applied, _ = single
                outcome.changes.extend(applied)
                progressed = True
            for item in todo[ONE_BY_ONE:]:
                failed.add((item[0].id, item[1].pointer))
                outcome.refused.append((item[0].id, item[1]))
            if not progressed:
                break
            continue
        result, applied, idle = step
        for spec, finding in idle:  # the fix found nothing it could change there
            failed.add((spec.id, finding.pointer))
            outcome.refused.append((spec.id, finding))
        if not applied:
            break
        report = result
        outcome.changes.extend(applied)
    outcome.after = report
    return outcome


class _Undo:
    """Copies of the items a pass edits, to put back if the pass is refused.

    A fixer edits only inside the item its finding is in: the element of the outermost list on the path
    to the finding's pointer (a label row, a COCO annotation, a Segments sample), or the whole document
    when no list is on the way (a lone Encord row)."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.saved: dict[tuple[str, ...], Any] = {}

    def save(self, pointer: str) -> None:
        scope = self._scope(tokens(pointer))
        if scope not in self.saved and not any(scope[: len(s)] == s for s in self.saved):
            self.saved[scope] = deepcopy(resolve(self.document, list(scope)))

    def _scope(self, path: list[str]) -> tuple[str, ...]:
        node = self.document
        for at, token in enumerate(path):
            if isinstance(node, list):
                return tuple(path[: at + 1]) if token.isdigit() and int(token) < len(node) else ()
            if not isinstance(node, dict) or token not in node:
                return ()
            node = node[token]
        return ()

    def restore(self) -> None:
        # Latest first: an item saved before its whole document was saved is put back after it.
        for scope, copy in reversed(self.saved.items()):
            if not scope:  # the whole document: put its content back into the same object
                if isinstance(self.document, dict):
                    self.document.clear()
                    self.document.update(copy)
                elif isinstance(self.document, list):
                    self.document[:] = copy
                continue
            resolve(self.document, list(scope[:-1]))[int(scope[-1])] = copy


def _attempt(
    current: Any, todo: list[tuple[FixSpec, Finding]], check: Any, report: FileReport
) -> tuple[FileReport, list[tuple[str, str, str]], list[tuple[FixSpec, Finding]]] | None:
    """Apply ``todo`` to ``current``: its new report, the changes and the fixes that changed nothing; None
    (and ``current`` as it was) when the result has more findings of some rule than before."""
    undo = _Undo(current)
    applied: list[tuple[str, str, str]] = []
    idle: list[tuple[FixSpec, Finding]] = []
    # Deepest pointers first, later array items before earlier ones: a removal never moves a pointer
    # still to be fixed.
    for spec, finding in sorted(todo, key=lambda item: _order(item[1].pointer), reverse=True):
        undo.save(finding.pointer)
        changes: list[Change] = FIXERS[spec.id](current, finding)
        if not changes:
            idle.append((spec, finding))
        applied.extend((spec.id, pointer, text) for pointer, text in changes)
    if not applied:
        return report, applied, idle
    result = check(current)
    if not result.readable or _kinds(result.findings) - _kinds(report.findings):
        undo.restore()
        return None
    return result, applied, idle


def _order(pointer: str) -> tuple[int, list[tuple[int, int, str]]]:
    parts = pointer.split("/")[1:]
    return len(parts), [(1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts]
