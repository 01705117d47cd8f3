"""How alike two geometries of the canonical model are (``diff``), and where a geometry lies.

- Regions (boxes, rotated boxes, polygons with holes, masks) compare by IoU of their pixels: boxes
  analytically, everything else rasterised with pycocotools on the media's pixel grid (or the two
  geometries' common extent when the media size is unknown).
- Points, polylines and skeletons have no area: their similarity is ``1 - mean distance / 10 px`` over
  corresponding points (0 when the point counts differ), so a point moved by 5 px is 0.5 alike.
- Cuboids are alike (1) when their numbers agree to 1e-6, else not (0).
- A mask whose pixels could not be had (size 0, see ``ReadOptions.inspect``) is alike only another such.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from labelspec.convert.model import (
    Box,
    Cuboid,
    Geometry,
    Keypoints,
    Mask,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)

__all__ = ["POINT_SCALE", "bounds", "points_of", "rotated_corners", "similarity"]

POINT_SCALE = 10.0  # pixels: the mean distance at which points, polylines and skeletons are not alike


def rotated_corners(box: RotatedBox) -> tuple[float, ...]:
    """The four corners (flat x, y) of a box rotated clockwise by ``theta`` degrees about its centre."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    cos, sin = math.cos(math.radians(box.theta)), math.sin(math.radians(box.theta))
    flat: list[float] = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px, py = dx * box.w / 2, dy * box.h / 2
        flat += [cx + px * cos - py * sin, cy + px * sin + py * cos]
    return tuple(flat)


def points_of(geometry: Geometry) -> list[tuple[float, float]]:
    """The points of a point-like geometry (points, polylines, skeletons)."""
    if isinstance(geometry, Point):
        return [(geometry.x, geometry.y)]
    if isinstance(geometry, Polyline):
        return list(geometry.points)
    if isinstance(geometry, Keypoints):
        return [(p.x, p.y) for p in geometry.points]
    return []


def _rings(geometry: Geometry) -> list[tuple[float, ...]]:
    if isinstance(geometry, Polygon):
        return list(geometry.rings)
    if isinstance(geometry, MultiPolygon):
        return [ring for polygon in geometry.polygons for ring in polygon.rings]
    if isinstance(geometry, RotatedBox):
        return [rotated_corners(geometry)]
    return []


