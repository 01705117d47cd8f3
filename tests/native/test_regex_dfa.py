"""Regex DFAs (validator/native/regex_dfa.py, labelspec/native/regex.c) answer exactly as re.search.

python-jsonschema checks ``pattern``, ``patternProperties`` and ``propertyNames`` with
``re.search(pattern, string)``; the native fast path must give the same answer or none at all (None:
a non-ASCII character was reached, the caller asks ``re``). Both the pure-Python reading of the tables
(``DfaTables.search``) and the C search over the same tables are compared with ``re``.
"""

from __future__ import annotations

import itertools
import re
import string
import struct
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelspec.validator.compiler import PROFILES, compile_schema, list_formats
from labelspec.validator.native.regex_dfa import MAX_STATES, DfaTables, compile_pattern


def _schema_patterns(node: Any) -> Iterator[str]:
    """``pattern`` values (also under ``propertyNames``) and ``patternProperties`` keys of a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            if key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_patterns(item)


PROJECT_PATTERNS = sorted(
    {p for f in list_formats() for profile in PROFILES for p in _schema_patterns(compile_schema(f, profile))}
)

# re backtracks exponentially on some texts of these (the DFA does not): their texts stay short.
EXPONENTIAL_IN_RE = ("(a*)*b", "(a|b*)*c$")

TRICKY_PATTERNS = [
    "",
    "a",
    "^",
    "$",
    "^$",
    "$^",
    "^a",
    "a$",
    "^a$",
    r"\Aa\Z",
    r"a\Z",
    r"\Z",
    "a$\n",
    "$\n$",
    "\n$",
    "$$",
    "a$|b",
    "^a|b$",
    "(?:a|$)b?",
    "(?:$)*a",
    "(^|a)+b",
    *EXPONENTIAL_IN_RE,
    "(?:a?){3}a{3}",
    "(?:ab|a)(?:bc|c)*?$",
    "x{2,4}y",
    "x{0,2}$",
    "a{3}",
    "[-a]",
    "[a-]",
    "[]a]",
    "[^]a]",
    r"[\]-]+",
    r"[^\s-]",
    "[^a-c]*$",
    "[0-o]",
    r"\d+\s*\w?$",
    r"\D\S\W",
    "(?s:.)$",
    ".$",
    "(?s).+",
    "(?x) a b # comment",
    "a\u00e9",
    "^b\u00e9",
    "[\u00e0-\u00ff]",
    "[^\u00e9]",
    "^(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?$",
]

PATTERNS = PROJECT_PATTERNS + TRICKY_PATTERNS

UNSUPPORTED = [
    "(?=a)",
    "(?!a)b",
    "(?<=a)b",
    "(?<!a)b",
    r"\bword",
    r"\B",
    r"(a)\1",
    "(?P<x>a)(?P=x)",
    "(a)?(?(1)b|c)",
    "(?i)a",
    "(?i:a)b",
    "(?m)^a",
    "(?m:^a)",
    "(?a)\\s",
    "a*+",
    "(?>a)",
    "a{100}{100}",  # too many states
    "[",  # not a regex at all
]


def _alphabet(pattern: str) -> str:
    """Characters that matter to `pattern`, plus a few that usually do not and a non-ASCII one."""
    return "".join(sorted(set(pattern) | set("aZ09 \n-.]\u00e9")))


def _texts(pattern: str) -> st.SearchStrategy[str]:
    """Strings near the pattern's language: matches, matches with edits and noise around them."""
    # Mostly ASCII (what the DFA decides); patterns with other characters need them to match at all.
    near = st.from_regex(pattern, alphabet=st.characters(max_codepoint=0x7F if pattern.isascii() else 0xFF))
    noise = st.text(alphabet=_alphabet(pattern), max_size=12)
    edited = st.tuples(near, noise, st.integers(0, 40), st.integers(0, 3)).map(
        lambda t: t[0][: t[2]] + t[1][: t[3]] + t[0][t[2] + t[3] :]
    )
    longest = 14 if pattern in EXPONENTIAL_IN_RE else 48
    return st.one_of(
        near, edited, st.tuples(noise, near, noise).map("".join), noise, near.map(lambda s: s + "\n")
    ).map(lambda s: s[-longest:])


def _expected(pattern: str, text: str) -> bool:
    return bool(re.search(pattern, text))


def _check(pattern: str, text: str, search: Callable[[str], bool | None]) -> None:
    answer = search(text)
    if answer is None:
        assert not text.isascii(), f"{pattern!r} on ASCII {text!r}: no answer"
    else:
        assert answer == _expected(pattern, text), f"{pattern!r} on {text!r}"


def _tables(pattern: str) -> DfaTables:
    tables = compile_pattern(pattern)
    assert tables is not None, f"{pattern!r} should compile"
    return tables


@pytest.fixture(scope="session")
def regex_type(native: ModuleType) -> Any:
    """labelspec._native.Regex: Regex(tables or tables.blob).search(str) -> bool | None."""
    if not hasattr(native, "Regex"):
        pytest.skip("labelspec._native has no Regex yet")
    return native.Regex


