"""The Encord bitmask rleString codec (schemas/encord/notes.md#s5).

Test vectors, round trips, pycocotools interop.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelspec.codecs.encord_bitmask import (
    RleError,
    counts_to_mask,
    decode_mask,
    decode_rle_string,
    encode_mask,
    encode_rle_string,
    mask_to_counts,
)

# notes §5 "Test vectors (verified)"
VECTORS = [
    ("02220N:0F20N", [0, 2, 2, 4, 2, 2, 12, 2, 2, 4, 2, 2]),
    ("12202O", [1, 2, 2, 2, 4, 1]),
    ("T3hm25", [100, 3000, 5]),
    ("06", [0, 6]),
    (":6", [10, 6]),
    ("", []),
]


@pytest.mark.parametrize(("rle", "counts"), VECTORS)
def test_vectors_decode(rle: str, counts: list[int]) -> None:
    assert decode_rle_string(rle) == counts


@pytest.mark.parametrize(("rle", "counts"), VECTORS)
def test_vectors_encode(rle: str, counts: list[int]) -> None:
    assert encode_rle_string(counts) == rle


def test_documentation_example_is_four_corner_squares() -> None:
    mask = decode_mask("02220N:0F20N", 6, 6)
    expected = np.zeros((6, 6), dtype=bool)
    for rows in (slice(0, 2), slice(4, 6)):
        for cols in (slice(0, 2), slice(4, 6)):
            expected[rows, cols] = True
    assert mask.dtype == np.bool_ and mask.shape == (6, 6)
    assert (mask == expected).all()


def test_counts_follow_the_notes_example() -> None:
    # notes §5 step 2: [0,1,1,0, 0,1,1,0, 0,0,0,1] -> [1,2,2,2,4,1] (row-major)
    mask = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=bool)
    assert mask_to_counts(mask) == [1, 2, 2, 2, 4, 1]
    assert encode_mask(mask) == "12202O"
    assert mask_to_counts(np.ones((2, 2), dtype=bool)) == [0, 4]  # leading 0 when the first pixel is set
    assert mask_to_counts(np.zeros((0, 3), dtype=bool)) == []


def test_short_counts_are_zero_filled_and_long_ones_rejected() -> None:
    assert counts_to_mask([1, 2], 2, 2).tolist() == [[False, True], [True, False]]
    with pytest.raises(RleError, match="more than"):
        counts_to_mask([0, 6], 2, 2)


@pytest.mark.parametrize(
    ("rle", "match"),
    [
        ("0P", "ends inside"),  # 'P' (32) has the 'more' bit: truncated
        ("0p", "outside"),  # 'p' is beyond 'o'
        ("0 ", "outside"),
        ("0é", "outside"),
        ("4O", "negative"),  # second count decodes to -1
        ("0" + "P" * 13 + "0", "60 bits"),
    ],
)
def test_invalid_strings_are_rejected(rle: str, match: str) -> None:
    with pytest.raises(RleError, match=match):
        decode_rle_string(rle)


def test_matches_the_sdk_implementation() -> None:
    sdk = pytest.importorskip("encord.common.bitmask_operations.bitmask_operations")
    rng = np.random.default_rng(7)
    for _ in range(200):
        counts = [int(c) for c in rng.integers(0, 5000, size=int(rng.integers(0, 15)))]
        rle = sdk._rle_to_string(counts)
        assert encode_rle_string(counts) == rle
        assert decode_rle_string(rle) == sdk._string_to_rle(rle) == counts


masks = st.tuples(st.integers(1, 24), st.integers(1, 24)).flatmap(
    lambda shape: arrays(np.bool_, shape, elements=st.booleans())
)


@given(masks)
def test_round_trip_random_masks(mask: npt.NDArray[np.bool_]) -> None:
    counts = mask_to_counts(mask)
    assert sum(counts) == mask.size
    rle = encode_rle_string(counts)
    assert set(rle) <= {chr(c) for c in range(48, 112)}
    assert decode_rle_string(rle) == counts
    assert encode_rle_string(decode_rle_string(rle)) == rle
    assert (counts_to_mask(counts, *mask.shape) == mask).all()
    assert (decode_mask(rle, *mask.shape) == mask).all()


@given(st.lists(st.integers(0, 2**40), max_size=30))
def test_round_trip_counts(counts: list[int]) -> None:
    assert decode_rle_string(encode_rle_string(counts)) == counts


@given(masks)
def test_pycocotools_reads_the_string_with_swapped_axes(mask: npt.NDArray[np.bool_]) -> None:
    """notes §5 "pycocotools interop": decode({"counts": s, "size": [width, height]}).T is the mask."""
    cocomask = pytest.importorskip("pycocotools.mask")
    height, width = mask.shape
    rle = encode_mask(mask)
    decoded = cocomask.decode({"counts": rle.encode("ascii"), "size": [width, height]}).T
    assert decoded.shape == (height, width)
    assert (decoded.astype(bool) == decode_mask(rle, height, width)).all()


@given(st.lists(st.integers(0, 10**6), min_size=300, max_size=600))
def test_long_strings_decode_like_short_ones(counts: list[int]) -> None:
    """Strings above the short-string threshold take the vectorised path; both paths agree."""
    from labelspec.codecs.encord_bitmask import _decode_short

    rle = encode_rle_string(counts)
    assert len(rle) > 256
    assert decode_rle_string(rle) == _decode_short(rle) == counts


@pytest.mark.parametrize(
    ("tail", "match"),
    [("P", "ends inside"), ("p", "outside"), ("4O", "negative"), ("P" * 13 + "0", "60 bits")],
)
def test_long_invalid_strings_are_rejected(tail: str, match: str) -> None:
    with pytest.raises(RleError, match=match):
        decode_rle_string("0" * 300 + tail)
