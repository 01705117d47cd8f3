"""Reporters: render a :class:`Report` for people (text) or machines (json)."""

from __future__ import annotations

import json
from typing import TextIO

from labelspec.validator.report import FileReport, Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _file_header(file: FileReport) -> str:
    fmt = file.format or "unknown format"
    if not file.readable:
        return f"{file.path}: UNREADABLE"
    verdict = "valid" if file.valid else "INVALID"
    counts = []
    if file.errors:
        counts.append(_plural(file.errors, "error"))
    if file.warnings:
        counts.append(_plural(file.warnings, "warning"))
    tail = f", {', '.join(counts)}" if counts else ""
    return f"{file.path}: {verdict} as {fmt} ({file.profile}){tail}"


def write_text(report: Report, out: TextIO, quiet: bool = False) -> None:
    """One header line per file, one line per finding (pointer, severity, rule, message), then totals."""
    for file in report.files:
        if quiet and file.valid and not file.findings:
            continue
        out.write(_file_header(file) + "\n")
        for finding in file.findings:
            pointer = finding.pointer or "/"
            out.write(f"  {pointer}  {finding.severity}  {finding.rule}  {finding.message}\n")
            if finding.hint:
                out.write(f"      hint: {finding.hint}\n")
    if quiet:
        return
    valid = sum(1 for f in report.files if f.valid)
    unreadable = sum(1 for f in report.files if not f.readable)
    invalid = len(report.files) - valid - unreadable
    errors = sum(f.errors for f in report.files if f.readable)
    warnings = sum(f.warnings for f in report.files)
    parts = [f"{valid} valid", f"{invalid} invalid"]
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    out.write(
        f"{_plural(len(report.files), 'document')} checked: {', '.join(parts)}"
        f" ({_plural(errors, 'error')}, {_plural(warnings, 'warning')})\n"
    )


def write_json(report: Report, out: TextIO) -> None:
    """``{"files": [{"path", "format", "profile", "valid", "findings": [...]}]}`` (see the README)."""
    json.dump(report.to_json(), out, indent=2, ensure_ascii=False)
    out.write("\n")


REPORTERS = {"text": write_text, "json": write_json}
