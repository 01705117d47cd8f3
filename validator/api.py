"""The validation entry point shared by the Python API and the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from labelspec.validator.detect import DetectionError, detect_format
from labelspec.validator.envelope import prefixed, unwrap
from labelspec.validator.folders import (
    OntologyChoice,
    PathFilter,
    YoloDataset,
    conventional_ontology,
    glob_matches,
    select,
)
from labelspec.validator.inputs import LoadedDocument, load_bytes, load_dataset, load_path
from labelspec.validator.report import FileReport, Finding, Report, pointer_sort_key
from labelspec.validator.rules import RuleContext, semantic_findings
from labelspec.validator.schemas import DEFAULT_PROFILE, PROFILES, list_formats
from labelspec.validator.single_item import item_definition
from labelspec.validator.streaming import (
    STREAM_THRESHOLD,
    Fallback,
    collector_paused,
    plan_file,
    validate_planned,
)
from labelspec.validator.structural import structural_findings

Source = str | os.PathLike[str] | bytes | dict[str, Any] | list[Any]


class UsageError(ValueError):
    """A bad argument (unknown format or profile); the CLI turns it into exit code 2."""


def check_options(format: str | None, profile: str) -> None:
    if format is not None and format not in list_formats():
        raise UsageError(f"unknown format {format!r}; known formats: {', '.join(list_formats())}")
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")


def validate_document(
    document: Any,
    *,
    name: str = "<document>",
    format: str | None = None,
    profile: str = DEFAULT_PROFILE,
    ontology: Any = None,
    locate: Any = None,
    png_dir: Path | None = None,
    duplicate_keys: list[str] | None = None,
    skip_rules: frozenset[str] = frozenset(),
) -> FileReport:
    """Validate one parsed document (structure, then semantic rules); detection errors make it unreadable.

    ``skip_rules``: rule ids not to run (item-by-item validation runs the rules that compare items once,
    over the whole export, see :mod:`labelspec.validator.streaming`)."""
    check_options(format, profile)
    with collector_paused():
        return _validate_document(
            document, name, format, profile, ontology, locate, png_dir, duplicate_keys, skip_rules
        )


def _validate_document(
    document: Any,
    name: str,
    format: str | None,
    profile: str,
    ontology: Any,
    locate: Any,
    png_dir: Path | None,
    duplicate_keys: list[str] | None,
    skip_rules: frozenset[str] = frozenset(),
) -> FileReport:
    try:
        format_id = format or detect_format(document)
    except DetectionError as exc:
        return FileReport(
            path=name,
            format=None,
            profile=profile,
            readable=False,
            findings=[Finding("input.format-unknown", "error", "", str(exc))],
        )
    try:
        inner, inner_path = unwrap(format_id, document)
        definition = item_definition(format_id, inner)  # e.g. one Encord label row, not a list of them
        findings = prefixed(structural_findings(inner, format_id, profile, definition), inner_path)
    except RecursionError:
        return FileReport(
            path=name,
            format=format_id,
            profile=profile,
            readable=False,
            findings=[
                Finding("input.too-deep", "error", "", "the document is nested too deeply to validate")
            ],
        )
    context = RuleContext(
        document=document,
        format=format_id,
        profile=profile,
        ontology=ontology,
        png_dir=png_dir,
        duplicate_keys=duplicate_keys or [],
    )
    findings.extend(semantic_findings(context, skip=skip_rules))
    findings.sort(key=lambda f: (pointer_sort_key(f.pointer), f.rule, f.message))
    if locate is not None:
        findings = [_with_location(f, locate) for f in findings]
    return FileReport(path=name, format=format_id, profile=profile, findings=findings)


def _with_location(finding: Finding, locate: Any) -> Finding:
    where = locate(finding.pointer)
    if not where:
        return finding
    return Finding(
        finding.rule, finding.severity, finding.pointer, f"{finding.message} [{where}]", finding.hint
    )


def report_for_loaded(
    loaded: LoadedDocument,
    format: str | None,
    profile: str,
    ontology: Any = None,
    png_dir: Path | None = None,
) -> FileReport:
    if not loaded.readable:
        return FileReport(
            path=loaded.name,
            format=format,
            profile=profile,
            readable=False,
            findings=[Finding("input.unreadable", "error", "", loaded.error or "unreadable")],
        )
    return validate_document(
        loaded.document,
        name=loaded.name,
        format=format or loaded.format_hint,
        profile=profile,
        ontology=ontology,
        locate=loaded.locate,
        png_dir=png_dir,
        duplicate_keys=loaded.duplicate_keys,
    )


def iter_loaded(source: Source, format: str | None = None) -> Iterable[LoadedDocument]:
    if isinstance(source, bytes):
        return [load_bytes(source)]
    if isinstance(source, (str, os.PathLike)):
        return load_path(Path(source), format=format)
    return [LoadedDocument("<document>", document=source)]


def wants_stream(source: Source, stream: bool | None, threshold: int = STREAM_THRESHOLD) -> bool:
    """Whether to try item-by-item validation: forced, refused, or (None) for plain JSON files of at least
    ``threshold`` bytes."""
    if stream is not None or not isinstance(source, (str, os.PathLike)):
        return bool(stream) and isinstance(source, (str, os.PathLike))
    try:
        return Path(source).is_file() and Path(source).stat().st_size >= threshold
    except OSError:
        return False


def load_ontology(ontology: Source | None, profile: str) -> tuple[list[FileReport], Any]:
    """The ontology's own reports and its parsed document (None when absent or unreadable)."""
    reports: list[FileReport] = []
    document: Any = None
    if ontology is not None:
        for loaded in iter_loaded(ontology):
            reports.append(report_for_loaded(loaded, "encord-ontology", profile))
            document = loaded.document if loaded.readable else None
    return reports, document


