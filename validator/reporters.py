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


def write_junit(report: Report, out: TextIO) -> None:
    """JUnit XML: one test case per document; invalid documents fail, unreadable ones error."""
    import xml.etree.ElementTree as ET

    failures = sum(1 for f in report.files if f.readable and not f.valid)
    errors = sum(1 for f in report.files if not f.readable)
    suites = ET.Element("testsuites", name="labelspec", tests=str(len(report.files)))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="labelspec validate",
        tests=str(len(report.files)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
    )
    for file in report.files:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"labelspec.{file.format or 'unknown'}.{file.profile}",
            name=file.path,
        )
        body = "\n".join(f"{f.pointer or '/'}  {f.severity}  {f.rule}  {f.message}" for f in file.findings)
        if not file.readable:
            ET.SubElement(
                case,
                "error",
                message=file.findings[0].message if file.findings else "unreadable",
                type="unreadable",
            ).text = body
        elif not file.valid:
            ET.SubElement(
                case, "failure", message=f"{_plural(file.errors, 'error')}", type="invalid"
            ).text = body
        elif file.findings:
            ET.SubElement(case, "system-out").text = body
    ET.indent(suites)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(suites, encoding="unicode"))
    out.write("\n")


def _gh_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def write_github(report: Report, out: TextIO) -> None:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per finding."""
    for file in report.files:
        path = file.path.split("!", 1)[0]
        for finding in file.findings:
            level = "error" if finding.severity == "error" else "warning"
            title = _gh_escape(f"{finding.rule} ({file.format or 'unknown'}, {file.profile})", True)
            where = finding.pointer or "/"
            member = f"{file.path.split('!', 1)[1]} " if "!" in file.path else ""
            message = _gh_escape(f"{member}{where}: {finding.message}")
            out.write(f"::{level} file={_gh_escape(path, True)},title={title}::{message}\n")
    valid = sum(1 for f in report.files if f.valid)
    out.write(f"labelspec: {len(report.files)} documents checked, {valid} valid\n")


REPORTERS["junit"] = write_junit
REPORTERS["github"] = write_github
