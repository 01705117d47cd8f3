"""JSON Schema ``pattern`` regexes compiled to byte DFAs for the native fast path (regex.c).

python-jsonschema checks ``pattern``, ``patternProperties`` and ``propertyNames`` with
``re.search(pattern, string)``. The native fast path answers the same question in C with one table lookup
per byte. ``compile_pattern`` parses the pattern with Python's own parser (so the syntax is exactly
Python's), builds a Thompson NFA and turns it into a DFA over ASCII bytes by subset construction.

Exactness:
- Only constructs whose meaning on ASCII strings is plain regular-language membership are compiled:
  literals, ``.``, classes, ``\\d \\w \\s`` (their ASCII members are taken from ``re`` itself: Python's
  ``\\s`` also matches ``\\x1c``-``\\x1f``), repeats (greedy or lazy: laziness cannot change whether a
  match exists), groups, alternation, ``^``/``\\A``, ``$`` and ``\\Z``. Everything else (lookarounds,
  backreferences, word boundaries, possessive repeats, atomic groups, flags other than DOTALL/VERBOSE)
  gives None and the caller keeps using Python's ``re``.
- ``$`` matches at the end or just before a final ``"\\n"``. A thread that crosses ``$`` before the end
  carries a constraint on the rest of the input ("exactly one newline" or "nothing"), which the DFA
  tracks like any other state.
- The DFA only reads ASCII: a byte >= 0x80 leads to the UNDECIDED state (the caller falls back to ``re``).
  Answers reached before that byte are exact regardless of what follows: MATCH means a match already
  ended, NO_MATCH means no thread can ever reach the end of the pattern (liveness is judged on the NFA
  with every character edge taken as passable, so non-ASCII characters cannot revive it).

Table format (``DfaTables.blob``, little-endian; regex.c reads it):
    0   4 bytes  b"LDFA"
    4   u16      format version (1)
    6   u16      state count N (3 <= N <= MAX_STATES)
    8   u16      start state
    10  u16      0 (reserved)
    12  N*128 u16  transitions[state][byte] for bytes 0..127 (bytes >= 0x80 always go to UNDECIDED)
    12+256N  N bytes  accept at end of input (0/1)
States 0, 1, 2 are the stop states UNDECIDED (-1), MATCH (1) and NO_MATCH (0): the search loop stops as
soon as it enters one of them. Their rows are self-loops.
"""

from __future__ import annotations

import functools
import importlib
import re
import struct
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# re._parser (3.11+) was sre_parse before; both expose parse() and the same tree.
_parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_MAXREPEAT: int = int(_parser.MAXREPEAT)

MAX_STATES = 4096
MAX_NFA_STATES = 20000
# Compile-time budgets (thread moves in the subset construction, state visits in the minimisation): a
# pathological pattern gives None (or an unminimised DFA) instead of seconds of work.
MAX_THREAD_MOVES = 500_000
MAX_MINIMISE_VISITS = 2_000_000
FORMAT_VERSION = 1
MAGIC = b"LDFA"
UNDECIDED, MATCH, NO_MATCH = 0, 1, 2
STOP_STATES = 3
_HEADER = struct.Struct("<4sHHHH")

_ASCII = 128
_ALL = (1 << _ASCII) - 1
_NEWLINE = 10
# Flags whose effect on ASCII input we model: DOTALL changes ".", VERBOSE only changes the parse.
_MODELLED_FLAGS = int(re.DOTALL | re.VERBOSE)
_IMPLICIT_FLAGS = int(re.UNICODE)  # str patterns always carry it

# NFA edge kinds
_EPS, _CHARS, _BOL, _EOL, _EOS = range(5)
# Constraint a thread carries on the rest of the input after crossing "$" / "\Z" early
_FREE, _ONE_NEWLINE_LEFT, _NOTHING_LEFT = range(3)


class _Unsupported(Exception):
    """The pattern uses a construct the DFA does not model exactly."""


def _mask(chars: Iterable[int]) -> int:
    bits = 0
    for c in chars:
        bits |= 1 << c
    return bits


def _ascii_members(escape: str) -> int:
    # Ask re itself, so Unicode-aware categories agree with Python on every ASCII character.
    compiled = re.compile(escape)
    return _mask(c for c in range(_ASCII) if compiled.fullmatch(chr(c)))


