"""Structural validation: the compiled JSON Schema applied to a document, as located findings.

Every error is reported (not just the first), each with an RFC 6901 pointer and a message that says
what the schema demands at that place. Errors raised inside ``then`` of an ``if``/``then`` pair (how
our schemas express discriminated unions) say which discriminator value made the demand, e.g.
``required property "h" is missing (when shape is "bounding_box")``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # python-jsonschema is imported when a document is rejected (it costs start-up time)
    import jsonschema
    from jsonschema.exceptions import ValidationError

from labelspec.validator.compiler import compiled_schema_view, definition_schema
from labelspec.validator.report import Finding, pointer_sort_key, to_pointer

_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def _schema_for(format_id: str, profile: str, definition: str | None) -> dict[str, Any]:
    if definition:
        return definition_schema(format_id, definition, profile)
    return compiled_schema_view(format_id, profile)


@functools.cache
def _validator(format_id: str, profile: str, definition: str | None) -> jsonschema.Draft7Validator:
    import jsonschema

    return jsonschema.Draft7Validator(_schema_for(format_id, profile, definition))


@functools.cache
def _item_validators(
    format_id: str, profile: str
) -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator, FastCheck] | None:
    """For a root ``type: array`` with one ``items`` schema: (shallow root, item) reference validators and
    the fast checker of the item schema, so an invalid list is re-checked item by item."""
    import jsonschema

    root = compiled_schema_view(format_id, profile)
    items = root.get("items")
    if not isinstance(items, dict):
        return None
    item_schema = {**items, "definitions": root.get("definitions", {}), "$schema": root.get("$schema")}
    fast = _compile_fast(item_schema)
    if fast is None:
        return None
    shallow = {key: value for key, value in root.items() if key not in ("items", "additionalItems")}
    return jsonschema.Draft7Validator(shallow), jsonschema.Draft7Validator(item_schema), fast


FastCheck = Callable[[Any], bool]


def _compile_fast(schema: dict[str, Any]) -> FastCheck | None:
    """A compiled (Rust) validity check, or None when jsonschema-rs is missing or cannot compile it."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a dependency; the reference path still works without it
        return None
    try:
        check: FastCheck = jsonschema_rs.Draft7Validator(schema).is_valid
    except Exception:
        return None
    return check


@functools.cache
def _fast_checker(format_id: str, profile: str, definition: str | None) -> FastCheck | None:
    return _compile_fast(_schema_for(format_id, profile, definition))


def _is_valid_fast(check: FastCheck | None, document: Any) -> bool:
    if check is None:
        return False
    try:
        return check(document)
    except Exception:
        return False


def structural_findings(
    document: Any,
    format_id: str,
    profile: str,
    definition: str | None = None,
    reference: bool = False,
) -> list[Finding]:
    """All schema violations of ``document``, sorted by pointer then rule.

    The fast path asks a compiled validator (jsonschema-rs) whether the document, or each item of a
    list-shaped export, is valid; only what it rejects goes through the reference validator
    (python-jsonschema), which writes the findings. So findings are those of the reference path by
    construction, and valid documents cost a fraction of a parse. ``reference=True`` skips the fast path.
    """
    if not reference:
        if _is_valid_fast(_fast_checker(format_id, profile, definition), document):
            return []
        split = _item_validators(format_id, profile) if definition is None else None
        if split is not None and isinstance(document, list):
            shallow, item_validator, item_fast = split
            findings = _reference_findings(shallow, document)
            for index, item in enumerate(document):
                if not _is_valid_fast(item_fast, item):
                    findings.extend(_prefixed(f, index) for f in _reference_findings(item_validator, item))
            return _ordered(findings)
        return _ordered(_reference_findings(_pruned_validator(format_id, profile, definition), document))
    return _ordered(_reference_findings(_validator(format_id, profile, definition), document))


