"""The JSON-to-tape parser: it accepts exactly what orjson parses to plain values, and refuses the rest."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.json_strategies import json_values

ROOT = Path(__file__).resolve().parents[2]


def _orjson_accepts(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'{"a": 1, "a": 2}', "repeated key"),
        (b'{"k%d": 0, "k3": 1}' % 3, "repeated key"),
        (b"\xef\xbb\xbf{}", "unexpected character"),
        (b"[NaN]", "unexpected character"),
        (b"[Infinity]", "unexpected character"),
        (b"[1e400]", "out of range"),
        (b"[12345678901234567890]", "beyond int64"),
        (b'["\\ud800"]', "surrogate"),
        (b'["\\udc00x"]', "surrogate"),
        (b'["\xff"]', "invalid UTF-8"),
        (b'["\xed\xa0\x80"]', "invalid UTF-8"),
        (b'["\xc0\xaf"]', "invalid UTF-8"),
        (b'["a\nb"]', "control character"),
        (b"[01]", "leading zero"),
        (b"[1.]", "invalid number"),
        (b"[-]", "invalid number"),
        (b"[1,]", "unexpected character"),
        (b'{"a" 1}', "expected ':'"),
        (b"[1] 2", "data after"),
        (b"", "end of input"),
        (b"[" * 600 + b"]" * 600, "nested too deeply"),
        (b'["\\x"]', "invalid escape"),
        (b'["\\u12G4"]', "invalid \\u escape"),
        (b'"abc', "unterminated"),
    ],
)
def test_refuses_what_it_cannot_decide(native: ModuleType, text: bytes, reason: str) -> None:
    ok, why, _offset = native.parse_check(text)
    assert not ok
    assert reason in why


def test_big_object_repeated_key(native: ModuleType) -> None:
    members = ",".join(f'"key{i}": {i}' for i in range(200))
    assert native.parse_check(f"{{{members}}}".encode())[0]
    assert not native.parse_check(f'{{{members}, "key150": 0}}'.encode())[0]


def test_accepts_every_corpus_and_hostile_document_orjson_accepts(native: ModuleType) -> None:
    files = [*ROOT.glob("tests/corpus/**/*.json"), *ROOT.glob("tests/hostile/*.json")]
    files += [*ROOT.glob("schemas/*/examples/*.json")]
    assert len(files) > 100
    for path in files:
        data = path.read_bytes()
        ok, why, offset = native.parse_check(data)
        if ok:  # never more lenient than orjson
            assert _orjson_accepts(data), path
        elif _orjson_accepts(data):  # refusals of valid JSON are only the documented ones
            assert why in {"repeated key in an object", "integer beyond int64"}, (path, why, offset)


@given(json_values, st.sampled_from([None, 2]))
def test_plain_json_is_accepted(native: ModuleType, value: Any, indent: int | None) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=bool(indent)).encode()
    expected = not _beyond_plain(value)
    assert native.parse_check(data)[0] == expected
    if expected:
        assert native.json_equal(data, orjson.dumps(value))


def _beyond_plain(value: Any) -> bool:
    """Integers beyond int64 (refused on purpose) or infinities (json.dumps writes them, JSON has none)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -(2**63) <= value < 2**63
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_beyond_plain(v) for v in value)
    if isinstance(value, dict):
        return any(_beyond_plain(v) for v in value.values())
    return False


@given(st.binary(max_size=40))
def test_random_bytes_never_accepted_beyond_orjson(native: ModuleType, data: bytes) -> None:
    if native.parse_check(data)[0]:
        assert _orjson_accepts(data)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_exactly_as_python(native: ModuleType, number: float) -> None:
    for text in (repr(number), f"{number:.17e}", f"{number:.6g}"):
        if "inf" in text or "nan" in text:
            continue
        parsed = float(text)
        assert native.json_equal(text.encode(), orjson.dumps(parsed)), text
        assert math.isfinite(parsed)


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (b"1", b"1.0", True),
        (b"true", b"1", False),
        (b"false", b"0", False),
        (b"null", b"false", False),
        (b'{"a": [1, 2], "b": 1}', b'{"b": 1.0, "a": [1, 2.0]}', True),
        (b"[1, 2]", b"[2, 1]", False),
        (b'"\\u00e9"', '"\u00e9"'.encode(), True),
        (b"9007199254740993", b"9007199254740992.0", False),
        (b"-0.0", b"0", True),
        (b'{"a": 1}', b'{"a": 1, "b": 2}', False),
    ],
)
def test_equality_as_python_jsonschema(native: ModuleType, left: bytes, right: bytes, equal: bool) -> None:
    assert native.json_equal(left, right) is equal
