"""The byte scanner finds exactly the items json.loads finds, whatever the strings hold."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.validator.scale.split import scan_items
from tests.conftest import examples

# strings full of what confuses a naive scanner: quotes, backslashes, brackets, commas, colons, unicode
tricky_text = st.text(alphabet=st.sampled_from(list('"\\[]{},: \tabc\u00e9\u2028\U0001f600/')), max_size=12)
numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
leaves = st.none() | st.booleans() | numbers | tricky_text
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=16,
)
containers = st.lists(values, max_size=4) | st.dictionaries(tricky_text, values, max_size=4)
separators = st.sampled_from(["", " ", "\n", "\t", " \r\n  "])


def _dump(value: Any, ws: str, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, separators=(ws + "," + ws, ws + ":" + ws))


def _items_found(text: bytes, chunk: int) -> list[Any] | None:
    layout = scan_items(text, chunk=chunk)
    if layout is None:
        return None
    return [json.loads(text[a:b]) for a, b in zip(layout.starts, layout.ends, strict=True)]


@settings(max_examples=examples(300, cap=False), deadline=None)
@given(
    st.lists(containers, min_size=1, max_size=6),
    separators,
    st.booleans(),
    st.sampled_from([1, 3, 7, 64, 1 << 20]),
)
def test_root_array_items(items: list[Any], ws: str, ascii_only: bool, chunk: int) -> None:
    text = (ws + _dump(items, ws, ascii_only) + ws).encode()
    assert _items_found(text, chunk) == items


@settings(max_examples=examples(200, cap=False), deadline=None)
@given(
    st.lists(containers, min_size=1, max_size=5), containers, separators, st.sampled_from([2, 5, 64, 1 << 20])
)
def test_dataset_samples(samples: list[Any], extra: Any, ws: str, chunk: int) -> None:
    document = {"name": "r", "x": extra, "dataset": {"a": extra, "samples": samples, "z": [extra]}}
    text = _dump(document, ws, False).encode()
    assert _items_found(text, chunk) == samples


def test_escapes_across_chunk_boundaries() -> None:
    items = [{"k": "\\" * n + '"]},{' + "\\" * m} for n in range(6) for m in range(6)]
    text = json.dumps(items).encode()
    for chunk in range(1, 40):
        assert _items_found(text, chunk) == items


def test_scalars_or_garbage_are_left_to_the_in_memory_path() -> None:
    odd = [b"[1, 2]", b'[{"a": 1}, 2]', b"[{}] x", b"[{}, ]", b"[{},{}", b"{}", b'"x"', b"[]", b"[{}] []"]
    for text in odd:
        assert scan_items(text) is None, text
