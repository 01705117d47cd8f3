"""labelspec: the reference toolkit for label-export formats of annotation platforms.

Public API::

    import labelspec
    report = labelspec.validate("export.json")            # format detected, lenient profile
    report = labelspec.validate(doc, format="encord", profile="strict", ontology="ontology.json")
    for finding in report.findings:
        print(finding.pointer, finding.rule, finding.message)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from labelspec.validator.api import validate
    from labelspec.validator.compiler import PROFILES, compile_schema, list_formats
    from labelspec.validator.engine import UsageError
    from labelspec.validator.report import FileReport, Finding, Report

# The public names, imported on first use: importing the package (as every submodule import does, the
# CLI's too) must not import the whole validator, whose start-up costs more than checking a 10 MB file.
_PUBLIC = {
    "validate": "labelspec.validator.api",
    "PROFILES": "labelspec.validator.compiler",
    "compile_schema": "labelspec.validator.compiler",
    "list_formats": "labelspec.validator.compiler",
    "UsageError": "labelspec.validator.engine",
    "FileReport": "labelspec.validator.report",
    "Finding": "labelspec.validator.report",
    "Report": "labelspec.validator.report",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'labelspec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