_CATEGORIES: dict[str, int] = {
    "CATEGORY_DIGIT": _ascii_members(r"\d"),
    "CATEGORY_NOT_DIGIT": _ascii_members(r"\D"),
    "CATEGORY_SPACE": _ascii_members(r"\s"),
    "CATEGORY_NOT_SPACE": _ascii_members(r"\S"),
    "CATEGORY_WORD": _ascii_members(r"\w"),
    "CATEGORY_NOT_WORD": _ascii_members(r"\W"),
}


def _bit(code_point: int) -> int:
    return 1 << code_point if code_point < _ASCII else 0


class _Nfa:
    """Thompson NFA: state 0 is the start; `accept` is set once the pattern is built."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[int, int, int]]] = [[]]  # per state: (kind, mask, target)
        self.accept = -1

    def new_state(self) -> int:
        if len(self.edges) >= MAX_NFA_STATES:
            raise _Unsupported("pattern too large")
        self.edges.append([])
        return len(self.edges) - 1

    def edge(self, source: int, kind: int, target: int, mask: int = 0) -> None:
        self.edges[source].append((kind, mask, target))

    def sequence(self, items: Sequence[tuple[Any, Any]], dotall: bool, source: int) -> int:
        """Add the items after `source`; the state where they end."""
        for op, arg in items:
            source = self.item(str(op), arg, dotall, source)
        return source

    def chars(self, source: int, mask: int) -> int:
        target = self.new_state()
        self.edge(source, _CHARS, target, mask)
        return target

    def item(self, op: str, arg: Any, dotall: bool, source: int) -> int:
        if op == "LITERAL":
            return self.chars(source, _bit(arg))
        if op == "NOT_LITERAL":
            return self.chars(source, _ALL & ~_bit(arg))
        if op == "ANY":
            return self.chars(source, _ALL if dotall else _ALL & ~_bit(_NEWLINE))
        if op == "IN":
            return self.chars(source, _class_mask(arg))
        if op == "BRANCH":
            end = self.new_state()
            for alternative in arg[1]:
                start = self.new_state()
                self.edge(source, _EPS, start)
                self.edge(self.sequence(alternative, dotall, start), _EPS, end)
            return end
        if op == "SUBPATTERN":
            _group, add_flags, del_flags, body = arg
            if (add_flags | del_flags) & ~_MODELLED_FLAGS:
                raise _Unsupported("scoped flags")
            inner_dotall = (dotall or bool(add_flags & re.DOTALL)) and not del_flags & re.DOTALL
            return self.sequence(body, inner_dotall, source)
        if op in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, body = arg
            for _ in range(low):
                source = self.sequence(body, dotall, source)
            if high == _MAXREPEAT:
                loop = self.new_state()
                self.edge(source, _EPS, loop)
                self.edge(self.sequence(body, dotall, loop), _EPS, loop)
                return loop
            end = self.new_state()
            for _ in range(high - low):
                self.edge(source, _EPS, end)
                source = self.sequence(body, dotall, source)
            self.edge(source, _EPS, end)
            return end
        if op == "AT":
            kind = {
                "AT_BEGINNING": _BOL,
                "AT_BEGINNING_STRING": _BOL,
                "AT_END": _EOL,
                "AT_END_STRING": _EOS,
            }.get(str(arg))
            if kind is None:
                raise _Unsupported(f"assertion {arg}")
            target = self.new_state()
            self.edge(source, kind, target)
            return target
        raise _Unsupported(op)


def _class_mask(items: Sequence[tuple[Any, Any]]) -> int:
    negate = False
    bits = 0
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            bits |= _bit(arg)
        elif name == "RANGE":
            low, high = arg
            if low < _ASCII:
                bits |= ((1 << (min(high, _ASCII - 1) + 1)) - 1) & ~((1 << low) - 1)
        elif name == "CATEGORY" and str(arg) in _CATEGORIES:
            bits |= _CATEGORIES[str(arg)]
        else:
            raise _Unsupported(f"class item {name}")
    return _ALL & ~bits if negate else bits


@dataclass(frozen=True)
class DfaTables:
    """A search DFA over ASCII bytes (see the module docstring for the states and the blob layout)."""

    state_count: int
    start: int
    transitions: tuple[int, ...] = field(repr=False)  # state_count * 128
    accept_at_end: tuple[bool, ...] = field(repr=False)

    @functools.cached_property
    def blob(self) -> bytes:
        """The tables as regex.c's ldfa_build reads them."""
        header = _HEADER.pack(MAGIC, FORMAT_VERSION, self.state_count, self.start, 0)
        rows = struct.pack(f"<{len(self.transitions)}H", *self.transitions)
        return header + rows + bytes(self.accept_at_end)

    def search(self, text: str) -> bool | None:
        """bool(re.search(pattern, text)), or None when a non-ASCII character had to be read."""
        answers = (None, True, False)
        state = self.start
        if state < STOP_STATES:
            return answers[state]
        transitions = self.transitions
        for char in text:
            code = ord(char)
            if code >= _ASCII:
                return None
            state = transitions[state * _ASCII + code]
            if state < STOP_STATES:
                return answers[state]
        return self.accept_at_end[state]


