"""Every schema compiles, is a valid draft-07 schema, and is documented property by property."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from labelspec.validator.compiler import (
    PROFILES,
    compile_schema,
    format_metadata,
    list_formats,
    load_format_yaml,
)

FORMATS = list_formats()


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", FORMATS)
def test_schema_is_valid_draft07(format_id: str, profile: str) -> None:
    schema = compile_schema(format_id, profile)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "x-profiles" not in str(list(_walk_keys(schema)))


def _walk_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            if key not in ("examples", "default", "const", "enum"):
                yield from _walk_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_keys(item)


def _undocumented(node: Any, where: str) -> Iterator[str]:
    """Pointers of properties and definitions that lack a description."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _undocumented(item, f"{where}/{i}")
        return
    if not isinstance(node, dict):
        return
    for group in ("properties", "definitions"):
        for name, sub in (node.get(group) or {}).items():
            if isinstance(sub, dict) and not sub.get("description") and "$ref" not in sub:
                yield f"{where}/{group}/{name}"
    for key, value in node.items():
        if key in ("examples", "default", "const", "enum"):
            continue
        yield from _undocumented(value, f"{where}/{key}")


@pytest.mark.parametrize("format_id", FORMATS)
def test_every_property_and_definition_is_described(format_id: str) -> None:
    schema = compile_schema(format_id, "lenient")
    missing = list(_undocumented(schema, "#"))
    assert not missing, f"{len(missing)} undocumented: {missing[:20]}"


@pytest.mark.parametrize("format_id", FORMATS)
def test_root_is_titled_described_and_exemplified(format_id: str) -> None:
    schema = compile_schema(format_id, "lenient")
    assert schema.get("title") and schema.get("description")
    assert schema.get("examples"), "the root schema needs at least one example"
    meta = format_metadata(format_id)
    assert meta["id"] == format_id


@pytest.mark.parametrize("format_id", FORMATS)
def test_root_examples_are_valid_lenient(format_id: str) -> None:
    schema = compile_schema(format_id, "lenient")
    validator = jsonschema.Draft7Validator(schema)
    for i, example in enumerate(schema.get("examples", [])):
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, f"root example {i}: {errors[:5]}"


@pytest.mark.parametrize("format_id", FORMATS)
def test_definition_examples_are_valid_lenient(format_id: str) -> None:
    schema = compile_schema(format_id, "lenient")
    for name, definition in schema.get("definitions", {}).items():
        if not isinstance(definition, dict) or not definition.get("examples"):
            continue
        sub = {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
        validator = jsonschema.Draft7Validator(sub)
        for i, example in enumerate(definition["examples"]):
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"definition {name} example {i}: {errors[:5]}"


@pytest.mark.parametrize("format_id", FORMATS)
def test_discrepancy_register_is_well_formed(format_id: str) -> None:
    register = load_format_yaml(format_id, "discrepancies.yaml")
    assert isinstance(register, list), "discrepancies.yaml must be a list"
    ids = [entry["id"] for entry in register]
    assert len(ids) == len(set(ids)), "discrepancy ids must be unique"
    for entry in register:
        for key in ("id", "title", "docs", "platform", "labelspec"):
            assert entry.get(key), f"{entry.get('id')}: missing {key}"


DRAFT07_KEYWORDS = {
    "$schema",
    "$id",
    "$ref",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "contentMediaType",
    "contentEncoding",
    "items",
    "additionalItems",
    "maxItems",
    "minItems",
    "uniqueItems",
    "contains",
    "maxProperties",
    "minProperties",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "dependencies",
    "propertyNames",
    "if",
    "then",
    "else",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "definitions",
}
_NAME_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_DATA = ("examples", "default", "const", "enum")


def _unknown_keywords(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _unknown_keywords(item, f"{where}/{i}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key not in DRAFT07_KEYWORDS and not str(key).startswith("x-"):
            yield f"{where}/{key}"
        if key in _DATA or str(key).startswith("x-"):
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _unknown_keywords(sub, f"{where}/{key}/{name}")
        else:
            yield from _unknown_keywords(value, f"{where}/{key}")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", FORMATS)
def test_no_unknown_keywords(format_id: str, profile: str) -> None:
    """A misspelt keyword (or a YAML slip such as an unquoted comma in a flow mapping) is silently ignored
    by validators; catch it here."""
    unknown = list(_unknown_keywords(compile_schema(format_id, profile), "#"))
    assert not unknown, unknown[:20]