def bounds(geometry: Geometry) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) in pixels, or None for cuboids and masks without pixels."""
    if isinstance(geometry, Box):
        return geometry.x, geometry.y, geometry.x + geometry.w, geometry.y + geometry.h
    if isinstance(geometry, Mask):
        if not geometry.height or not geometry.width:
            return None
        from pycocotools import mask as mask_utils

        x, y, w, h = (float(v) for v in mask_utils.toBbox(_rle(geometry)))
        return x, y, x + w, y + h
    if isinstance(geometry, (Polygon, MultiPolygon, RotatedBox)):
        xs = [v for ring in _rings(geometry) for v in ring[0::2]]
        ys = [v for ring in _rings(geometry) for v in ring[1::2]]
    else:
        xs = [p[0] for p in points_of(geometry)]
        ys = [p[1] for p in points_of(geometry)]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _rle(mask: Mask) -> dict[str, object]:
    from pycocotools import mask as mask_utils

    encoded: dict[str, object] = mask_utils.frPyObjects(
        {"size": [mask.height, mask.width], "counts": list(mask.counts)}, mask.height, mask.width
    )
    return encoded


def _raster(geometry: Geometry, height: int, width: int, dx: float, dy: float) -> npt.NDArray[np.bool_]:
    """The pixels of a region on a ``height`` x ``width`` grid whose origin is at (dx, dy)."""
    from pycocotools import mask as mask_utils

    if isinstance(geometry, Mask):
        full = np.asarray(mask_utils.decode(_rle(geometry)), dtype=bool)
        grid = np.zeros((height, width), dtype=bool)
        x0, y0 = round(dx), round(dy)
        part = full[max(0, y0) : max(0, y0) + height, max(0, x0) : max(0, x0) + width]
        grid[: part.shape[0], : part.shape[1]] = part
        return grid
    if isinstance(geometry, Box):
        grid = np.zeros((height, width), dtype=bool)
        x0, y0 = round(geometry.x - dx), round(geometry.y - dy)
        x1, y1 = round(geometry.x + geometry.w - dx), round(geometry.y + geometry.h - dy)
        grid[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
        return grid
    polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
    grid = np.zeros((height, width), dtype=bool)
    for polygon in polygons:
        rings = _rings(polygon)
        shifted = [[v - (dx if i % 2 == 0 else dy) for i, v in enumerate(ring)] for ring in rings]
        if not shifted or len(shifted[0]) < 6:
            continue
        outer = np.asarray(mask_utils.decode(mask_utils.frPyObjects([shifted[0]], height, width)), dtype=bool)
        area = outer.any(axis=2)
        for hole in shifted[1:]:
            if len(hole) >= 6:
                cut = np.asarray(mask_utils.decode(mask_utils.frPyObjects([hole], height, width)), dtype=bool)
                area &= ~cut.any(axis=2)
        grid |= area
    return grid


_REGIONS = (Box, RotatedBox, Polygon, MultiPolygon, Mask)


def _box_iou(a: Box, b: Box) -> float:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    inter = max(0.0, w) * max(0.0, h)
    union = abs(a.w * a.h) + abs(b.w * b.h) - inter
    return inter / union if union > 0 else float(a == b)


def _region_iou(a: Geometry, b: Geometry, size: tuple[int, int] | None) -> float:
    if isinstance(a, Box) and isinstance(b, Box):
        return _box_iou(a, b)
    empty_a = isinstance(a, Mask) and not (a.width and a.height)
    empty_b = isinstance(b, Mask) and not (b.width and b.height)
    if empty_a or empty_b:
        return float(empty_a and empty_b)
    masks = [g for g in (a, b) if isinstance(g, Mask)]
    if masks:
        height, width, dx, dy = masks[0].height, masks[0].width, 0.0, 0.0
    elif size is not None:
        width, height, dx, dy = size[0], size[1], 0.0, 0.0
    else:
        extent = [bounds(a), bounds(b)]
        if None in extent:
            return 0.0
        dx = math.floor(min(e[0] for e in extent if e))
        dy = math.floor(min(e[1] for e in extent if e))
        width = max(1, math.ceil(max(e[2] for e in extent if e) - dx))
        height = max(1, math.ceil(max(e[3] for e in extent if e) - dy))
    first, second = _raster(a, height, width, dx, dy), _raster(b, height, width, dx, dy)
    union = int(np.count_nonzero(first | second))
    if not union:
        return 1.0 if a == b else 0.0
    return int(np.count_nonzero(first & second)) / union


def similarity(a: Geometry, b: Geometry, size: tuple[int, int] | None = None) -> float:
    """How alike two geometries are, from 0 to 1 (see the module documentation); ``size`` = (w, h)."""
    if a == b:
        return 1.0
    if isinstance(a, _REGIONS) and isinstance(b, _REGIONS):
        return _region_iou(a, b, size)
    if isinstance(a, Cuboid) or isinstance(b, Cuboid):
        if not (isinstance(a, Cuboid) and isinstance(b, Cuboid)):
            return 0.0
        left = (*a.position, *a.dimensions, *a.rotation)
        right = (*b.position, *b.dimensions, *b.rotation)
        return float(all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(left, right, strict=True)))
    first, second = points_of(a), points_of(b)
    if type(a) is not type(b) or len(first) != len(second) or not first:
        return 0.0
    mean = sum(math.dist(p, q) for p, q in zip(first, second, strict=True)) / len(first)
    return max(0.0, 1.0 - mean / POINT_SCALE)
