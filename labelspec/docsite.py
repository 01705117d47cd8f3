"""The documentation site's generated pages, rendered from the schemas, rule catalogues and the CLI.

Every function returns the Markdown of one page; ``site_pages`` maps every generated page's path (relative
to ``docs/``) to its Markdown, and the mkdocs hook ``docs/hooks/labelspec_pages.py`` adds them to the build
in memory. Nothing here writes files: the pages are never edited by hand and never committed.

Pages:

- ``formats/<id>.md``: the reference of one format, walked from the compiled lenient schema through its
  ``$ref`` s (one section per definition; a property table per object with type, required per profile,
  constraints, description and examples; the if/then unions as readable conditions; the differences between
  the profiles) and the format's documented examples with their verdicts;
- ``rules/<id>.md``: the rule catalogue (severity, rationale, failing example and the exact lines
  ``labelspec validate`` prints for it, passing example);
- ``discrepancies/<id>.md``: the register of what the vendor docs say, what the platform writes, what the
  SDK accepts and what labelspec does;
- ``cli.md``: the help of every command, taken from the parser itself;
- ``benchmarks.md``: ``benchmarks/RESULTS.md`` when it exists.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelspec import audit
from labelspec.fix.catalogue import FixSpec, fixes_for_rule
from labelspec.validator.api import validate
from labelspec.validator.compiler import (
    PROFILES,
    compiled_schema_view,
    format_metadata,
    list_formats,
    load_format_yaml,
)
from labelspec.validator.examples import DocumentedExample, check_example, documented_examples
from labelspec.validator.report import FileReport, Report
from labelspec.validator.reporters import write_text
from labelspec.validator.rules import RuleSpec, all_rules, schema_entries

JSONPath = tuple[str | int, ...]

# Keywords whose value is a map from names to schemas, and keywords whose value is one schema.
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "additionalItems",
    "if",
    "then",
    "else",
    "not",
    "propertyNames",
    "contains",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
# Keywords shown in the constraints column, with how they read.
_CONSTRAINTS: tuple[tuple[str, str], ...] = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("multipleOf", "multiple of {}"),
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("minItems", "items ≥ {}"),
    ("maxItems", "items ≤ {}"),
    ("minProperties", "keys ≥ {}"),
    ("maxProperties", "keys ≤ {}"),
    ("format", "format {}"),
)
_EXAMPLE_CELL_CHARS = 70
_EXAMPLE_BLOCK_LINES = 120
# Text shown for a document that is not a schema node (a YAML slip such as a key ending in ':').
_MISSING = object()


# ---------------------------------------------------------------------------------------------------------
# Markdown helpers


def code(value: str) -> str:
    """``value`` as an inline code span (backticks inside are fenced with longer runs)."""
    value = " ".join(value.split())
    if "`" not in value:
        return f"`{value}`"
    return f"`` {value} ``"


def jcode(value: Any, limit: int = 0) -> str:
    """A JSON value as a compact inline code span, cut to ``limit`` characters when given."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return code(text)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def prose(text: str, cell: bool = False) -> str:
    """Our descriptions as Markdown: code spans kept, Markdown specials outside them escaped.

    In a table cell (``cell``) line breaks fold and ``|`` is escaped too.
    """
    text = " ".join(str(text).split())
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last : match.start()], cell))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_plain(text[last:], cell))
    return "".join(out)


def _escape_plain(text: str, cell: bool) -> str:
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "*_[]":
        text = text.replace(char, "\\" + char)
    if cell:
        text = text.replace("|", "\\|")
    return text


def heading(text: str) -> str:
    """Prose for a heading: braces would be read as an attribute list, so they become entities."""
    return prose(text).replace("{", "&#123;").replace("}", "&#125;")


def anchor(name: str) -> str:
    """The HTML id of a heading for ``name`` (definitions, rule ids, discrepancy ids)."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def json_block(value: Any, max_lines: int = _EXAMPLE_BLOCK_LINES, indent: str = "") -> str:
    """A fenced JSON block (``value`` given as text is shown as is), cut after ``max_lines`` lines."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"… ({len(lines) - max_lines} more lines)"]
    body = "\n".join(indent + line for line in lines)
    return f"{indent}```json\n{body}\n{indent}```"


def text_block(text: str, indent: str = "") -> str:
    body = "\n".join(indent + line if line else line for line in text.rstrip("\n").splitlines())
    return f"{indent}```text\n{body}\n{indent}```"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


# ---------------------------------------------------------------------------------------------------------
# Schema walking


def _get(document: Any, path: JSONPath) -> Any:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node


def ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref: str = node["$ref"]
        return ref.removeprefix("#/definitions/")
    return None


def ref_link(name: str) -> str:
    return f"[{name}](#{anchor(name)})"


def iter_refs(node: Any) -> Iterator[str]:
    """Definition names referenced anywhere under ``node``, in document order."""
    if isinstance(node, dict):
        name = ref_name(node)
        if name:
            yield name
        for key, value in node.items():
            if key in ("examples", "default", "const", "enum") or key.startswith("x-"):
                continue
            yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


def definition_order(schema: dict[str, Any]) -> list[str]:
    """Definitions in reading order: breadth-first from the root, then the unreferenced ones by name."""
    definitions: dict[str, Any] = schema.get("definitions", {})
    root = {k: v for k, v in schema.items() if k != "definitions"}
    order: list[str] = []
    queue = list(iter_refs(root))
    while queue:
        name = queue.pop(0)
        if name in order or name not in definitions:
            continue
        order.append(name)
        queue.extend(iter_refs(definitions[name]))
    order += sorted(n for n in definitions if n not in order)
    return order


_JSON_KINDS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "NoneType": "null",
    "dict": "object",
    "list": "array",
}


def type_label(node: Any) -> str:
    """A short Markdown type: ``string or null``, ``array of [label_row](#label_row)``, ``map of …``."""
    if node is True or node == {}:
        return "any"
    if node is False:
        return "nothing (forbidden)"
    if not isinstance(node, dict):
        return code(str(node))
    name = ref_name(node)
    if name:
        return ref_link(name)
    if "const" in node:
        return "constant " + jcode(node["const"])
    types = node.get("type")
    labels: list[str] = []
    for kind in [types] if isinstance(types, str) else list(types or []):
        if kind == "array":
            labels.append(_array_label(node))
        elif (
            kind == "object"
            and isinstance(node.get("additionalProperties"), dict)
            and not node.get("properties")
        ):
            labels.append("map of " + type_label(node["additionalProperties"]))
        elif (
            kind == "object"
            and isinstance(node.get("patternProperties"), dict)
            and not node.get("properties")
        ):
            values = [type_label(v) for v in node["patternProperties"].values()]
            labels.append("map of " + " or ".join(values))
        else:
            labels.append(str(kind))
    if not labels and isinstance(node.get("enum"), list):
        kinds = list(dict.fromkeys(_JSON_KINDS.get(type(v).__name__, "value") for v in node["enum"]))
        labels.append("enum (" + " or ".join(kinds) + ")")
    for keyword in ("anyOf", "oneOf"):
        alternatives = node.get(keyword)
        if isinstance(alternatives, list) and alternatives and not labels:
            if all(isinstance(a, dict) and set(a) <= {"required", "description"} for a in alternatives):
                continue
            labels.append(" or ".join(type_label(a) for a in alternatives))
    if not labels:
        if "items" in node:
            labels.append(_array_label(node))
        elif "properties" in node:
            labels.append("object")
        elif "allOf" in node and len(node["allOf"]) == 1:
            labels.append(type_label(node["allOf"][0]))
    return " or ".join(labels) if labels else "any"


