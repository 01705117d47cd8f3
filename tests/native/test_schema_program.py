"""The compiled schema program (validator/native/schema_program.py + schema.c) decides validity exactly as
python-jsonschema's Draft7Validator does, for every format and profile.

The program may only answer "not valid" where it cannot decide (documented in schema.c); every case here
is decidable, so the verdicts must be equal, except the one uniqueItems corner checked explicitly below.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec import generators
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import STRUCTURAL_FAMILIES, Subject, candidates
from labelspec.validator.compiler import PROFILES, compiled_schema_view, definition_schema, list_formats
from labelspec.validator.examples import documented_examples
from labelspec.validator.native.schema_program import NotCompilable, Program, compile_program
from tests.conftest import examples
from tests.json_strategies import mutated_documents

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"


class Checker:
    """One schema, compiled for both sides: the native program and the reference validator."""

    def __init__(self, native: ModuleType, schema: dict[str, Any]) -> None:
        self.native = native
        self.program: Program = compile_program(schema)
        self.schema = native.Schema(self.program.ir)
        self.reference = jsonschema.Draft7Validator(schema)

    def native_valid(self, data: bytes, entry: str = "root") -> bool:
        return bool(self.schema.valid(data, self.program.entries[entry]))

    def check(self, document: Any) -> None:
        """The native verdict equals the reference one (or is "not valid" for text the parser refuses)."""
        data = _json_bytes(document)
        if data is None:
            return
        native = self.native_valid(data)
        if not self.native.parse_check(data)[0]:
            assert not native  # e.g. an integer beyond int64: the reference path decides
            return
        assert native == self.reference.is_valid(document), document
        if "items" in self.program.entries and isinstance(document, list):
            by_item = all(self.native_valid(_json_bytes(item) or b"", "items") for item in document)
            assert by_item == native


def _json_bytes(document: Any) -> bytes | None:
    """UTF-8 JSON text of the document, or None when JSON cannot carry it exactly (inf, lone surrogates)."""
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return None


@functools.cache
def _checker(native: ModuleType, format_id: str, profile: str, definition: str | None = None) -> Checker:
    schema = (
        definition_schema(format_id, definition, profile)
        if definition
        else compiled_schema_view(format_id, profile)
    )
    return Checker(native, schema)


FORMAT_PROFILES = [(f, p) for f in list_formats() for p in PROFILES]


def _corpus_documents() -> list[Any]:
    documents = []
    for path in sorted(CORPUS.rglob("*.json")):
        try:
            documents.append(json.loads(path.read_bytes()))
        except ValueError:
            continue  # deliberately broken JSON: not the schema program's business
    return documents


@pytest.mark.parametrize(("format_id", "profile"), FORMAT_PROFILES)
def test_corpus_and_examples(native: ModuleType, format_id: str, profile: str) -> None:
    """Every corpus document (of every format: most are invalid here) and every documented example."""
    checker = _checker(native, format_id, profile)
    for document in _corpus_documents():
        checker.check(document)
    for example in documented_examples(format_id):
        document = example.load()
        checker.check(document)
        if example.definition:
            _checker(native, format_id, profile, example.definition).check(document)


_STRATEGIES: dict[str, Callable[[str], Any]] = {
    "datagym": lambda p: generators.datagym_export(profile=p, max_items=2, max_objects=2),
    "segments": lambda p: generators.segments_release(profile=p, max_items=2, max_objects=2, max_frames=2),
    "encord": lambda p: generators.encord_export(profile=p, max_items=2, max_frames=2, max_objects=2),
    "encord-ontology": lambda p: generators.encord_ontology(profile=p, max_depth=1),
    "coco-instance": lambda p: generators.coco_instance(profile=p, max_items=2, max_objects=2, max_size=64),
    "coco-panoptic": lambda p: generators.coco_panoptic(profile=p, max_items=2, max_objects=2),
    "yolo": lambda p: generators.yolo_dataset(profile=p, max_items=2, max_objects=2),
}


def test_every_format_has_a_strategy() -> None:
    assert set(_STRATEGIES) == set(list_formats())


# Generating documents costs more than checking them: a few per format and profile, under any profile.
_FEW = settings(max_examples=examples(12))


@pytest.mark.parametrize(("format_id", "profile"), FORMAT_PROFILES)
@_FEW
@given(data=st.data())
def test_generated_documents_and_structural_mutants(
    native: ModuleType, format_id: str, profile: str, data: st.DataObject
) -> None:
    checker = _checker(native, format_id, profile)
    document = data.draw(_STRATEGIES[format_id](profile), label="document")
    checker.check(document)
    # A few unverified single-fault mutants: each edit is a schema keyword family's typical violation.
    family = data.draw(st.sampled_from(STRUCTURAL_FAMILIES), label="family")
    seed = data.draw(st.integers(0, 2**32), label="seed")
    subject = Subject(format_id, profile, document)
    for candidate in itertools.islice(candidates(RandomDraw(seed), subject, family), 3):
        checker.check(candidate.subject.document)


@given(mutated_documents(), st.sampled_from(PROFILES))
def test_randomly_mutated_corpus_documents(native: ModuleType, case: tuple[str, Any], profile: str) -> None:
    format_id, document = case
    _checker(native, format_id, profile).check(document)


# ------------------------------------------------------------------------------------------ edge cases

EDGE_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, -0.0, 1.5, 1e300, 2**63 - 1, -(2**63), True, "1", None]),
    ({"type": "number"}, [1, 1.5, True, False, "1", None]),
    ({"type": ["integer", "string"]}, [1, 2.0, 2.5, "x", [], {}]),
    ({"type": []}, [1, "x", None]),
    ({"type": "boolean"}, [True, False, 0, 1]),
    ({"type": "null"}, [None, 0, "", False]),
    ({"enum": [1, "a", None]}, [1, 1.0, True, "a", "b", None, False]),
    ({"enum": [True]}, [True, 1, 1.0, False]),
    ({"enum": [False, 0.5]}, [False, 0, 0.5, 0.50]),
    (
        {"enum": [[1, {"a": True}], {"b": [1.0]}]},
        [[1, {"a": True}], [1.0, {"a": True}], [1, {"a": 1}], {"b": [1]}],
    ),
    ({"const": {"a": [1]}}, [{"a": [1]}, {"a": [1.0]}, {"a": [True]}, {"a": [1], "b": 2}, {}]),
    ({"const": "é"}, ["é", "e", "é"]),
    ({"const": None}, [None, False, 0, ""]),
    (
        {"minLength": 2, "maxLength": 3},
        ["a", "ab", "abc", "abcd", "é", "éé", "𝄞𝄞", "𝄞𝄞𝄞𝄞", "日本語", "日本語!", 5],
    ),
    ({"maxLength": 0}, ["", "a"]),
    ({"minimum": 0.5, "maximum": 10}, [0, 1, 0.5, 0.49, 10, 10.0, 10.000001, True, "5"]),
    ({"exclusiveMinimum": 0, "exclusiveMaximum": 2.5}, [0, 0.0, 1e-300, 2, 2.5, 2.4999, -1]),
    ({"maximum": 9223372036854775807}, [2**63 - 1, 9.223372036854776e18, 9.2e18, -1e300]),
    ({"maximum": 9.223372036854776e18}, [2**63 - 1, -(2**63), 9.223372036854776e18]),
    ({"minimum": -9007199254740993}, [-9007199254740992.0, -9007199254740994.0, -9007199254740993]),
    ({"pattern": "^[0-9]+$"}, ["123", "12a", "", "123\n", "١٢٣", "12é", 12]),
    ({"pattern": "(?=a)ab"}, ["ab", "b", "xab", "éab"]),
    ({"pattern": "é"}, ["café", "cafe", "é"]),
    (
        {"uniqueItems": True},
        [[], [1], [1, 1.0], [1, True], [0, False], [None, None], ["a", "a"], ["a", "b", 1]],
    ),
    (
        {"uniqueItems": True},
        [[{"a": 1}, {"a": 1}], [{"a": 1}, {"a": True}], [[1], [True]], [1, "1"], [[1], "x", [1]]],
    ),
    ({"uniqueItems": True}, [[[1], [2]], [[1, 2], [2, 1]], [1.5, 1.5], [2**62, 2**62 + 1]]),
    ({"uniqueItems": False}, [[1, 1]]),
    (
        {"items": [{"type": "integer"}, {"type": "string"}]},
        [[], [1], [1, "a"], [1, "a", None], ["a"], {"0": 1}],
    ),
    ({"items": [{"type": "integer"}], "additionalItems": False}, [[1], [1, 2], []]),
    ({"items": [], "additionalItems": {"type": "string"}}, [[], ["a"], ["a", 1]]),
    ({"items": {"type": "string"}, "additionalItems": False}, [["a", "b"], ["a", 1]]),
    ({"additionalItems": False}, [[1, 2]]),
    ({"items": False}, [[], [1]]),
    ({"minItems": 1, "maxItems": 2}, [[], [1], [1, 2], [1, 2, 3], "abc"]),
    (
        {
            "properties": {"a": {"type": "integer"}, "b": True, "c": False},
            "patternProperties": {"^x-": {"type": "string"}, "[0-9]$": {"minimum": 3}},
            "additionalProperties": {"type": "boolean"},
        },
        [
            {},
            {"a": 1},
            {"a": "x"},
            {"b": [1]},
            {"c": 1},
            {"x-1": "s"},
            {"x-1": 5},
            {"x-9": 2},
            {"k2": 1},
            {"k2": 4},
            {"other": True},
            {"other": 1},
            {"é": True},
            {"é": 1},
            {"x-é": "s"},
            [1],
        ],
    ),
    (
        {"patternProperties": {"^a": {"type": "string"}}, "additionalProperties": False},
        [{"ab": "x"}, {"b": 1}],
    ),
    ({"properties": {"ab": {"type": "string"}}, "additionalProperties": False}, [{"ab": "x"}, {"ab": 1}]),
    ({"required": ["a", "b", "a"]}, [{"a": 1, "b": 2}, {"a": 1}, {}, [], "a"]),
    ({"minProperties": 1, "maxProperties": 2}, [{}, {"a": 1}, {"a": 1, "b": 2, "c": 3}, []]),
    (
        {"propertyNames": {"pattern": "^[a-z]+$", "maxLength": 3}},
        [{}, {"ab": 1}, {"abcd": 1}, {"A": 1}, {"é": 1}],
    ),
    ({"propertyNames": False}, [{}, {"a": 1}]),
    (
        {"dependencies": {"a": ["b", "c"], "d": {"required": ["e"]}}},
        [{"a": 1}, {"a": 1, "b": 1, "c": 1}, {"d": 1}, {"d": 1, "e": 2}, {"b": 1}, 5],
    ),
    ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 2, 2.0, "x"]),
    ({"anyOf": [{"type": "integer"}, {"type": "string", "minLength": 2}]}, [1, "a", "ab", None]),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, [1, 1.5, 1.0, "x"]),
    ({"oneOf": [{"minimum": 0}, {"maximum": 10}, {"type": "string"}]}, [5, -1, 11, "x", None]),
    ({"not": {"type": "string"}}, ["a", 1]),
    ({"not": {"pattern": "é"}}, ["é", "e"]),
    (
        {"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}},
        [{}, {"a": 1}, {"a": 1, "b": 1}, {"c": 1}, 1],
    ),
    (
        {"if": {"properties": {"k": {"const": "x"}}, "required": ["k"]}, "then": {"required": ["x"]}},
        [{}, {"k": "x"}, {"k": "x", "x": 1}, {"k": "y"}, {"k": 1}, "x"],
    ),
    (
        {"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["x"]}, "else": False},
        [{}, {"k": "x"}, {"k": "y"}, {"k": "x", "x": 0}, 1],
    ),
    ({"then": False}, [1]),
    ({"else": False, "if": True}, [1]),
    ({"$ref": "#/definitions/a", "type": "string", "definitions": {"a": {"type": "integer"}}}, [1, "x"]),
    (
        {
            "definitions": {
                "tree": {
                    "type": "object",
                    "properties": {"kids": {"items": {"$ref": "#/definitions/tree"}}},
                    "required": ["v"],
                }
            },
            "$ref": "#/definitions/tree",
        },
        [{"v": 1}, {"v": 1, "kids": [{"v": 2, "kids": []}]}, {"v": 1, "kids": [{"kids": []}]}],
    ),
    (
        {
            "definitions": {"a~b": {"type": "string"}, "c/d": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/definitions/a~0b"}, "y": {"$ref": "#/definitions/c~1d"}},
        },
        [{"x": "s", "y": 1}, {"x": 1}, {"y": "s"}],
    ),
    ({"properties": {"a": {"$ref": "#"}}, "type": "object"}, [{}, {"a": {}}, {"a": {"a": 1}}]),
]


@pytest.mark.parametrize(("schema", "instances"), EDGE_CASES)
def test_edge_cases(native: ModuleType, schema: dict[str, Any], instances: list[Any]) -> None:
    checker = Checker(native, schema)
    for instance in instances:
        checker.check(instance)
    for instance in instances:  # also as escaped ASCII text (\\u escapes are decoded by the parser)
        data = json.dumps(instance).encode()
        assert checker.native_valid(data) == checker.reference.is_valid(instance)


def test_escaped_keys_match_properties(native: ModuleType) -> None:
    checker = Checker(native, {"properties": {"ab": {"type": "string"}}, "additionalProperties": False})
    assert checker.native_valid(b'{"a\\u0062": "x"}')
    assert not checker.native_valid(b'{"a\\u0062": 1}')


def test_unique_items_corner_is_never_called_valid(native: ModuleType) -> None:
    """jsonschema's sort-based uniq() misses the duplicate [1] here; the program answers "not valid"."""
    checker = Checker(native, {"uniqueItems": True})
    document = [[1], [True], [1]]
    assert checker.reference.is_valid(document)
    assert not checker.native_valid(json.dumps(document).encode())


