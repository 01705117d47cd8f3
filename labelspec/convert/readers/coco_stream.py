"""A large COCO instance file read one image at a time, in bounded memory.

``labelspec convert`` takes this path for a plain JSON COCO instance file that the native checks certify
clean (:func:`labelspec.validator.native.fastpath.certified_coco`): that pass already walked every element
and kept compact columns (ids, image sizes, each annotation's image) and every element's byte offsets.
From them this reader groups the annotations by image with numpy (no object per annotation), and then
parses, image after image, only that image's annotations from the file (``os.pread``), with the same code
as :func:`labelspec.convert.readers.coco.read`, so the model of an image is exactly what the in-memory
reader gives. A writer that takes groups (``write_groups``, the YOLO writer) writes each image's output
as it comes: memory holds the columns, the media items and one image's annotations, never the document.

A file whose annotations come image by image (as most exporters write them) is read in large sequential
blocks; one whose annotations are in any order is read element by element.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from labelspec.convert.model import Annotation, Category, ConversionReport, MediaItem
from labelspec.convert.readers.coco import _annotations, _category, _media_item
from labelspec.convert.registry import ReadOptions
from labelspec.formats import coco_instance
from labelspec.formats._runtime import to_raw

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["StreamedCoco", "stream"]

BLOCK = 4 << 20  # bytes read at a time when the elements come in file order


class _Elements:
    """Elements of a file by byte offsets: read in blocks while the requests go forward through the file
    in order (``sequential``), else one ``pread`` per element."""

    def __init__(self, fd: int, sequential: bool) -> None:
        self.fd = fd
        self.sequential = sequential
        self.block = b""
        self.block_start = 0

    def get(self, start: int, end: int) -> memoryview | bytes:
        if not self.sequential:
            return os.pread(self.fd, end - start, start)
        offset = start - self.block_start
        if offset < 0 or end - self.block_start > len(self.block):
            self.block = os.pread(self.fd, max(BLOCK, end - start), start)
            self.block_start, offset = start, 0
        return memoryview(self.block)[offset : offset + end - start]


@dataclass(frozen=True)
class StreamedCoco:
    """What a group writer needs of a certified COCO file: the media items, the categories, and the
    annotations image by image (:meth:`groups`, a single pass that reads them from the file)."""

    path: Path
    media: tuple[MediaItem, ...]
    categories: tuple[Category, ...]
    columns: dict[str, Any]
    report: ConversionReport
    info: dict[str, Any]  # the source's ``info`` and ``licenses``, as the in-memory reader keeps them

    def groups(self) -> Iterator[tuple[MediaItem, list[Annotation]]]:
        """Each media item (in the file's order) with its model annotations (in the file's order)."""
        import numpy as np

        order, bounds = _by_image(self.columns)
        at = self.columns["annotation_at"]
        by_category = {c.id: c for c in self.categories}
        sequential = bool(len(order) < 2 or (np.diff(order) == 1).all())
        count = 0
        fd = os.open(self.path, os.O_RDONLY)
        try:
            elements = _Elements(fd, sequential)
            starts, ends, indexes = at[order, 0].tolist(), at[order, 1].tolist(), order.tolist()
            for position, item in enumerate(self.media):
                annotations: list[Annotation] = []
                by_media = {item.id: item}
                for k in range(int(bounds[position]), int(bounds[position + 1])):
                    value = orjson.loads(elements.get(starts[k], ends[k]))
                    annotations += _annotations(value, indexes[k], by_category, by_media, self.report)
                count += len(annotations)
                yield item, annotations
        finally:
            os.close(fd)
        self.report.counts.update(annotations=count)


def _by_image(columns: dict[str, Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(annotation indexes grouped by the position of their image, file order within an image; the
    bounds of image ``j``'s group: ``bounds[j]:bounds[j + 1]``). Every annotation's image exists: the
    native checks certified it (COCO-IMAGE-ID-UNKNOWN)."""
    import numpy as np

    image_ids, wanted = columns["image_id"], columns["ann_image"]
    by_id = np.argsort(image_ids, kind="stable")
    position = by_id[np.searchsorted(image_ids[by_id], wanted)] if len(image_ids) else wanted
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(len(image_ids) + 1))
    return order, bounds


def stream(
    path: Path, columns: dict[str, Any], options: ReadOptions, report: ConversionReport
) -> StreamedCoco:
    """The streamed reading of the certified COCO instance file ``path`` (``columns``: its certified columns
    with byte offsets). Reads the images and categories now (small), the annotations when iterated."""
    with open(path, "rb") as handle:
        fd = handle.fileno()
        images = _Elements(fd, True)
        media = tuple(
            _media_item(orjson.loads(images.get(int(a), int(b))), f"/images/{i}", options)
            for i, (a, b) in enumerate(columns["image_at"].tolist())
        )
        found = [orjson.loads(os.pread(fd, b - a, a)) for a, b in columns["category_at"].tolist()]
        shell = orjson.loads(_shell(fd, os.fstat(fd).st_size, columns))
    categories = tuple(_category(c) for c in coco_instance.from_json({"categories": found}).categories)
    report.counts.update(media=len(media), categories=len(categories), annotations=0)
    info: dict[str, Any] = {}
    if "info" in shell:
        info["coco_info"] = to_raw(coco_instance.from_json(shell).info)
    if "licenses" in shell:
        info["coco_licenses"] = to_raw(coco_instance.from_json(shell).licenses)
    return StreamedCoco(path, media, categories, columns, report, info)


def _shell(fd: int, size: int, columns: dict[str, Any]) -> bytes:
    """The file with the elements of its images, annotations and categories left out (each array's
    elements are one run of bytes between its brackets: the native checks walked them), so it holds the
    rest of the document (``info``, ``licenses``) and is small."""
    spans = sorted(
        (int(at[:, 0].min()), int(at[:, 1].max()))
        for at in (columns["image_at"], columns["annotation_at"], columns["category_at"])
        if len(at)
    )
    parts, start = [], 0
    for first, last in spans:
        parts.append(os.pread(fd, first - start, start))
        start = last
    parts.append(os.pread(fd, size - start, start))
    return b"".join(parts)


def usable(columns: dict[str, Any]) -> bool:
    """Whether the columns allow streaming: every element's offsets are there (each section was streamed
    element by element) and every image has its size (no media file needs to be read for it)."""
    return (
        len(columns["image_at"]) == len(columns["image_id"])
        and len(columns["annotation_at"]) == len(columns["ann_id"])
        and len(columns["category_at"]) == len(columns["category_id"])
        and bool((columns["image_width"] > 0).all() and (columns["image_height"] > 0).all())
    )