def _array_label(node: dict[str, Any]) -> str:
    items = node.get("items")
    if isinstance(items, list):
        parts = [type_label(item) for item in items]
        tail = node.get("additionalItems")
        text = "tuple [" + ", ".join(parts) + "]"
        if isinstance(tail, dict):
            text += ", then any number of " + type_label(tail)
        return text
    if items is None:
        return "array"
    return "array of " + type_label(items)


def constraints(node: Any) -> list[str]:
    """Readable constraints of one node (not of its sub-schemas, except the items of an array)."""
    if not isinstance(node, dict):
        return []
    out: list[str] = []
    if isinstance(node.get("enum"), list):
        out.append("one of " + ", ".join(jcode(v) for v in node["enum"]))
    if "pattern" in node:
        out.append("pattern " + code(str(node["pattern"])))
    for keyword, template in _CONSTRAINTS:
        if keyword in node:
            out.append(template.format(jcode(node[keyword])))
    if node.get("uniqueItems"):
        out.append("items unique")
    if node.get("additionalProperties") is False:
        out.append("no other keys")
    names = node.get("propertyNames")
    if isinstance(names, dict):
        detail = "; ".join(constraints(names)) or type_label(names)
        out.append("keys: " + detail)
    pattern_props = node.get("patternProperties")
    if isinstance(pattern_props, dict) and node.get("properties"):
        for pattern, sub in pattern_props.items():
            out.append(f"keys matching {code(pattern)}: {type_label(sub)}")
    if "default" in node:
        out.append("default " + jcode(node["default"]))
    if node.get("not") == {}:
        out.append("must be absent")
    items = node.get("items")
    if isinstance(items, dict) and not ref_name(items):
        inner = constraints(items)
        if inner:
            out.append("each item: " + "; ".join(inner))
    return out


# ---------------------------------------------------------------------------------------------------------
# Profiles


@dataclass(frozen=True)
class ProfileDiff:
    """One keyword whose value differs between the lenient and the strict compiled schema."""

    path: JSONPath  # of the node holding the keyword
    keyword: str
    lenient: Any
    strict: Any


def profile_diffs(lenient: Any, strict: Any, path: JSONPath = ()) -> list[ProfileDiff]:
    """Every keyword that differs between the two compiled profiles (descriptions and ids aside)."""
    out: list[ProfileDiff] = []
    if not isinstance(lenient, dict) or not isinstance(strict, dict):
        if lenient != strict:
            out.append(ProfileDiff(path[:-1], str(path[-1]) if path else "", lenient, strict))
        return out
    keys = list(lenient) + [k for k in strict if k not in lenient]
    for key in keys:
        if key in ("description", "examples", "x-profile-note", "$id", "x-format", "title"):
            continue
        a, b = lenient.get(key, _MISSING), strict.get(key, _MISSING)
        if a == b:
            continue
        if key in _SCHEMA_MAPS and isinstance(a, dict) and isinstance(b, dict):
            for name in list(a) + [n for n in b if n not in a]:
                if name not in a or name not in b:
                    out.append(ProfileDiff((*path, key), name, a.get(name, _MISSING), b.get(name, _MISSING)))
                else:
                    out.extend(profile_diffs(a[name], b[name], (*path, key, name)))
        elif key in _SCHEMA_ONE and isinstance(a, dict) and isinstance(b, dict):
            out.extend(profile_diffs(a, b, (*path, key)))
        elif key in _SCHEMA_LISTS and isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                out.extend(profile_diffs(x, y, (*path, key, index)))
        else:
            out.append(ProfileDiff(path, key, a, b))
    return out


def _diff_value(value: Any) -> str:
    if value is _MISSING:
        return "—"
    return jcode(value, 90)


def diff_change(diff: ProfileDiff) -> str:
    """What strict changes, e.g. ``also requires `branch_name```, ``minItems: — → 1``."""
    a, b = diff.lenient, diff.strict
    if diff.keyword == "required" and (isinstance(a, list) or a is _MISSING) and isinstance(b, list):
        before = set(a) if isinstance(a, list) else set()
        added = [x for x in b if x not in before]
        removed = [x for x in before if x not in b]
        parts = []
        if added:
            parts.append("also requires " + ", ".join(code(str(x)) for x in added))
        if removed:
            parts.append("no longer requires " + ", ".join(code(str(x)) for x in sorted(removed)))
        return "; ".join(parts) or "the same keys, in another order"
    if diff.keyword == "not" and b == {}:
        return "forbidden (`not: {}`)"
    if diff.keyword == "enum" and isinstance(a, list) and isinstance(b, list):
        dropped = [v for v in a if v not in b]
        added = [v for v in b if v not in a]
        parts = []
        if dropped:
            parts.append("rejects " + ", ".join(jcode(v) for v in dropped))
        if added:
            parts.append("also accepts " + ", ".join(jcode(v) for v in added))
        return "`enum` " + "; ".join(parts)
    if a is _MISSING:
        return "adds " + code(f"{diff.keyword}: {json.dumps(b, ensure_ascii=False)}"[:100])
    if b is _MISSING:
        return "drops " + code(f"{diff.keyword}: {json.dumps(a, ensure_ascii=False)}"[:100])
    return f"{code(diff.keyword)}: {_diff_value(a)} → {_diff_value(b)}"


def diff_changes(diffs: Sequence[ProfileDiff]) -> str:
    return "; ".join(diff_change(d) for d in diffs)


_SIMPLE_CONDITION = re.compile(r"^(`[^`]+`) is (`[^`]+`)$")


def merge_conditions(conditions: Sequence[str]) -> str:
    """``when `t` is `a```, ``when `t` is `b``` → ``when `t` is `a` or `b```."""
    unique = list(dict.fromkeys(conditions))
    matches = [_SIMPLE_CONDITION.match(c) for c in unique]
    if len(unique) > 1 and all(matches) and len({m.group(1) for m in matches if m}) == 1:
        values = [m.group(2) for m in matches if m]
        subject = matches[0].group(1) if matches[0] else ""
        return f"when {subject} is " + ", ".join(values[:-1]) + " or " + values[-1]
    return "; ".join(f"when {c}" for c in unique)


@dataclass(frozen=True)
class Location:
    """Where a schema path points inside a definition: the property trail and the branch conditions."""

    definition: str | None
    names: str  # e.g. "data_units.*" ("" for the node itself)
    conditions: tuple[str, ...]  # condition texts of the if/then branches on the way

    def markdown(self, merged_conditions: Sequence[str] = ()) -> str:
        place = ref_link(self.definition) if self.definition else "[the document](#root)"
        if self.names:
            place += " › " + code(self.names)
        conditions = merged_conditions or self.conditions
        if conditions:
            place += " (" + merge_conditions(conditions) + ")"
        return place


def locate(schema: dict[str, Any], path: JSONPath) -> Location:
    """The :class:`Location` of a schema path (branch conditions are read from ``schema``)."""
    definition: str | None = None
    steps = list(path)
    current: JSONPath = ()
    if len(steps) >= 2 and steps[0] == "definitions":
        definition = str(steps[1])
        current = ("definitions", steps[1])
        steps = steps[2:]
    names: list[str] = []
    conditions: list[str] = []
    index = 0
    while index < len(steps):
        step = steps[index]
        following = steps[index + 1] if index + 1 < len(steps) else None
        if step in ("properties", "patternProperties") and following is not None:
            names.append(str(following))
            current = (*current, step, following)
            index += 2
            continue
        if step in _SCHEMA_LISTS and isinstance(following, int):
            branch = _get(schema, (*current, step, following))
            after = steps[index + 2] if index + 2 < len(steps) else None
            if isinstance(branch, dict) and "if" in branch and after in ("then", "else"):
                text = condition_text(branch["if"])
                conditions.append(text if after == "then" else f"not ({text})")
                current = (*current, step, following, after)
                index += 3
                continue
            names.append(f"{step}[{following}]")
            current = (*current, step, following)
            index += 2
            continue
        if step in ("then", "else"):
            node = _get(schema, current)
            text = condition_text(node.get("if")) if isinstance(node, dict) else "?"
            conditions.append(text if step == "then" else f"not ({text})")
        elif step == "items":
            names.append("[]")
        elif step == "additionalProperties":
            names.append("*")
        else:
            names.append(str(step))
        current = (*current, step)
        index += 1
    return Location(definition, ".".join(names).replace(".[]", "[]"), tuple(conditions))


