"""The columns the streamed COCO reader (:mod:`labelspec.convert.readers.coco_stream`) needs, for a COCO
instance file the native checks do not certify clean (warnings, string or float ids, an unusual producer):
that file is first validated by the streamed section reference path (labelspec.validator.scale.sections:
one section item at a time, bounded memory), and if it is valid its elements are found with the same
scanner (``scan_sections``) and read one at a time here, so the conversion never loads the document.

Image ids may be any JSON value here: images are numbered by their position, and each annotation is given
the position of its image. Anything this reader cannot stream (an image without its size, an annotation
whose image is not in the file, a repeated image id) gives None: the caller converts in memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

__all__ = ["section_columns"]

_SECTIONS = frozenset({"images", "annotations", "categories"})


def _key(value: Any) -> str:
    return str(value)  # as the readers key media items (MediaItem.id = str(image id))


def _size(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) and value > 0 else None


def section_columns(path: Path) -> dict[str, Any] | None:
    """Columns like the native checks' (positions for image ids), or None (convert in memory)."""
    import numpy as np

    from labelspec.validator.scale.split import FileBytes, scan_sections

    with FileBytes(os.fspath(path)) as data:
        layouts = scan_sections(data, _SECTIONS) if len(data) else None
        if layouts is None or not {"images", "annotations"} <= set(layouts):
            return None
        images, annotations = layouts["images"], layouts["annotations"]
        categories = layouts.get("categories")
        position: dict[str, int] = {}
        widths, heights = [], []
        for n, (start, end) in enumerate(zip(images.starts, images.ends, strict=True)):
            image = orjson.loads(data[start:end])
            if not isinstance(image, dict) or _key(image.get("id")) in position:
                return None
            position[_key(image.get("id"))] = n
            width, height = _size(image.get("width")), _size(image.get("height"))
            if width is None or height is None:
                return None
            widths.append(width)
            heights.append(height)
        owners = []
        for start, end in zip(annotations.starts, annotations.ends, strict=True):
            annotation = orjson.loads(data[start:end])
            at = position.get(_key(annotation.get("image_id"))) if isinstance(annotation, dict) else None
            if at is None:
                return None
            owners.append(at)

    def offsets(starts: tuple[int, ...], ends: tuple[int, ...]) -> Any:
        return np.array([starts, ends], dtype=np.int64).T.reshape(-1, 2)

    category_at = offsets(categories.starts, categories.ends) if categories else np.zeros((0, 2), np.int64)
    return {
        "image_id": np.arange(len(widths), dtype=np.int64),
        "image_width": np.array(widths, dtype=np.float64),
        "image_height": np.array(heights, dtype=np.float64),
        "image_at": offsets(images.starts, images.ends),
        "ann_image": np.array(owners, dtype=np.int64),
        "ann_id": np.zeros(len(owners), dtype=np.int64),  # (only counted by usable())
        "annotation_at": offsets(annotations.starts, annotations.ends),
        "category_id": np.zeros(len(category_at), dtype=np.int64),
        "category_at": category_at,
    }
