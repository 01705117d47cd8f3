"""What the strict-only proofs share: the errors only the strict profile reports for a format.

A strict-only error is a schema site the strict profile has and the lenient one has not (or has with another
value, ``labelspec.audit.sites``), or a rule that is an error under strict only. Each proof module
(test_strict_only_*.py) guards that every one of them has its proof or its citation.
"""

from __future__ import annotations

from typing import Any

import labelspec
from labelspec import audit
from labelspec.validator.rules import all_rules


def strict_only_sites(format_id: str) -> list[Any]:
    """The schema sites of the strict profile that lenient lacks or has with another value."""
    lenient = {site.id: site.value for site in audit.sites(format_id, "lenient")}
    return [
        site
        for site in audit.sites(format_id, "strict")
        if site.id not in lenient or lenient[site.id] != site.value
    ]


def strict_only_rules(format_id: str) -> list[Any]:
    """The catalogued rules that are errors under strict and not under lenient."""
    return [
        spec
        for spec in all_rules(format_id)
        if spec.severity.get("strict") == "error" and spec.severity.get("lenient") != "error"
    ]


def strict_only_errors(format_id: str) -> set[str]:
    """The ids of every strict-only site and rule: what the proofs of a format must cover."""
    return {site.id for site in strict_only_sites(format_id)} | {
        spec.id for spec in strict_only_rules(format_id)
    }


def errors(document: Any, format_id: str, profile: str) -> set[tuple[str, str]]:
    """(rule, pointer) of the errors reported for the document itself (an ontology's report comes last)."""
    report = labelspec.validate(document, format=format_id, profile=profile)
    return {(f.rule, f.pointer) for f in report.files[-1].findings if f.severity == "error"}
