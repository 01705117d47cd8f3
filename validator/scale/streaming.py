"""Item-by-item validation of list-shaped exports: bounded memory, parallel processes, Dask partitions.

An Encord export (root array of label rows), a DataGym export (root array: label classes, then tasks) and
a Segments release (``dataset.samples``) are validated one item at a time, with exactly the findings of
validating the whole parsed document (:func:`labelspec.validator.engine.validate_document`):

* :func:`plan_file` finds the byte ranges of the items (:mod:`labelspec.validator.scale.split`) and reads the
  *shell*: the document with the container emptied (the Segments dataset header; for DataGym also
  element 0, the label classes, which every task is checked against).
* :func:`validate_part` validates a contiguous range of items. Each item is parsed from its bytes, its
  repeated keys found on its bytes, and validated as a one-item document (the shell with the item, after
  the context items), so structural and semantic checks see what they would see in the whole document;
  its findings' pointers are moved to the item's real index. Findings outside the item (the header's)
  are the same in every one-item document and are kept once.
* The rules that compare items with each other (``CROSS_ITEM_RULES`` in the rule engine: DataGym media
  ids, Segments sample uuids and names) run once, in :func:`merge`, over a skeleton of the document in
  which every item is reduced to the few keys these rules read.
* :func:`merge` puts the parts together and sorts the findings as the in-memory path does.

Parts are independent and small to describe (a path and a range of items), so they run in this process,
in a process pool (``--jobs``) or on a Dask cluster (:mod:`labelspec.dask`). Anything unexpected (a
document the scanner cannot split, an item that does not parse, a document too deep) makes the caller
fall back to the in-memory path, so the findings are the same in every case.
"""

from __future__ import annotations

import heapq
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from labelspec import format_ids
from labelspec.validator import progress
from labelspec.validator.engine import collector_paused, validate_document
from labelspec.validator.inputs import STREAM_THRESHOLD, UnreadableInput, find_duplicate_keys, wants_stream
from labelspec.validator.report import FileReport, Finding, escape_token, pointer_sort_key
from labelspec.validator.rules import CROSS_ITEM_RULES, RuleContext, load_checks, semantic_findings
from labelspec.validator.scale.split import FileBytes, Layout, scan_export

# Where the items of the list-shaped formats are (labelspec.format_ids): the array the scanner finds, and
# how many leading elements are context rather than items (DataGym's element 0, the label classes).
_ITEMS = format_ids.list_shaped()


class Fallback(Exception):
    """The document cannot be validated item by item; validate it in memory instead."""


