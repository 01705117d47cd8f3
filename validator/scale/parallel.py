"""Validation spread over processes: many files, and the items of large list-shaped exports.

:func:`validate_paths` turns the inputs into independent tasks (a whole file, or a contiguous range of
the items of a large export, see :mod:`labelspec.validator.scale.streaming`), runs them with a *mapper* (this
process, a local process pool for ``--jobs N``, or a Dask cluster, see :mod:`labelspec.dask`) and puts
the results back together in input order. The report is the one a sequential run gives, finding for
finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelspec.validator.engine import check_options, collector_paused, load_ontology, validate_in_memory
from labelspec.validator.native.fastpath import certify_ontology, native_report
from labelspec.validator.report import FileReport, Report
from labelspec.validator.scale.pool import Mapper, cpu_count, local_mapper
from labelspec.validator.scale.sections import (
    SectionResult,
    SectionsPlan,
    SectionTask,
    join_sections,
    plan_sections,
    run_section_task,
    section_tasks,
)
from labelspec.validator.scale.streaming import (
    STREAM_THRESHOLD,
    Fallback,
    PartResult,
    Plan,
    merge,
    plan_file,
    validate_part,
    wants_stream,
)

# Over several processes, list-shaped exports from this size on are split into ranges of items.
PARALLEL_THRESHOLD = int(os.environ.get("LABELSPEC_PARALLEL_THRESHOLD", 8 * 1024**2))


@dataclass(frozen=True)
class FileTask:
    """Validate one input (file, archive, YOLO folder) in memory."""

    path: str
    format: str | None
    profile: str
    ontology: Any = None
    png_dir: str | None = None


@dataclass(frozen=True)
class PartTask:
    """Validate items ``first`` to ``stop - 1`` of a planned export."""

    plan: Plan
    first: int
    stop: int


Task = FileTask | PartTask | SectionTask


def run_task(task: Task) -> list[FileReport] | PartResult | SectionResult | None:
    """Run one task (in whatever process the mapper chose); None: the part must be redone in memory."""
    if isinstance(task, SectionTask):
        return run_section_task(task)
    with collector_paused():
        if isinstance(task, PartTask):
            try:
                return validate_part(task.plan, task.first, task.stop)
            except Fallback:
                return None
        png_dir = Path(task.png_dir) if task.png_dir is not None else None
        return validate_in_memory(task.path, task.format, task.profile, task.ontology, png_dir)


def validate_paths(
    paths: Sequence[str | os.PathLike[str]],
    format: str | None = None,
    profile: str = "lenient",
    ontology: str | os.PathLike[str] | None = None,
    png_dir: str | os.PathLike[str] | None = None,
    *,
    stream: bool | None = None,
    jobs: int = 1,
    mapper: Mapper | None = None,
    parts_per_worker: int = 4,
    report_ontology: bool = True,
) -> Report:
    """Validate ``paths`` (files; the ontology, if any, is reported first unless ``report_ontology`` is
    False, and checks the label rows of every one of them).

    ``jobs``: processes of the local pool (0: one per core) when no ``mapper`` is given; with a mapper it
    only sets how many parts a large export is cut into (``jobs * parts_per_worker``).
    """
    check_options(format, profile)
    workers = cpu_count() if jobs == 0 else max(1, jobs)
    report = Report()
    with collector_paused():
        ontology_reports, ontology_document = load_ontology(ontology, profile, certify_ontology)
        if report_ontology:
            report.extend(ontology_reports)
    with _mapper_for(workers, mapper) as run_all:
        documents = [ontology_document for _ in paths]
        pngs_given = str(png_dir) if png_dir is not None else None
        natives = _native_reports(
            paths, documents, format, profile, workers, run_all, mapper is None, pngs_given
        )
        tasks: list[Task] = []
        # per input: its plan (None: one task), its whole-file task, its task indexes, or its report when
        # the native fast path made it (no task then)
        layout: list[tuple[Plan | SectionsPlan | None, FileTask, list[int], FileReport | None]] = []
        with collector_paused():
            for path, document, fast in zip(paths, documents, natives, strict=True):
                pngs = str(png_dir) if png_dir is not None else None
                whole = FileTask(str(path), format, profile, document, pngs)
                if fast is not None:
                    layout.append((None, whole, [], fast))
                    continue
                threshold = STREAM_THRESHOLD if workers == 1 else PARALLEL_THRESHOLD
                split = wants_stream(path, stream, threshold)
                plan: Plan | SectionsPlan | None = (
                    plan_file(path, format, profile, document, png_dir) if split else None
                )
                parts = 1 if workers == 1 else workers * parts_per_worker
                pieces: list[Task] = [whole]
                if isinstance(plan, Plan):
                    pieces = [PartTask(plan, first, stop) for first, stop in plan.ranges(parts)]
                elif split:  # a sectioned export (COCO): its context, then ranges of its last section
                    plan = plan_sections(path, format, profile, document, png_dir)
                    sectioned = section_tasks(plan, workers) if plan is not None else None
                    pieces = list(sectioned) if sectioned is not None else pieces
                    plan = plan if sectioned is not None else None
                indexes = list(range(len(tasks), len(tasks) + len(pieces)))
                tasks.extend(pieces)
                layout.append((plan, whole, indexes, None))
        results = list(run_all(run_task, tasks)) if tasks else []
    with collector_paused():
        for plan, whole, indexes, certified in layout:
            found = [results[i] for i in indexes]
            if certified is not None:
                report.files.append(certified)
            elif plan is None:
                report.extend(_reports(found[0]))
            elif isinstance(plan, Plan) and all(isinstance(part, PartResult) for part in found):
                report.files.append(merge(plan, [part for part in found if isinstance(part, PartResult)]))
            elif isinstance(plan, SectionsPlan) and all(isinstance(part, tuple) for part in found):
                report.files.append(join_sections(plan, [part for part in found if isinstance(part, tuple)]))
            else:  # an item could not be validated on its own: the in-memory path says why
                report.extend(_reports(run_task(whole)))
    return report


@contextmanager
def _mapper_for(workers: int, mapper: Mapper | None) -> Iterator[Mapper]:
    if mapper is not None:
        yield mapper
        return
    with local_mapper(workers) as pool:
        yield pool


@dataclass(frozen=True)
class NativeTask:
    """Run the native fast path on one input (:func:`labelspec.validator.native.fastpath.native_report`)."""

    path: str
    format: str | None
    profile: str
    ontology: Any = None
    max_dirty: float = 1.0
    png_dir: str | None = None


def run_native(task: NativeTask) -> FileReport | None:
    with collector_paused():
        return native_report(
            task.path,
            task.format,
            task.profile,
            task.ontology,
            max_dirty=task.max_dirty,
            png_dir=task.png_dir,
        )


def _native_reports(
    paths: Sequence[str | os.PathLike[str]],
    documents: list[Any],
    format: str | None,
    profile: str,
    workers: int,
    run_all: Mapper,
    local: bool,
    png_dir: str | None = None,
) -> list[FileReport | None]:
    """The native fast path's report per input (None: it goes the reference way). One input is cut into
    parts over the local workers; many inputs are spread over the workers, one each."""
    # with several processes, a file with many uncertified items is better spread over them item by item
    max_dirty = 1.0 if workers == 1 else 0.02
    if len(paths) == 1:
        jobs = workers if local else 1
        return [
            native_report(
                paths[0], format, profile, documents[0], max_dirty=max_dirty, jobs=jobs, png_dir=png_dir
            )
        ]
    tasks = [
        NativeTask(str(p), format, profile, d, max_dirty, png_dir)
        for p, d in zip(paths, documents, strict=True)
    ]
    return list(run_all(run_native, tasks))


def _reports(result: Any) -> list[FileReport]:
    assert isinstance(result, list)
    return result
