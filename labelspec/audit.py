"""The audit of every error: why each lenient error is one, and which SDK code each strict error protects.

Two kinds of errors exist. Structural constraints are the asserting keywords of a compiled schema
(``type``, ``required``, ``minimum``, ...); each one is a *site* named ``<where> <keyword>``, e.g.
``image.width minimum`` or ``$.images type`` (``$`` is the document root, other bases are definition
names; ``.key`` a property, ``[]`` the items, ``.*`` additional properties, ``/allOf/N/then`` a
conditional branch). Semantic rules are the entries of ``rules.yaml``.

- ``schemas/<format>/audit.yaml`` lists entries ``{constraints: [glob, ...], lenient: ..., strict: ...}``.
  ``*`` in a glob matches any text. ``lenient`` says why no real producer writes what the constraint
  rejects (the constraint is then rightly an error under lenient); ``strict`` names the vendor SDK code
  (package version, module, function) that fails on, or silently loses, what it rejects. The first
  entry that matches a site and has the field answers for it.
- a rule whose severity is ``error`` carries ``audit: {lenient: ..., strict: ...}`` in ``rules.yaml``
  for each profile where it is an error.
- a schema node marked ``x-severity: warning`` (with ``x-severity-note``: why) reports its failures, and
  those of everything under it, as warnings in both profiles; its sites are not errors, so not audited
  (:func:`warning_sites` lists them).

:func:`unaudited` lists what has no answer; a test keeps it empty, and the docs site renders the audit.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from labelspec.validator.compiler import PROFILES, compile_schema, list_formats, load_format_yaml
from labelspec.validator.rules import RuleSpec, all_rules

# Keywords that fail a document by themselves. Composition keywords (allOf, if/then/else, $ref) only
# route to other nodes, which are walked; oneOf/anyOf/not are one constraint each (their alternatives
# are judged together, so they are not walked).
ASSERTING = (
    "type",
    "enum",
    "const",
    "required",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "oneOf",
    "anyOf",
    "not",
)


@dataclass(frozen=True)
class Site:
    """One asserting keyword of a compiled schema."""

    where: str
    keyword: str
    value: Any

    @property
    def id(self) -> str:
        return f"{self.where} {self.keyword}"


@dataclass(frozen=True)
class Answer:
    """An error and the audit's reason for it (empty when none is recorded)."""

    subject: str
    demand: str
    reason: str


def _walk(node: Any, where: str) -> Iterator[Site]:
    if not isinstance(node, dict) or node.get("x-severity") == "warning":
        return  # a node marked ``x-severity: warning`` and everything under it only warns
    for keyword in ASSERTING:
        if keyword in node:
            yield Site(where, keyword, node[keyword])
    if node.get("additionalProperties") is False:
        yield Site(where, "additionalProperties", False)
    if node.get("additionalItems") is False:
        yield Site(where, "additionalItems", False)
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{where}.{name}")
    for pattern, sub in (node.get("patternProperties") or {}).items():
        yield from _walk(sub, f"{where}.{{{pattern}}}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{where}.*")
    items = node.get("items")
    if isinstance(items, dict):
        yield from _walk(items, f"{where}[]")
    elif isinstance(items, list):
        for index, sub in enumerate(items):
            yield from _walk(sub, f"{where}[{index}]")
    for index, sub in enumerate(node.get("allOf") or []):
        yield from _walk(sub, f"{where}/allOf/{index}")
    for branch in ("then", "else"):
        yield from _walk(node.get(branch), f"{where}/{branch}")
    for name, sub in (node.get("dependencies") or {}).items():
        if isinstance(sub, list):
            yield Site(f"{where}/dependencies", name, sub)
        else:
            yield from _walk(sub, f"{where}/dependencies/{name}")


@functools.cache
def sites(format_id: str, profile: str) -> tuple[Site, ...]:
    """Every asserting keyword of the compiled schema of ``format_id`` under ``profile``."""
    schema = compile_schema(format_id, profile)
    found = list(_walk({k: v for k, v in schema.items() if k != "definitions"}, "$"))
    for name, definition in (schema.get("definitions") or {}).items():
        found.extend(_walk(definition, name))
    return tuple(found)


