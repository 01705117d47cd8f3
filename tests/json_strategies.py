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
