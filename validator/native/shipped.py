"""Schema programs and decider tables shipped as package data, so that a run certifies a file without
reading YAML or compiling anything.

Compiling a format's schema program (:mod:`labelspec.validator.native.schema_program`) means parsing the
YAML sources, bundling them and building DFAs for their patterns; the deciders' rule tables come from the
rule catalogues (``rules.yaml``). Both cost more than the native check of a 10 MB Encord export. So
``labelspec codegen`` writes them (:mod:`labelspec.generators.native_programs`), per format and profile,
to ``programs/<format>-<profile>.json`` next to this module (generated, never edited by hand;
``labelspec codegen --check`` fails when one differs from what the sources give, and
tests/native/test_shipped_programs.py checks the same). :func:`load` reads one
back; the fast path compiles (and caches) a program only when none is shipped.

File layout (JSON, one node per line so that a diff shows what changed)::

    {"format": ..., "profile": ..., "version": 1,
     "entries": {name: node}, "items_mode": bool, "items_blocked_by": [keyword, ...],
     "constants": "<the IR's constants: JSON text>",
     "patterns": [[source, "<DFA tables, hex>" | null], ...],
     "deciders": {"rows": {...}, "ontology_rules": [...]},   # what the format's deciders are configured with
     "nodes": [
       [[opcode, *args], ...],
       ...
     ]}

The IR (see schema_program) is all tuples; JSON has lists, so :func:`load` turns every list of a node back
into a tuple. A pattern's ``re.Pattern`` is compiled on its first use only (schema.c calls it for
non-ASCII strings or patterns without DFA tables).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import orjson

from labelspec.validator.native.schema_program import IR_MAGIC, IR_VERSION, Program

FOLDER = Path(__file__).parent / "programs"
VERSION = 1


class _LazyPattern:
    """``re.compile(source)``, compiled when schema.c first calls ``search`` (most runs never do: ASCII
    strings go through the DFA tables)."""

    def __init__(self, source: str) -> None:
        self.source = source

    @functools.cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.source)

    def search(self, text: str) -> re.Match[str] | None:
        return self._compiled.search(text)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def path(format_id: str, profile: str) -> Path:
    return FOLDER / f"{format_id}-{profile}.json"


@functools.cache
def _shipped(format_id: str, profile: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = orjson.loads(path(format_id, profile).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if data.get("version") == VERSION else None


def load(format_id: str, profile: str) -> Program | None:
    """The shipped program of ``format_id`` under ``profile``, or None (none shipped: compile it)."""
    data = _shipped(format_id, profile)
    if data is None:
        return None
    patterns = tuple(
        (source, _LazyPattern(source), None if tables is None else bytes.fromhex(tables))
        for source, tables in data["patterns"]
    )
    nodes = tuple(_tuples(node) for node in data["nodes"])
    ir = (IR_MAGIC, IR_VERSION, nodes, data["constants"].encode(), patterns)
    return Program(
        ir=ir,
        entries=data["entries"],
        node_count=len(nodes),
        items_mode=data["items_mode"],
        items_blocked_by=tuple(data["items_blocked_by"]),
    )


def decider(format_id: str, profile: str, name: str) -> Any:
    """A shipped decider table (``rows``: the rule decider's configuration; ``ontology_rules``: the
    Encord rules that need an ontology), or None when none is shipped."""
    data = _shipped(format_id, profile)
    return None if data is None else data["deciders"].get(name)