def profile_rows(schema: dict[str, Any], diffs: Sequence[ProfileDiff]) -> list[list[str]]:
    """The rows of a format's profile table: one per place and change, equal changes under several branch
    conditions merged."""
    by_path: dict[JSONPath, list[ProfileDiff]] = {}
    for diff in diffs:
        by_path.setdefault(diff.path, []).append(diff)
    merged: dict[tuple[str | None, str, str, str], list[str]] = {}
    for path, group in by_path.items():
        where = locate(schema, path)
        note = _nearest_note(schema, path)
        key = (where.definition, where.names, diff_changes(group), note)
        merged.setdefault(key, []).extend(where.conditions)
    rows = []
    for (definition, names, change, note), conditions in merged.items():
        place = Location(definition, names, ()).markdown(conditions)
        rows.append([place, prose_cell_line(change), prose(note, cell=True) if note else ""])
    return rows


def _nearest_note(schema: dict[str, Any], path: JSONPath) -> str:
    for end in range(len(path), -1, -1):
        node = _get(schema, path[:end])
        if isinstance(node, dict) and isinstance(node.get("x-profile-note"), str):
            return str(node["x-profile-note"])
    return ""


# ---------------------------------------------------------------------------------------------------------
# Conditions (if/then unions)


def condition_text(node: Any) -> str:
    """The ``if`` of a branch as words: ``shape is `bounding_box` and …``."""
    if not isinstance(node, dict):
        return jcode(node, 120)
    parts: list[str] = []
    found = node.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    for name, sub in props.items():
        parts.append(_subject_condition(code(name), sub))
    for name in node.get("required", []):
        if name not in props:
            parts.append(f"{code(name)} is present")
    for keyword in ("anyOf", "oneOf"):
        alternatives = node.get(keyword)
        if isinstance(alternatives, list) and _only_required(alternatives):
            names = [code(n) for a in alternatives for n in a["required"]]
            parts.append("any of " + ", ".join(names) + " is present")
        elif isinstance(alternatives, list):
            parts.append(f"{keyword} " + jcode(alternatives, 120))
    if "type" in node and not props:
        parts.append("the value is " + _a(type_label({"type": node["type"]})))
    if "not" in node:
        parts.append("not (" + condition_text(node["not"]) + ")")
    handled = {"properties", "required", "anyOf", "oneOf", "type", "not", "description"}
    rest = {k: v for k, v in node.items() if k not in handled}
    if rest:
        parts.append("it matches " + jcode(rest, 120))
    return " and ".join(parts) or "always"


def _value(value: Any) -> str:
    return code(value) if isinstance(value, str) else jcode(value)


def _subject_condition(subject: str, sub: Any) -> str:
    """One property's part of an ``if``: ``data_type`` is ``image``, every entry of ``x`` has …."""
    if not isinstance(sub, dict):
        return f"{subject} matches {jcode(sub, 120)}"
    if "const" in sub:
        value = sub["const"]
        return f"{subject} is {code(value) if isinstance(value, str) else jcode(value)}"
    if isinstance(sub.get("enum"), list):
        return f"{subject} is one of " + ", ".join(_value(v) for v in sub["enum"])
    rest = {k: v for k, v in sub.items() if k != "description"}
    if set(rest) == {"type"}:
        return f"{subject} is {_a(type_label(sub))}"
    parts: list[str] = []
    if rest.pop("minProperties", None) == 1 or rest.pop("minItems", None) == 1:
        parts.append(f"{subject} is not empty")
    for keyword, word in (("additionalProperties", "every entry of"), ("items", "every item of")):
        inner = rest.pop(keyword, None)
        if isinstance(inner, dict):
            parts.append(f"{word} {subject} matches ({condition_text(inner)})")
    if isinstance(rest.get("properties"), dict):
        parts.append(
            f"{subject} matches ("
            + condition_text({k: rest.pop(k) for k in ("properties", "required") if k in rest})
            + ")"
        )
    if rest:
        parts.append(f"{subject} matches {jcode(rest, 120)}")
    return " and ".join(parts)


def _only_required(alternatives: list[Any]) -> bool:
    return all(
        isinstance(a, dict) and set(a) - {"description"} == {"required"} and isinstance(a["required"], list)
        for a in alternatives
    )


def _a(label: str) -> str:
    if label.startswith(("object", "array", "integer", "enum", "any")):
        return "an " + label
    if label.startswith(("string", "number", "boolean", "map", "tuple", "constant")):
        return "a " + label
    return label


def demands(node: Any) -> list[str]:
    """What a ``then``/``else`` branch (or any sub-schema) demands, one Markdown clause each; properties
    are left to the caller (see :func:`branch_lines`)."""
    if not isinstance(node, dict):
        return [jcode(node, 80)]
    out: list[str] = []
    name = ref_name(node)
    if name:
        out.append("must be " + ref_link(name))
    required = node.get("required")
    if isinstance(required, list) and required:
        out.append("requires " + ", ".join(code(str(r)) for r in required))
    for keyword, word in (("anyOf", "one or more of"), ("oneOf", "exactly one of")):
        alternatives = node.get(keyword)
        if not isinstance(alternatives, list):
            continue
        if _only_required(alternatives):
            choices = [" + ".join(code(str(n)) for n in a["required"]) for a in alternatives]
            out.append(f"requires {word} " + ", ".join(choices))
        else:
            choices = ["; ".join(demands(a) + _prop_clauses(a)) or type_label(a) for a in alternatives]
            out.append(f"must match {word}: " + " **or** ".join(f"({c})" for c in choices))
    if isinstance(node.get("not"), dict) and node["not"] != {}:
        out.append("must not match (" + "; ".join(demands(node["not"]) + _prop_clauses(node["not"])) + ")")
    if any(k in node for k in ("type", "const")) or ("enum" in node and "type" in node):
        shown = {k: node[k] for k in ("type", "const", "items", "additionalProperties") if k in node}
        out.append("must be " + _a(type_label(shown)))
    out.extend(constraints(node))
    for keyword, label in (("items", "each item"), ("additionalProperties", "each value")):
        sub = node.get(keyword)
        if isinstance(sub, dict) and "type" not in node:
            inner = demands(sub) + _prop_clauses(sub)
            if inner:
                out.append(f"{label}: " + "; ".join(inner))
    if "if" in node:
        then = (
            "; ".join(demands(node.get("then", {})) + _prop_clauses(node.get("then", {}))) or "nothing more"
        )
        text = f"when {condition_text(node['if'])}: {then}"
        if "else" in node:
            text += "; otherwise: " + "; ".join(demands(node["else"]) + _prop_clauses(node["else"]))
        out.append(text)
    for branch in node.get("allOf", []) if isinstance(node.get("allOf"), list) else []:
        out.extend(demands(branch) + _prop_clauses(branch))
    return out


def _prop_clauses(node: Any) -> list[str]:
    """``name`` + its demands, for the properties of a nested sub-schema (inline, one clause each)."""
    props = node.get("properties") if isinstance(node, dict) else None
    if not isinstance(props, dict):
        return []
    return [f"{code(p)} " + ("; ".join(demands(s) + _prop_clauses(s)) or "any") for p, s in props.items()]


