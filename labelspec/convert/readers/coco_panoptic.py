"""COCO panoptic JSON (+ its PNGs) -> canonical model, for ``stats``, ``report`` and ``diff``.

- categories keep their integer ids (as strings, ``source_id`` the integer), names, supercategories,
  colours and ``isthing``;
- images keep their ids, file names and sizes;
- every ``segments_info`` entry is one annotation (id ``<image id>#<segment id>``, ``is_crowd`` from
  ``iscrowd``) whose geometry is the segment's pixels in the annotation's PNG (``id = R + 256·G + 256²·B``,
  the codec of ``labelspec.codecs.segments_bitmap``), found under ``--media-dir``. Without the PNG a
  conversion stops; in inspect mode (``ReadOptions.inspect``) the segments get empty masks and the image
  says why.

Not registered as a conversion source yet: ``labelspec convert`` reads COCO instance, not panoptic.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from labelspec.convert.model import (
    MISSING_MEDIA,
    Annotation,
    Category,
    ConversionReport,
    LabelledDataset,
    Mask,
    MediaItem,
)
from labelspec.convert.readers import number
from labelspec.convert.registry import ConversionError, ReadOptions

__all__ = ["read"]


def _colour(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value):
        return value[0], value[1], value[2]
    return None


def _pixels(file_name: str, options: ReadOptions) -> Any:
    """The segment ids of a panoptic PNG, or raise OSError / ValueError saying why not."""
    from labelspec.codecs.segments_bitmap import read_bitmap
    from labelspec.convert.media import find_media

    if options.media_dir is None:
        raise FileNotFoundError(f"{file_name}: no --media-dir with the panoptic PNGs")
    found = find_media(options.media_dir, file_name)
    if found is None:
        raise FileNotFoundError(f"{file_name} is not under {options.media_dir}")
    return read_bitmap(found)


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    from labelspec.convert.readers.coco import mask_to_counts

    raw = document if isinstance(document, dict) else {}
    categories = tuple(
        Category(
            id=str(c.get("id")),
            name=str(c.get("name", c.get("id"))),
            supercategory=c.get("supercategory"),
            color=_colour(c.get("color")),
            is_thing=bool(c.get("isthing", 1)),
            source_id=c.get("id"),
        )
        for c in raw.get("categories") or ()
        if isinstance(c, dict)
    )
    media: dict[str, MediaItem] = {}
    for image in raw.get("images") or ():
        if isinstance(image, dict):
            width, height = number(image.get("width")), number(image.get("height"))
            item_id = str(image.get("id"))
            media[item_id] = MediaItem(
                item_id,
                str(image.get("file_name") or item_id),
                int(width) if width is not None else None,
                int(height) if height is not None else None,
            )
    annotations: list[Annotation] = []
    for index, entry in enumerate(raw.get("annotations") or ()):
        if not isinstance(entry, dict):
            continue
        image_id = str(entry.get("image_id"))
        segments = [s for s in entry.get("segments_info") or () if isinstance(s, dict)]
        try:
            ids = _pixels(str(entry.get("file_name")), options)
        except (OSError, ValueError) as exc:
            if not options.inspect:
                raise ConversionError(f"/annotations/{index}: {exc}", 2) from None
            item = media.get(image_id) or MediaItem(image_id, image_id)
            why = f"panoptic PNG: {exc}"
            media[image_id] = replace(item, attributes={**item.attributes, MISSING_MEDIA: why})
            ids = None
        for segment in segments:
            geometry = Mask(0, 0, ())
            if ids is not None:
                height, width = ids.shape
                geometry = Mask(height, width, mask_to_counts(ids == int(segment.get("id", 0))))
            annotations.append(
                Annotation(
                    f"{image_id}#{segment.get('id')}",
                    image_id,
                    str(segment.get("category_id")),
                    geometry,
                    is_crowd=bool(segment.get("iscrowd", 0)),
                )
            )
    report.counts.update(media=len(media), categories=len(categories), annotations=len(annotations))
    return LabelledDataset(tuple(media.values()), categories, tuple(annotations))
