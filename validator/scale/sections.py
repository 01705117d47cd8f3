"""Item-by-item validation of sectioned exports: a root object holding several arrays of items (COCO).

A COCO file is one root object whose ``images``, ``categories`` and ``annotations`` arrays hold its items
(the format's ``sections`` in :mod:`labelspec.format_ids`). At train2017 scale the parsed document takes
about ten times the file's size; this validates it in bounded memory, with exactly the findings of
validating the whole parsed document (:func:`labelspec.validator.engine.validate_document`):

* :func:`plan_sections` finds the items of each array on the file's bytes
  (:func:`labelspec.validator.scale.split.scan_sections`); the *shell* is the root object with every
  section emptied.
* :func:`validate_sections` validates the sections in the format's order, context first (images and
  categories, then annotations), a batch of items at a time, each batch as the shell holding the batch
  in its section (:func:`labelspec.validator.scale.streaming.validate_items`: findings inside an item move
  to its real index, the shell's are kept once).
* Every item read is added to the format's index (``SECTIONED_RULES`` in the rule engine; COCO: the image
  and category tables and each section's ids, in compact columns), which every batch's rules are given
  instead of building it from the batch: when the annotations' batches run, it holds every image and
  category, so unknown references and sizes against the image are judged per batch, by the same rule
  code as in the whole document.
* The rules that compare items of one section with each other (duplicate ids) run once, at the end, over
  the complete index.

Memory: one batch of parsed items, the index, the item offsets and the findings. Anything unexpected (a
file the scanner cannot split, an item that does not parse, a document too deep) raises
:class:`~labelspec.validator.scale.streaming.Fallback` and the caller validates the document in memory.
"""

from __future__ import annotations

import functools
import itertools
import os
from dataclasses import dataclass
from typing import Any

import orjson

from labelspec import format_ids
from labelspec.validator import progress
from labelspec.validator.detect import SAMPLE_ITEMS
from labelspec.validator.engine import collector_paused
from labelspec.validator.report import FileReport
from labelspec.validator.rules import (
    SECTIONED_RULES,
    SectionIndex,
    load_checks,
    semantic_findings,
)
from labelspec.validator.scale.split import FileBytes, Layout, detected, plain_json_file, scan_sections
from labelspec.validator.scale.streaming import (
    Fallback,
    ItemHooks,
    PartResult,
    Plan,
    document_context,
    merge,
    validate_items,
)

_KEYS = frozenset(key for keys in format_ids.sectioned().values() for key in keys)


@dataclass(frozen=True)
class SectionsPlan:
    """How to validate one sectioned file item by item."""

    path: str
    name: str
    format: str
    profile: str
    sections: tuple[tuple[str, Layout], ...]  # (key, its items), in the format's order: context first
    ontology: Any = None
    png_dir: str | None = None

    def part(self, layout: Layout) -> Plan:
        """The plan of one section, as :mod:`labelspec.validator.scale.streaming` validates a container."""
        return Plan(self.path, self.name, self.format, self.profile, layout, 0, self.ontology, self.png_dir)


