"""labelspec: the reference toolkit for label-export formats of annotation platforms.

Public API::

    import labelspec
    report = labelspec.validate("export.json")            # format detected, lenient profile
    report = labelspec.validate(doc, format="encord", profile="strict", ontology="ontology.json")
    for finding in report.findings:
        print(finding.pointer, finding.rule, finding.message)
"""

from __future__ import annotations

__version__ = "0.1.0"

from labelspec.validator.api import validate
from labelspec.validator.compiler import PROFILES, compile_schema, list_formats
from labelspec.validator.engine import UsageError
from labelspec.validator.report import FileReport, Finding, Report

__all__ = [
    "PROFILES",
    "FileReport",
    "Finding",
    "Report",
    "UsageError",
    "__version__",
    "compile_schema",
    "list_formats",
    "validate",
]
