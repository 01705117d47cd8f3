"""What the native decider tests share: the reference report (the same call with the fast path off), the
check that the fast path's report equals it, writing a (mutant) subject, the first mutant an operator makes
over knob variants, the odd files no decider may certify, and random edits of a document.

Every decider test compares the fast path with the reference path on files written to disk, as `labelspec
validate` reads them; only what is certified (and how that is asked) differs per format.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import Mutant, build_subject, mutate, operators_for, variants
from labelspec.validator.api import validate
from labelspec.validator.native import fastpath

Certified = Callable[..., bool]


def reference_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``validate`` with the fast path off (LABELSPEC_NATIVE=0)."""
    before = os.environ.get("LABELSPEC_NATIVE")
    os.environ["LABELSPEC_NATIVE"] = "0"
    fastpath.native.cache_clear()
    try:
        return validate(*args, **kwargs).to_json()  # type: ignore[no-any-return]
    finally:
        if before is None:
            del os.environ["LABELSPEC_NATIVE"]
        else:
            os.environ["LABELSPEC_NATIVE"] = before
        fastpath.native.cache_clear()


def same_report(path: Path, profile: str, format: str | None, **kwargs: Any) -> dict[str, Any]:
    """The fast path's report, after checking it equals the reference report."""
    fast: dict[str, Any] = validate(path, format=format, profile=profile, **kwargs).to_json()
    assert fast == reference_report(path, format=format, profile=profile, **kwargs)
    return fast


def native_certified(path: Path, profile: str, format: str | None, png_dir: Path | None = None) -> bool:
    """Whether the native pass alone made the report of a whole-file decider (COCO, COCO panoptic)."""
    return fastpath.native_report(path, format, profile, png_dir=png_dir) is not None


def write_document(path: Path, document: Any, text: str | None = None) -> Path:
    """``document`` as compact JSON, or ``text`` exactly when given (faults only text can carry)."""
    path.write_bytes(text.encode() if text is not None else orjson.dumps(document))
    return path


def first_mutant(
    format_id: str,
    profile: str,
    operator_id: str,
    tag: str,
    knob_sets: Sequence[dict[str, Any]] | None = None,
) -> Mutant | None:
    """The first mutant ``operator_id`` makes of a document drawn with each knob set in turn (default: the
    format's variants, twice over), seeded ``<tag>-<operator>-<profile>-<attempt>``; None if none has a
    site for it."""
    tried = knob_sets if knob_sets is not None else variants(format_id) * 2
    for attempt, knobs in enumerate(tried):
        draw = RandomDraw(f"{tag}-{operator_id}-{profile}-{attempt}")
        mutant = mutate(draw, build_subject(draw, format_id, profile, **knobs), operator_id)
        if mutant is not None:
            return mutant
    return None


def every_mutant(
    format_id: str, profile: str, tag: str, knob_sets: Sequence[dict[str, Any]] | None = None
) -> Iterator[tuple[str, Mutant]]:
    """``(operator, mutant)`` for every operator of the format (:func:`first_mutant`); once exhausted, fails
    unless some mutant was made and only schema keyword families (which may have no site) made none."""
    made, missing = 0, []
    for operator_id in operators_for(format_id, profile):
        mutant = first_mutant(format_id, profile, operator_id, tag, knob_sets)
        if mutant is None:
            missing.append(operator_id)
            continue
        made += 1
        yield operator_id, mutant
    assert made and not [m for m in missing if not m.startswith("schema.")], missing


def agrees_with_reference(path: Path, profile: str, format: str, certified: Certified) -> None:
    """Read as ``format`` and detected, the fast path reports what the reference does, and a certified file
    has no finding."""
    report = same_report(path, profile, format)
    if certified(path, profile):
        assert report["files"][0]["findings"] == []
    same_report(path, profile, None)


def edited_file_agrees(
    document: Any, profile: str, format: str, certified: Certified, *, exact: bool
) -> None:
    """:func:`agrees_with_reference` on ``document`` written to a temporary file; ``exact``: with the
    standard library's ``json`` (integers past 64 bits too), else compact orjson."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{format}.json"
        if exact:
            path.write_text(json.dumps(document))
        else:
            write_document(path, document)
        agrees_with_reference(path, profile, format, certified)


def odd_files_are_not_certified(folder: Path, text: bytes, format: str, certified: Certified) -> None:
    """A repeated root key, trailing bytes, another format's key, a list around the document, a truncated
    file: never certified, read as ``format`` or detected, and reported as the reference does."""
    cases = {
        "duplicate-root-key.json": text[:-1] + b',"images":[]}',
        "trailing.json": text + b"x",
        "segments-key.json": b'{"dataset":{"samples":[]},' + text[1:],
        "list.json": b"[" + text + b"]",
        "truncated.json": text[:-20],
    }
    for name, data in cases.items():
        path = folder / name
        path.write_bytes(data)
        assert not certified(path, "lenient", format), name
        assert not certified(path, "lenient", None), name
        same_report(path, "lenient", None)


# ------------------------------------------------------------------ random edits where the rules look

_VALUES: list[Any] = [
    0, 0.0, -0.0, 1, 2, 2**60, 1.5, True, False, None, "", "x", [], {}, [None], ["a", "b"],
    ["a", {"x": ["b"]}],
    [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 1, "y": 1}], [{"x": 1, "y": True}] * 3,
    "https://h/api/v1/export/bitmap/1/a+b", "https://h/x/%41", "https://h/x/", "http://h/x?y#z", "ftp://h/a",
]  # fmt: skip


def _sites(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, node)]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += _sites(value, (*path, key))
    return found


def perturbed(rng: Any, document: Any) -> Any:
    """One to three edits: a value replaced (by one of the document's own or an interesting one), a key
    renamed or dropped, a list item duplicated or dropped."""
    document = copy.deepcopy(document)
    for _ in range(rng.choice((1, 2, 3))):
        sites = _sites(document)[1:]
        path, _value = rng.choice(sites)
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        names = [p[-1] for p, _ in sites if p and isinstance(p[-1], str)]
        leaves = [v for _, v in sites if not isinstance(v, (dict, list))]
        roll = rng.random()
        if roll < 0.5:
            parent[key] = copy.deepcopy(rng.choice([*_VALUES, *leaves[:40], *names[:20]]))
        elif roll < 0.6 and isinstance(parent, dict):
            del parent[key]
        elif roll < 0.75 and isinstance(parent, dict):
            renamed = rng.choice(names)
            if renamed not in parent:
                parent[renamed] = parent.pop(key)
        elif isinstance(parent, list) and roll < 0.9:
            parent.insert(rng.randrange(len(parent) + 1), copy.deepcopy(rng.choice(parent)))
        elif isinstance(parent, list) and len(parent) > 1:
            parent.pop(rng.randrange(1, len(parent)))
    return document