def _walk_warnings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, note) of every node marked ``x-severity: warning``."""
    if not isinstance(node, dict):
        return
    if node.get("x-severity") == "warning":
        yield where, str(node.get("x-severity-note") or "")
        return
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk_warnings(sub, f"{where}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk_warnings(node["additionalProperties"], f"{where}.*")
    if isinstance(node.get("items"), dict):
        yield from _walk_warnings(node["items"], f"{where}[]")
    for index, sub in enumerate(node.get("allOf") or []):
        yield from _walk_warnings(sub, f"{where}/allOf/{index}")
    for branch in ("then", "else"):
        yield from _walk_warnings(node.get(branch), f"{where}/{branch}")


@functools.cache
def warning_sites(format_id: str) -> tuple[tuple[str, str], ...]:
    """(where, why) of every schema node whose failures are warnings (``x-severity: warning``)."""
    schema = compile_schema(format_id, "strict")
    found = list(_walk_warnings({k: v for k, v in schema.items() if k != "definitions"}, "$"))
    for name, definition in (schema.get("definitions") or {}).items():
        found.extend(_walk_warnings(definition, name))
    return tuple(found)


def _node(schema: dict[str, Any], where: str) -> Any:
    """The schema node a ``where`` of :func:`warning_sites` names (None when it cannot be followed)."""
    base, _, rest = where.partition(".")
    node: Any = schema if base == "$" else (schema.get("definitions") or {}).get(base)
    for token in re.findall(r"/allOf/\d+|/then|/else|\[\]|\.\*|[^./\[\]]+", rest):
        if not isinstance(node, dict):
            return None
        if token.startswith("/allOf/"):
            node = (node.get("allOf") or [None] * (int(token[7:]) + 1))[int(token[7:])]
        elif token in ("/then", "/else"):
            node = node.get(token[1:])
        elif token == "[]":
            node = node.get("items")
        elif token == ".*":
            node = node.get("additionalProperties")
        else:
            node = (node.get("properties") or {}).get(token)
    return node


@functools.cache
def warning_checks(format_id: str) -> dict[str, tuple[str, ...]]:
    """What is still checked (and only warned about) under each node of :func:`warning_sites`: its
    asserting keywords and those of everything under it, as ``<relative where> <keyword>: <value>``."""
    schema = compile_schema(format_id, "strict")
    out: dict[str, tuple[str, ...]] = {}
    for where, _ in warning_sites(format_id):
        node = _node(schema, where)
        if not isinstance(node, dict):
            out[where] = ()
            continue
        checks = [f"as {str(node['$ref']).rsplit('/', 1)[-1]}"] if "$ref" in node else []
        for site in _walk({k: v for k, v in node.items() if k != "x-severity"}, ""):
            checks.append(f"{site.where} {_demand(site)}".strip())
        out[where] = tuple(checks)
    return out


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


@functools.cache
def entries(format_id: str) -> tuple[tuple[tuple[re.Pattern[str], ...], dict[str, str]], ...]:
    """The audit entries of a format: compiled globs and their reasons per profile."""
    out = []
    for entry in load_format_yaml(format_id, "audit.yaml") or []:
        globs = tuple(_glob(p) for p in entry["constraints"])
        out.append((globs, {p: str(entry[p]) for p in PROFILES if entry.get(p)}))
    return tuple(out)


def site_reason(format_id: str, site: Site, profile: str) -> str:
    for globs, reasons in entries(format_id):
        if profile in reasons and any(g.match(site.id) for g in globs):
            return reasons[profile]
    return ""


def rule_reason(spec: RuleSpec, profile: str) -> str:
    audit = spec.audit or {}
    return str(audit.get(profile) or "")


def _demand(site: Site) -> str:
    value = site.value
    if isinstance(value, dict):  # propertyNames, contains, not: its own asserting keywords
        value = {k: v for k, v in value.items() if k in ASSERTING}
    elif site.keyword in ("oneOf", "anyOf"):
        value = [{k: v for k, v in alt.items() if k in ASSERTING} for alt in value if isinstance(alt, dict)]
    text = json.dumps(value) if not isinstance(value, str) else value
    return f"{site.keyword}: {text if len(text) <= 60 else text[:57] + '...'}"


def structural(format_id: str, profile: str) -> list[Answer]:
    """Every structural error of one profile with its recorded reason."""
    return [
        Answer(site.id, _demand(site), site_reason(format_id, site, profile))
        for site in sites(format_id, profile)
    ]


def semantic(format_id: str, profile: str) -> list[Answer]:
    """Every rule that is an error under ``profile`` with its recorded reason."""
    return [
        Answer(spec.id, spec.title, rule_reason(spec, profile))
        for spec in all_rules(format_id)
        if spec.severity.get(profile) == "error"
    ]


def unaudited(format_id: str | None = None) -> list[str]:
    """``format profile subject`` of every error the audit does not answer for."""
    missing = []
    for fmt in [format_id] if format_id else list(list_formats()):
        for profile in PROFILES:
            for answer in structural(fmt, profile) + semantic(fmt, profile):
                if not answer.reason:
                    missing.append(f"{fmt} {profile} {answer.subject}")
    return missing
