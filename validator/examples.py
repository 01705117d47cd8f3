"""The documented examples of every format (``schemas/<format>/examples/``) and their expected verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.validator.compiler import PROFILES, list_formats, load_format_yaml, schemas_root
from labelspec.validator.engine import validate_document
from labelspec.validator.inputs import UnreadableInput, parse_json_bytes
from labelspec.validator.report import FileReport, Finding
from labelspec.validator.structural import structural_findings


@dataclass
class DocumentedExample:
    format: str
    file: str
    source: str
    definition: str | None
    repaired: str | None
    verdict: dict[str, str]
    expect: dict[str, list[str]] = field(default_factory=dict)
    discrepancies: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return schemas_root() / self.format / "examples" / self.file

    def load(self) -> Any:
        return parse_json_bytes(self.path.read_bytes())


def documented_examples(format_id: str | None = None) -> Iterator[DocumentedExample]:
    for fmt in [format_id] if format_id else list_formats():
        index = load_format_yaml(fmt, "examples/index.yaml") or []
        for entry in index:
            yield DocumentedExample(
                format=fmt,
                file=entry["file"],
                source=entry.get("source", ""),
                definition=entry.get("definition"),
                repaired=entry.get("repaired"),
                verdict=dict(entry.get("verdict") or {}),
                expect={k: list(v) for k, v in (entry.get("expect") or {}).items()},
                discrepancies=list(entry.get("discrepancies") or []),
            )


def check_example(example: DocumentedExample, profile: str) -> FileReport:
    """Validate one documented example under one profile (against its definition for snippets)."""
    name = f"{example.format}/examples/{example.file}"
    report = FileReport(path=name, format=example.format, profile=profile)
    try:
        document = example.load()
    except (OSError, UnreadableInput) as exc:
        report.readable = False
        report.findings.append(Finding("input.unreadable", "error", "", str(exc)))
        return report
    if example.definition:
        # A snippet of a larger document: only its definition's structure can be checked.
        report.findings = structural_findings(document, example.format, profile, example.definition)
        return report
    checked = validate_document(document, name=name, format=example.format, profile=profile)
    report.findings = checked.findings
    report.readable = checked.readable
    return report


def verdict_matches(example: DocumentedExample, report: FileReport) -> bool:
    expected = example.verdict.get(report.profile)
    actual = "valid" if report.valid else "invalid"
    return expected == actual


__all__ = ["PROFILES", "DocumentedExample", "check_example", "documented_examples", "verdict_matches"]
