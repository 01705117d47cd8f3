"""What ``labelspec fix`` reads and writes: a JSON file (``.json``, ``.json.gz``) or the JSON members of a
zip archive, and their repaired bytes.

Reading is bounded like validation's (``LABELSPEC_MAX_DECOMPRESSED_BYTES``, the expansion-ratio guard), and
the raw bytes are dropped once parsed. A zip archive is rewritten member by member into a temporary
sibling of the target: a repaired member gets its new bytes, every other member (and every member nobody
changed) is copied through unchanged, with its name, order, date, attributes, comment and compression
method; the archive then replaces the target with one rename. Only one member is held in memory at a time.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from labelspec.convert.atomic import check_writable
from labelspec.validator.inputs import (
    DEFAULT_MAX_BYTES,
    UnreadableInput,
    parse_json_bytes,
    read_limited,
)

JSON_NAMES = (".json", ".json.gz")
# The zip64 extra field (header id 1) describes sizes of the old member; zipfile writes its own.
_ZIP64_EXTRA = 0x0001


@dataclass
class Parsed:
    """A parsed JSON document and how its text looked (the output keeps it)."""

    document: Any
    indented: bool
    gzipped: bool

    def take(self) -> Any:
        """The document, given away: this object no longer holds it."""
        document, self.document = self.document, None
        return document


def _parse(data: bytes, gzipped: bool) -> Parsed:
    head = data[:4096]
    return Parsed(parse_json_bytes(data), b"\n " in head or b"\n\t" in head, gzipped)


def _gunzip(data: bytes, label: str) -> bytes:
    packed = io.BytesIO(data)
    with gzip.GzipFile(fileobj=packed) as inner:
        return read_limited(inner, packed.tell, DEFAULT_MAX_BYTES, f"the gzip stream of {label}")


def read_json_file(path: Path) -> Parsed:
    """A ``.json`` or ``.json.gz`` file; raises :class:`UnreadableInput` (or OSError, gzip errors)."""
    with path.open("rb") as raw:
        if not path.name.lower().endswith(".gz"):
            return _parse(raw.read(), False)
        with gzip.GzipFile(fileobj=raw) as stream:
            data = read_limited(stream, raw.tell, DEFAULT_MAX_BYTES, "the gzip stream")
    return _parse(data, True)


def encode(parsed: Parsed, document: Any, gzipped: bool | None = None) -> bytes:
    """``document`` serialised the way ``parsed`` was written (indented or compact), gzipped like it
    unless ``gzipped`` says otherwise."""
    if parsed.indented:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    data = text.encode("utf-8")
    return gzip.compress(data, mtime=0) if (parsed.gzipped if gzipped is None else gzipped) else data


def is_json_member(info: zipfile.ZipInfo) -> bool:
    return not info.is_dir() and info.filename.lower().endswith(JSON_NAMES)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Parsed:
    """One JSON member of a zip archive; raises :class:`UnreadableInput`."""
    pure = PurePosixPath(info.filename.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise UnreadableInput("unsafe member name (absolute or with '..'); left as it is")
    try:
        with archive.open(info) as stream:
            left = getattr(stream, "_compress_left", None)
            consumed = (
                (lambda: info.compress_size - int(getattr(stream, "_compress_left", 0)))
                if left is not None
                else (lambda: info.compress_size)
            )
            data = read_limited(stream, consumed, DEFAULT_MAX_BYTES, f"zip member {info.filename}")
        if info.filename.lower().endswith(".gz"):
            return _parse(_gunzip(data, info.filename), True)
        return _parse(data, False)
    except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile, NotImplementedError) as exc:
        raise UnreadableInput(f"cannot read the zip member: {exc}") from None


def _same_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A header for the copy of ``info``: same name, date, method, attributes and comment."""
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.comment = info.comment
    copy.create_system = info.create_system
    copy.external_attr = info.external_attr
    copy.internal_attr = info.internal_attr
    copy.extra = _without_zip64(info.extra)
    return copy


def _without_zip64(extra: bytes) -> bytes:
    kept = bytearray()
    at = 0
    while at + 4 <= len(extra):
        header = int.from_bytes(extra[at : at + 2], "little")
        size = int.from_bytes(extra[at + 2 : at + 4], "little")
        if header != _ZIP64_EXTRA:
            kept += extra[at : at + 4 + size]
        at += 4 + size
    return bytes(kept)


class ZipRewrite:
    """The repaired archive, written into a temporary sibling of ``target`` and renamed onto it by
    :meth:`publish`; leaving the block without publishing removes the temporary file."""

    def __init__(self, source: zipfile.ZipFile, target: Path, force: bool) -> None:
        check_writable(target, force)
        self.source = source
        self.target = target
        self._handle: IO[bytes] | None = None
        self._out: zipfile.ZipFile | None = None

    def __enter__(self) -> ZipRewrite:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._handle = tempfile.NamedTemporaryFile(
            dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".tmp", delete=False
        )
        self._out = zipfile.ZipFile(self._handle, "w", allowZip64=True)
        self._out.comment = self.source.comment
        return self

    def copy(self, info: zipfile.ZipInfo) -> None:
        """The member as it is (decompressed and compressed again with the same method, in chunks)."""
        assert self._out is not None
        with (
            self.source.open(info) as src,
            self._out.open(_same_info(info), "w", force_zip64=info.file_size >= 2**31) as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)

    def write(self, info: zipfile.ZipInfo, data: bytes) -> None:
        assert self._out is not None
        with self._out.open(_same_info(info), "w", force_zip64=len(data) >= 2**31) as dst:
            dst.write(data)

    def publish(self) -> None:
        assert self._out is not None and self._handle is not None
        self._out.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._handle.name, self.target)
        self._handle = None

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            if self._out is not None:
                self._out.close()
            self._handle.close()
            Path(self._handle.name).unlink(missing_ok=True)


def json_members(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    return (info for info in archive.infolist() if is_json_member(info))