@functools.cache
def _pruned_validator(format_id: str, profile: str, definition: str | None) -> jsonschema.Draft7Validator:
    """python-jsonschema that skips every value the compiled validator finds valid where it is descended
    into (a subschema applied to a part of the document): such a descent yields no error, so the errors
    are the reference validator's, at the cost of the faulty parts only. A COCO annotation whose area is
    negative is then checked for its area, not for each of its polygon's numbers (the reference walk costs
    about 2 ms per annotation)."""
    import jsonschema

    schema = _schema_for(format_id, profile, definition)
    gate = _Gate(schema)
    pruned = jsonschema.validators.extend(jsonschema.Draft7Validator)
    descend = pruned.descend

    def pruned_descend(
        self: Any,
        instance: Any,
        schema: Any,
        path: Any = None,
        schema_path: Any = None,
        resolver: Any = None,
    ) -> Any:
        if gate.valid(schema, instance):
            return ()
        return descend(self, instance, schema, path, schema_path, resolver)

    pruned.descend = pruned_descend  # the one method every keyword descends through (no subclass: see extend)
    validator: jsonschema.Draft7Validator = pruned(schema)
    return validator


class _Gate:
    """Compiled validity checks of the subschemas of one root schema, each compiled on first use."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.checks: dict[int, tuple[Any, FastCheck | None]] = {}

    def valid(self, schema: Any, instance: Any) -> bool:
        """Whether ``instance`` certainly satisfies ``schema`` (a node of the root schema)."""
        if not isinstance(schema, dict):
            return False
        entry = self.checks.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, self._compile(schema))
            self.checks[id(schema)] = entry
        return _is_valid_fast(entry[1], instance)

    def _compile(self, schema: dict[str, Any]) -> FastCheck | None:
        if not _local_references(schema):
            return None
        wrapper = {
            "$schema": self.root.get("$schema"),
            "definitions": self.root.get("definitions", {}),
            "allOf": [schema],
        }
        return _compile_fast(wrapper)


def _local_references(node: Any) -> bool:
    """Whether every ``$ref`` under ``node`` points into the root's definitions and no ``$id`` moves the
    base (then the subschema means the same beside the definitions alone)."""
    if isinstance(node, dict):
        if "$id" in node or not str(node.get("$ref", "#/definitions/")).startswith("#/definitions/"):
            return False
        return all(_local_references(value) for value in node.values())
    if isinstance(node, list):
        return all(_local_references(value) for value in node)
    return True


def _reference_findings(validator: jsonschema.Draft7Validator, document: Any) -> list[Finding]:
    findings: list[Finding] = []
    for error in validator.iter_errors(document):
        note = _along_path(_warning_note, validator.schema, error)
        for finding in _findings_for(error, validator.schema):
            if note is not None:  # a constraint on a key the vendor SDK does not read: a warning
                finding = Finding(
                    finding.rule, "warning", finding.pointer, f"{finding.message} ({note})", finding.hint
                )
            findings.append(finding)
    return findings


_PathWalk = Callable[[Any, Sequence[str | int]], str | None]
_WALKS: dict[tuple[_PathWalk, int, tuple[str | int, ...]], tuple[Any, str | None]] = {}


def _along_path(walk: _PathWalk, root: Any, error: ValidationError) -> str | None:
    """``walk(root, error's schema path)``, remembered: a faulty export repeats a few schema paths (one per
    kind of fault) over all its items, and the walk through the schema costs more than the rest of a
    finding."""
    path = tuple(error.absolute_schema_path)
    key = (walk, id(root), path)
    known = _WALKS.get(key)
    if known is None or known[0] is not root:
        known = (root, walk(root, list(path)))
        _WALKS[key] = known
    return known[1]


def _warning_note(root: Any, schema_path: Sequence[str | int]) -> str | None:
    """The ``x-severity-note`` of the outermost node marked ``x-severity: warning`` on the error's schema
    path, or None when every node on it makes the error an error."""
    node: Any = root
    for key in [*schema_path, None]:
        while isinstance(node, dict) and key not in node and "$ref" in node:
            if node.get("x-severity") == "warning":
                break
            node = _deref(root, node["$ref"])
        if isinstance(node, dict) and node.get("x-severity") == "warning":
            return str(node.get("x-severity-note") or "a warning: not read by the vendor SDK")
        if key is None:
            return None
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return None


def _prefixed(finding: Finding, index: int) -> Finding:
    pointer = f"/{index}{finding.pointer}"
    return Finding(finding.rule, finding.severity, pointer, finding.message, finding.hint)


def _ordered(findings: list[Finding]) -> list[Finding]:
    findings.sort(key=lambda f: (pointer_sort_key(f.pointer), f.rule, f.message))
    return _dedupe(findings)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.rule, finding.pointer, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _findings_for(error: ValidationError, root: Any) -> Iterator[Finding]:
    keyword = str(error.validator)
    path = list(error.absolute_path)
    when = _along_path(_condition_text, root, error)
    suffix = f" (when {when})" if when else ""

    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        patterns = error.schema.get("patternProperties") or {}
        for key in error.instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            listing = f"; allowed: {_quote_list(allowed)}" if allowed else ""
            yield Finding(
                rule="schema.additionalProperties",
                severity="error",
                pointer=to_pointer([*path, key]),
                message=f"unexpected property {_q(key)}{listing}{suffix}",
            )
        return

    if keyword == "oneOf" and not error.context:
        yield Finding(
            rule="schema.oneOf",
            severity="error",
            pointer=to_pointer(path),
            message=f"the value fits more than one of the alternatives, but must fit exactly one{suffix}",
        )
        return

    if keyword in ("oneOf", "anyOf") and error.context:
        yield from _findings_for_alternatives(error, root, path, suffix)
        return

    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        yield Finding(
            rule="schema.propertyNames",
            severity="error",
            pointer=to_pointer([*path, error.instance]),
            message=f"property name {_q(error.instance)} is not allowed: "
            f"{_message(error).removeprefix('not allowed here: ')}{suffix}",
        )
        return

    yield Finding(
        rule=f"schema.{keyword}",
        severity="error",
        pointer=to_pointer(path),
        message=_message(error) + suffix,
    )


def _findings_for_alternatives(
    error: ValidationError, root: Any, path: list[str | int], suffix: str
) -> Iterator[Finding]:
    context = list(error.context or [])
    keyword = str(error.validator)
    # All alternatives failed on the type of the value itself: one clear "expected A or B" message.
    direct = [e for e in context if not e.relative_path]
    if direct and all(e.validator == "type" for e in direct) and len(direct) == len(error.validator_value):
        expected: list[str] = []
        for sub in direct:
            value = sub.validator_value
            for name in value if isinstance(value, list) else [value]:
                if name not in expected:
                    expected.append(str(name))
        yield Finding(
            rule=f"schema.{keyword}",
            severity="error",
            pointer=to_pointer(path),
            message=f"expected {_or_list(expected)}, found {_describe(error.instance)}{suffix}",
        )
        return
    # Every alternative only lacks a property: the value must carry one of them.
    if direct and all(e.validator == "required" for e in direct) and len(direct) == len(context):
        names: list[str] = []
        for sub in direct:
            names.extend(n for n in sub.validator_value if n not in names)
        yield Finding(
            rule=f"schema.{keyword}",
            severity="error",
            pointer=to_pointer(path),
            message=f"expected one of the properties {_quote_list(names)}{suffix}",
        )
        return
    from jsonschema.exceptions import best_match

    closest = best_match(context)
    for finding in _findings_for(closest, root):
        yield Finding(
            rule=finding.rule,
            severity=finding.severity,
            pointer=finding.pointer,
            message=f"{finding.message} (no alternative of {keyword} matched; this is the closest)",
        )


def _condition_text(root: Any, schema_path: Sequence[str | int]) -> str | None:
    """Describe the innermost ``if`` whose ``then`` raised the error: ``shape is "bounding_box"``."""
    node: Any = root
    condition: str | None = None
    for key in schema_path:
        # Errors under a $ref continue inside the referenced schema without naming "$ref".
        while isinstance(node, dict) and key not in node and "$ref" in node:
            node = _deref(root, node["$ref"])
        if key == "then" and isinstance(node, dict):
            condition = _describe_if(node.get("if")) or condition
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return condition
    return condition


def _deref(root: Any, ref: str) -> Any:
    node = root
    for token in ref.lstrip("#").split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node.get(token) if isinstance(node, dict) else None
    return node


def _describe_if(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    parts: list[str] = []
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        if "const" in sub:
            parts.append(f"{name} is {_q(sub['const'])}")
        elif "enum" in sub:
            parts.append(f"{name} is one of {_quote_list(sub['enum'])}")
    return " and ".join(parts) or None


def _message(error: ValidationError) -> str:
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    if keyword == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        if len(missing) == 1:
            return f"required property {_q(missing[0])} is missing"
        return f"required properties {_quote_list(missing)} are missing"
    if keyword == "type":
        expected = value if isinstance(value, list) else [value]
        return f"expected {_or_list([str(t) for t in expected])}, found {_describe(instance)}"
    if keyword == "enum":
        return f"expected one of {_quote_list(value, limit=12)}; found {_short(instance)}"
    if keyword == "const":
        return f"expected {_short(value)}; found {_short(instance)}"
    if keyword == "pattern":
        return _pattern_message(error)
    if keyword == "minItems":
        return f"expected at least {value} item{'s' if value != 1 else ''}, found {len(instance)}"
    if keyword == "maxItems":
        return f"expected at most {value} item{'s' if value != 1 else ''}, found {len(instance)}"
    if keyword == "minLength":
        return f"expected a string of at least {value} character{'s' if value != 1 else ''}"
    if keyword == "maxLength":
        return f"expected a string of at most {value} characters, found {len(instance)}"
    if keyword == "minimum":
        return f"expected a number >= {value}, found {_short(instance)}"
    if keyword == "maximum":
        return f"expected a number <= {value}, found {_short(instance)}"
    if keyword == "exclusiveMinimum":
        return f"expected a number > {value}, found {_short(instance)}"
    if keyword == "exclusiveMaximum":
        return f"expected a number < {value}, found {_short(instance)}"
    if keyword == "multipleOf":
        return f"expected a multiple of {value}, found {_short(instance)}"
    if keyword == "minProperties":
        return f"expected at least {value} propert{'ies' if value != 1 else 'y'}"
    if keyword == "maxProperties":
        return f"expected at most {value} propert{'ies' if value != 1 else 'y'}, found {len(instance)}"
    if keyword == "uniqueItems":
        return "expected all items to be different; found duplicates"
    if keyword == "additionalItems":
        return "unexpected additional items after the positional ones"
    if keyword == "propertyNames":
        return f"property name does not satisfy the naming rule: {error.message}"
    if keyword == "contains":
        return "expected at least one item matching the required form"
    if keyword == "not":
        reason = value.get("description") if isinstance(value, dict) else None
        reason = reason or (error.schema.get("description") if isinstance(error.schema, dict) else None)
        return f"not allowed here: {reason}" if reason else f"{_short(instance)} is a form not allowed here"
    if keyword == "dependencies":
        return str(error.message)
    if keyword is False or keyword == "false":
        return "no value is allowed here"
    return str(error.message)


def _pattern_message(error: ValidationError) -> str:
    """Say which form was expected in words (``x-pattern-name``), by example, or as a short pattern."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    found = _short(error.instance)
    name = schema.get("x-pattern-name")
    if name:
        return f"{found} is not {name}"
    pattern = str(error.validator_value)
    examples = schema.get("examples")
    like = f"; expected a value like {_short(examples[0])}" if isinstance(examples, list) and examples else ""
    shown = f" (pattern {pattern})" if len(pattern) <= 60 else ""
    return f"{found} does not have the expected form{like}{shown}"


def _describe(instance: Any) -> str:
    name = _JSON_TYPE_NAMES.get(type(instance), type(instance).__name__)
    if isinstance(instance, (dict, list)) or instance is None:
        return name
    return f"{name} {_short(instance)}"


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _q(value: Any) -> str:
    return _short(value)


def _quote_list(values: Sequence[Any], limit: int = 40) -> str:
    shown = [_short(v) for v in list(values)[:limit]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f", … ({more} more)" if more > 0 else "")


def _or_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
