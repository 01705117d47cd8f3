"""Documents that carry a format's document under one key, as an API response does (an envelope).

A format declares the key in its schema's ``x-format.envelope``: the Encord ontology API returns the ontology
structure under ``editor`` (encord 0.1.211 ``encord/orm/ontology.py`` ``Ontology.from_dict`` reads
``json_dict["editor"]``). A document is read as an envelope when it is an object with that key holding an
object and none of the properties the format's root requires; its structure is then validated where it is,
with pointers into the whole document.
"""

from __future__ import annotations

import functools
from typing import Any

from labelspec.validator.compiler import format_dir, format_metadata, load_yaml
from labelspec.validator.report import Finding


@functools.cache
def _envelope(format_id: str) -> tuple[str, frozenset[str]] | None:
    """(envelope key, the root's required properties) of a format, or None when it declares no envelope."""
    try:
        key = format_metadata(format_id).get("envelope")
    except (OSError, KeyError, ValueError):
        return None
    if not isinstance(key, str):
        return None
    required = load_yaml(format_dir(format_id) / "schema.yaml").get("required") or []
    return key, frozenset(str(name) for name in required)


def unwrap(format_id: str, document: Any) -> tuple[Any, tuple[str, ...]]:
    """(the document the format's schema describes, its path in ``document``): ``(document, ())`` when
    ``document`` is not an envelope of the format."""
    declared = _envelope(format_id)
    if declared is None or not isinstance(document, dict):
        return document, ()
    key, required = declared
    inner = document.get(key)
    if isinstance(inner, dict) and not required & document.keys():
        return inner, (key,)
    return document, ()


def is_envelope(format_id: str, document: Any) -> bool:
    return bool(unwrap(format_id, document)[1])


def prefixed(findings: list[Finding], path: tuple[str, ...]) -> list[Finding]:
    """``findings`` about the inner document, with pointers into the envelope."""
    if not path:
        return findings
    head = "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
    return [Finding(f.rule, f.severity, head + f.pointer, f.message, f.hint) for f in findings]
