"""Item splitting on raw bytes: the byte ranges of the items of a list-shaped export, found unparsed.

List-shaped exports (an Encord export is a root array of label rows; a DataGym export a root array of
label classes then tasks; a Segments release holds ``dataset.samples``) can be validated one item at a
time: that bounds memory (one item parsed at a time), lets several processes share one file, and is how
Dask partitions a large export. :func:`scan_items` finds the items with a string- and escape-aware scan
of the bytes, vectorised with numpy over fixed-size chunks (so memory stays bounded whatever the size of
the file):

* a quote is a string delimiter unless an odd run of backslashes precedes it;
* the parity of the delimiters before a byte tells whether it is inside a string (a running count,
  carried from chunk to chunk);
* the brackets outside strings give the nesting depth (a running sum, carried too); the items of the
  container are the brackets that open at its depth plus one and the brackets that close back to it.

No well-kept library exposes byte offsets of JSON values (ijson, simdjson bindings and the stdlib give
parsed values or events only), hence this small scanner. It never decides validity: whatever it cannot
account for (a scalar item, text between items other than one comma, a container it cannot find, a
repeated key on the way to it) makes it return ``None``, and the caller validates the document in memory
as usual, so a malformed file gets exactly the findings (and parse error) of the in-memory path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from labelspec import format_ids
from labelspec.validator.detect import SAMPLE_ITEMS, DetectionError, detect_format

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CHUNK = 1 << 20
_QUOTE, _BACKSLASH = 0x22, 0x5C
_OPEN, _CLOSE = 0x7B, 0x7D  # '{' and '}'; '[' and ']' are the same with bit 0x20 cleared
_WHITESPACE = b" \t\r\n"

# Where the items of a root object live (labelspec.format_ids): a Segments release keeps dataset.samples.
OBJECT_CONTAINERS: tuple[tuple[str, ...], ...] = tuple(
    items.container for items in format_ids.list_shaped().values() if items.container
)


class FileBytes:
    """A file's bytes by offset, read with ``pread`` on demand: unlike a memory map, what was read does not
    stay resident (and counted in the process's RSS), so a scan or a pass over a huge file stays small."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, where: int | slice) -> Any:
        if isinstance(where, slice):
            start, stop, _ = where.indices(self.size)
            return os.pread(self.fd, max(0, stop - start), start) if stop > start else b""
        if where < 0:
            where += self.size
        if not 0 <= where < self.size:
            raise IndexError(where)
        return os.pread(self.fd, 1, where)[0]

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> FileBytes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Layout:
    """Where the items of a list-shaped export are. Offsets are byte offsets into the file."""

    container: tuple[str, ...]  # JSON path of the array: () for a root array
    open: int  # offset of the container's '['
    close: int  # offset of its ']'
    starts: tuple[int, ...]  # offset of each item's first byte
    ends: tuple[int, ...]  # offset one past each item's last byte
    # (open, close) of the other item arrays of a sectioned export (COCO), emptied in the shell too
    emptied: tuple[tuple[int, int], ...] = ()

    @property
    def count(self) -> int:
        return len(self.starts)

    def shell(self, data: Any) -> bytes:
        """The document's text with the container (and the arrays in ``emptied``) emptied (``[]``):
        everything but the items."""
        pieces, at = [], 0
        for open_at, close_at in sorted(((self.open, self.close), *self.emptied)):
            pieces.append(bytes(data[at : open_at + 1]))
            at = close_at
        pieces.append(bytes(data[at:]))
        return b"".join(pieces)


@dataclass
class _Events:
    """Brackets outside strings at the shallow depths the caller asked for."""

    positions: list[int]
    opens: list[bool]
    depths: list[int]  # depth before an opening bracket, after a closing one


def _bracket_events(data: Any, max_depth: int, chunk: int = CHUNK) -> _Events | None:
    """Every bracket outside strings whose (outer) depth is at most ``max_depth``; None if unbalanced."""
    import numpy as np  # only here: numpy costs start-up time to every command

    total = len(data)
    in_string = 0  # parity carried into the next chunk
    depth = 0
    backslashes = 0  # length of the run of backslashes that ends the previous chunk
    events = _Events([], [], [])
    quote = np.empty(chunk, dtype=bool)
    folded = np.empty(chunk, dtype=np.uint8)
    for offset in range(0, total, chunk):
        raw = bytes(data[offset : offset + chunk])
        buf = np.frombuffer(raw, dtype=np.uint8)
        size = buf.size
        is_quote = quote[:size]
        np.equal(buf, _QUOTE, out=is_quote)
        if backslashes or raw.find(b"\\") >= 0:
            backslashes = _unescape_quotes(buf, is_quote, backslashes)
        parity = np.cumsum(is_quote, dtype=np.uint8)
        parity &= 1
        if in_string:
            parity ^= 1
        fold = folded[:size]
        np.bitwise_or(buf, 0x20, out=fold)
        brackets = (fold == _OPEN) | (fold == _CLOSE)
        brackets &= parity == 0
        # a quote itself is never a bracket, so its own parity does not matter here
        where = np.flatnonzero(brackets)
        if where.size:
            signs = np.where(fold[where] == _OPEN, 1, -1).astype(np.int64)
            after = depth + np.cumsum(signs)
            before = after - signs
            level = np.where(signs > 0, before, after)
            if int(after.min()) < 0:
                return None
            keep = np.flatnonzero(level <= max_depth)
            events.positions.extend((where[keep] + offset).tolist())
            events.opens.extend((signs[keep] > 0).tolist())
            events.depths.extend(level[keep].tolist())
            depth = int(after[-1])
        in_string = int(parity[-1])  # the state after the chunk's last byte
    if depth != 0 or in_string:
        return None
    return events


def _unescape_quotes(buf: npt.NDArray[np.uint8], is_quote: npt.NDArray[np.bool_], carried: int) -> int:
    """Clear the quotes preceded by an odd run of backslashes; returns the run that ends the chunk."""
    import numpy as np

    slashes = np.flatnonzero(buf == _BACKSLASH)
    if slashes.size == 0:
        if carried % 2 and buf.size and is_quote[0]:
            is_quote[0] = False
        return 0
    run_starts = slashes[np.r_[True, np.diff(slashes) != 1]]
    # quotes right after a backslash
    after = slashes + 1
    after = after[after < buf.size]
    candidates = after[buf[after] == _QUOTE]
    if candidates.size:
        begin = run_starts[np.searchsorted(run_starts, candidates - 1, side="right") - 1]
        length = candidates - begin
        length = length + np.where(begin == 0, carried, 0)
        is_quote[candidates[length % 2 == 1]] = False
    if carried % 2 and buf[0] == _QUOTE:
        is_quote[0] = False
    if buf[-1] == _BACKSLASH:
        last = int(run_starts[-1])
        return buf.size - last + (carried if last == 0 else 0)
    return 0


def _blank(data: Any, start: int, end: int) -> bool:
    return not bytes(data[start:end]).strip(_WHITESPACE)


def _first_byte(data: Any) -> int:
    for at in range(min(len(data), 4096)):
        if data[at] not in _WHITESPACE:
            return at
    return -1


def _key_before(data: Any, position: int) -> str | None:
    """The object key whose value starts at ``position`` (a bracket), or None if it cannot be read."""
    at = position - 1
    while at >= 0 and data[at] in _WHITESPACE:
        at -= 1
    if at < 0 or data[at] != ord(":"):
        return None
    at -= 1
    while at >= 0 and data[at] in _WHITESPACE:
        at -= 1
    if at < 0 or data[at] != _QUOTE:
        return None
    close = begin = at
    while True:
        begin -= 1
        if begin < 0 or close - begin > 1 << 16:
            return None
        if data[begin] != _QUOTE:
            continue
        run = 0
        while data[begin - 1 - run] == _BACKSLASH:
            run += 1
        if run % 2 == 0:
            break
    try:
        key = json.loads(bytes(data[begin : close + 1]))
    except ValueError:
        return None
    return key if isinstance(key, str) else None


def scan_items(data: Any, chunk: int = CHUNK) -> Layout | None:
    """The items of a root array, or of ``dataset.samples`` in a root object; None when not list-shaped
    (or anything is unexpected: then the document is validated in memory)."""
    first = _first_byte(data)
    if first < 0 or data[first] not in (ord("["), ord("{")):
        return None
    root_array = data[first] == ord("[")
    container: tuple[str, ...] = () if root_array else OBJECT_CONTAINERS[0]
    depth = len(container) + 1  # the depth of the items' brackets, outside
    events = _bracket_events(data, depth, chunk)
    if events is None or not events.positions:
        return None
    positions, opens, depths = events.positions, events.opens, events.depths
    if positions[0] != first or not _blank(data, positions[-1] + 1, len(data)):
        return None
    if depths.count(0) != 2:  # one root value, nothing after it
        return None
    # Walk down the path of keys to the container.
    lo, hi = 0, len(positions) - 1  # the events of the current value (its open and close)
    for level, name in enumerate(container, start=1):
        found = [
            i
            for i in range(lo + 1, hi)
            if opens[i] and depths[i] == level and _key_before(data, positions[i]) == name
        ]
        if len(found) != 1:
            return None
        lo = found[0]
        hi = next((j for j in range(lo + 1, len(positions)) if depths[j] == level and not opens[j]), -1)
        if hi < 0:
            return None
    if data[positions[lo]] != ord("[") or data[positions[hi]] != ord("]"):
        return None
    starts: list[int] = []
    ends: list[int] = []
    gap_start = positions[lo] + 1
    for i in range(lo + 1, hi):
        if depths[i] != depth:
            continue
        if opens[i]:
            gap = bytes(data[gap_start : positions[i]]).strip(_WHITESPACE)
            if gap != (b"," if starts else b""):
                return None
            starts.append(positions[i])
        else:
            ends.append(positions[i] + 1)
            gap_start = positions[i] + 1
    if not starts or len(starts) != len(ends) or not _blank(data, gap_start, positions[hi]):
        return None
    return Layout(container, positions[lo], positions[hi], tuple(starts), tuple(ends))


def scan_sections(data: Any, keys: frozenset[str], chunk: int = CHUNK) -> dict[str, Layout] | None:
    """The items of the arrays under ``keys`` in a root object (a sectioned export: COCO's images,
    categories and annotations), one layout per array found, each emptying all of them in its shell; None
    when the root is not an object, a key's array appears twice, or anything is unexpected."""
    first = _first_byte(data)
    if first < 0 or data[first] != ord("{"):
        return None
    events = _bracket_events(data, 2, chunk)
    if events is None or not events.positions:
        return None
    positions, opens, depths = events.positions, events.opens, events.depths
    if positions[0] != first or not _blank(data, positions[-1] + 1, len(data)) or depths.count(0) != 2:
        return None
    found: dict[str, tuple[int, int, tuple[int, ...], tuple[int, ...]]] = {}
    current: str | None = None
    open_at = gap_start = 0
    starts: list[int] = []
    ends: list[int] = []
    for i in range(1, len(positions) - 1):
        depth, at = depths[i], positions[i]
        if depth == 1 and opens[i]:
            key = _key_before(data, at)
            if key is None or (key in keys and key in found):
                return None
            if key in keys and data[at] == ord("["):
                current, open_at, gap_start, starts, ends = key, at, at + 1, [], []
        elif depth == 1 and current is not None:
            if not _blank(data, gap_start, at):
                return None
            found[current] = (open_at, at, tuple(starts), tuple(ends))
            current = None
        elif depth == 2 and current is not None:
            if opens[i]:
                if bytes(data[gap_start:at]).strip(_WHITESPACE) != (b"," if starts else b""):
                    return None
                starts.append(at)
            else:
                ends.append(at + 1)
                gap_start = at + 1
    if not found:
        return None
    arrays = {key: (value[0], value[1]) for key, value in found.items()}
    return {
        key: Layout(
            (key,),
            opened,
            closed,
            item_starts,
            item_ends,
            tuple(where for other, where in arrays.items() if other != key),
        )
        for key, (opened, closed, item_starts, item_ends) in found.items()
    }


@dataclass(frozen=True)
class ScannedExport:
    """A list-shaped export file, its items found on its bytes (see :func:`scan_export`)."""

    format: str
    layout: Layout
    shell: Any  # the parsed document with the container of its items emptied
    context: int  # leading items that are context, not items (DataGym's label classes)


def plain_json_file(location: str) -> bool:
    """Whether ``location`` can be read item by item from its bytes: a regular file, not .gz or .zip."""
    return not location.lower().endswith((".gz", ".zip")) and Path(location).is_file()


def detected(probe: Any, format: str | None) -> str | None:
    """``format``, else the format told from ``probe`` (the root and first items); None when none is."""
    if format:
        return format
    try:
        return detect_format(probe)
    except DetectionError:
        return None


def scan_export(path: str | os.PathLike[str], format: str | None = None) -> ScannedExport | None:
    """The items of a plain JSON export of a list-shaped format (labelspec.format_ids), or None when the file
    is not one: compressed or not a file, no item list the scanner can find, a shell or probed item that does
    not parse, a format that cannot be told or keeps its items elsewhere. Item-by-item validation
    (:mod:`labelspec.validator.scale.streaming`) and ``labelspec stats/report/diff`` read exports through it.
    """
    location = str(path)
    if not plain_json_file(location):
        return None
    with FileBytes(location) as data:
        if not data:
            return None
        layout = scan_items(data)
        if layout is None:
            return None
        try:
            shell = orjson.loads(layout.shell(data))
            if layout.container:
                probe = shell
            else:
                bounds = zip(layout.starts[:SAMPLE_ITEMS], layout.ends[:SAMPLE_ITEMS], strict=False)
                probe = [orjson.loads(data[a:b]) for a, b in bounds]
        except orjson.JSONDecodeError:
            return None
    format_id = detected(probe, format)
    items = format_ids.list_shaped().get(format_id) if format_id is not None else None
    if format_id is None or items is None or items.container != layout.container:
        return None
    return ScannedExport(format_id, layout, shell, items.context)
