"""Hypothesis strategies shared by the fuzz and fast-path tests: random JSON and mutated corpus documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _seed_documents() -> list[tuple[str, Any]]:
    seeds = []
    for index in sorted(CORPUS.glob("*/index.yaml")):
        for entry in yaml.safe_load(index.read_text()) or []:
            path = index.parent / entry["file"]
            if path.suffix == ".json" and entry["verdict"]["lenient"] == "valid":
                seeds.append((index.parent.name, json.loads(path.read_text())))
    return seeds


SEEDS = _seed_documents()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


@st.composite
def mutated_documents(draw: st.DrawFn, formats: frozenset[str] | None = None) -> tuple[str, Any]:
    """A corpus document (of one of ``formats``, default all) with one to three random edits."""
    format_id, original = draw(st.sampled_from([s for s in SEEDS if formats is None or s[0] in formats]))
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if not path:
            document = draw(json_values)
            continue
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = draw(json_values)
    return format_id, document


# ------------------------------------------------------------------------------------- hostile values
# What a hostile or broken producer may write: numbers too long for int() (CPython refuses more than 4300
# digits), very long strings, Unicode that trips naive code (digits int() does not read, controls, lone
# surrogates, bidi and zero-width marks, non-BMP) and nesting deeper than recursive code can follow.

UNUSUAL_CHARACTERS = (
    "²³¹١٢٣०१௧\u0000\u001f\u007f\u00a0\u200b\u200d\u202e\u2028\ufeff\ufffd\U0001f600\U00010000é\u0301ﬁẞ"
)

huge_digit_strings = st.integers(4290, 6000).map(lambda n: "9" * n) | st.integers(4290, 6000).map(
    lambda n: "-" + "1" * n
)
long_strings = st.integers(10_000, 200_000).map(lambda n: "a" * n)
unusual_text = st.text(alphabet=st.sampled_from(UNUSUAL_CHARACTERS), min_size=1, max_size=12) | (
    st.sampled_from(["\ud800", "a\udfffb", "²", "١٢", "0²", "NaN", "Infinity", "-0", "1e999", "0x10", " 1"])
)


def nested(depth: int) -> Any:
    """A value nested ``depth`` levels deep (lists and objects alternating), built without recursion."""
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


deep_values = st.integers(50, 3000).map(nested)

hostile_leaves = (
    huge_digit_strings
    | long_strings
    | unusual_text
    | st.sampled_from([2**70, -(2**70), 1e308, -1e-308, 5e-324])
)
hostile_keys = huge_digit_strings | unusual_text | st.sampled_from(["", "/", "~", "~1", "a/b~0"])
hostile_values = hostile_leaves | deep_values


def _shallow_paths(document: Any, depth: int = 40) -> list[tuple[Any, ...]]:
    """Like ``_paths``, without recursion and not below ``depth`` (an earlier edit may have nested deeply)."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        node, prefix = stack.pop()
        out.append(prefix)
        if len(prefix) >= depth:
            continue
        if isinstance(node, dict):
            stack.extend((value, (*prefix, key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*prefix, i)) for i, value in enumerate(node))
    return sorted(out, key=lambda p: (len(p), repr(p)))


@st.composite
def hostile_documents(draw: st.DrawFn, formats: frozenset[str] | None = None) -> tuple[str, Any]:
    """A valid corpus document (of one of ``formats``, default all) with one to three hostile edits: a
    value replaced by a hostile one, or an object given a hostile key."""
    format_id, original = draw(st.sampled_from([s for s in SEEDS if formats is None or s[0] in formats]))
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_shallow_paths(document)))
        if not path:
            continue
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        target = parent[path[-1]]
        if isinstance(target, dict) and draw(st.booleans()):
            target[draw(hostile_keys)] = draw(st.sampled_from(list(target.values()) or [None]))
        elif isinstance(target, str) and target.isascii() and target.isdigit() and draw(st.booleans()):
            parent[path[-1]] = draw(huge_digit_strings.filter(lambda s: s[0] != "-"))
        else:
            parent[path[-1]] = draw(hostile_values)
    return format_id, document