def plan_sections(
    path: str | os.PathLike[str],
    format: str | None,
    profile: str,
    ontology: Any = None,
    png_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> SectionsPlan | None:
    """A plan to validate ``path`` section by section, or None when it is not a plain JSON file of a
    sectioned format whose items the scanner finds (then validate it in memory)."""
    location = str(path)
    if not plain_json_file(location):
        return None
    with FileBytes(location) as data:
        layouts = scan_sections(data, _KEYS) if len(data) else None
        if layouts is None:
            return None
        try:
            shell = orjson.loads(next(iter(layouts.values())).shell(data))
            # a later repeated key would replace an array the scanner found: the document is not this
            if not isinstance(shell, dict) or any(shell.get(key) != [] for key in layouts):
                return None
            probe = dict(shell)  # what format detection reads: the root keys and the first items
            for key, layout in layouts.items():
                bounds = zip(layout.starts[:SAMPLE_ITEMS], layout.ends[:SAMPLE_ITEMS], strict=False)
                probe[key] = [orjson.loads(data[start:end]) for start, end in bounds]
        except orjson.JSONDecodeError:
            return None
    format_id = detected(probe, format)
    order = format_ids.sectioned().get(format_id) if format_id is not None else None
    if format_id is None or not order:
        return None
    sections = tuple((key, layouts[key]) for key in order if key in layouts)
    pngs = str(png_dir) if png_dir is not None else None
    return SectionsPlan(location, name or location, format_id, profile, sections, ontology, pngs)


def validate_sections(plan: SectionsPlan) -> FileReport:
    """Validate a planned file in this process, one batch of items at a time; raises :class:`Fallback`."""
    if not any(layout.count for _key, layout in plan.sections):
        raise Fallback("no items: the document is its shell")  # small; and no batch would see the shell
    load_checks(plan.format)
    index = SECTIONED_RULES[plan.format].new_index(plan.format)
    parts: list[PartResult] = []
    listener, done = progress.listener(), 0
    for number, (_key, layout) in enumerate(plan.sections):
        # sections are read context first, not in file order: report the bytes read so far instead
        with progress.listening(functools.partial(_advanced, listener, done - layout.open)):
            parts.append(_validate_range(plan, number, 0, layout.count, index, index))
        done += layout.close - layout.open
    return _joined(plan, index, parts)


def _validate_range(
    plan: SectionsPlan, number: int, first: int, stop: int, context: SectionIndex, observed: SectionIndex
) -> PartResult:
    """Validate items ``first`` to ``stop - 1`` of section ``number``: each batch's rules are given
    ``context`` (its sections before this one complete), every item read is added to ``observed``."""
    rules = SECTIONED_RULES[plan.format]
    key, layout = plan.sections[number]
    hooks = ItemHooks(rules.once, functools.partial(observed.add, key), {rules.index: context})
    ranges = zip(layout.starts[first:stop], layout.ends[first:stop], strict=True)
    items = ((position, start, end) for position, (start, end) in enumerate(ranges, first))
    return validate_items(plan.part(layout), items, hooks)


def _joined(plan: SectionsPlan, index: SectionIndex, parts: list[PartResult]) -> FileReport:
    """The report of the file from its parts (in order) and the complete index: the rules that compare
    items of one section run here, once."""
    rules = SECTIONED_RULES[plan.format]
    with FileBytes(plan.path) as data:
        shell = orjson.loads(plan.sections[0][1].shell(data))
    context = document_context(plan.part(plan.sections[0][1]), shell)
    context.provide(rules.index, index)
    parts.append(PartResult(findings=semantic_findings(context, only=rules.once)))
    return merge(plan.part(plan.sections[0][1]), parts)


# --------------------------------------------------------------------------- over several processes


@dataclass(frozen=True)
class SectionTask:
    """One independent piece of a planned file (:func:`section_tasks`): the items ``first`` to
    ``stop - 1`` of its last section, or (``first`` -1) every other section, in order."""

    plan: SectionsPlan
    first: int = -1
    stop: int = -1


def section_tasks(plan: SectionsPlan, parts: int) -> list[SectionTask] | None:
    """The file as one task for its context sections and up to ``parts`` ranges of its last section (COCO:
    annotations, nearly all the items), or None when it has no item (validate it in memory)."""
    if not any(layout.count for _key, layout in plan.sections):
        return None
    if not _split_last(plan):
        return [SectionTask(plan)]  # the last section read is context: no range may skip it
    count = plan.sections[-1][1].count
    parts = max(1, min(parts, count))
    bounds = [count * k // parts for k in range(parts + 1)]
    ranges = [(a, b) for a, b in itertools.pairwise(bounds) if a < b]
    return [SectionTask(plan), *(SectionTask(plan, a, b) for a, b in ranges)]


SectionResult = tuple[list[PartResult], SectionIndex]


def run_section_task(task: SectionTask) -> SectionResult | None:
    """Run one piece (in whatever process): its parts and the index of the items it read; None when an
    item cannot be validated on its own (then the file is validated in memory)."""
    plan = task.plan
    with collector_paused():
        load_checks(plan.format)
        new_index = SECTIONED_RULES[plan.format].new_index
        observed = new_index(plan.format)
        try:
            if task.first < 0:
                count = len(plan.sections) - (1 if _split_last(plan) else 0)
                parts = [
                    _validate_range(plan, n, 0, plan.sections[n][1].count, observed, observed)
                    for n in range(count)
                ]
                return parts, observed
            context = new_index(plan.format)
            _read_context(plan, context)
            last = len(plan.sections) - 1
            return [_validate_range(plan, last, task.first, task.stop, context, observed)], observed
        except Fallback:
            return None


def _split_last(plan: SectionsPlan) -> bool:
    """Whether the plan's last section is the format's last (the one no rule reads as context)."""
    return len(plan.sections) > 1 and plan.sections[-1][0] == format_ids.sectioned()[plan.format][-1]


def _read_context(plan: SectionsPlan, index: SectionIndex) -> None:
    """Add every item of the sections before the last to ``index`` (as :func:`validate_sections` has
    when its last section starts); an item that does not parse raises :class:`Fallback`."""
    with FileBytes(plan.path) as data:
        for key, layout in plan.sections[:-1]:
            for position, (start, end) in enumerate(zip(layout.starts, layout.ends, strict=True)):
                try:
                    index.add(key, position, orjson.loads(data[start:end]))
                except orjson.JSONDecodeError:
                    raise Fallback("an item does not parse") from None


def join_sections(plan: SectionsPlan, results: list[SectionResult]) -> FileReport:
    """The report of a file from the results of its :func:`section_tasks`, in their order."""
    index = SECTIONED_RULES[plan.format].new_index(plan.format)
    parts: list[PartResult] = []
    for found, observed in results:
        index.extend(observed)
        parts.extend(found)
    return _joined(plan, index, parts)


def _advanced(listener: progress.Listener | None, shift: int, offset: int) -> None:
    if listener is not None:
        listener(shift + offset)


def validate_file(
    path: str | os.PathLike[str],
    format: str | None,
    profile: str,
    ontology: Any = None,
    png_dir: str | os.PathLike[str] | None = None,
) -> FileReport | None:
    """The report of a sectioned file (COCO) validated section by section, or None when it cannot be (then
    validate it in memory)."""
    plan = plan_sections(path, format, profile, ontology, png_dir)
    if plan is None:
        return None
    try:
        return validate_sections(plan)
    except Fallback:
        return None


__all__ = [
    "SectionResult",
    "SectionTask",
    "SectionsPlan",
    "join_sections",
    "plan_sections",
    "run_section_task",
    "section_tasks",
    "validate_file",
    "validate_sections",
]
