"""Image sizes read from the media's first bytes when the export names them by URL and says no size.

YOLO, COCO, mask and Encord targets need every image's pixel size; DataGym and Segments vector exports do
not carry it. Before writing such a target, :func:`resolve_sizes` fetches the first bytes of each image
still without a size (an HTTP ``Range`` request, ``labelspec.convert.fetch.fetch_head``, cached like the
bitmaps) and reads the size from the header, a few images at a time. ``--offline`` skips this (the writer
then names the file to put under ``--media-dir``); an unreachable or refused URL is an error naming that
file too.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from labelspec.convert.media import media_basename
from labelspec.convert.model import ConversionReport, LabelledDataset, MediaItem
from labelspec.convert.registry import ConversionError, ReadOptions

__all__ = ["resolve_sizes", "size_from_head"]

_CONCURRENCY = 8


def size_from_head(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from the first bytes of an image file, None when they hold no image header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # Pillow reads the header only
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None
    return int(width), int(height)


def _remote(item: MediaItem) -> bool:
    url = item.url or ""
    return (
        (item.width is None or item.height is None)
        and url.lower().startswith(("http://", "https://"))
        and item.attributes.get("media_type") != "pointcloud"
    )


def resolve_sizes(
    dataset: LabelledDataset, options: ReadOptions, report: ConversionReport
) -> LabelledDataset:
    """The dataset with the sizes of its URL-named images read from their first bytes (see the module)."""
    from labelspec.convert.fetch import FetchError, NetworkPolicy, fetch_head

    missing = [m for m in dataset.media if _remote(m)]
    if not missing or options.offline:
        return dataset
    policy = NetworkPolicy(offline=False, allow_private=options.allow_private_network)
    cache = options.cache_dir or Path(".labelspec-cache")
    urls = list(dict.fromkeys(m.url for m in missing if m.url))

    def one(url: str) -> tuple[int, int] | str:
        try:
            head = fetch_head(url, cache, policy=policy)
        except FetchError as exc:
            return exc.reason
        size = size_from_head(head.read_bytes())
        return size if size is not None else "its first bytes are not an image header Pillow reads"

    with ThreadPoolExecutor(max_workers=min(_CONCURRENCY, len(urls))) as pool:
        found = dict(zip(urls, pool.map(one, urls), strict=True))
    for item in missing:
        result = found[item.url or ""]
        if isinstance(result, str):
            raise ConversionError(
                f"the size of image {item.file_name!r} is not in the export and cannot be read from "
                f"{item.url} ({result}); put {media_basename(item.url or '')!r} under --media-dir DIR (only "
                "its header is read)",
                2,
                conversion=report,
            )
    report.counts["sizes_from_urls"] = len(urls)
    media = tuple(
        replace(m, width=size[0], height=size[1])
        if _remote(m) and not isinstance(size := found[m.url or ""], str)
        else m
        for m in dataset.media
    )
    return replace(dataset, media=media)
