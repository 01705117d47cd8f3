"""Findings and reports: the one result model every check, reporter and CLI command shares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

# Exit codes, everywhere: 0 valid, 1 invalid, 2 unreadable input or bad usage.
EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2


@dataclass(frozen=True, slots=True)  # slots: a large faulty export holds millions of findings
class Finding:
    """One problem at one place: ``pointer`` is an RFC 6901 JSON Pointer into the document."""

    rule: str
    severity: Severity
    pointer: str
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "pointer": self.pointer,
            "message": self.message,
        }
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass
class FileReport:
    """The verdict on one document (a file, or one member of an archive)."""

    path: str
    format: str | None
    profile: str
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True

    @property
    def valid(self) -> bool:
        return self.readable and not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "profile": self.profile,
            "valid": self.valid,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class Skipped:
    """A file found in a folder and not validated, and why (nothing is left out silently)."""

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Report:
    """The result of a validation run over one or more documents, and the files it skipped."""

    files: list[FileReport] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    @property
    def findings(self) -> list[Finding]:
        return [finding for file in self.files for finding in file.findings]

    @property
    def exit_code(self) -> int:
        if any(not f.readable for f in self.files):
            return EXIT_UNUSABLE
        return EXIT_VALID if self.valid else EXIT_INVALID

    def extend(self, reports: Iterable[FileReport]) -> None:
        self.files.extend(reports)

    def merge(self, other: Report) -> None:
        """Add another run's documents and skipped files."""
        self.files.extend(other.files)
        self.skipped.extend(other.skipped)

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files], "skipped": [s.to_json() for s in self.skipped]}


def escape_token(token: str | int) -> str:
    """Escape one reference token of a JSON Pointer (RFC 6901 section 3)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def to_pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + escape_token(token) for token in path)


def pointer_sort_key(pointer: str) -> list[tuple[int, int, str]]:
    """Order pointers as a reader walks the document: array indexes numerically.

    Digit tokens compare by their length without leading zeros, then as text: the numeric order, with no
    int() (which refuses very long digit strings) and no Unicode digits (which int() may not read)."""
    key: list[tuple[int, int, str]] = []
    for token in pointer.split("/")[1:]:
        if token.isascii() and token.isdigit():
            digits = token.lstrip("0")
            key.append((0, len(digits), digits))
        else:
            key.append((1, 0, token))
    return key