def branch_lines(ctx: _FormatContext | None, node: Any, path: JSONPath, indent: str = "    ") -> list[str]:
    """Sub-bullets for the properties a branch constrains, with their strict changes."""
    props = node.get("properties") if isinstance(node, dict) else None
    if not isinstance(props, dict):
        return []
    lines = []
    for name, sub in props.items():
        sub_path = (*path, "properties", name)
        clauses = demands(sub) + _prop_clauses(sub)
        text = f"{indent}- {code(name)}: " + ("; ".join(clauses) if clauses else "any")
        if isinstance(sub, dict) and sub.get("description"):
            text += " — " + prose(sub["description"])
        if ctx is not None:
            strict = [d for d in ctx.diffs if d.path[: len(sub_path)] == sub_path]
            if strict:
                text += " **Strict:** " + diff_changes(strict) + "."
        if isinstance(sub, dict) and sub.get("x-profile-note"):
            text += " *Profiles: " + prose(sub["x-profile-note"]) + "*"
        lines.append(text)
    return lines


def condition_lines(ctx: _FormatContext | None, node: dict[str, Any], node_path: JSONPath) -> list[str]:
    """Bullets for the conditions of a node: its allOf if/then branches, if/then/else, anyOf/oneOf/not."""
    lines: list[str] = []
    branches: list[tuple[dict[str, Any], JSONPath]] = []
    if "if" in node:
        branches.append((node, node_path))
    all_of = node.get("allOf") if isinstance(node.get("allOf"), list) else []
    for index, branch in enumerate(all_of or []):
        if isinstance(branch, dict) and "if" in branch:
            branches.append((branch, (*node_path, "allOf", index)))
        elif isinstance(branch, dict):
            clauses = demands(branch)
            lines.append("- **Always**: " + ("; ".join(clauses) or "see below") + _described(branch))
            lines += branch_lines(ctx, branch, (*node_path, "allOf", index))
    for branch, branch_path in branches:
        for keyword, word in (("then", "When"), ("else", "Otherwise")):
            if keyword not in branch:
                continue
            body = branch[keyword]
            head = f"- **When** {condition_text(branch['if'])}" if keyword == "then" else f"- **{word}**"
            clauses = demands(body)
            text = head + (": " + "; ".join(clauses) if clauses else "") + _described(body)
            if ctx is not None:
                strict = [d for d in ctx.diffs if d.path == (*branch_path, keyword)]
                if strict:
                    text += " **Strict:** " + diff_changes(strict) + "."
            if isinstance(body, dict) and body.get("x-profile-note"):
                text += " *Profiles: " + prose(body["x-profile-note"]) + "*"
            lines.append(text)
            lines += branch_lines(ctx, body, (*branch_path, keyword))
    for keyword, word in (("anyOf", "one or more of"), ("oneOf", "exactly one of")):
        alternatives = node.get(keyword)
        if isinstance(alternatives, list) and ("properties" in node or _only_required(alternatives)):
            if _only_required(alternatives):
                choices = [" + ".join(code(str(n)) for n in a["required"]) for a in alternatives]
                lines.append(f"- **Requires {word}** " + ", ".join(choices))
            else:
                choices = ["; ".join(demands(a) + _prop_clauses(a)) for a in alternatives]
                lines.append(f"- **Must match {word}**: " + " **or** ".join(f"({c})" for c in choices))
    if isinstance(node.get("not"), dict) and node["not"] and "properties" in node:
        lines.append("- **Must not match**: " + "; ".join(demands(node["not"]) + _prop_clauses(node["not"])))
    return lines


def _described(node: Any) -> str:
    if isinstance(node, dict) and node.get("description"):
        return " — " + prose(node["description"])
    return ""


# ---------------------------------------------------------------------------------------------------------
# Format reference


@dataclass
class _FormatContext:
    format_id: str
    lenient: dict[str, Any]
    strict: dict[str, Any]
    diffs: list[ProfileDiff]


def _required_cell(
    ctx: _FormatContext, node_path: JSONPath, name: str, conditional: dict[str, list[str]]
) -> str:
    lenient = _get(ctx.lenient, (*node_path, "required"))
    strict = _get(ctx.strict, (*node_path, "required"))
    in_lenient = isinstance(lenient, list) and name in lenient
    in_strict = isinstance(strict, list) and name in strict
    if in_lenient and in_strict:
        text = "**required**"
    elif in_lenient:
        text = "**required** (lenient), optional (strict)"
    elif in_strict:
        text = "optional (lenient), **required (strict)**"
    else:
        text = "optional"
    if conditional.get(name):
        text += "<br>required " + merge_conditions(conditional[name])
    return text


def _conditional_requirements(node: dict[str, Any]) -> dict[str, list[str]]:
    """Property name → the conditions under which a branch requires it."""
    out: dict[str, list[str]] = {}
    branches = [node] if "if" in node else []
    all_of = node.get("allOf") if isinstance(node.get("allOf"), list) else []
    branches += [b for b in all_of or [] if isinstance(b, dict) and "if" in b]
    for branch in branches:
        then = branch.get("then")
        if isinstance(then, dict):
            for name in then.get("required", []) or []:
                out.setdefault(str(name), []).append(condition_text(branch["if"]))
    return out


def _examples_cell(node: Any) -> str:
    if not isinstance(node, dict) or not isinstance(node.get("examples"), list):
        return ""
    return "<br>".join(jcode(v, _EXAMPLE_CELL_CHARS) for v in node["examples"][:3])


def _property_rows(
    ctx: _FormatContext, node: dict[str, Any], node_path: JSONPath, prefix: str = "", depth: int = 0
) -> list[list[str]]:
    """One row per property: name, type, required, constraints (and strict changes), description, examples."""
    rows: list[list[str]] = []
    props = node.get("properties")
    if not isinstance(props, dict):
        return rows
    conditional = _conditional_requirements(node)
    for name, sub in props.items():
        path = (*node_path, "properties", name)
        label = code(prefix + name)
        required = _required_cell(ctx, node_path, name, conditional)
        if not isinstance(sub, dict):
            rows.append([label, "any", required, "", "", ""])
            continue
        cons = constraints(sub)
        own = [
            d for d in ctx.diffs if d.path[: len(path)] == path and "properties" not in d.path[len(path) :]
        ]
        if own:
            cons.append("**strict:** " + "; ".join(_nested_change(d, len(path)) for d in own))
        description = prose(sub.get("description", ""), cell=True)
        ref = ref_name(sub)
        if not description and ref:
            target = ctx.lenient.get("definitions", {}).get(ref, {})
            description = prose(target.get("description", ""), cell=True) if isinstance(target, dict) else ""
        if sub.get("x-profile-note"):
            description += "<br>**Profiles:** " + prose(sub["x-profile-note"], cell=True)
        inline = condition_lines(None, sub, path) if not isinstance(sub.get("properties"), dict) else []
        if inline:
            description += "<br>" + "<br>".join(
                prose_cell_line(line.strip().removeprefix("- ")) for line in inline
            )
        rows.append(
            [
                label,
                type_label(sub),
                required,
                prose_cell_line("<br>".join(cons)),
                description,
                _examples_cell(sub),
            ]
        )
        if depth < 4:
            rows.extend(_nested_rows(ctx, sub, path, prefix + name, depth))
    return rows


def _nested_change(diff: ProfileDiff, depth: int) -> str:
    inner = locate({}, diff.path[depth:]).names
    text = diff_change(diff)
    return f"{code(inner)} {text}" if inner else text


def prose_cell_line(markdown: str) -> str:
    """Already rendered Markdown put into a table cell: only ``|`` outside code spans is escaped."""
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(markdown):
        out.append(markdown[last : match.start()].replace("|", "\\|"))
        out.append(match.group(0))
        last = match.end()
    out.append(markdown[last:].replace("|", "\\|"))
    return "".join(out)


