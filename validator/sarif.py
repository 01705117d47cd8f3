"""SARIF 2.1.0 output (``labelspec validate --output sarif``), for GitHub code scanning and other viewers.

One run; one result per finding with its rule id, level, the file (relative to the current folder,
through the ``SRCROOT`` base id) with the line and column of the finding's JSON Pointer, and the pointer
itself as a logical location. Rules carry the catalogue's title and rationale.
Specification: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from labelspec import __version__
from labelspec.validator.locate import Position, locate_report_file
from labelspec.validator.report import Finding, Report
from labelspec.validator.rules import all_rules

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/labelspec/labelspec"


def _artifact(path: str) -> dict[str, Any]:
    """An artifactLocation: relative to SRCROOT (the current folder) when below it, else a file URI."""
    file = Path(path)
    try:
        relative = file.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return {"uri": file.resolve().as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "SRCROOT"}


def _rule_descriptors(findings: list[Finding]) -> list[dict[str, Any]]:
    catalogue = {spec.id: spec for spec in all_rules()}
    rules: list[dict[str, Any]] = []
    for rule_id in sorted({f.rule for f in findings}):
        spec = catalogue.get(rule_id)
        descriptor: dict[str, Any] = {"id": rule_id}
        if spec is not None:
            descriptor["shortDescription"] = {"text": spec.title}
            descriptor["fullDescription"] = {"text": " ".join(spec.rationale.split())}
            descriptor["help"] = {"text": f"labelspec rules {rule_id}"}
            descriptor["properties"] = {"severity": dict(spec.severity), "format": spec.format}
        elif rule_id.startswith("schema."):
            keyword = rule_id.removeprefix("schema.")
            descriptor["shortDescription"] = {
                "text": f"The document breaks the JSON Schema keyword {keyword}"
            }
        rules.append(descriptor)
    return rules


def _result(
    finding: Finding, index: int, artifact: dict[str, Any], member: str, where: Position | None
) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if where is not None:
        physical["region"] = {"startLine": where.line, "startColumn": where.column}
    pointer = finding.pointer
    name = pointer.rsplit("/", 1)[-1] if pointer else ""
    logical = {
        "name": name.replace("~1", "/").replace("~0", "~") or "/",
        "fullyQualifiedName": f"{member}#{pointer}" if member else pointer or "/",
        "kind": "value",
    }
    text = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
    return {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": "error" if finding.severity == "error" else "warning",
        "message": {"text": f"{pointer or '/'}: {text}"},
        "locations": [{"physicalLocation": physical, "logicalLocations": [logical]}],
    }


def sarif_log(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a JSON-ready dict)."""
    rules = _rule_descriptors(report.findings)
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for file in report.files:
        archive, _, member = file.path.partition("!")
        artifact = _artifact(archive)
        positions = locate_report_file(file.path, (f.pointer for f in file.findings)) if file.readable else {}
        for finding in file.findings:
            results.append(
                _result(finding, index[finding.rule], artifact, member, positions.get(finding.pointer))
            )
    root = Path.cwd().resolve().as_uri().rstrip("/") + "/"
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "labelspec",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": root}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": report.exit_code != 2, "workingDirectory": {"uri": root}}],
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write_sarif(report: Report, out: TextIO) -> None:
    json.dump(sarif_log(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