def validate_in_memory(
    source: Source, format: str | None, profile: str, ontology_document: Any, png_dir: Path | None
) -> list[FileReport]:
    return [
        report_for_loaded(loaded, format, profile, ontology_document, png_dir)
        for loaded in iter_loaded(source, format)
    ]


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

    ``stream``: validate a list-shaped export (Encord, DataGym, Segments) one item at a time, in bounded
    memory, with the same findings; ``None`` (default) does so for files of ``STREAM_THRESHOLD`` bytes and
    more (``LABELSPEC_STREAM_THRESHOLD``), ``False`` never. A plain JSON file is first offered to the
    native fast path (:mod:`labelspec.validator.fastpath`), which certifies clean files without building
    Python objects and leaves every other file to the path that writes findings. Python's cyclic
    garbage collector is paused
    while validating (it would dominate the cost of large documents) and restored afterwards.
    """
    check_options(format, profile)
    with collector_paused():
        report = Report()
        choice = OntologyChoice(tuple((glob, str(path)) for glob, path in ontologies))
        for path in choice.explicit():
            report.extend(load_ontology(path, profile)[0])
        ontology_reports, ontology_document = load_ontology(ontology, profile)
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
            self.parsed[path] = load_ontology(path, self.profile)[1]
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
        from labelspec.validator.fastpath import native_report

        fast = (
            native_report(source, format, profile, ontology_document) if _plain_json(source, format) else None
        )
        if fast is not None:
            return [fast]
    if wants_stream(source, stream):
        assert isinstance(source, (str, os.PathLike))
        plan = plan_file(source, format, profile, ontology_document, png_dir)
        if plan is not None:
            try:
                return [validate_planned(plan)]
            except Fallback:
                pass
    return validate_in_memory(source, format, profile, ontology_document, pngs)


def _plain_json(source: str | os.PathLike[str], format: str | None) -> bool:
    """Whether the native fast path may read the file: it reads JSON text, never a YOLO label file."""
    return format != "yolo" and (format is not None or not str(source).lower().endswith(".txt"))
