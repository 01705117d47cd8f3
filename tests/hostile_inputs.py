"""Builders for hostile inputs that are too large to commit (bombs, very deep nesting)."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

MIB = 1 << 20


def gzip_bomb(path: Path, gib: int = 3) -> Path:
    """A valid multi-member gzip file of ``gib`` GiB of whitespace, about 1 KiB per MiB on disk."""
    member = gzip.compress(b" " * MIB, compresslevel=9)
    with path.open("wb") as out:
        for _ in range(gib * 1024):
            out.write(member)
    return path


def zip_bomb(path: Path, gib: int = 3, name: str = "export.json") -> Path:
    """A zip archive with one deflated member of ``gib`` GiB of whitespace (about 3 MB on disk).

    The deflate stream repeats one fully flushed block of 1 MiB, so it is built in milliseconds instead
    of compressing gigabytes. Sizes stay below 4 GiB, so no zip64 records are needed.
    """
    chunk = b" " * MIB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty final block
    count = gib * 1024
    size = count * MIB
    assert size < 1 << 32
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    data_len = len(block) * count + len(final)
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, data_len, size, len(encoded), 0)
    with path.open("wb") as out:
        out.write(local + encoded)
        for _ in range(count):
            out.write(block)
        out.write(final)
        central_offset = out.tell()
        central = struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            data_len,
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        out.write(central + encoded)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(encoded), central_offset, 0)
        out.write(end)
    return path


def deep_nesting(depth: int = 200_000) -> bytes:
    return b"[" * depth + b"]" * depth