def _nested_rows(
    ctx: _FormatContext, sub: dict[str, Any], path: JSONPath, prefix: str, depth: int
) -> list[list[str]]:
    """Rows for inline objects under a property: ``a.b``, ``a[].b``, ``a.*.b``."""
    rows: list[list[str]] = []
    if isinstance(sub.get("properties"), dict):
        rows += _property_rows(ctx, sub, path, prefix + ".", depth + 1)
    items = sub.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        rows += _property_rows(ctx, items, (*path, "items"), prefix + "[].", depth + 1)
    values = sub.get("additionalProperties")
    if isinstance(values, dict) and isinstance(values.get("properties"), dict):
        rows += _property_rows(ctx, values, (*path, "additionalProperties"), prefix + ".*.", depth + 1)
    return rows


# Front matter of the reference pages: their tables need the width of the navigation column.
_WIDE = "---\nhide:\n  - navigation\n---"

_PROPERTY_HEADER = ("Property", "Type", "Required", "Constraints", "Description", "Examples")


def property_table(rows: list[list[str]]) -> str:
    """The property table; the constraints and examples columns only when some row fills them."""
    keep = [i for i in range(len(_PROPERTY_HEADER)) if i < 3 or i == 4 or any(r[i].strip() for r in rows)]
    return table([_PROPERTY_HEADER[i] for i in keep], [[r[i] for i in keep] for r in rows])


def _node_section(ctx: _FormatContext, node: dict[str, Any], node_path: JSONPath, used_by: list[str]) -> str:
    parts: list[str] = []
    if node.get("description"):
        parts.append(prose(node["description"]))
    facts = [f"**Type:** {type_label(node)}"]
    cons = constraints(node)
    if cons:
        facts.append("**Constraints:** " + "; ".join(cons))
    if used_by:
        links = [ref_link(n) if n != "(root)" else "[the document](#root)" for n in used_by]
        facts.append("**Used by:** " + ", ".join(links))
    parts.append("<br>\n".join(facts))
    if isinstance(node.get("properties"), dict) and node["properties"]:
        parts.append(property_table(_property_rows(ctx, node, node_path)))
    items = node.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict) and items["properties"]:
        parts.append(property_table(_property_rows(ctx, items, (*node_path, "items"), "[].")))
    conditions = condition_lines(ctx, node, node_path)
    if not node.get("properties"):
        for keyword in ("items", "additionalProperties"):
            sub = node.get(keyword)
            if isinstance(sub, dict) and not ref_name(sub) and "properties" not in sub:
                conditions += condition_lines(ctx, sub, (*node_path, keyword))
    if conditions:
        parts.append("**Conditions:**\n\n" + "\n".join(conditions))
    own_diffs = [d for d in ctx.diffs if d.path == node_path]
    if own_diffs or node.get("x-profile-note"):
        body = ("Strict " + diff_changes(own_diffs) + ". ") if own_diffs else ""
        body += prose(node["x-profile-note"]) if node.get("x-profile-note") else ""
        parts.append('!!! info "Profiles"\n\n' + _indent(body.strip()))
    examples = node.get("examples")
    if isinstance(examples, list) and examples:
        blocks = "\n\n".join(json_block(example, indent="    ") for example in examples)
        title = "Example" if len(examples) == 1 else f"Examples ({len(examples)})"
        parts.append(f'??? example "{title}"\n\n{blocks}')
    return "\n\n".join(parts)


