"""The schema compiler: bundling across files, profile overlays, and clear errors for broken sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelspec.validator.compiler import SchemaError, compile_file


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_bundles_definitions_of_referenced_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shapes.yaml",
        "definitions:\n  box: {type: object, properties: {p: {$ref: '#/definitions/pt'}}}\n"
        "  pt: {type: number}\n",
    )
    root = write(tmp_path, "schema.yaml", "type: array\nitems: {$ref: 'shapes.yaml#/definitions/box'}\n")
    compiled = compile_file(root, "lenient")
    assert compiled["items"] == {"$ref": "#/definitions/box"}
    assert set(compiled["definitions"]) == {"box", "pt"}
    assert compiled["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_profile_overlay_replaces_keywords_only_in_its_profile(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "schema.yaml",
        "type: object\nrequired: [a]\nx-profiles: {strict: {required: [a, b]}}\n"
        "x-profile-note: b is needed by the SDK\nexamples: [{x-profiles: 1}]\n",
    )
    lenient, strict = compile_file(root, "lenient"), compile_file(root, "strict")
    assert lenient["required"] == ["a"] and strict["required"] == ["a", "b"]
    assert "x-profiles" not in lenient and "x-profiles" not in strict
    assert strict["x-profile-note"] == "b is needed by the SDK"
    assert strict["examples"] == [{"x-profiles": 1}], "examples are data and stay untouched"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("items: {$ref: 'https://example.org/s.json#/definitions/a'}\n", "remote reference"),
        ("items: {$ref: '#/definitions/missing'}\n", "names no definition"),
        ("items: {$ref: 'other.yaml#/properties/a'}\n", "must point at #/definitions/"),
        ("x-profiles: {paranoid: {type: string}}\n", "unknown profile"),
        ("items: [unclosed\n", "not valid YAML"),
    ],
)
def test_broken_sources_raise_schema_errors(tmp_path: Path, text: str, needle: str) -> None:
    write(tmp_path, "other.yaml", "definitions: {a: {type: string}}\n")
    root = write(tmp_path, "schema.yaml", text)
    with pytest.raises(SchemaError, match=needle):
        compile_file(root, "lenient")


def test_definition_name_clash_across_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "definitions: {x: {type: string}}\n")
    write(tmp_path, "b.yaml", "definitions: {x: {type: number}}\n")
    root = write(
        tmp_path, "schema.yaml", "allOf: [{$ref: 'a.yaml#/definitions/x'}, {$ref: 'b.yaml#/definitions/x'}]\n"
    )
    with pytest.raises(SchemaError, match="defined in both"):
        compile_file(root, "lenient")


def test_cache_keeps_one_entry_per_format_and_profile(tmp_path: Path) -> None:
    from labelspec.validator.compiler import _write_cache

    old, new = tmp_path / "encord-lenient-aaaa.json", tmp_path / "encord-lenient-bbbb.json"
    other = tmp_path / "encord-ontology-lenient-cccc.json"
    _write_cache(old, {"v": 1})
    _write_cache(other, {"v": 1})
    _write_cache(new, {"v": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == [new.name, other.name]
