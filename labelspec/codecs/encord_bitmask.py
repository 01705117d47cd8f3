"""The Encord bitmask ``rleString`` codec, exactly as Encord's SDK implements it (schemas/encord/notes.md#s5).

An Encord bitmask is COCO's "compressed RLE" string codec applied to the mask flattened in **row-major (C)
order** (COCO itself flattens column-major):

* *counts* are alternating run lengths, always starting with a run of 0s (a leading ``0`` when the first
  pixel is set); they sum to ``height * width`` when written by the SDK;
* each count (from the fourth one on, as the difference to the count two places before it) is written as
  5-bit groups, least significant first, each group as ``chr(48 + bits)`` with ``0x20`` marking "more
  groups follow" and ``0x10`` of the last group being the sign bit; the alphabet is ``'0'`` … ``'o'``.

Test vectors: ``"12202O"`` ↔ ``[1, 2, 2, 2, 4, 1]``, ``"T3hm25"`` ↔ ``[100, 3000, 5]``, ``"06"`` ↔ ``[0, 6]``.

The same strings are readable by pycocotools when the axes are swapped:
``pycocotools.mask.decode({"counts": s, "size": [width, height]}).T`` is the ``height × width`` mask.

Unlike the SDK, which silently produces garbage for them, :func:`decode_rle_string` rejects strings that
are not valid encodings (characters outside the alphabet, a truncated last group, negative run lengths)
with :class:`RleError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "RleError",
    "counts_to_mask",
    "decode_mask",
    "decode_rle_string",
    "encode_mask",
    "encode_rle_string",
    "mask_to_counts",
]

_OFFSET = 48  # chr(48) == "0"
_MAX_GROUPS = 12  # 60 bits: far beyond any real run length, and safe in int64
_SHORT = 256  # below this length a plain loop beats numpy's per-call overhead


class RleError(ValueError):
    """An ``rleString`` that is not a valid encoding, or counts that do not fit the mask."""


def decode_rle_string(rle_string: str) -> list[int]:
    """Decode an Encord ``rleString`` into its run-length counts.

    The counts alternate between runs of 0s and runs of 1s, starting with 0s. Raises :class:`RleError` if
    the string has a character outside ``'0'`` … ``'o'``, ends in the middle of a number, encodes a number
    too large to be a run length, or yields a negative run length.
    """
    if not rle_string:
        return []
    if len(rle_string) <= _SHORT:
        return _decode_short(rle_string)
    try:
        raw = rle_string.encode("ascii")
    except UnicodeEncodeError as exc:
        raise RleError(f"character {rle_string[exc.start]!r} at {exc.start} is outside '0'..'o'") from None
    chars = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - _OFFSET
    bad = np.flatnonzero((chars < 0) | (chars > 63))
    if bad.size:
        at = int(bad[0])
        raise RleError(f"character {rle_string[at]!r} at {at} is outside '0'..'o'")
    last_of_group = (chars & 0x20) == 0
    if not last_of_group[-1]:
        raise RleError("the string ends inside a number (its last character has the 'more' bit 0x20)")
    ends = np.flatnonzero(last_of_group)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if int(lengths.max()) > _MAX_GROUPS:
        raise RleError("a run length is encoded with more than 60 bits")
    # Position of each character within its group: 5-bit shift of its payload.
    position = np.arange(chars.size, dtype=np.int64) - np.repeat(starts, lengths)
    payload = (chars & 0x1F) << (5 * position)
    values = np.add.reduceat(payload, starts)
    negative = (chars[ends] & 0x10) != 0
    values[negative] -= np.left_shift(np.int64(1), 5 * lengths[negative])
    counts = values.copy()
    # From index 3 on, counts[i] = value[i] + counts[i-2] (the SDK's condition is len(counts) > 2).
    if counts.size > 3:
        counts[1::2] = np.cumsum(values[1::2])
    if counts.size > 4:
        counts[2::2] = np.cumsum(values[2::2])
    if counts.size and int(counts.min()) < 0:
        at = int(np.flatnonzero(counts < 0)[0])
        raise RleError(f"run {at} has a negative length ({int(counts[at])})")
    return [int(c) for c in counts]


def _decode_short(rle_string: str) -> list[int]:
    """The same decoding as a plain loop (the SDK's algorithm, plus the validity checks)."""
    counts: list[int] = []
    x = shift = groups = 0
    for at, char in enumerate(rle_string):
        c = ord(char) - _OFFSET
        if not 0 <= c <= 63:
            raise RleError(f"character {char!r} at {at} is outside '0'..'o'")
        x |= (c & 0x1F) << shift
        shift += 5
        groups += 1
        if c & 0x20:
            if groups >= _MAX_GROUPS:
                raise RleError("a run length is encoded with more than 60 bits")
            continue
        if c & 0x10:
            x -= 1 << shift
        if len(counts) > 2:
            x += counts[-2]
        if x < 0:
            raise RleError(f"run {len(counts)} has a negative length ({x})")
        counts.append(x)
        x = shift = groups = 0
    if groups:
        raise RleError("the string ends inside a number (its last character has the 'more' bit 0x20)")
    return counts


def encode_rle_string(counts: Sequence[int]) -> str:
    """Encode run-length counts (0s first) as an ``rleString``; the inverse of :func:`decode_rle_string`."""
    out: list[str] = []
    for i, count in enumerate(counts):
        x = int(count)
        if x < 0:
            raise RleError(f"run {i} has a negative length ({x})")
        if i > 2:
            x -= int(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if c & 0x10 else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + _OFFSET))
    return "".join(out)


def counts_to_mask(counts: Sequence[int], height: int, width: int) -> npt.NDArray[np.bool_]:
    """The ``height × width`` boolean mask (row-major) that run-length ``counts`` describe.

    Counts summing to less than ``height * width`` leave the rest of the mask unset, as the SDK does; a
    larger sum (the SDK's ``IndexError``) or a negative count raises :class:`RleError`.
    """
    if height < 0 or width < 0:
        raise RleError(f"negative mask size {width}x{height}")
    size = height * width
    runs = np.asarray(counts, dtype=np.int64)
    if runs.size and int(runs.min()) < 0:
        raise RleError("a run length is negative")
    total = int(runs.sum()) if runs.size else 0
    if total > size:
        raise RleError(f"the runs cover {total} pixels, more than {width}x{height} = {size}")
    values = (np.arange(runs.size) % 2).astype(np.bool_)
    flat = np.zeros(size, dtype=np.bool_)
    flat[:total] = np.repeat(values, runs)
    return flat.reshape(height, width)


def mask_to_counts(mask: npt.ArrayLike) -> list[int]:
    """Run-length counts of a 2-D mask flattened row by row (0s first, a leading 0 if the first pixel is set).

    Any non-zero value counts as set. An empty mask gives ``[]``, as in the SDK.
    """
    flat = np.asarray(mask).astype(np.bool_).ravel(order="C")
    if flat.size == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds)
    counts = [int(r) for r in runs]
    if flat[0]:
        counts.insert(0, 0)
    return counts


def decode_mask(rle_string: str, height: int, width: int) -> npt.NDArray[np.bool_]:
    """Decode an Encord ``rleString`` straight into its ``height × width`` boolean mask."""
    return counts_to_mask(decode_rle_string(rle_string), height, width)


def encode_mask(mask: npt.ArrayLike) -> str:
    """Encode a 2-D mask as an Encord ``rleString`` (what the SDK writes for a full-image bitmask)."""
    return encode_rle_string(mask_to_counts(mask))