def _used_by(schema: dict[str, Any]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    root = {k: v for k, v in schema.items() if k != "definitions"}
    for target in iter_refs(root):
        users.setdefault(target, [])
        if "(root)" not in users[target]:
            users[target].append("(root)")
    for name, definition in schema.get("definitions", {}).items():
        for target in iter_refs(definition):
            users.setdefault(target, [])
            if name not in users[target] and name != target:
                users[target].append(name)
    return users


def format_reference(format_id: str) -> str:
    """The reference page of one format: metadata, profiles, the document root, every definition, examples."""
    lenient = compiled_schema_view(format_id, "lenient")
    strict = compiled_schema_view(format_id, "strict")
    meta = format_metadata(format_id)
    ctx = _FormatContext(format_id, lenient, strict, profile_diffs(lenient, strict))
    title = str(meta.get("title", format_id))
    out: list[str] = [_WIDE, f"# {heading(title)}", prose(meta.get("description", ""))]

    facts = [
        ("Format id", code(format_id)),
        ("Vendor", prose(str(meta.get("vendor", "—")))),
        ("Schema title", prose(str(lenient.get("title", "")))),
    ]
    if meta.get("sdk"):
        facts.append(("SDK (strict profile)", prose(str(meta["sdk"]))))
    if meta.get("documentation"):
        facts.append(("Vendor documentation", ", ".join(f"<{d}>" for d in meta["documentation"])))
    if meta.get("notes"):
        facts.append(("Evidence", citation(str(meta["notes"]))))
    if meta.get("single_item"):
        item = code(str(meta["single_item"]))
        facts.append(("Also read alone", prose(f"one item (an object) as {item}, pointers into it")))
    if meta.get("envelope"):
        facts.append(
            ("Also read wrapped", prose(f"an object whose {code(str(meta['envelope']))} holds the document"))
        )
    schemas = ", ".join(f"[{p}](../schemas/{format_id}/{p}.json)" for p in PROFILES)
    facts.append(("Compiled schemas", f"{schemas} (or `labelspec schema {format_id} --profile PROFILE`)"))
    facts.append(
        (
            "See also",
            f"[rules](../rules/{format_id}.md), [discrepancy register](../discrepancies/{format_id}.md)",
        )
    )
    out.append("\n".join(f"- **{label}:** {value}" for label, value in facts))

    out.append("## Profiles {#profiles}")
    out.append(
        "The **lenient** profile (the default) accepts everything real producers are known to write; the "
        "**strict** profile accepts what the current vendor SDK loads with no silent loss. What strict "
        "changes in this format:"
    )
    if ctx.diffs:
        out.append(table(["Where", "Strict", "Why"], profile_rows(lenient, ctx.diffs)))
    else:
        out.append("*The two profiles of this format accept the same documents.*")

    out.append("## The document {#root}")
    out.append(
        f"![The document tree of {title}](../figures/tree-{format_id}.svg){{ .labelspec-figure }}\n\n"
        "*The tree of the lenient schema, drawn at build time; a definition used twice is expanded once.*"
    )
    if format_id == "segments":
        out.append(
            "![The Segments.ai bitmap id encoding](../figures/segments-bitmap-ids.svg){ .labelspec-figure }"
        )
    root = {k: v for k, v in lenient.items() if k != "definitions"}
    out.append(_node_section(ctx, root, (), []))

    users = _used_by(lenient)
    out.append("## Definitions {#definitions}")
    order = definition_order(lenient)
    out.append(
        f"{len(order)} definitions, in reading order from the document root: "
        + ", ".join(ref_link(n) for n in order)
        + "."
    )
    for name in order:
        node = lenient["definitions"][name]
        out.append(f"### {name} {{#{anchor(name)}}}")
        if isinstance(node, dict):
            out.append(_node_section(ctx, node, ("definitions", name), users.get(name, [])))
    out.append(documented_examples_section(format_id))
    return "\n\n".join(out) + "\n"


def _verdict_cell(example: DocumentedExample, profile: str, report: FileReport) -> str:
    expected = example.verdict.get(profile, "?")
    actual = "valid" if report.valid else "invalid"
    mark = "✅" if expected == actual else f"⚠️ labelspec says {actual}"
    return f"{expected} {mark}"


def documented_examples_section(format_id: str) -> str:
    examples = list(documented_examples(format_id))
    out = ["## Documented examples {#documented-examples}"]
    if not examples:
        out.append("*No documented examples are bundled for this format.*")
        return "\n\n".join(out)
    out.append(
        f"Every JSON example of the vendor documentation ({len(examples)}), kept in "
        f"`schemas/{format_id}/examples/` (repaired where the documentation's JSON does not parse) with the "
        "verdict expected per profile. ✅ means labelspec agrees at the time this site was built. Invalid "
        "verdicts cite the [discrepancies](../discrepancies/" + format_id + ".md) that explain them."
    )
    rows = []
    details = []
    for example in examples:
        reports = {profile: check_example(example, profile) for profile in PROFILES}
        target = ref_link(example.definition) if example.definition else "[the document](#root)"
        cites = ", ".join(
            f"[{d}](../discrepancies/{format_id}.md#{anchor(d)})" for d in example.discrepancies
        )
        rows.append(
            [
                f"[{code(example.file)}](#{anchor('example-' + example.file)})",
                target,
                prose(example.source, cell=True),
                prose(example.repaired, cell=True) if example.repaired else "—",
                *[_verdict_cell(example, p, reports[p]) for p in PROFILES],
                cites,
            ]
        )
        details.append(_example_detail(example, reports))
    out.append(table(["Example", "Validated as", "Source", "Repaired", *PROFILES, "Explained by"], rows))
    out.extend(details)
    return "\n\n".join(out)


def _example_detail(example: DocumentedExample, reports: dict[str, FileReport]) -> str:
    lines = [f"#### {example.file} {{#{anchor('example-' + example.file)}}}"]
    try:
        text = example.path.read_text(encoding="utf-8")
    except OSError as exc:
        text = f"(unreadable: {exc})"
    output = []
    for profile, report in reports.items():
        output.append(f"--profile {profile}: {'valid' if report.valid else 'INVALID'}")
        output += [f"  {f.pointer or '/'}  {f.severity}  {f.rule}  {f.message}" for f in report.findings]
    lines.append(f'??? example "{example.file}"\n\n' + json_block(text.strip(), indent="    "))
    lines.append('??? note "Findings per profile"\n\n' + text_block("\n".join(output), indent="    "))
    return "\n\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Rule catalogue


def _rule_entry(format_id: str, rule_id: str) -> dict[str, Any]:
    for entry in load_format_yaml(format_id, "rules.yaml") or []:
        if isinstance(entry, dict) and entry.get("id") == rule_id:
            return entry
    return {}


def printed_lines(spec: RuleSpec, format_id: str, profile: str) -> list[str]:
    """The lines ``labelspec validate`` prints for the rule's failing example (only this rule's lines)."""
    document: Any = spec.example
    if isinstance(document, str):
        document = document.encode("utf-8")  # raw JSON text (e.g. duplicate keys cannot be parsed data)
    entry = _rule_entry(format_id, spec.id)
    ontology = entry.get("example_ontology")
    report = validate(document, format=format_id, profile=profile, ontology=ontology)
    target = report.files[-1]
    found = spec.schema_finding
    hits = [f for f in target.findings if (found.matches(f) if found else f.rule == spec.id)]
    if not hits:
        return []
    only = FileReport(path=target.path, format=target.format, profile=profile, findings=hits)
    stream = io.StringIO()
    write_text(Report(files=[only]), stream)
    lines = stream.getvalue().splitlines()
    return lines[1:-1]  # without the file header and the totals line


def rule_catalogue(format_id: str) -> str:
    """The rule catalogue page of one format."""
    meta = format_metadata(format_id)
    specs = all_rules(format_id)
    out = [f"# Rules: {meta.get('title', format_id)}"]
    out.append(
        "Semantic rules check what JSON Schema cannot express (references across the document, decoded "
        "masks, ranges). Each has a stable id, a severity per profile, and a failing example; the output "
        f"shown is what `labelspec validate --format {format_id}` prints for that example, produced when "
        f"this site was built. Structural findings (`schema.<keyword>`) come from the "
        f"[format reference](../formats/{format_id}.md)."
    )
    if not specs:
        out.append("*No rules are catalogued for this format yet.*")
        return "\n\n".join(out) + "\n"
    rows = [
        [
            f"[{code(s.id)}](#{anchor(s.id)})",
            prose(s.title, cell=True),
            *[s.severity.get(p, "—") for p in PROFILES],
        ]
        for s in specs
    ]
    out.append(table(["Rule", "Title", *PROFILES], rows))
    for spec in specs:
        out.append(_rule_section(spec, format_id))
    structural = schema_entries(format_id)
    if structural:
        out.append(_structural_intro(format_id, structural))
        out.extend(_rule_section(spec, format_id) for spec in structural)
    return "\n\n".join(out) + "\n"


def _fix_paragraph(fix: FixSpec) -> str:
    flag = "" if fix.safety == "safe" else " --unsafe-fixes"
    text = f"**Fix ({fix.safety}):** {prose(fix.title)}."
    if fix.rationale:
        text += " " + prose(fix.rationale)
    return text + f" `labelspec fix EXPORT --rule {fix.id}{flag} -o FIXED`"


def _structural_intro(format_id: str, specs: tuple[RuleSpec, ...]) -> str:
    """The catalogue's entries for structural findings that have a fix (``schema_finding:``)."""
    rows = [
        [f"[{code(s.id)}](#{anchor(s.id)})", prose(s.title, cell=True),
         code(s.schema_finding.rule) if s.schema_finding else "", *[s.severity.get(p, "—") for p in PROFILES]]
        for s in specs
    ]  # fmt: skip
    intro = (
        "The schema reports these findings (as `schema.<keyword>`); the catalogue names them "
        f"(`schema_finding:` in `schemas/{format_id}/rules.yaml`) so that `labelspec fix` can repair them "
        "and `labelspec rules ID` can explain them. Safe fixes are applied by default, unsafe ones with "
        "`--unsafe-fixes`."
    )
    header = ["Entry", "Title", "Reported as", *PROFILES]
    return f"## Structural findings with a fix\n\n{intro}\n\n" + table(header, rows)


def _rule_section(spec: RuleSpec, format_id: str) -> str:
    parts = [f"## {spec.id} {{#{anchor(spec.id)}}}", f"**{prose(spec.title)}**"]
    severity = ", ".join(f"{p}: **{spec.severity.get(p, '—')}**" for p in PROFILES)
    facts = [f"**Severity:** {severity}"]
    if spec.schema_finding is not None:
        found = spec.schema_finding
        where = (f", pointer matching {code(found.pointer)}" if found.pointer else "") + (
            f", message containing {code(found.message)}" if found.message else ""
        )
        facts.append(f"**Reported by the schema as:** {code(found.rule)}{where}")
    if spec.format != format_id:
        facts.append(f"**Applies to:** every JSON format (rule family `{spec.format}`)")
    if spec.needs:
        facts.append("**Needs:** " + ", ".join(code("--" + n.replace("_", "-")) for n in spec.needs))
    parts.append("<br>\n".join(facts))
    if spec.rationale:
        parts.append(prose(spec.rationale))
    parts.extend(_fix_paragraph(fix) for fix in fixes_for_rule(format_id, spec.id))
    entry = _rule_entry(format_id, spec.id)
    ontology = entry.get("example_ontology")
    if spec.example is not None:
        command = f"labelspec validate example.json --format {format_id}"
        if ontology is not None:
            command += " --ontology ontology.json"
        outputs: dict[str, list[str]] = {}
        for profile in PROFILES:
            try:
                outputs[profile] = printed_lines(spec, format_id, profile)
            except Exception as exc:  # a defect in a rule must not hide the rest of the catalogue
                outputs[profile] = [f"(could not run the example: {type(exc).__name__}: {exc})"]
        for profile, lines in outputs.items():
            if lines:
                parts.append(f"`{command} --profile {profile}` prints:\n\n" + text_block("\n".join(lines)))
            elif "png_dir" in spec.needs:
                parts.append(
                    "*This rule reads the panoptic PNGs (`--png-dir`), which are not part of the catalogue, "
                    f"so the lines it prints are not reproduced here (`--profile {profile}`).*"
                )
            else:
                reason = " (it needs " + ", ".join(spec.needs) + ")" if spec.needs else ""
                parts.append(
                    f"*With `--profile {profile}` this example raises no {code(spec.id)} finding{reason}.*"
                )
        target = f" (a `{spec.example_definition}` snippet)" if spec.example_definition else ""
        parts.append(
            f'??? failure "Failing example{target}: example.json"\n\n'
            + json_block(spec.example, indent="    ")
        )
    if ontology is not None:
        parts.append(
            '??? abstract "The ontology it refers to: ontology.json"\n\n'
            + json_block(ontology, indent="    ")
        )
    if spec.passing_example is not None:
        parts.append('??? success "Passing example"\n\n' + json_block(spec.passing_example, indent="    "))
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Discrepancy register


def discrepancies(format_id: str) -> list[dict[str, Any]]:
    entries = load_format_yaml(format_id, "discrepancies.yaml") or []
    return [e for e in entries if isinstance(e, dict) and e.get("id")]


def discrepancy_register(format_id: str) -> str:
    """The discrepancy register of one format: docs vs platform vs SDK vs labelspec, per entry."""
    meta = format_metadata(format_id)
    entries = discrepancies(format_id)
    out = [f"# Discrepancies: {meta.get('title', format_id)}"]
    out.append(
        "Where the vendor documentation, what the platform really writes and what the vendor SDK accepts "
        "disagree, and what labelspec does about it (per profile). Source: "
        f"`schemas/{format_id}/discrepancies.yaml`."
    )
    if not entries:
        out.append("*No discrepancies are registered for this format.*")
        return "\n\n".join([*out, error_audit(format_id)]) + "\n"
    cited: dict[str, list[str]] = {}
    for example in documented_examples(format_id):
        for entry_id in example.discrepancies:
            cited.setdefault(entry_id, []).append(example.file)
    out.append(
        table(
            ["Id", "Title"],
            [
                [f"[{code(str(e['id']))}](#{anchor(str(e['id']))})", prose(e.get("title", ""), cell=True)]
                for e in entries
            ],
        )
    )
    labels = (
        ("docs", "The documentation says"),
        ("platform", "The platform writes"),
        ("sdk", "The SDK accepts"),
        ("labelspec", "labelspec does"),
    )
    for entry in entries:
        entry_id = str(entry["id"])
        out.append(f"## {entry_id}: {heading(entry.get('title', ''))} {{#{anchor(entry_id)}}}")
        rows = [[f"**{label}**", prose(str(entry.get(key) or "—"), cell=True)] for key, label in labels]
        sources = entry.get("sources") or []
        if sources:
            rows.append(["**Sources**", "; ".join(citation(str(s)) for s in sources)])
        examples = cited.get(entry_id, [])
        if examples:
            links = ", ".join(
                f"[{code(f)}](../formats/{format_id}.md#{anchor('example-' + f)})" for f in examples
            )
            rows.append(["**Documented examples**", links])
        out.append(table(["Source", "What it says or does"], rows))
    out.append(error_audit(format_id))
    return "\n\n".join(out) + "\n"


def error_audit(format_id: str) -> str:
    """The audit of every error: constraint → why lenient rejects it, and the SDK code strict protects."""
    out = [
        "## Audit of errors {#audit}",
        "Every check that can make a document invalid, and why. Under **lenient**, a constraint is an error "
        "only when no real producer writes what it rejects; under **strict**, only when the current vendor "
        "SDK (or, for COCO and YOLO, the reference tools) fails on it or silently loses data. Sources: the "
        f"`audit:` fields of `schemas/{format_id}/rules.yaml` and `schemas/{format_id}/audit.yaml`. A "
        "structural constraint is named `<where> <keyword>`: `$` is the document root, other names are "
        "definitions of the [format reference](../formats/" + format_id + ".md), `.key` a property, `[]` "
        "the items of an array, `/allOf/N/then` a conditional branch.",
    ]
    for profile, header in (("lenient", "Why no real producer writes it"), ("strict", "SDK code that fails")):
        out.append(f"### {profile.capitalize()} errors {{#audit-{profile}}}")
        rows = [
            [
                f"[{code(a.subject)}](../rules/{format_id}.md#{anchor(a.subject)})",
                prose(a.demand, cell=True),
                prose(a.reason or "—", cell=True),
            ]
            for a in audit.semantic(format_id, profile)
        ]
        rows += [
            [code(a.subject), code(a.demand), prose(a.reason or "—", cell=True)]
            for a in audit.structural(format_id, profile)
        ]
        out.append(table(["Constraint", "Demands", header], rows))
    warned = audit.warning_sites(format_id)
    if warned:
        out.append("### Warnings only {#audit-warnings}")
        out.append(
            "These parts of the schema (and everything under them) are checked, but a mismatch is a warning "
            "in both profiles (`x-severity: warning`): the vendor SDK does not read the key, or keeps it "
            "without any check, so nothing is lost."
        )
        checks = audit.warning_checks(format_id)
        rows = [
            [code(w), "<br>".join(code(c) for c in checks.get(w, ())) or "—", prose(n, cell=True)]
            for w, n in warned
        ]
        out.append(table(["Schema node", "Checked (a warning)", "Why only a warning"], rows))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------------------------------------
# CLI reference


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    out: list[tuple[str, str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out.append((name, helps.get(name, ""), sub))
    return out


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = _WideHelp
    return parser.format_help()


class _WideHelp(argparse.HelpFormatter):
    """A fixed width, so the page does not depend on the terminal the build ran in."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=100, max_help_position=32)


def cli_reference() -> str:
    """The CLI reference page, from ``labelspec.cli.build_parser()``."""
    from labelspec.cli import build_parser

    parser = build_parser()
    commands = _subcommands(parser)
    out = [
        "# Command line",
        "The help of `labelspec` and of every command, as the installed version prints it "
        "(generated from the parser when this site was built).",
    ]
    out.append(
        "Exit codes, for every command: **0** every document valid, **1** some document invalid, **2** some "
        "input unreadable or bad usage (`diff`: **0** equal, **1** different, **2** bad input)."
    )
    out.append(
        table(
            ["Command", "What it does"],
            [[f"[{code('labelspec ' + n)}](#{anchor(n)})", prose(h, cell=True)] for n, h, _ in commands],
        )
    )
    out.append("## labelspec {#labelspec}\n\n" + text_block(_help(parser)))
    for name, _help_text, sub in commands:
        out.append(f"## labelspec {name} {{#{anchor(name)}}}\n\n" + text_block(_help(sub)))
    return "\n\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Index pages, benchmarks, the whole site


def formats_index() -> str:
    rows = []
    for fmt in list_formats():
        meta = format_metadata(fmt)
        schema = compiled_schema_view(fmt, "lenient")
        rows.append(
            [
                f"[{prose(str(meta.get('title', fmt)), cell=True)}]({fmt}.md)",
                code(fmt),
                prose(str(meta.get("vendor", "")), cell=True),
                str(len(schema.get("definitions", {}))),
                str(sum(1 for _ in documented_examples(fmt))),
                f"[{len([s for s in all_rules(fmt) if s.format == fmt])}](../rules/{fmt}.md)",
                f"[{len(discrepancies(fmt))}](../discrepancies/{fmt}.md)",
            ]
        )
    header = ["Format", "Id", "Vendor", "Definitions", "Documented examples", "Rules", "Discrepancies"]
    return (
        "# Formats\n\nOne reference per format, generated from its schema in `schemas/<format>/` when "
        "this site was built: every property with its type, whether it is required in each profile, its "
        "constraints, description and examples, and the vendor documentation's examples with their "
        "verdicts.\n\n" + table(header, rows) + "\n"
    )


def rules_index() -> str:
    rows = []
    for fmt in list_formats():
        own = [s for s in all_rules(fmt) if s.format == fmt]
        ids = ", ".join(f"[{code(s.id)}]({fmt}.md#{anchor(s.id)})" for s in own) or "—"
        rows.append([f"[{code(fmt)}]({fmt}.md)", str(len(own)), ids])
    generic = (
        [s for s in all_rules(list_formats()[0]) if s.format != list_formats()[0]] if list_formats() else []
    )
    text = (
        "# Rules\n\nThe semantic rules of every format: the checks a JSON Schema cannot express. Each page "
        "shows every rule with its id, severity per profile, rationale, a failing example and the exact "
        "lines labelspec prints for it.\n\n" + table(["Format", "Rules", "Ids"], rows) + "\n"
    )
    if generic:
        text += (
            "\nRules that apply to every JSON format (listed on each format's page): "
            + ", ".join(code(s.id) for s in generic)
            + ".\n"
        )
    return text


def discrepancies_index() -> str:
    rows = []
    for fmt in list_formats():
        entries = discrepancies(fmt)
        rows.append(
            [
                f"[{code(fmt)}]({fmt}.md)",
                str(len(entries)),
                prose(str(format_metadata(fmt).get("vendor", "")), cell=True),
            ]
        )
    return (
        "# Discrepancy registers\n\nFor each vendor format there is what the documentation says, what the "
        "platform actually writes, and what the vendor's own SDK accepts. They disagree; the spec follows "
        "real behaviour and records every contradiction here.\n\n"
        + table(["Format", "Entries", "Vendor"], rows)
        + "\n"
    )


def benchmarks_page(repo_root: Path | None) -> str:
    """``benchmarks/RESULTS.md`` as a page, or a page saying there are no results yet."""
    results = repo_root / "benchmarks" / "RESULTS.md" if repo_root else None
    head = "# Benchmarks\n\n"
    if results is not None and results.is_file():
        text = results.read_text(encoding="utf-8")
        # The results file brings its own title; the page keeps ours.
        lines = text.splitlines()
        if lines and lines[0].startswith("# "):
            lines = lines[1:]
        return (
            head
            + "*From `benchmarks/RESULTS.md`, included when this site was built.*\n\n"
            + "\n".join(lines).strip()
            + "\n"
        )
    return head + (
        "No benchmark results yet: `benchmarks/RESULTS.md` did not exist when this site was built. When the "
        "benchmarks have been run, this page shows their results as written there.\n"
    )


def compiled_schemas() -> dict[str, str]:
    """The compiled schema of every format and profile, published next to the pages."""
    return {
        f"schemas/{fmt}/{profile}.json": json.dumps(
            compiled_schema_view(fmt, profile), indent=2, ensure_ascii=False
        )
        + "\n"
        for fmt in list_formats()
        for profile in PROFILES
    }


_NOTES_CITATION = re.compile(r"schemas/([\w-]+)/notes\.md((?:#[\w-]+)?)((?:(?:,| to| and) #[\w-]+)*)")
_URL_CITATION = re.compile(r"https://[^\s\"'`)]+")


def evidence_vendors() -> list[str]:
    """The schema folders whose ``notes.md`` holds the evidence behind rules and discrepancies."""
    from labelspec.validator.compiler import schemas_root

    return sorted(p.parent.name for p in schemas_root().glob("*/notes.md"))


def evidence_pages() -> dict[str, str]:
    """``schemas/<vendor>/notes.md`` as ``evidence/<vendor>.md``: every citation opens on the site."""
    from labelspec.validator.compiler import schemas_root

    vendors = evidence_vendors()
    index = [
        "# Evidence",
        "What each rule and each discrepancy rests on, in the project's own words: what the platforms "
        "write, what the vendor SDKs read, where the vendor documentation differs. Rules and discrepancy "
        "registers cite these sections (`schemas/<vendor>/notes.md#anchor` in the repository).",
        "\n".join(f"- [{v}]({v}.md)" for v in vendors),
    ]
    pages = {"evidence/index.md": "\n\n".join(index) + "\n"}
    for vendor in vendors:
        pages[f"evidence/{vendor}.md"] = (schemas_root() / vendor / "notes.md").read_text(encoding="utf-8")
    return pages


def citation(text: str, depth: int = 1) -> str:
    """A source as Markdown: URLs become links, ``schemas/<v>/notes.md#a`` links to the evidence page."""
    up = "../" * depth
    parts: list[str] = []
    last = 0
    for match in re.finditer(f"{_URL_CITATION.pattern}|{_NOTES_CITATION.pattern}", text):
        parts.append(prose(text[last : match.start()], cell=True))
        found = match.group(0)
        notes = _NOTES_CITATION.fullmatch(found)
        if notes:
            page = f"{up}evidence/{notes.group(1)}.md"
            first = found[: len(found) - len(notes.group(3))]
            parts.append(f"[{code(first)}]({page}{notes.group(2)})")
            for sep, more in re.findall(r"(,| to| and) (#[\w-]+)", notes.group(3)):
                parts.append(f"{sep} [{code(more)}]({page}{more})")
        else:
            parts.append(f"<{found}>")
        last = match.end()
    parts.append(prose(text[last:], cell=True))
    return "".join(parts)


def site_pages(repo_root: Path | None = None) -> dict[str, str]:
    """Every generated page: path relative to ``docs/`` → Markdown."""
    pages: dict[str, str] = {
        "formats/index.md": formats_index(),
        "rules/index.md": rules_index(),
        "discrepancies/index.md": discrepancies_index(),
    }
    for fmt in list_formats():
        pages[f"formats/{fmt}.md"] = format_reference(fmt)
        pages[f"rules/{fmt}.md"] = rule_catalogue(fmt)
        pages[f"discrepancies/{fmt}.md"] = discrepancy_register(fmt)
    pages.update(evidence_pages())
    pages["cli.md"] = cli_reference()
    pages["benchmarks.md"] = benchmarks_page(repo_root)
    return pages


# The bundled examples the demo report of the site is made of (whole documents, labels of every kind).
DEMO_EXAMPLES = (
    ("coco-instance", "detection-polygons.json"),
    ("coco-instance", "crowd-uncompressed-rle.json"),
    ("coco-instance", "keypoints.json"),
    ("coco-panoptic", "panoptic.json"),
)


def demo_report() -> str:
    """``labelspec report`` of bundled examples, as the site publishes it (``demo/report.html``).

    The examples name no media that exist, so every picture is the placeholder saying why, with the labels
    drawn on it; nothing is fetched.
    """
    from labelspec.inspect.report import collect, render
    from labelspec.inspect.source import Options
    from labelspec.validator.compiler import schemas_root

    options = Options(offline=True)
    paths = [str(schemas_root() / fmt / "examples" / name) for fmt, name in DEMO_EXAMPLES]
    reports = collect(paths, options, 24, 0, "lenient")
    for entry in reports:  # the site shows names relative to the repository, not the build machine's paths
        entry.name = "schemas/" + entry.name.split("/schemas/", 1)[-1]
    return render(reports, options, samples=24, seed=0)


def nav_sections() -> dict[str, list[dict[str, str] | str]]:
    """The nav entries of the generated sections, keyed by the section's index page."""
    sections: dict[str, list[dict[str, str] | str]] = {}
    for folder in ("formats", "rules", "discrepancies"):
        entries: list[dict[str, str] | str] = [f"{folder}/index.md"]
        for fmt in list_formats():
            entries.append({str(format_metadata(fmt).get("title", fmt)): f"{folder}/{fmt}.md"})
        sections[f"{folder}/index.md"] = entries
    sections["evidence/index.md"] = [
        "evidence/index.md",
        *({vendor: f"evidence/{vendor}.md"} for vendor in evidence_vendors()),
    ]
    return sections
