"""Writers: canonical model -> target format; each module exposes writer objects registered (with what
they keep and drop) in :mod:`labelspec.convert.registry`. Shared helpers for the writers live here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from labelspec.convert.model import (
    Box,
    ConversionReport,
    Cuboid,
    Geometry,
    Keypoints,
    LabelledDataset,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.registry import ConversionError
from labelspec.validator.numbers import int_of_digits

__all__ = [
    "MissingSizeError",
    "NotStreamable",
    "extent",
    "image_items",
    "integer_ids",
    "mask_extent",
    "require_size",
    "rotated_corners",
]


class MissingSizeError(ConversionError):
    """A media item whose pixel size the target needs is unknown (exit code 2: pass --media-dir)."""

    def __init__(self, item: MediaItem, target: str) -> None:
        from labelspec.convert.media import media_basename

        name = media_basename(item.url) if item.url else item.file_name
        remote = (item.url or "").lower().startswith(("http://", "https://"))
        super().__init__(
            f"the size of image {item.file_name!r} is unknown and {target} needs it: the export does not "
            f"say; put {name!r} under --media-dir DIR (only its header is read)"
            + (" or leave out --offline, so that its first bytes are fetched" if remote else ""),
            2,
        )


def image_items(dataset: LabelledDataset, target: str, report: ConversionReport) -> LabelledDataset:
    """The dataset without point-cloud media (``attributes.media_type == "pointcloud"``) and their labels,
    which have no image and no pixel size; each dropped item and annotation is reported."""
    clouds = {m.id for m in dataset.media if m.attributes.get("media_type") == "pointcloud"}
    if not clouds:
        return dataset
    for media_id in sorted(clouds):
        report.drop("point-cloud media item", f"{target} holds images only", media_id)
    for annotation in dataset.annotations:
        if annotation.media_id in clouds:
            kind = type(annotation.geometry).__name__.lower()
            report.drop(f"{kind} annotation", f"on a point cloud, which {target} cannot hold", annotation.id)
    return replace(
        dataset,
        media=tuple(m for m in dataset.media if m.id not in clouds),
        annotations=tuple(a for a in dataset.annotations if a.media_id not in clouds),
        classifications=tuple(c for c in dataset.classifications if c.media_id not in clouds),
    )


def require_size(item: MediaItem, target: str) -> tuple[int, int]:
    if item.width is None or item.height is None:
        raise MissingSizeError(item, target)
    return item.width, item.height


def rotated_corners(box: RotatedBox) -> tuple[float, ...]:
    """The four corners (flat x, y) of a box rotated clockwise by ``theta`` degrees about its centre."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    angle = math.radians(box.theta)
    cos, sin = math.cos(angle), math.sin(angle)
    corners: list[float] = []
    for dx, dy in (
        (-box.w / 2, -box.h / 2),
        (box.w / 2, -box.h / 2),
        (box.w / 2, box.h / 2),
        (-box.w / 2, box.h / 2),
    ):
        # y points down, so a clockwise rotation on screen is the usual rotation matrix
        corners += [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos]
    return tuple(corners)


def _points_extent(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float, float] | None:
    if not xs or not ys:
        return None
    x0, y0 = min(xs), min(ys)
    return x0, y0, max(xs) - x0, max(ys) - y0


def extent(geometry: Geometry) -> tuple[float, float, float, float] | None:
    """The axis-aligned ``(x, y, w, h)`` of a 2-D geometry in pixels; None for cuboids and empty ones."""
    if isinstance(geometry, Box):
        return geometry.x, geometry.y, geometry.w, geometry.h
    if isinstance(geometry, RotatedBox):
        flat = rotated_corners(geometry)
        return _points_extent(flat[0::2], flat[1::2])
    if isinstance(geometry, Polygon):
        outer = geometry.rings[0] if geometry.rings else ()
        return _points_extent(outer[0::2], outer[1::2])
    if isinstance(geometry, MultiPolygon):
        xs = [v for p in geometry.polygons if p.rings for v in p.rings[0][0::2]]
        ys = [v for p in geometry.polygons if p.rings for v in p.rings[0][1::2]]
        return _points_extent(xs, ys)
    if isinstance(geometry, Polyline):
        return _points_extent([p[0] for p in geometry.points], [p[1] for p in geometry.points])
    if isinstance(geometry, Point):
        return geometry.x, geometry.y, 0.0, 0.0
    if isinstance(geometry, Keypoints):
        labelled = [p for p in geometry.points if p.visibility != "invisible"] or list(geometry.points)
        return _points_extent([p.x for p in labelled], [p.y for p in labelled])
    if isinstance(geometry, Mask):
        return mask_extent(geometry)
    if isinstance(geometry, Cuboid):
        return None
    return None


def mask_extent(mask: Mask) -> tuple[float, float, float, float] | None:
    """The pixel bounding box of a mask (COCO convention: [x, y, w, h] of the set pixels), None if empty."""
    if mask.height == 0 or mask.width == 0:
        return None
    columns: set[int] = set()
    rows_min, rows_max = mask.height, -1
    position, value = 0, 0
    for count in mask.counts:
        if value and count:
            first, last = position, position + count - 1
            for column in range(first // mask.height, last // mask.height + 1):
                columns.add(column)
            if first // mask.height != last // mask.height:
                rows_min, rows_max = 0, mask.height - 1
            else:
                rows_min = min(rows_min, first % mask.height)
                rows_max = max(rows_max, last % mask.height)
        position += count
        value ^= 1
    if not columns:
        return None
    x0, x1 = min(columns), max(columns)
    return float(x0), float(rows_min), float(x1 - x0 + 1), float(rows_max - rows_min + 1)


def integer_ids(ids: Iterable[object]) -> list[int] | None:
    """The ids as integers when every one is an integer (or its decimal string) and they are unique."""
    out: list[int] = []
    for value in ids:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            out.append(value)
        elif isinstance(value, str) and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
            number = int_of_digits(value)
            if number is None or str(number) != value:
                return None
            out.append(number)
        else:
            return None
    return out if len(set(out)) == len(out) else None


class NotStreamable(Exception):
    """Raised by a group writer (``write_groups``) when the dataset cannot be written one media item at a
    time after all; the conversion is then done in memory (what was staged is discarded)."""
