"""Reporters: render a :class:`Report` for people (text) or machines (json, JUnit, GitHub annotations; SARIF
is :mod:`labelspec.validator.sarif`)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TextIO

from labelspec.validator.locate import locate_report_file
from labelspec.validator.report import FileReport, Finding, Report


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


# In text output, findings of one rule whose messages differ only in quoted values and numbers form a
# group: the first GROUP_SHOWN are printed, then one "... and N more like this" line.
GROUP_SHOWN = 3
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def message_shape(finding: Finding) -> tuple[str, str]:
    """What makes findings 'alike': the rule, and the message with its quoted values and numbers blanked."""
    text = finding.message.split(" [", 1)[0]  # drop an appended source location ("[file:line]")
    return finding.rule, _NUMBER.sub("#", _QUOTED.sub("'…'", text))


def _finding_lines(finding: Finding) -> str:
    pointer = finding.pointer or "/"
    line = f"  {pointer}  {finding.severity}  {finding.rule}  {finding.message}\n"
    if finding.hint:
        line += f"      hint: {finding.hint}\n"
    return line


def write_findings(findings: list[Finding], out: TextIO, max_findings: int | None = None) -> None:
    """The findings of one document, grouped, at most ``max_findings`` lines of findings."""
    totals = Counter(message_shape(f) for f in findings)
    seen: Counter[tuple[str, str]] = Counter()
    shown: list[tuple[Finding, int]] = []  # a finding, and how many alike ones it stands for beyond itself
    for finding in findings:
        shape = message_shape(finding)
        seen[shape] += 1
        if seen[shape] < GROUP_SHOWN:
            shown.append((finding, 0))
        elif seen[shape] == GROUP_SHOWN:
            shown.append((finding, totals[shape] - GROUP_SHOWN))
    limit = len(shown) if max_findings is None else max_findings
    for finding, more in shown[:limit]:
        out.write(_finding_lines(finding))
        if more:
            out.write(f"  … and {more} more like this ({finding.rule})\n")
    hidden = sum(1 + more for _, more in shown[limit:])
    if hidden:
        out.write(f"  … {_plural(hidden, 'more finding')} not shown (--max-findings {max_findings})\n")


def write_text(report: Report, out: TextIO, quiet: bool = False, max_findings: int | None = None) -> None:
    """One header line per file, one line per finding (pointer, severity, rule, message), then totals.

    Alike findings are grouped (see :func:`message_shape`); ``max_findings`` caps the finding lines per
    document. The JSON, JUnit, SARIF and GitHub outputs always carry every finding."""
    for file in report.files:
        if quiet and file.valid and not file.findings:
            continue
        out.write(_file_header(file) + "\n")
        write_findings(file.findings, out, max_findings)
    if quiet:
        return
    write_skipped(report, out)
    valid = sum(1 for f in report.files if f.valid)
    unreadable = sum(1 for f in report.files if not f.readable)
    invalid = len(report.files) - valid - unreadable
    errors = sum(f.errors for f in report.files if f.readable)
    warnings = sum(f.warnings for f in report.files)
    parts = [f"{valid} valid", f"{invalid} invalid"]
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    skipped = f", {_plural(len(report.skipped), 'file')} skipped" if report.skipped else ""
    out.write(
        f"{_plural(len(report.files), 'document')} checked: {', '.join(parts)}"
        f" ({_plural(errors, 'error')}, {_plural(warnings, 'warning')}){skipped}\n"
    )


SKIPPED_SHOWN = 5  # per reason, in text output (the JSON output lists every skipped file)


def write_skipped(report: Report, out: TextIO) -> None:
    """The files found and not validated, grouped by reason (a few paths each)."""
    if not report.skipped:
        return
    by_reason: dict[str, list[str]] = {}
    for entry in report.skipped:
        by_reason.setdefault(entry.reason, []).append(entry.path)
    out.write(f"skipped {_plural(len(report.skipped), 'file')} (not validated):\n")
    for reason, paths in by_reason.items():
        for path in paths[:SKIPPED_SHOWN]:
            out.write(f"  {path}: {reason}\n")
        if len(paths) > SKIPPED_SHOWN:
            out.write(f"  … and {len(paths) - SKIPPED_SHOWN} more: {reason}\n")


def write_json(report: Report, out: TextIO) -> None:
    """``{"files": [{"path", "format", "profile", "valid", "findings": [...]}], "skipped": [{"path",
    "reason"}]}`` (see the README)."""
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
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per finding, placed on the
    line and column of the finding's JSON Pointer when the file can be re-read (see ``locate``)."""
    for file in report.files:
        path = file.path.split("!", 1)[0]
        positions = locate_report_file(file.path, (f.pointer for f in file.findings)) if file.readable else {}
        for finding in file.findings:
            level = "error" if finding.severity == "error" else "warning"
            title = _gh_escape(f"{finding.rule} ({file.format or 'unknown'}, {file.profile})", True)
            where = finding.pointer or "/"
            member = f"{file.path.split('!', 1)[1]} " if "!" in file.path else ""
            message = _gh_escape(f"{member}{where}: {finding.message}")
            place = positions.get(finding.pointer)
            at = f",line={place.line},col={place.column}" if place else ""
            out.write(f"::{level} file={_gh_escape(path, True)}{at},title={title}::{message}\n")
    valid = sum(1 for f in report.files if f.valid)
    out.write(f"labelspec: {len(report.files)} documents checked, {valid} valid\n")


REPORTERS["junit"] = write_junit
REPORTERS["github"] = write_github
