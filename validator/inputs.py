"""Reading exports from disk: ``.json``, ``.json.gz``, ``.zip`` archives and YOLO text datasets.

Every input becomes one or more :class:`LoadedDocument`: either a parsed document or a clear reason why
it cannot be read (which the validator reports with exit code 2, never a traceback). Decompression is
bounded, so a zip or gzip bomb is refused instead of exhausting memory.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import orjson

from labelspec import format_ids
from labelspec.validator.paths import select
from labelspec.validator.report import escape_token

if TYPE_CHECKING:
    import zipfile

    from labelspec.validator.folders import YoloDataset

# List-shaped exports (and COCO files) larger than this are validated item by item unless told otherwise.
STREAM_THRESHOLD = int(os.environ.get("LABELSPEC_STREAM_THRESHOLD", 64 * 1024**2))
# A decompressed stream may not exceed this many bytes, nor grow past this ratio once it is large.
DEFAULT_MAX_BYTES = int(os.environ.get("LABELSPEC_MAX_DECOMPRESSED_BYTES", 4 * 1024**3))
DEFAULT_MAX_RATIO = 200
_RATIO_FLOOR = 8 * 1024**2  # below this, any ratio is fine (small files may compress very well)
_CHUNK = 256 * 1024  # small reads keep the ratio check close to the compressed bytes consumed
UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableInput(Exception):
    """The input cannot be turned into a document; the message says why, for the user."""


@dataclass
class LoadedDocument:
    """One document to validate, or the reason it could not be read."""

    name: str
    document: Any = None
    error: str | None = None
    format_hint: str | None = None
    # Turns a JSON Pointer into a location in the original text (e.g. YOLO file and line), if known.
    locate: Callable[[str], str | None] | None = None
    # JSON Pointers of keys that occur twice in one object (the parser kept the last value).
    duplicate_keys: list[str] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.error is None


def parse_json_bytes(data: bytes) -> Any:
    """Parse JSON text strictly (UTF-8, no NaN/Infinity), raising :class:`UnreadableInput`."""
    if not data.strip():
        raise UnreadableInput("the file is empty; expected a JSON document")
    if data.startswith(UTF8_BOM):
        raise UnreadableInput(
            "the file starts with a UTF-8 byte order mark, which JSON forbids (RFC 8259 §8.1); "
            "re-save it as UTF-8 without BOM"
        )
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg
        if "recursion" in reason.lower() or "depth limit" in reason.lower():
            reason = "nesting is deeper than 1024 levels"
        raise UnreadableInput(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {reason}") from None


_NOT_GIVEN: Any = object()


class _PairsDict(dict[str, Any]):
    """A parsed object that remembers which of its keys were repeated."""

    repeated: tuple[str, ...] = ()


def _remember_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = _PairsDict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        result.repeated = tuple(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return result


def _has_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _RepeatFound
    return result


class _RepeatFound(Exception):
    pass


def may_repeat_keys(data: bytes, document: Any) -> bool:
    """False when ``document`` (parsed from ``data``) certainly has no key repeated within an object.

    Outside strings every ``:`` of JSON text separates a key from its value, so the text has as many keys
    as colons outside strings; the parsed document keeps one key per name, and re-serialising it writes
    one colon per key it kept. Colons inside strings are written back as they were read unless the text
    escaped them (``\\u003a``), so: same number of colons in both texts and no escaped colon means no
    key was dropped, i.e. no repeat. Exact, and about ten times cheaper than a second parse.
    """
    if b"\\u003a" in data or b"\\u003A" in data:
        return True
    try:
        again = orjson.dumps(document)
    except (TypeError, orjson.JSONEncodeError):
        return True
    return data.count(b":") != again.count(b":")


def find_duplicate_keys(data: bytes, document: Any = _NOT_GIVEN) -> list[str]:
    """JSON Pointers of every key repeated within one object (Python's parser silently keeps the last).

    Given the parsed ``document``, a cheap exact test (:func:`may_repeat_keys`) answers for the usual
    document that has no repeat; otherwise a first pass only detects, and the locating pass runs only for
    the rare documents that have repeats.
    """
    if document is not _NOT_GIVEN and not may_repeat_keys(data, document):
        return []
    text = data.decode("utf-8")
    try:
        json.loads(text, object_pairs_hook=_has_repeats)
        return []
    except _RepeatFound:
        pass
    except (ValueError, RecursionError):
        return []
    tree = json.loads(text, object_pairs_hook=_remember_repeats)
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(tree, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            for key in getattr(node, "repeated", ()):
                found.append(f"{pointer}/{escape_token(key)}")
            stack.extend((value, f"{pointer}/{escape_token(key)}") for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, f"{pointer}/{i}") for i, value in enumerate(node))
    return sorted(found)


def read_limited(stream: Any, consumed: Callable[[], int], max_bytes: int, label: str) -> bytes:
    """Read a decompressing stream, refusing bombs: a cap on the output, and on the expansion ratio of
    the compressed bytes consumed so far (so a bomb is stopped after a few MiB, not after gigabytes)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise UnreadableInput(
                f"{label} decompresses to more than {max_bytes} bytes; refusing it "
                "(set LABELSPEC_MAX_DECOMPRESSED_BYTES to raise the limit)"
            )
        if total > _RATIO_FLOOR and total > DEFAULT_MAX_RATIO * max(consumed(), 1):
            raise UnreadableInput(
                f"{label} expands more than {DEFAULT_MAX_RATIO} times ({consumed()} compressed bytes "
                f"already gave {total} bytes); refusing a likely decompression bomb"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _zip_member_consumed(stream: Any, member: zipfile.ZipInfo) -> Callable[[], int]:
    # ZipExtFile tracks the compressed bytes it has not read yet; fall back to the whole member.
    return lambda: member.compress_size - int(getattr(stream, "_compress_left", 0))


def _read_errors() -> tuple[type[Exception], ...]:
    """What reading a file or a broken archive raises (gzip and zipfile are imported only when needed: a
    plain JSON file never needs them, and importing them costs start-up time)."""
    import gzip
    import zipfile

    return OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile


def _is_zip(path: Path) -> bool:
    import zipfile

    return zipfile.is_zipfile(path)


def load_path(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, format: str | None = None
) -> Iterator[LoadedDocument]:
    """The documents held by one path given on the command line or to the API.

    ``format`` decides how a plain file is read: ``yolo`` as a label file, any other format as JSON (a
    COCO file saved as ``.txt`` is JSON), none by its name (``.txt``: a YOLO label file)."""
    name = str(path)
    try:
        if path.is_dir():
            yield from _load_directory(path, format)
            return
        if not path.exists():
            yield LoadedDocument(name, error="no such file")
            return
        lower = path.name.lower()
        if lower.endswith(".zip") or (not lower.endswith(".json") and _is_zip(path)):
            yield from _load_zip(path, max_bytes)
            return
        if lower.endswith(".gz"):
            import gzip

            with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
                data = read_limited(stream, raw.tell, max_bytes, "the gzip stream")
            yield document_from_bytes(name, data)
            return
        if format == "yolo" or (format is None and lower.endswith(".txt")):  # a single YOLO label file
            yield from _load_yolo(path)
            return
        yield document_from_bytes(name, path.read_bytes())
    except UnreadableInput as exc:
        yield LoadedDocument(name, error=str(exc))
    except _read_errors() as exc:
        yield LoadedDocument(name, error=f"cannot read: {_os_reason(exc)}")


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _load_zip(path: Path, max_bytes: int) -> Iterator[LoadedDocument]:
    import gzip
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        json_members = [m for m in members if m.filename.lower().endswith((".json", ".json.gz"))]
        if not json_members:
            yield LoadedDocument(str(path), error="the zip archive holds no .json member")
            return
        for member in json_members:
            label = f"{path}!{member.filename}"
            pure = PurePosixPath(member.filename.replace("\\", "/"))
            if pure.is_absolute() or ".." in pure.parts:
                yield LoadedDocument(
                    label, error="unsafe member name (absolute or with '..'); refusing to read it"
                )
                continue
            try:
                with archive.open(member) as stream:
                    consumed = _zip_member_consumed(stream, member)
                    data = read_limited(stream, consumed, max_bytes, f"zip member {member.filename}")
                if member.filename.lower().endswith(".gz"):
                    packed = io.BytesIO(data)
                    with gzip.GzipFile(fileobj=packed) as inner:
                        data = read_limited(inner, packed.tell, max_bytes, f"gzip member {member.filename}")
                yield document_from_bytes(label, data)
            except UnreadableInput as exc:
                yield LoadedDocument(label, error=str(exc))
            except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile, NotImplementedError) as exc:
                yield LoadedDocument(label, error=f"cannot read zip member: {_os_reason(exc)}")


def _load_directory(path: Path, format: str | None) -> Iterator[LoadedDocument]:
    """Every document of a folder, one by one (see :mod:`labelspec.validator.folders`; the skipped files
    are listed by the callers that report them)."""
    selection = select(path, format=format)
    if not selection.targets:
        skipped = f" ({len(selection.skipped)} files skipped)" if selection.skipped else ""
        what = "no exports (.json, .json.gz, .zip) and no YOLO dataset in it"
        yield LoadedDocument(str(path), error=f"is a directory with {what}{skipped}")
        return
    for target in selection.targets:
        if target.dataset is not None:
            yield load_dataset(target.dataset)
        else:
            yield from load_path(Path(target.path), format=format)


def load_dataset(dataset: YoloDataset) -> LoadedDocument:
    """A YOLO dataset found in a folder, as one document (or the reason it cannot be read)."""
    try:
        names = Path(dataset.names_file) if dataset.names_file else None
        parsed = _yolo_text().parse_yolo_dataset(Path(dataset.root), dataset.label_files, names)
    except OSError as exc:
        return LoadedDocument(dataset.root, error=f"cannot read: {_os_reason(exc)}")
    return LoadedDocument(dataset.root, document=parsed.document, format_hint="yolo", locate=parsed.locate)


def _load_yolo(path: Path) -> Iterator[LoadedDocument]:
    """One YOLO label file (its names file looked up beside it and in two parent folders)."""
    parsed = _yolo_text().parse_yolo(path)
    yield LoadedDocument(str(path), document=parsed.document, format_hint="yolo", locate=parsed.locate)


def wants_stream(source: object, stream: bool | None, threshold: int = STREAM_THRESHOLD) -> bool:
    """Whether to try item-by-item validation (:mod:`labelspec.validator.scale`): forced, refused, or (None)
    for plain JSON files of at least ``threshold`` bytes."""
    if stream is not None or not isinstance(source, (str, os.PathLike)):
        return bool(stream) and isinstance(source, (str, os.PathLike))
    try:
        return Path(source).is_file() and Path(source).stat().st_size >= threshold
    except OSError:
        return False


def _yolo_text() -> Any:
    """The YOLO text reader (:mod:`labelspec.validator.yolo_text`), imported for YOLO inputs only."""
    return format_ids.load("yolo", "inputs", "yolo_text")


def document_from_bytes(name: str, data: bytes) -> LoadedDocument:
    """Parse JSON bytes into a document, noting repeated keys; raises :class:`UnreadableInput`."""
    document = parse_json_bytes(data)
    return LoadedDocument(name, document=document, duplicate_keys=find_duplicate_keys(data, document))


def load_bytes(data: bytes, name: str = "<bytes>") -> LoadedDocument:
    try:
        return document_from_bytes(name, data)
    except UnreadableInput as exc:
        return LoadedDocument(name, error=str(exc))