def _byte_classes(nfa: _Nfa) -> list[int]:
    """Bytes that every NFA edge treats alike, as masks (the newline is always alone: "$" needs it)."""
    classes = [_ALL]
    masks = {mask for edges in nfa.edges for kind, mask, _ in edges if kind == _CHARS}
    masks.add(_bit(_NEWLINE))
    for mask in masks:
        split: list[int] = []
        for cls in classes:
            split.extend(part for part in (cls & mask, cls & ~mask) if part)
        classes = split
    return classes


def _live_states(nfa: _Nfa) -> set[int]:
    """NFA states from which the accept state is reachable after position 0 (no "^" edge passable).

    Every character edge counts as passable, even one without ASCII members: it may match a non-ASCII
    character, so a state judged dead is dead for every continuation of the input.
    """
    reverse: list[list[int]] = [[] for _ in nfa.edges]
    for source, edges in enumerate(nfa.edges):
        for kind, _, target in edges:
            if kind != _BOL:
                reverse[target].append(source)
    live = {nfa.accept}
    stack = [nfa.accept]
    while stack:
        for source in reverse[stack.pop()]:
            if source not in live:
                live.add(source)
                stack.append(source)
    return live


class _SubsetBuilder:
    """Subset construction over threads (NFA state, constraint on the rest of the input)."""

    def __init__(self, nfa: _Nfa) -> None:
        self.nfa = nfa
        self.live = _live_states(nfa)
        self.classes = _byte_classes(nfa)
        self.representatives = [(cls & -cls).bit_length() - 1 for cls in self.classes]
        self.inject = self.closure([(0, _FREE)], at_start=False)
        self.ids: dict[frozenset[tuple[int, int]], int] = {}
        self.sets: list[frozenset[tuple[int, int]]] = []
        self.moves_left = MAX_THREAD_MOVES

    def closure(self, seeds: Iterable[tuple[int, int]], at_start: bool) -> frozenset[tuple[int, int]]:
        seen: set[tuple[int, int]] = set()
        stack = list(seeds)
        while stack:
            thread = stack.pop()
            if thread in seen:
                continue
            seen.add(thread)
            state, constraint = thread
            for kind, _, target in self.nfa.edges[state]:
                if kind == _EPS or (kind == _BOL and at_start):
                    stack.append((target, constraint))
                elif kind == _EOL:  # at the end, or before a final newline
                    if constraint == _FREE:
                        stack.append((target, _ONE_NEWLINE_LEFT))
                    stack.append((target, _NOTHING_LEFT if constraint == _FREE else constraint))
                elif kind == _EOS and constraint != _ONE_NEWLINE_LEFT:
                    stack.append((target, _NOTHING_LEFT))
        # Threads that can no longer reach the accept state never matter: dropping them keeps the DFA small.
        accept = self.nfa.accept
        return frozenset(
            (state, constraint)
            for state, constraint in seen
            if state == accept or (state in self.live and constraint != _NOTHING_LEFT)
        )

    def state_id(self, threads: frozenset[tuple[int, int]]) -> int:
        if (self.nfa.accept, _FREE) in threads:
            return MATCH
        if not threads:
            return NO_MATCH
        found = self.ids.get(threads)
        if found is None:
            found = STOP_STATES + len(self.sets)
            if found >= MAX_STATES:
                raise _Unsupported("too many DFA states")
            self.ids[threads] = found
            self.sets.append(threads)
        return found

    def step(self, threads: frozenset[tuple[int, int]], byte: int) -> frozenset[tuple[int, int]]:
        self.moves_left -= len(threads)
        if self.moves_left < 0:
            raise _Unsupported("pattern too expensive to compile")
        moved: list[tuple[int, int]] = []
        for state, constraint in threads:
            if constraint == _NOTHING_LEFT:
                continue
            if constraint == _ONE_NEWLINE_LEFT:
                if byte != _NEWLINE:
                    continue
                if state == self.nfa.accept:  # the final newline is the rest of the input
                    moved.append((state, _NOTHING_LEFT))
                    continue
            for kind, mask, target in self.nfa.edges[state]:
                if kind == _CHARS and mask >> byte & 1:
                    moved.append((target, _FREE if constraint == _FREE else _NOTHING_LEFT))
        return self.closure(moved, at_start=False) | self.inject

    def build(self) -> DfaTables:
        start = self.state_id(self.closure([(0, _FREE)], at_start=True))
        rows: dict[int, list[int]] = {}
        done = 0
        while done < len(self.sets):
            threads = self.sets[done]
            row = [0] * _ASCII
            for cls, byte in zip(self.classes, self.representatives, strict=True):
                target = self.state_id(self.step(threads, byte))
                while cls:
                    low = cls & -cls
                    row[low.bit_length() - 1] = target
                    cls ^= low
            rows[STOP_STATES + done] = row
            done += 1
        accept = self.nfa.accept
        accept_at_end = [False] * STOP_STATES + [(accept, _NOTHING_LEFT) in s for s in self.sets]
        table = [[stop] * _ASCII for stop in range(STOP_STATES)] + [rows[i] for i in sorted(rows)]
        return _minimise(table, accept_at_end, start, self.representatives)


