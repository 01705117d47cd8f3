"""The places semantic rules read, learnt from the rule code, against what the structural mutants declare.

Every catalogued rule's reference function runs over the documents structural mutants are built on, wrapped
in recording proxies (:mod:`tests.generators.recorded_reads`). Each place read must be declared: in
``structural.SEMANTIC_READS`` (structural edits of the families concerned avoid it) or in
``semantic_reads_guarded.txt`` (the rules read it only in the schema's form; edits there stay single
faults, which the exactness test of every structural family checks). A declaration that no rule reads
fails too, so neither list keeps stale places.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.mutants import structural
from tests.generators.recorded_reads import PathT, rule_reads, subjects

GUARDED_FILE = Path(__file__).with_name("semantic_reads_guarded.txt")


def _globs(pattern: str) -> tuple[str, ...]:
    if pattern == "/":  # the document itself (its keys or length), written "/" in the guarded list
        return ()
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pattern.split("/")[1:])


def _guarded() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in GUARDED_FILE.read_text(encoding="utf-8").splitlines():
        line = line.partition("#")[0].strip()
        if line:
            format_id, pattern = line.split()
            out.setdefault(format_id, []).append(pattern)
    return out


@functools.cache
def _reads(format_id: str) -> frozenset[tuple[str, PathT, str]]:
    found: set[tuple[str, PathT, str]] = set()
    for profile in ("lenient", "strict"):
        for subject in subjects(format_id, profile, seeds=2):
            found |= rule_reads(subject)
    return frozenset(found)


def _covers(read: structural.Read, path: PathT, kind: str) -> bool:
    """``read`` declares the access (``kind`` at ``path``) as SEMANTIC_READS means it."""
    globs = _globs(read.pattern)
    if read.keys:  # only the keys: their list, their number, whether one is there
        return (kind in ("keys", "presence") and structural._matches(path, globs)) or (
            kind == "presence" and structural._matches(path[:-1], globs)
        )
    if read.inside:  # the value and everything inside it
        return any(structural._matches(path[:n], globs) for n in range(len(path) + 1))
    return kind in ("keys", "presence") and structural._matches(path, globs)


def _text(path: PathT) -> str:
    return "/" + "/".join(str(token) for token in path)


@pytest.mark.parametrize("format_id", mutants.FORMATS)
def test_every_place_a_rule_reads_is_declared_and_every_declaration_is_read(format_id: str) -> None:
    reads = _reads(format_id)
    assert reads, f"no {format_id} rule read anything: the recording proxies are not in use"
    declared = structural.SEMANTIC_READS.get(format_id, ())
    guarded = [_globs(p) for p in _guarded().get(format_id, [])]
    undeclared = sorted(
        {
            (rule, _text(path), kind)
            for rule, path, kind in reads
            if not any(_covers(read, path, kind) for read in declared)
            and not any(structural._matches(path, globs) for globs in guarded)
        }
    )
    assert not undeclared, (
        f"places {format_id} rules read, declared nowhere (rule, place, kind): {undeclared[:20]}"
    )
    unread = [r.pattern for r in declared if not any(_covers(r, path, kind) for _, path, kind in reads)]
    unread += [
        "/" + "/".join(globs)
        for globs in guarded
        if not any(structural._matches(path, globs) for _, path, _ in reads)
    ]
    assert not unread, f"{format_id}: declared reads no rule makes on any generated document: {unread}"


def test_the_recording_proxies_see_reads_through_every_access() -> None:
    """A proxy notes indexing, get, membership, iteration, items, length and comparison (so a rule cannot
    read past it unseen through the ordinary ways Python code reads a parsed document)."""
    from tests.generators.recorded_reads import Log, recording

    log = Log("R")
    doc = recording({"a": [1, {"b": 2}], "c": "x", "d": {"e": None}}, log)
    assert doc["a"][0] == 1
    assert doc.get("zz") is None
    assert "c" in doc
    assert list(doc["a"][1].values()) == [2]
    assert len(doc["d"]) == 1
    assert doc["d"] != {}
    seen = {(_text(path), kind) for _, path, kind in log.reads}
    assert seen == {
        ("/a/0", "value"),
        ("/zz", "presence"),
        ("/c", "presence"),
        ("/a/1", "keys"),
        ("/a/1/b", "value"),
        ("/d", "keys"),
        ("/d", "whole"),
    }
