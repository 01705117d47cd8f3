"""Readers: one module per source format, each with ``read(document, options, report) -> LabelledDataset``.

They are registered (with what they keep and drop) in :mod:`labelspec.convert.registry`. Shared helpers
for the readers live here.
"""

from __future__ import annotations

from typing import Any

from labelspec.convert.model import AttributeValue, MediaItem
from labelspec.convert.registry import ReadOptions

__all__ = ["as_attribute_value", "keeps", "number", "with_size"]


def number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (null, strings, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def as_attribute_value(value: Any) -> AttributeValue:
    """A JSON value as a model attribute value (lists become tuples of strings, objects their JSON text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return tuple(str(v) if not isinstance(v, str) else v for v in value)
    import json

    return json.dumps(value, sort_keys=True)


def with_size(item: MediaItem, options: ReadOptions, *, by_stem: bool = False) -> MediaItem:
    """The item with its width/height read from the media file header under ``--media-dir`` when missing."""
    if item.width is not None and item.height is not None:
        return item
    from dataclasses import replace

    from labelspec.convert.media import size_from_media

    for reference in (item.file_name, item.url):
        if not reference:
            continue
        size = size_from_media(options.media_dir, reference, by_stem=by_stem)
        if size is not None:
            return replace(item, width=size[0], height=size[1])
    return item


def keeps(status: object, options: ReadOptions, skipped_by_default: frozenset[str], *also: object) -> bool:
    """Whether an item with ``status`` is read: ``--status`` values (case-insensitive; ``all`` = every
    status) when given, else every status but the reader's ``skipped_by_default`` ones. ``also``: other
    names the item's status goes by (the model's status, e.g. ``rejected``, so that one ``--status`` value
    selects the same items of every vendor; Encord's ``annotation_task_status``)."""
    value = str(status).upper()
    wanted = {s.upper() for s in options.statuses}
    if not wanted:
        return value not in skipped_by_default
    return "ALL" in wanted or value in wanted or any(str(a).upper() in wanted for a in also if a is not None)