def test_project_patterns_are_collected_and_supported() -> None:
    assert len(PROJECT_PATTERNS) >= 5
    for pattern in PATTERNS:
        _tables(pattern)


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_unmodelled_constructs_are_refused(pattern: str) -> None:
    assert compile_pattern(pattern) is None


@pytest.mark.parametrize("pattern", PATTERNS)
def test_python_tables_exhaustively_on_short_strings(pattern: str) -> None:
    tables = _tables(pattern)
    alphabet = _alphabet(pattern)
    length = 3 if len(alphabet) <= 16 else 2
    for size in range(length + 1):
        for chars in itertools.product(alphabet, repeat=size):
            _check(pattern, "".join(chars), tables.search)


@given(st.data())
def test_python_tables_agree_with_re(data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from(PATTERNS))
    _check(pattern, data.draw(_texts(pattern)), _tables(pattern).search)


@given(st.data())
def test_native_search_agrees_with_re(regex_type: Any, data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from(PATTERNS))
    _check(pattern, data.draw(_texts(pattern)), regex_type(_tables(pattern)).search)


_ATOMS = ["a", "b", "\n", ".", "[ab]", "[^a]", r"\s", r"\d", "^", "$", r"\A", r"\Z", "", "(?s:.)"]
_REPEATS = ["*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}", "*?", "+?", "??"]
RANDOM_PATTERNS = st.recursive(
    st.sampled_from(_ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        inner.map(lambda s: f"({s})"),
        st.tuples(inner, st.sampled_from(_REPEATS)).map(lambda t: f"(?:{t[0]}){t[1]}"),
    ),
    max_leaves=8,
)
SHORT_TEXTS = ["".join(t) for size in range(4) for t in itertools.product("ab\nx", repeat=size)]


@given(RANDOM_PATTERNS)
def test_random_patterns_on_all_short_strings(pattern: str) -> None:
    tables = _tables(pattern)
    for text in SHORT_TEXTS:
        _check(pattern, text, tables.search)


@given(RANDOM_PATTERNS)
def test_native_random_patterns_on_all_short_strings(regex_type: Any, pattern: str) -> None:
    tables = _tables(pattern)
    native = regex_type(tables)
    for text in SHORT_TEXTS:
        _check(pattern, text, native.search)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_native_and_python_tables_give_the_same_answers(regex_type: Any, pattern: str) -> None:
    tables = _tables(pattern)
    native = regex_type(tables.blob)
    alphabet = _alphabet(pattern)
    for chars in itertools.product(alphabet, repeat=min(3, 40 // len(alphabet) + 1)):
        text = "".join(chars)
        assert native.search(text) == tables.search(text), f"{pattern!r} on {text!r}"


def test_non_ascii_input_is_left_to_re_unless_already_decided(regex_type: Any) -> None:
    assert _tables("^[0-9]+$").search("12\u00e9") is None
    assert _tables("^[0-9]+$").search("x\u00e9") is False  # no thread can live after "x"
    assert _tables("a").search("a\u00e9") is True  # a match already ended
    assert _tables("^b\u00e9").search("b\u00e9") is None  # the thread waits for the non-ASCII char
    assert regex_type(_tables("^[0-9]+$")).search("12\u00e9") is None
    assert regex_type(_tables("a")).search("\u00e9a") is None


def test_many_states_use_wide_native_tables(regex_type: Any) -> None:
    pattern = "^[ab]*a[ab]{9}$"  # about 2**10 states: transitions need 16 bits
    tables = _tables(pattern)
    assert 256 < tables.state_count <= MAX_STATES
    native = regex_type(tables)
    for text in ("a" * 10, "ba" + "b" * 9, "b" * 11, "a" * 11 + "\n", "ab" * 7 + "\n\n"):
        assert native.search(text) == _expected(pattern, text) == tables.search(text)


def test_malformed_tables_are_rejected(regex_type: Any) -> None:
    blob = _tables("a+b").blob
    states = struct.unpack_from("<H", blob, 6)[0]
    out_of_range = bytearray(blob)
    struct.pack_into("<H", out_of_range, 12 + 2 * 3 * 128, states)
    bad_flag = bytearray(blob)
    bad_flag[-1] = 2
    for bad in (b"", blob[:-1], blob + b"\0", b"XDFA" + blob[4:], bytes(out_of_range), bytes(bad_flag)):
        with pytest.raises(ValueError):
            regex_type(bad)
    with pytest.raises(TypeError):
        regex_type(42)
    assert regex_type(bytearray(blob)).search("aab") is True


def test_printable_ascii_round_trip() -> None:
    """Every printable character, one at a time, against classes and categories."""
    for pattern in (r"\w", r"\s", r"\d", r"[^\w\s]", ".", r"[\x00-\x1f]"):
        tables = _tables(pattern)
        for char in string.printable + "".join(map(chr, range(32))) + "\x7f":
            _check(pattern, char, tables.search)
