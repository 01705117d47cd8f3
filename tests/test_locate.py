"""Line and column of JSON Pointers (validator/locate.py), against positions recorded by a serializer that
writes the JSON text itself and notes where each member's key and each element starts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from labelspec.validator.locate import locate_pointers
from labelspec.validator.report import to_pointer
from tests.json_strategies import json_values


def _serialise(value: Any, indent: str | None) -> tuple[str, dict[str, int]]:
    """JSON text (compact or indented, written here) and the offset of every pointer in it."""
    parts: list[str] = []
    offsets: dict[str, int] = {}
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)

    def newline(depth: int) -> None:
        if indent is not None:
            emit("\n" + indent * depth)

    def write(node: Any, path: tuple[Any, ...], depth: int, at_key: bool) -> None:
        if not at_key:
            offsets[to_pointer(path)] = size
        if isinstance(node, dict) and node:
            emit("{")
            for number, (key, child) in enumerate(node.items()):
                emit("," if number else "")
                newline(depth + 1)
                offsets[to_pointer((*path, key))] = size  # a member is located on its key
                emit(json.dumps(key) + (": " if indent is not None else ":"))
                write(child, (*path, key), depth + 1, True)
            newline(depth)
            emit("}")
        elif isinstance(node, list) and node:
            emit("[")
            for number, child in enumerate(node):
                emit("," if number else "")
                newline(depth + 1)
                write(child, (*path, number), depth + 1, False)
            newline(depth)
            emit("]")
        else:
            emit(json.dumps(node))

    write(value, (), 0, False)
    return "".join(parts), offsets


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


@given(json_values, st.sampled_from([None, "  ", "\t"]))
def test_every_pointer_lands_where_the_serializer_wrote_it(value: Any, indent: str | None) -> None:
    text, offsets = _serialise(value, indent)
    assert json.loads(text) == value
    found = locate_pointers(text, offsets)
    for pointer, offset in offsets.items():
        assert (found[pointer].line, found[pointer].column) == _line_col(text, offset), pointer


def test_missing_members_land_on_the_nearest_ancestor_and_duplicates_on_the_last() -> None:
    text = '{\n  "a/b": {"x": 1},\n  "s": "[{\\"",\n  "k": 1,\n  "k": [10, 20]\n}'
    found = locate_pointers(text, ["/a~1b/x", "/a~1b/missing", "/k/1", "/nope/deeper", "/s"])
    assert (found["/a~1b/x"].line, found["/a~1b/x"].column) == (2, 11)
    assert (found["/a~1b/missing"].line, found["/a~1b/missing"].column) == (2, 3)
    assert (found["/k/1"].line, found["/k/1"].column) == (5, 13)  # the parser keeps the last "k"
    assert (found["/nope/deeper"].line, found["/nope/deeper"].column) == (1, 1)
    assert found["/s"].line == 3