def _minimise(table: list[list[int]], accept_at_end: list[bool], start: int, probes: list[int]) -> DfaTables:
    """Moore partition refinement; states renumbered in breadth-first order from the start."""
    block = [s if s < STOP_STATES else STOP_STATES + int(accept_at_end[s]) for s in range(len(table))]
    count = len(set(block))
    visits_left = MAX_MINIMISE_VISITS
    while True:
        visits_left -= len(table) * (len(probes) + 1)
        if visits_left < 0:  # not converged in budget: a partition short of the fixpoint would be wrong
            block = list(range(len(table)))
            break
        signatures: dict[tuple[int, ...], int] = {}
        refined = []
        for state, row in enumerate(table):
            key = (block[state], *(block[row[b]] for b in probes))
            refined.append(signatures.setdefault(key, len(signatures)))
        block = refined
        if len(signatures) == count:
            break
        count = len(signatures)
    # Renumber: stop states keep 0..2, the others in breadth-first order (deterministic output).
    number = {block[s]: s for s in range(STOP_STATES)}
    order = list(range(STOP_STATES))
    if start >= STOP_STATES:
        number[block[start]] = len(order)
        order.append(start)
    index = STOP_STATES
    while index < len(order):  # breadth-first: `order` grows while it is walked
        for target in table[order[index]]:
            if block[target] not in number:
                number[block[target]] = len(order)
                order.append(target)
        index += 1
    transitions = tuple(number[block[t]] for state in order for t in table[state])
    return DfaTables(
        state_count=len(order),
        start=number[block[start]],
        transitions=transitions,
        accept_at_end=tuple(accept_at_end[state] for state in order),
    )


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> DfaTables | None:
    """The search DFA of `pattern` (re.search semantics on ASCII strings), or None if not modelled."""
    try:
        with warnings.catch_warnings():  # e.g. "possible nested set": re warns when the pattern is used
            warnings.simplefilter("ignore")
            parsed = _parser.parse(pattern)
            re.compile(pattern)  # what python-jsonschema does: a pattern re refuses is not ours to decide
    except (re.error, RecursionError, OverflowError):
        return None
    if int(parsed.state.flags) & ~(_MODELLED_FLAGS | _IMPLICIT_FLAGS):
        return None
    nfa = _Nfa()
    try:
        nfa.accept = nfa.sequence(list(parsed), bool(parsed.state.flags & re.DOTALL), 0)
        return _SubsetBuilder(nfa).build()
    except (_Unsupported, RecursionError):
        return None
