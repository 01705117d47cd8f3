"""What the semantic rules read, learnt by running them: the reference rule functions (never the native
deciders, which read the parsed document in C) are run over generated documents whose every object and
array is a recording proxy, a dict or list subclass that notes the JSON Pointer of every access.

Kinds of access: ``value`` (a number, string, boolean or null was read), ``keys`` (an object's keys or an
array's length), ``presence`` (whether a key is there), ``whole`` (a container compared or hashed as a
whole). Containers merely passed through on the way to their contents are not reads.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.rules import CHECKS, RuleContext, catalogue, load_checks

PathT = tuple[str | int, ...]


@dataclass
class Log:
    rule: str = ""
    reads: set[tuple[str, PathT, str]] = field(default_factory=set)

    def note(self, path: PathT, kind: str) -> None:
        self.reads.add((self.rule, path, kind))

    def child(self, path: PathT, value: Any) -> None:
        if not isinstance(value, (RecordingDict, RecordingList)):
            self.note(path, "value")


class RecordingDict(dict[str, Any]):
    """A JSON object that notes every read of its keys and values."""

    def __init__(self, items: dict[str, Any], path: PathT, log: Log) -> None:
        super().__init__(items)
        self.path = path
        self.log = log

    def __getitem__(self, key: str) -> Any:
        if dict.__contains__(self, key):
            value = dict.__getitem__(self, key)
            self.log.child((*self.path, key), value)
            return value
        self.log.note((*self.path, key), "presence")
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if dict.__contains__(self, key):
            return self[key]
        self.log.note((*self.path, key), "presence")
        return default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.log.note((*self.path, key), "presence")
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self.log.note(self.path, "keys")
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.log.note(self.path, "keys")
        return dict.__len__(self)

    def keys(self) -> Any:
        self.log.note(self.path, "keys")
        return dict.keys(self)

    def values(self) -> Any:
        return [value for _, value in self.items()]

    def items(self) -> Any:
        self.log.note(self.path, "keys")
        pairs = list(dict.items(self))
        for key, value in pairs:
            self.log.child((*self.path, key), value)
        return pairs

    def __eq__(self, other: object) -> bool:
        self.log.note(self.path, "whole")
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]


class RecordingList(list[Any]):
    """A JSON array that notes every read of its length and items."""

    def __init__(self, items: list[Any], path: PathT, log: Log) -> None:
        super().__init__(items)
        self.path = path
        self.log = log

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            positions = range(*index.indices(list.__len__(self)))
            self.log.note(self.path, "keys")
            for position in positions:
                self.log.child((*self.path, position), list.__getitem__(self, position))
            return list.__getitem__(self, index)
        value = list.__getitem__(self, index)
        position = index if index >= 0 else list.__len__(self) + index
        self.log.note(self.path, "keys") if index < 0 else None
        self.log.child((*self.path, position), value)
        return value

    def __iter__(self) -> Iterator[Any]:
        self.log.note(self.path, "keys")
        for position, value in enumerate(list.__iter__(self)):
            self.log.child((*self.path, position), value)
            yield value

    def __len__(self) -> int:
        self.log.note(self.path, "keys")
        return list.__len__(self)

    def __contains__(self, value: object) -> bool:
        self.log.note(self.path, "whole")
        return list.__contains__(self, value)

    def __eq__(self, other: object) -> bool:
        self.log.note(self.path, "whole")
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]


def recording(value: Any, log: Log, path: PathT = ()) -> Any:
    """``value`` with every object and array replaced by a recording proxy (scalars stay as they are)."""
    if isinstance(value, dict):
        return RecordingDict({k: recording(v, log, (*path, k)) for k, v in value.items()}, path, log)
    if isinstance(value, list):
        return RecordingList([recording(v, log, (*path, i)) for i, v in enumerate(value)], path, log)
    return value


def rule_reads(subject: mutants.Subject) -> set[tuple[str, PathT, str]]:
    """(rule, place, kind) of every read the format's reference rules make on ``subject``'s document;
    the rules share one context, as in validation (what a memoised index reads is charged to the first rule
    that builds it)."""
    load_checks(subject.format)
    log = Log()
    document = recording(subject.document, log)
    with tempfile.TemporaryDirectory() as folder:
        png_dir = None
        if subject.pngs is not None:
            png_dir = Path(folder)
            for name, data in subject.pngs.items():
                (png_dir / name).write_bytes(data)
        context = RuleContext(
            document=document,
            format=subject.format,
            profile=subject.profile,
            ontology=subject.ontology,
            png_dir=png_dir,
        )
        for spec in catalogue(subject.format):
            check = CHECKS.get(spec.id)
            if check is None:
                continue
            log.rule = spec.id
            list(check(context))
    return log.reads


def subjects(format_id: str, profile: str, seeds: int = 1) -> Iterator[mutants.Subject]:
    """The documents the structural mutants are built on: every knob variant of the format (Segments
    lenient: in the 2020 release layout too, which ``generate --layout 2020`` mutates)."""
    variants = mutants.variants(format_id, profile)
    if format_id == "segments" and profile == "lenient":
        variants = [*variants, *({**knobs, "layout": "2020"} for knobs in variants)]
    for seed, knobs in itertools.product(range(seeds), variants):
        try:
            yield mutants.build_subject(RandomDraw(f"structural/{seed}/{knobs}"), format_id, profile, **knobs)
        except ValueError:  # a knob variant the profile does not allow
            continue