def test_item_entry(native: ModuleType) -> None:
    schema = {
        "allOf": [{"$ref": "#/definitions/rows"}],
        "definitions": {
            "rows": {"type": "array", "items": {"$ref": "#/definitions/row"}},
            "row": {"required": ["a"]},
        },
    }
    checker = Checker(native, schema)
    assert checker.program.items_mode
    assert checker.native_valid(b'{"a": 1}', "items")
    assert not checker.native_valid(b"{}", "items")
    assert checker.native_valid(b'[{"a": 1}]') and not checker.native_valid(b'[{"a": 1}, {}]')
    for blocked in ({"minItems": 1}, {"uniqueItems": True}, {"type": ["array", "null"]}, {"not": {}}):
        program = compile_program({"type": "array", "items": {"required": ["a"]}, **blocked})
        assert "items" not in program.entries and not program.items_mode
    assert compile_program(compiled_schema_view("encord", "strict")).items_mode
    assert not compile_program(compiled_schema_view("datagym", "strict")).items_mode


@pytest.mark.parametrize(
    "schema",
    [
        {"contains": {}},
        {"format": "date-time"},
        {"properties": {"a": {"multipleOf": 2}}},
        {"unknownKeyword": 1},
        {"$ref": "https://example.com/schema.json"},
        {"$ref": "#/definitions/missing"},
        {"properties": {"a": {"$id": "#inner"}}},
        {"allOf": [{"$ref": "#"}]},
        {
            "$ref": "#/definitions/a",
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
        },
        {"minimum": True},
        {"minLength": 1.5},
        {"pattern": "("},
        {"enum": [2**70]},
        {"const": float("inf")},
        {"type": "integr"},
        {"items": True, "additionalItems": False},
        {"required": "a"},
    ],
)
def test_not_compilable(schema: dict[str, Any]) -> None:
    with pytest.raises(NotCompilable):
        compile_program(schema)


def test_bad_ir_is_refused(native: ModuleType) -> None:
    good = compile_program({"properties": {"a": {"type": "string"}}}).ir
    for broken in [
        (),
        ("lsir", 99, *good[2:]),
        (*good[:2], ((("nope",),),), *good[3:]),
        (*good[:2], (((1, 1),), ((14, 7),)), *good[3:]),
        (*good[:3], b"not json", good[4]),
    ]:
        with pytest.raises((ValueError, TypeError)):
            native.Schema(broken)
    assert native.Schema(compile_program({}).ir).valid(b"[1, 2]", 0)


def test_cyclic_ir_is_unsure_not_a_crash(native: ModuleType) -> None:
    """compile_program refuses same-value cycles; a hand-made IR with one answers "not valid"."""
    ir = ("lsir", 1, ((), ((0,),), ((19, (2,)),)), b"[]", ())
    assert not native.Schema(ir).valid(b"1", 2)