@dataclass(frozen=True)
class Plan:
    """How to validate one file item by item. Small and picklable: parts are described by it."""

    path: str
    name: str
    format: str
    profile: str
    layout: Layout
    context: int  # leading items that are context (validated once, in every part's first item's run)
    ontology: Any = None
    png_dir: str | None = None

    @property
    def items(self) -> int:
        return self.layout.count - self.context

    def ranges(self, parts: int) -> list[tuple[int, int]]:
        """``parts`` contiguous, nearly equal ranges of item indexes (context items excluded)."""
        parts = max(1, min(parts, self.items))
        first, total = self.context, self.items
        bounds = [first + total * k // parts for k in range(parts + 1)]
        return [(bounds[k], bounds[k + 1]) for k in range(parts) if bounds[k] < bounds[k + 1]]


@dataclass
class PartResult:
    """The findings of a range of items: theirs (pointers already moved), the header's, the skeleton."""

    findings: list[Finding] = field(default_factory=list)
    outer: list[Finding] = field(default_factory=list)
    projections: list[Any] = field(default_factory=list)


@contextmanager
def _mapped(path: str) -> Iterator[Any]:
    """The file's bytes by offset (read on demand, :class:`~labelspec.validator.scale.split.FileBytes`)."""
    with FileBytes(path) as data:
        yield data


def _parse(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise Fallback("an item does not parse") from None


def plan_file(
    path: str | os.PathLike[str],
    format: str | None,
    profile: str,
    ontology: Any = None,
    png_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> Plan | None:
    """A plan to validate ``path`` item by item, or None when it is not a list-shaped export of a format
    that supports it (then validate it in memory)."""
    location = str(path)
    scanned = scan_export(location, format)
    if scanned is None or scanned.layout.count <= scanned.context:
        return None
    layout, format_id, context = scanned.layout, scanned.format, scanned.context
    return Plan(
        location,
        name or location,
        format_id,
        profile,
        layout,
        context,
        ontology,
        str(png_dir) if png_dir is not None else None,
    )


def with_container(shell: Any, container: tuple[str, ...], items: list[Any]) -> Any:
    """A copy of the shell (copied only along the container's path) whose container holds ``items``."""
    if not container:
        return items
    root = dict(shell)
    node = root
    for key in container[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    node[container[-1]] = items
    return root


def _container_pointer(container: tuple[str, ...]) -> str:
    return "".join("/" + escape_token(key) for key in container)


class _Mover:
    """Moves findings from the one-item document to the whole document (pointers, and pointers quoted in
    messages when the container has a distinctive path, e.g. ``/dataset/samples/0``)."""

    def __init__(self, container: tuple[str, ...], local: int) -> None:
        self.base = _container_pointer(container)
        self.local = f"{self.base}/{local}"
        self.rewrite_text = bool(container)

    def inside(self, pointer: str) -> bool:
        return pointer == self.local or pointer.startswith(self.local + "/")

    def move(self, finding: Finding, index: int) -> Finding:
        target = f"{self.base}/{index}"
        pointer = target + finding.pointer[len(self.local) :]
        message, hint = finding.message, finding.hint
        if self.rewrite_text:
            message = _replace_pointer(message, self.local, target)
            hint = _replace_pointer(hint, self.local, target) if hint else hint
        # items with the same fault share one copy of its message (a million findings stay small)
        return Finding(finding.rule, finding.severity, pointer, sys.intern(message), hint)


def _replace_pointer(text: str, old: str, new: str) -> str:
    if old not in text:
        return text
    out: list[str] = []
    at = 0
    while True:
        found = text.find(old, at)
        if found < 0:
            out.append(text[at:])
            return "".join(out)
        end = found + len(old)
        boundary = end == len(text) or not text[end].isdigit()
        out.append(text[at:found] + (new if boundary else old))
        at = end


def validate_part(plan: Plan, first: int, stop: int) -> PartResult:
    """Validate items ``first`` to ``stop - 1`` of the plan's file; raises :class:`Fallback`."""
    layout = plan.layout
    return validate_items(plan, [(i, layout.starts[i], layout.ends[i]) for i in range(first, stop)])


@dataclass(frozen=True)
class ItemHooks:
    """How the items of one section of a sectioned export are validated
    (:mod:`labelspec.validator.scale.sections`): instead of ``CROSS_ITEM_RULES``, the rules not to run per
    batch, a callback that sees every parsed item (its index and value) before its batch is validated, and
    values provided to every batch's rule context (``RuleContext.provide``)."""

    skip: frozenset[str]
    observe: Callable[[int, Any], None]
    provided: Mapping[Callable[[RuleContext], Any], Any]


def validate_items(
    plan: Plan, items: Iterable[tuple[int, int, int]], hooks: ItemHooks | None = None
) -> PartResult:
    """Validate the items given as (index, start, end) byte ranges of the plan's file, in that order; raises
    :class:`Fallback`. (The native fast path hands over only the items it could not certify.)

    Items are validated a batch at a time (up to :data:`BATCH_ITEMS` items or :data:`BATCH_BYTES` bytes,
    after the context items) as one document: the per-document cost is paid once per batch. The rules
    that compare items run once over the whole export instead (:func:`merge`), so a batch shows each item
    only what it would see alone.
    """
    result = PartResult()
    cross = CROSS_ITEM_RULES.get(plan.format) if hooks is None else None
    skip = hooks.skip if hooks is not None else cross.rule_ids if cross is not None else frozenset()
    seen_outer: set[Finding] = set()
    with collector_paused(), _mapped(plan.path) as data:
        layout = plan.layout
        shell_bytes = layout.shell(data)
        shell = _parse(shell_bytes)
        base = _container_pointer(layout.container)
        outer_keys = find_duplicate_keys(shell_bytes, shell)
        context_items: list[Any] = []
        for index in range(plan.context):
            raw = data[layout.starts[index] : layout.ends[index]]
            item = _parse(raw)
            context_items.append(item)
            outer_keys += [f"{base}/{index}{p}" for p in find_duplicate_keys(raw, item)]
        for number, batch in enumerate(_batches(items)):
            batch_items: list[Any] = []
            keys = list(outer_keys)
            movers = [_Mover(layout.container, plan.context + j) for j in range(len(batch))]
            for mover, (index, start, end) in zip(movers, batch, strict=True):
                raw = data[start:end]
                item = _parse(raw)
                batch_items.append(item)
                if hooks is not None:
                    hooks.observe(index, item)
                keys += [f"{mover.local}{p}" for p in find_duplicate_keys(raw, item)]
                if cross is not None:
                    result.projections.append(cross.project(item))
            document = with_container(shell, layout.container, [*context_items, *batch_items])
            report = validate_document(
                document,
                name=plan.name,
                format=plan.format,
                profile=plan.profile,
                ontology=plan.ontology,
                png_dir=Path(plan.png_dir) if plan.png_dir is not None else None,
                duplicate_keys=keys,
                skip_rules=skip,
                provided=hooks.provided if hooks is not None else None,
            )
            if not report.readable:
                raise Fallback("an item cannot be validated")
            for finding in report.findings:
                owner = _owner(finding.pointer, base, plan.context, len(batch))
                if owner is not None:
                    result.findings.append(movers[owner].move(finding, batch[owner][0]))
                elif number == 0 or finding not in seen_outer:
                    result.outer.append(finding)
                    seen_outer.add(finding)
            del document, batch_items
            progress.advance(batch[-1][2])
    return result


# Items validated together as one document (see validate_items); large items (Encord rows) come in
# smaller batches: the rules of a few big rows gain nothing from company.
BATCH_ITEMS = 64
BATCH_BYTES = 256 * 1024


def _batches(items: Iterable[tuple[int, int, int]]) -> Iterator[list[tuple[int, int, int]]]:
    batch: list[tuple[int, int, int]] = []
    size = 0
    for item in items:
        if batch and (len(batch) >= BATCH_ITEMS or size + item[2] - item[1] > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item[2] - item[1]
    if batch:
        yield batch


def _owner(pointer: str, base: str, context: int, count: int) -> int | None:
    """Which item of a batch (0..count-1) a finding's pointer is inside, or None (outside every item)."""
    prefix = base + "/"
    if not pointer.startswith(prefix):
        return None
    token = pointer[len(prefix) :].split("/", 1)[0]
    if not (token.isascii() and token.isdigit()) or (len(token) > 1 and token[0] == "0") or len(token) > 18:
        return None
    position = int(token) - context
    return position if 0 <= position < count else None


def merge(plan: Plan, parts: list[PartResult]) -> FileReport:
    """One file report from the parts (in item order), sorted as the in-memory path sorts findings."""
    outer: list[Finding] = []
    seen: set[Finding] = set()
    for number, part in enumerate(parts):
        for finding in part.outer:
            if number == 0 or finding not in seen:
                outer.append(finding)
        seen.update(part.outer)
    runs = [outer, *(part.findings for part in parts)]
    cross = CROSS_ITEM_RULES.get(plan.format)
    if cross is not None:
        runs.append(_cross_item_findings(plan, parts, cross.rule_ids))
    findings = merge_ordered(runs)
    return FileReport(path=plan.name, format=plan.format, profile=plan.profile, findings=findings)


def _order(finding: Finding) -> tuple[list[tuple[int, int, str]], str, str]:
    """The order of a report's findings (as :func:`labelspec.validator.engine.validate_document` sorts)."""
    return pointer_sort_key(finding.pointer), finding.rule, finding.message


def merge_ordered(runs: list[list[Finding]]) -> list[Finding]:
    """The findings of ``runs``, sorted by :func:`_order`, without a sort key per finding held at once:
    each run is usually in order already (a part's findings come item by item, each batch sorted), so the
    runs are checked (two keys at a time), sorted only if they are not, and merged lazily. A list.sort over
    a million findings would hold a million keys (several hundred MB)."""
    for run in runs:
        if not _in_order(run):
            run.sort(key=_order)
    return list(heapq.merge(*runs, key=_order))


def _in_order(findings: list[Finding]) -> bool:
    previous = None
    for finding in findings:
        key = _order(finding)
        if previous is not None and key < previous:
            return False
        previous = key
    return True


def _cross_item_findings(plan: Plan, parts: list[PartResult], rule_ids: frozenset[str]) -> list[Finding]:
    with _mapped(plan.path) as data:
        shell = _parse(plan.layout.shell(data))
        context_items = [
            _parse(data[plan.layout.starts[i] : plan.layout.ends[i]]) for i in range(plan.context)
        ]
    skeleton_items = context_items + [p for part in parts for p in part.projections]
    skeleton = with_container(shell, plan.layout.container, skeleton_items)
    load_checks(plan.format)
    return semantic_findings(document_context(plan, skeleton), only=rule_ids)


def document_context(plan: Plan, document: Any) -> RuleContext:
    """The rule context of the planned file as a whole, for the rules that run once over it: ``document``
    stands for the file (its shell with whatever those rules read)."""
    return RuleContext(
        document=document,
        format=plan.format,
        profile=plan.profile,
        ontology=plan.ontology,
        png_dir=Path(plan.png_dir) if plan.png_dir is not None else None,
    )


def validate_planned(plan: Plan) -> FileReport:
    """Validate a planned file in this process, one item at a time; raises :class:`Fallback`."""
    return merge(plan, [validate_part(plan, plan.context, plan.layout.count)])


def validate_file(
    path: str | os.PathLike[str],
    format: str | None,
    profile: str,
    ontology: Any = None,
    png_dir: str | os.PathLike[str] | None = None,
) -> FileReport | None:
    """The report of a list-shaped export validated item by item, or None when it cannot be (then validate
    it in memory)."""
    plan = plan_file(path, format, profile, ontology, png_dir)
    if plan is None:
        return None
    try:
        return validate_planned(plan)
    except Fallback:
        return None


__all__ = [
    "STREAM_THRESHOLD",
    "Fallback",
    "PartResult",
    "Plan",
    "UnreadableInput",
    "merge",
    "plan_file",
    "validate_file",
    "validate_items",
    "validate_part",
    "validate_planned",
    "wants_stream",
]
