"""The Segments.ai segmentation-bitmap id encoding (schemas/segments/notes.md#s7).

A label bitmap is an 8-bit RGBA PNG in which every pixel holds an instance id spread over the colour
channels: ``id = R + 256·G + 65536·B`` (24 bits); alpha is 255 and carries no information; id 0 means
"no object". The ids refer to ``annotations[].id`` of the label.

The SDK writes bitmaps with ``utils.bitmap2file`` (a little-endian ``view(uint8)`` of a uint32 array with
alpha set to 255) and reads them with ``load_label_bitmap_from_url`` (alpha cleared, then ``view(uint32)``):
the same formula both ways, which :func:`rgba_to_ids` and :func:`ids_to_rgba` implement without depending
on the host byte order.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_ID", "BitmapFormatError", "ids_to_rgba", "read_bitmap", "read_bitmap_bytes", "rgba_to_ids"]

MAX_ID = 0xFFFFFF
"""The largest id the three colour channels can hold."""


class BitmapFormatError(ValueError):
    """The image is not a Segments label bitmap (not a PNG Pillow can read, or not RGB(A))."""


def rgba_to_ids(array: npt.ArrayLike) -> npt.NDArray[np.uint32]:
    """Decode an ``(H, W, 4)`` RGBA (or ``(H, W, 3)`` RGB) uint8 array into an ``(H, W)`` uint32 id array.

    Alpha is ignored: ``id = R + 256·G + 65536·B``.
    """
    pixels = np.asarray(array)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) array, got shape {pixels.shape}")
    channels = pixels[:, :, :3].astype(np.uint32)
    ids = channels[:, :, 0] | (channels[:, :, 1] << np.uint32(8)) | (channels[:, :, 2] << np.uint32(16))
    result: npt.NDArray[np.uint32] = ids.astype(np.uint32, copy=False)
    return result


def ids_to_rgba(ids: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Encode an ``(H, W)`` array of instance ids (0..16777215) as an ``(H, W, 4)`` uint8 RGBA array.

    Alpha is 255 everywhere, as the SDK writes it. Ids outside 0..``MAX_ID`` raise :class:`ValueError`
    (they cannot be represented; the SDK would silently keep only their low 24 bits).
    """
    values = np.asarray(ids)
    if values.ndim != 2:
        raise ValueError(f"expected an (H, W) id array, got shape {values.shape}")
    if values.size and (values.min() < 0 or values.max() > MAX_ID):
        raise ValueError(f"ids must lie in 0..{MAX_ID}")
    wide = values.astype(np.uint32)
    rgba = np.empty((*wide.shape, 4), dtype=np.uint8)
    rgba[:, :, 0] = wide & 0xFF
    rgba[:, :, 1] = (wide >> 8) & 0xFF
    rgba[:, :, 2] = (wide >> 16) & 0xFF
    rgba[:, :, 3] = 255
    return rgba


def _decode(source: Any, require_alpha: bool) -> npt.NDArray[np.uint32]:
    from PIL import Image

    modes = ("RGBA",) if require_alpha else ("RGBA", "RGB")
    try:
        with Image.open(source) as image:
            if image.mode not in modes:
                raise BitmapFormatError(
                    f"a Segments label bitmap is an RGBA PNG; this image has mode {image.mode!r}"
                )
            pixels = np.asarray(image)
    except BitmapFormatError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # Pillow names in-memory sources by address (<_io.BytesIO object at 0x...>): keep messages stable
        reason = re.sub(r"<[^<>]* at 0x[0-9A-Fa-f]+>", "the data", str(exc))
        raise BitmapFormatError(f"not a readable image: {reason}") from exc
    return rgba_to_ids(pixels)


def read_bitmap(path: str | os.PathLike[str], *, require_alpha: bool = False) -> npt.NDArray[np.uint32]:
    """Read a label bitmap file into an ``(H, W)`` uint32 id array.

    RGB images are accepted too (the formula needs no alpha), although the SDK reader itself works only
    on 4-channel PNGs; ``require_alpha=True`` refuses them as the SDK does. Anything else raises
    :class:`BitmapFormatError`; a missing file raises :class:`FileNotFoundError`.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return _decode(os.fspath(path), require_alpha)


def read_bitmap_bytes(data: bytes, *, require_alpha: bool = False) -> npt.NDArray[np.uint32]:
    """Like :func:`read_bitmap`, for the bytes of a PNG (e.g. the payload of a ``data:`` URL)."""
    return _decode(io.BytesIO(data), require_alpha)
