"""Line and column of JSON Pointers in the JSON text they point into (for SARIF and GitHub annotations).

A pointer to an object member is placed on the member's key (where an editor should jump); any other
pointer on the first character of its value. A pointer that names something absent (a missing key) is
placed on the nearest ancestor that exists. Lines and columns count from 1; columns in Unicode code
points. One pass per document finds all wanted pointers, skipping the subtrees no pointer enters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Files above this size are not re-read for positions: findings then carry the file without a region.
MAX_LOCATE_BYTES = 256 * 1024**2

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SKIP = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SCALAR_END = re.compile(r"[,\]}\s]|$")


@dataclass(frozen=True)
class Position:
    line: int
    column: int


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines: list[int] | None = None

    def position(self, offset: int) -> Position:
        if self.newlines is None:
            self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        import bisect

        line = bisect.bisect_left(self.newlines, offset)
        start = self.newlines[line - 1] + 1 if line else 0
        return Position(line + 1, offset - start + 1)

    def ws(self, at: int) -> int:
        match = _WS.match(self.text, at)
        return match.end() if match else at

    def skip_value(self, at: int) -> int:
        """The offset just after the value starting at ``at``."""
        text = self.text
        if at >= len(text):
            return at
        char = text[at]
        if char == '"':
            match = _STRING.match(text, at)
            return match.end() if match else len(text)
        if char in "[{":
            depth = 0
            for match in _SKIP.finditer(text, at):
                token = match.group()
                if token in "[{":
                    depth += 1
                elif token in "]}":
                    depth -= 1
                    if depth == 0:
                        return match.end()
            return len(text)
        match = _SCALAR_END.search(text, at)
        return match.start() if match else len(text)


def locate_pointers(text: str, pointers: Iterable[str]) -> dict[str, Position]:
    """The position of each pointer (or of its nearest existing ancestor) in the JSON ``text``."""
    doc = _Text(text)
    wanted = {p: [_unescape(t) for t in p.split("/")[1:]] for p in set(pointers)}
    found: dict[str, Position] = {}
    start = doc.ws(0)
    for pointer, tokens in wanted.items():
        found[pointer] = doc.position(_find(doc, start, tokens))
    return found


def _find(doc: _Text, at: int, tokens: list[str]) -> int:
    """Offset of the key (members) or value (elements) ``tokens`` lead to from the value at ``at``."""
    text = doc.text
    place = at
    for token in tokens:
        if at >= len(text):
            return place
        if text[at] == "{":
            hit = _member(doc, at, token)
            if hit is None:
                return place
            place, at = hit
        elif text[at] == "[" and token.isdigit():
            hit_at = _element(doc, at, int(token))
            if hit_at is None:
                return place
            place = at = hit_at
        else:
            return place
    return place


def _member(doc: _Text, at: int, token: str) -> tuple[int, int] | None:
    """(offset of the key, offset of its value) of member ``token`` of the object at ``at``."""
    import json

    text = doc.text
    hit: tuple[int, int] | None = None
    at = doc.ws(at + 1)
    while at < len(text) and text[at] == '"':
        key_at = at
        match = _STRING.match(text, at)
        if match is None:
            return hit
        at = doc.ws(match.end())
        if at >= len(text) or text[at] != ":":
            return hit
        value_at = doc.ws(at + 1)
        try:
            key = json.loads(match.group())
        except ValueError:
            key = None
        if key == token:
            hit = (key_at, value_at)  # keep looking: with a duplicate key, the parser keeps the last
        at = doc.ws(doc.skip_value(value_at))
        if at < len(text) and text[at] == ",":
            at = doc.ws(at + 1)
    return hit


def _element(doc: _Text, at: int, index: int) -> int | None:
    text = doc.text
    at = doc.ws(at + 1)
    if at < len(text) and text[at] == "]":
        return None
    for _ in range(index):
        at = doc.ws(doc.skip_value(at))
        if at >= len(text) or text[at] != ",":
            return None
        at = doc.ws(at + 1)
    return at if at < len(text) else None


def read_source_text(path: str) -> str | None:
    """The JSON text behind a report's path (a file, a ``.json.gz`` or an ``archive.zip!member``), or
    None when it is not JSON text that can be re-read cheaply."""
    import gzip  # here: only a report with findings is located, and importing these costs start-up time
    import zipfile

    try:
        archive, _, member = path.partition("!")
        file = Path(archive)
        if not file.is_file() or file.stat().st_size > MAX_LOCATE_BYTES:
            return None
        if member:
            with zipfile.ZipFile(file) as zipped:
                info = zipped.getinfo(member)
                if info.file_size > MAX_LOCATE_BYTES or not member.lower().endswith(".json"):
                    return None
                data = zipped.read(info)
        elif file.name.lower().endswith(".json.gz"):
            with gzip.open(file) as stream:
                data = stream.read(MAX_LOCATE_BYTES + 1)
            if len(data) > MAX_LOCATE_BYTES:
                return None
        elif file.name.lower().endswith(".json"):
            data = file.read_bytes()
        else:
            return None
        return data.decode("utf-8")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def locate_report_file(path: str, pointers: Iterable[str]) -> dict[str, Position]:
    """Positions of ``pointers`` in the document at ``path`` (empty when its text cannot be re-read)."""
    wanted = list(pointers)
    if not wanted:
        return {}
    text = read_source_text(path)
    if text is None:
        return {}
    try:
        return locate_pointers(text, wanted)
    except RecursionError:  # pragma: no cover - the scanner is iterative; defensive only
        return {}
