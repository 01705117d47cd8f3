"""The schema programs and decider tables shipped as package data (validator/native/shipped.py): they are what
the sources give today, they load back into exactly the compiled program, and the fast path uses them (also
the program of Segments samples)."""

from __future__ import annotations

import re
from types import ModuleType

import orjson
import pytest

from labelspec.generators import native_programs
from labelspec.validator.compiler import PROFILES, compile_schema, list_formats
from labelspec.validator.native import datagym_rules, encord_rows, fastpath, segments, shipped
from labelspec.validator.native.encord_ontology import ontology_rules
from labelspec.validator.native.schema_program import NotCompilable, compile_program


def test_the_shipped_files_are_fresh() -> None:
    """What `labelspec codegen --check` checks: a schema, rule or compiler change without `labelspec
    codegen` would make the fast path decide with an old program."""
    assert native_programs.stale_files() == []


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", list_formats())
def test_a_shipped_program_is_the_compiled_program(format_id: str, profile: str) -> None:
    try:
        compiled = compile_program(compile_schema(format_id, profile))
    except NotCompilable:
        assert shipped.load(format_id, profile) is None
        return
    loaded = shipped.load(format_id, profile)
    assert loaded is not None
    assert loaded.ir[:4] == compiled.ir[:4]  # magic, version, nodes (tuples all the way), constants
    assert loaded.entries == compiled.entries
    assert (loaded.items_mode, loaded.items_blocked_by) == (compiled.items_mode, compiled.items_blocked_by)
    sources = [(source, None if tables is None else tables.blob) for source, _, tables in compiled.ir[4]]
    assert [(source, tables) for source, _, tables in loaded.ir[4]] == sources
    for source, pattern, _ in loaded.ir[4]:  # compiled on first use, searching as re does
        for text in ("2021-01-01 00:00:00", "é", "#ff00aa", ""):
            found, expected = pattern.search(text), re.search(source, text)
            assert (found and found.span()) == (expected and expected.span())


@pytest.mark.parametrize("profile", PROFILES)
def test_the_shipped_decider_tables_are_the_catalogue_s(profile: str) -> None:
    assert shipped.decider("encord", profile, "rows") == encord_rows.decider_config(profile)
    assert shipped.decider("encord", profile, "ontology_rules") == ontology_rules()
    assert shipped.decider("datagym", profile, "rows") == datagym_rules.decider_config(profile)


def test_the_fast_path_takes_the_shipped_program(native: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """No YAML is read and nothing is compiled for a format that ships its program."""

    def refuse(*args: object) -> None:
        raise AssertionError("compiled although a program is shipped")

    monkeypatch.setattr(fastpath, "compile_schema", refuse)
    monkeypatch.setattr(fastpath, "compile_program", refuse)
    fastpath._program.cache_clear()
    try:
        for format_id in ("encord", "datagym", "encord-ontology"):
            for profile in PROFILES:
                assert fastpath._program(format_id, profile) is not None
    finally:
        fastpath._program.cache_clear()


@pytest.mark.parametrize("profile", PROFILES)
def test_segments_samples_take_the_shipped_program(
    native: ModuleType, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The samples of a release of every task type the schema allows are checked with the shipped program
    (one entry per dataset branch set): nothing is compiled, and each entry checks a sample as the program
    compiled for those branches alone does."""

    def refuse(*args: object) -> None:
        raise AssertionError("compiled although a samples program is shipped")

    schema = compile_schema(segments.FORMAT, profile)
    task_types = schema["definitions"]["task_type"]["enum"]
    compiled = {
        chosen: compile_program(segments.items_schema(schema, chosen))
        for chosen in segments.task_type_branches(schema)
    }
    sample = orjson.dumps({"uuid": "u", "name": "n", "labels": {}, "attributes": {"image": {"url": "x"}}})
    monkeypatch.setattr(fastpath, "compile_schema", refuse)
    monkeypatch.setattr(fastpath, "compile_program", refuse)
    fastpath._segments_program.cache_clear()
    try:
        for task_type in task_types:
            header = {"dataset": {"name": "d", "task_type": task_type, "samples": []}}
            checks = fastpath._segments_checks(profile, header)
            assert checks is not None, task_type
            schema_object, entry, _rules, chosen = checks
            alone = compiled[chosen]
            expected = native.Schema(alone.ir).valid(sample, alone.entries["items"])
            assert schema_object.valid(sample, entry) == expected, task_type
    finally:
        fastpath._segments_program.cache_clear()
