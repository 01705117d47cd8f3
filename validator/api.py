"""The validation entry point shared by the Python API and the CLI: one input (a path, a folder, bytes or a
parsed document) to a :class:`~labelspec.validator.report.Report`.

Each file is first offered to the native fast path (:mod:`labelspec.validator.native`), then to item-by-item
validation (:mod:`labelspec.validator.scale`), and otherwise validated whole by the reference path
(:mod:`labelspec.validator.engine`); all three report the same findings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelspec import format_ids
from labelspec.validator.compiler import DEFAULT_PROFILE
from labelspec.validator.engine import (
    Source,
    check_options,
    collector_paused,
    load_ontology,
    report_for_loaded,
    validate_in_memory,
)
from labelspec.validator.inputs import load_dataset, wants_stream
from labelspec.validator.native.fastpath import certify_ontology, native_report
from labelspec.validator.paths import (
    OntologyChoice,
    PathFilter,
    conventional_ontology,
    glob_matches,
    select,
)
from labelspec.validator.report import FileReport, Report

if TYPE_CHECKING:  # made by the folder walker only
    from labelspec.validator.folders import YoloDataset


def validate(
    source: Source,
    format: str | None = None,
    profile: str = DEFAULT_PROFILE,
    ontology: Source | None = None,
    png_dir: str | os.PathLike[str] | None = None,
    stream: bool | None = None,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    ontologies: Sequence[tuple[str, str | os.PathLike[str]]] = (),
) -> Report:
    """Validate an export given as a path, raw bytes or an already parsed document.

    ``format`` is detected when omitted. ``ontology`` (Encord) is validated as ``encord-ontology`` and
    reported first. ``png_dir`` (COCO panoptic) is the folder of the panoptic PNGs. A zip archive yields
    one file report per JSON member.

    A folder is validated file by file (:mod:`labelspec.validator.folders`): each export by its own detected
    format, each YOLO dataset as one document; every other file is listed in ``Report.skipped`` with the
    reason. ``include`` / ``exclude``: globs choosing the files of a folder. An Encord export's ontology is
    the first of: ``ontologies`` (``(glob, path)`` pairs, the first glob matching the export's path),
    ``ontology``, ``<stem>.ontology.json`` or ``ontology.json`` beside the export.

    ``stream``: validate a list-shaped export (Encord, DataGym, Segments) or a COCO file one item at a
    time, in bounded memory, with the same findings; ``None`` (default) does so for files of
    ``STREAM_THRESHOLD`` bytes and more (``LABELSPEC_STREAM_THRESHOLD``), ``False`` never. A plain JSON
    file is first offered to the native fast path (:mod:`labelspec.validator.native.fastpath`), which
    certifies clean files without building Python objects and leaves every other file to the path that
    writes findings. Python's cyclic garbage collector is paused while validating (it would dominate the
    cost of large documents) and restored afterwards.
    """
    check_options(format, profile)
    with collector_paused():
        report = Report()
        choice = OntologyChoice(tuple((glob, str(path)) for glob, path in ontologies))
        for path in choice.explicit():
            report.extend(load_ontology(path, profile, certify_ontology)[0])
        ontology_reports, ontology_document = load_ontology(ontology, profile, certify_ontology)
        report.extend(ontology_reports)
        ontologies_loaded = OntologyDocuments(profile)
        if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            selection = select(
                Path(source), format=format, path_filter=PathFilter(tuple(include), tuple(exclude))
            )
            report.skipped.extend(selection.skipped)
            if not selection.targets:
                report.extend(validate_in_memory(source, format, profile, None, None))
            for target in selection.targets:
                if target.dataset is not None:
                    report.files.append(validate_dataset(target.dataset, format, profile))
                    continue
                document = ontologies_loaded.for_export(target.path, choice, ontology, ontology_document)
                report.extend(validate_source(target.path, format, profile, document, png_dir, stream))
            return report
        if isinstance(source, (str, os.PathLike)):
            ontology_document = ontologies_loaded.for_export(source, choice, ontology, ontology_document)
        report.extend(validate_source(source, format, profile, ontology_document, png_dir, stream))
        return report


class OntologyDocuments:
    """Parsed ontologies by path, each read once per run."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.parsed: dict[str, Any] = {}

    def load(self, path: str) -> Any:
        if path not in self.parsed:
            self.parsed[path] = load_ontology(path, self.profile, certify_ontology)[1]
        return self.parsed[path]

    def for_export(
        self, path: str | os.PathLike[str], choice: OntologyChoice, given: Source | None, given_document: Any
    ) -> Any:
        """The parsed ontology of the export at ``path`` (see :func:`validate`), or None."""
        for glob, ontology in choice.by_glob:
            if glob_matches(glob, path):
                return self.load(ontology)
        if given is not None:
            return given_document
        found = conventional_ontology(path)
        return None if found is None else self.load(str(found))


def validate_dataset(dataset: YoloDataset, format: str | None, profile: str) -> FileReport:
    """One YOLO dataset of a folder (see :mod:`labelspec.validator.folders`)."""
    return report_for_loaded(load_dataset(dataset), format or "yolo", profile)


def validate_source(
    source: Source,
    format: str | None,
    profile: str,
    ontology_document: Any,
    png_dir: str | os.PathLike[str] | None,
    stream: bool | None,
) -> list[FileReport]:
    """The reports of one input (a file, bytes or a document), the ontology already parsed."""
    pngs = Path(png_dir) if png_dir is not None else None
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_dir():
        fast = (
            native_report(source, format, profile, ontology_document, png_dir=png_dir)
            if _plain_json(source, format)
            else None
        )
        if fast is not None:
            return [fast]
    if wants_stream(source, stream):
        assert isinstance(source, (str, os.PathLike))
        # item by item (labelspec.validator.scale, imported for large files only): the format's module, or
        # each one in turn while the format is not known (a module declines a file that is not its own)
        scale = format_ids.load_all(format, "scale") if format is not None else format_ids.load_every("scale")
        for module in scale:
            report: FileReport | None = module.validate_file(
                source, format, profile, ontology_document, png_dir
            )
            if report is not None:
                return [report]
    return validate_in_memory(source, format, profile, ontology_document, pngs)


def _plain_json(source: str | os.PathLike[str], format: str | None) -> bool:
    """Whether the native fast path may read the file: it reads JSON text, never a YOLO label file."""
    return format != "yolo" and (format is not None or not str(source).lower().endswith(".txt"))
