"""The reference path: one parsed document in, its findings out (structure, then semantic rules).

Every other way of validating (item by item in :mod:`labelspec.validator.scale`, certified by the native
deciders in :mod:`labelspec.validator.native`) reports exactly what :func:`validate_document` reports on
the same document; this module is what they are measured against.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labelspec.validator.compiler import DEFAULT_PROFILE, PROFILES, list_formats
from labelspec.validator.detect import DetectionError, detect_format
from labelspec.validator.envelope import prefixed, unwrap
from labelspec.validator.inputs import LoadedDocument, load_bytes, load_path
from labelspec.validator.report import FileReport, Finding, pointer_sort_key
from labelspec.validator.rules import RuleContext, semantic_findings
from labelspec.validator.single_item import item_definition
from labelspec.validator.structural import structural_findings

Source = str | os.PathLike[str] | bytes | dict[str, Any] | list[Any]


class UsageError(ValueError):
    """A bad argument (unknown format or profile); the CLI turns it into exit code 2."""


def check_options(format: str | None, profile: str) -> None:
    if format is not None and format not in list_formats():
        raise UsageError(f"unknown format {format!r}; known formats: {', '.join(list_formats())}")
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (it dominates the cost of parsing large documents)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    provided: Mapping[Callable[[RuleContext], Any], Any] | None = None,
) -> FileReport:
    """Validate one parsed document (structure, then semantic rules); detection errors make it unreadable.

    ``skip_rules``: rule ids not to run (item-by-item validation runs the rules that compare items once,
    over the whole export, see :mod:`labelspec.validator.scale.streaming`). ``provided``: values of
    ``ctx.memo(build)`` computed over the whole export, for the rules (see ``RuleContext.provide``)."""
    check_options(format, profile)
    with collector_paused():
        return _validate_document(
            document, name, format, profile, ontology, locate, png_dir, duplicate_keys, skip_rules, provided
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
    provided: Mapping[Callable[[RuleContext], Any], Any] | None = None,
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
    for build, value in (provided or {}).items():
        context.provide(build, value)
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


def load_ontology(
    ontology: Source | None,
    profile: str,
    certify: Callable[[LoadedDocument, str], FileReport | None] | None = None,
) -> tuple[list[FileReport], Any]:
    """The ontology's own reports and its parsed document (None when absent or unreadable).

    ``certify(loaded, profile)``: a faster judge that returns the report of an ontology it certifies clean,
    else None (then the reference path writes the report); see
    :func:`labelspec.validator.native.fastpath.certify_ontology`."""
    reports: list[FileReport] = []
    document: Any = None
    if ontology is not None:
        for loaded in iter_loaded(ontology):
            report = certify(loaded, profile) if certify is not None and loaded.readable else None
            reports.append(report or report_for_loaded(loaded, "encord-ontology", profile))
            document = loaded.document if loaded.readable else None
    return reports, document


def validate_in_memory(
    source: Source, format: str | None, profile: str, ontology_document: Any, png_dir: Path | None
) -> list[FileReport]:
    return [
        report_for_loaded(loaded, format, profile, ontology_document, png_dir)
        for loaded in iter_loaded(source, format)
    ]
