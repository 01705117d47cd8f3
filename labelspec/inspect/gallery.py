"""The report's gallery: a media item's picture with its labels drawn on it, as one inline SVG.

The picture is embedded as a downscaled JPEG (a data: URI, so the page stays one file) and the labels are
SVG shapes in the media's pixel coordinates (the SVG's viewBox), in their class's colour: boxes and rotated
boxes, polygons with holes (even-odd fill), polylines, points, skeletons (edges from the category), and
masks as translucent PNG overlays cropped to their extent. Every label is one element of class ``label``
(also cuboids and masks whose pixels could not be had, which draw nothing), so the page's label count is
the model's.

Pixels come from ``--media-dir`` (the file name, its basename, or the URL's basename), from a local path,
or fetched by URL with the fetch cache; when none works a placeholder says why.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labelspec.convert.model import (
    MISSING_MEDIA,
    NORMALISED,
    Annotation,
    Box,
    Category,
    Cuboid,
    Geometry,
    Keypoints,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.inspect.geometry import bounds, rotated_corners
from labelspec.inspect.stats import geometry_kind

__all__ = ["Picture", "class_colour", "draw", "load_picture"]

THUMBNAIL = 800  # longest side of the embedded picture, in pixels
_PALETTE = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (57, 59, 121), (173, 73, 74),
)  # fmt: skip


@dataclass(frozen=True)
class Picture:
    """The embedded picture (data URI) and the source's pixel size, or why there is none."""

    uri: str | None
    width: int | None
    height: int | None
    missing: str | None = None


def class_colour(category: Category | None, name: str) -> tuple[int, int, int]:
    """The export's colour of the class, else a fixed palette colour chosen by the class name."""
    if category is not None and category.color is not None:
        return category.color
    digest = hashlib.sha256(name.encode()).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _candidates(item: MediaItem) -> list[str]:
    return [n for n in (item.file_name, item.url) if n]


def load_picture(item: MediaItem, media_dir: Path | None, cache_dir: Path, offline: bool) -> Picture:
    """The item's picture, or a :class:`Picture` without ``uri`` whose ``missing`` says why."""
    from PIL import Image, UnidentifiedImageError

    from labelspec.convert.fetch import FetchError, fetch_one
    from labelspec.convert.media import find_media

    path: Path | None = None
    reasons: list[str] = []
    if media_dir is not None:
        for name in _candidates(item):
            path = find_media(media_dir, name)
            if path is not None:
                break
        if path is None:
            reasons.append(f"{item.file_name} is not under {media_dir}")
    if path is None and item.url:
        try:
            path = fetch_one(item.url, cache_dir, media_dir=media_dir, retries=1, timeout=10, offline=offline)
        except FetchError as exc:
            reasons.append(exc.reason if offline else str(exc))
    if path is None:
        if not item.url and media_dir is None:
            reasons.append("the export names no URL and no --media-dir was given")
        elif not item.url:
            reasons.append("the export names no URL")
        if item.kind != "image":
            reasons.append(
                f"a {item.kind} of {item.sequence_id}: frames are not extracted from videos or volumes"
            )
        return Picture(None, item.width, item.height, "; ".join(reasons))
    try:
        with Image.open(path) as image:
            width, height = image.size
            picture = image.convert("RGB")
            picture.thumbnail((THUMBNAIL, THUMBNAIL))
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=82)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return Picture(None, item.width, item.height, f"{path.name} is not a readable image ({exc})")
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Picture(uri, width, height)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _ring_path(rings: Sequence[Sequence[float]]) -> str:
    parts = []
    for ring in rings:
        points = [f"{_num(ring[i])},{_num(ring[i + 1])}" for i in range(0, len(ring) - 1, 2)]
        if points:
            parts.append("M" + " L".join(points) + " Z")
    return " ".join(parts)


def _mask_image(mask: Mask, colour: tuple[int, int, int]) -> str:
    """A translucent PNG of the mask cropped to its extent, as an SVG <image> (empty when no pixels)."""
    if not mask.width or not mask.height:
        return ""
    import numpy as np
    from PIL import Image
    from pycocotools import mask as mask_utils

    size = [mask.height, mask.width]
    rle = mask_utils.frPyObjects({"size": size, "counts": list(mask.counts)}, mask.height, mask.width)
    pixels = np.asarray(mask_utils.decode(rle), dtype=bool)
    rows, cols = np.nonzero(pixels)
    if not len(rows):
        return ""
    y0, y1, x0, x1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    crop = pixels[y0:y1, x0:x1]
    rgba = np.zeros((*crop.shape, 4), dtype=np.uint8)
    rgba[crop] = (*colour, 120)
    image = Image.fromarray(rgba, "RGBA")
    image.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<image href="{uri}" x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
        'preserveAspectRatio="none" style="image-rendering:pixelated"/>'
    )


def _shape(geometry: Geometry, colour: str, radius: float, category: Category | None, fill: str) -> str:
    stroke = f'stroke="{colour}" stroke-width="2" vector-effect="non-scaling-stroke"'
    if isinstance(geometry, Box):
        return (
            f'<rect x="{_num(geometry.x)}" y="{_num(geometry.y)}" width="{_num(geometry.w)}" '
            f'height="{_num(geometry.h)}" fill="{fill}" {stroke}/>'
        )
    if isinstance(geometry, RotatedBox):
        return f'<path d="{_ring_path([rotated_corners(geometry)])}" fill="{fill}" {stroke}/>'
    if isinstance(geometry, (Polygon, MultiPolygon)):
        polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
        rings = [ring for polygon in polygons for ring in polygon.rings]
        return f'<path d="{_ring_path(rings)}" fill="{fill}" fill-rule="evenodd" {stroke}/>'
    if isinstance(geometry, Polyline):
        points = " ".join(f"{_num(x)},{_num(y)}" for x, y in geometry.points)
        return f'<polyline points="{points}" fill="none" {stroke}/>'
    if isinstance(geometry, Point):
        return f'<circle cx="{_num(geometry.x)}" cy="{_num(geometry.y)}" r="{_num(radius)}" fill="{colour}"/>'
    if isinstance(geometry, Keypoints):
        parts = []
        for first, second in category.skeleton if category is not None else ():
            if max(first, second) < len(geometry.points):
                p, q = geometry.points[first], geometry.points[second]
                parts.append(
                    f'<line x1="{_num(p.x)}" y1="{_num(p.y)}" x2="{_num(q.x)}" y2="{_num(q.y)}" {stroke}/>'
                )
        for point in geometry.points:
            if point.visibility == "invisible":
                continue
            open_dot = point.visibility == "occluded"
            style = f'fill="none" {stroke}' if open_dot else f'fill="{colour}"'
            parts.append(f'<circle cx="{_num(point.x)}" cy="{_num(point.y)}" r="{_num(radius)}" {style}/>')
        return "".join(parts)
    return ""


def _extent(annotations: Sequence[Annotation]) -> tuple[float, float]:
    right, bottom = 1.0, 1.0
    for annotation in annotations:
        box = bounds(annotation.geometry)
        if box is not None:
            right, bottom = max(right, box[2]), max(bottom, box[3])
    return right * 1.05, bottom * 1.05


def draw(
    item: MediaItem,
    annotations: Sequence[Annotation],
    categories: dict[str, Category],
    picture: Picture,
) -> str:
    """The inline SVG of one media item: picture (or placeholder) and one ``label`` element per label."""
    if item.attributes.get(NORMALISED) and not picture.width:
        width, height = 1.0, 1.0
    else:
        width = float(picture.width or item.width or 0)
        height = float(picture.height or item.height or 0)
        if not width or not height:
            width, height = _extent(annotations)
    radius = max(width, height) / 120
    parts = [
        f'<svg class="view" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'role="img" aria-label="{html.escape(item.file_name)}">'
    ]
    if picture.uri:
        parts.append(
            f'<image class="picture" href="{picture.uri}" x="0" y="0" width="{_num(width)}" '
            f'height="{_num(height)}" preserveAspectRatio="none"/>'
        )
    else:
        why = picture.missing or str(item.attributes.get(MISSING_MEDIA) or "no picture")
        parts.append(
            f'<rect class="placeholder" x="0" y="0" width="{_num(width)}" height="{_num(height)}" '
            'fill="#e3e6ec"/>'
            f'<foreignObject x="0" y="0" width="{_num(width)}" height="{_num(height)}">'
            '<div xmlns="http://www.w3.org/1999/xhtml" class="placeholder-note" style="font:600 '
            f'{_num(max(width, height) / 28)}px system-ui,sans-serif;color:#5b6477;padding:4%">'
            f"no picture: {html.escape(why)}</div></foreignObject>"
        )
    parts.append("<g>")
    for annotation in annotations:
        category = categories.get(annotation.category_id)
        name = category.name if category is not None else annotation.category_id
        colour = _hex(class_colour(category, name))
        geometry = annotation.geometry
        kind = geometry_kind(geometry)
        title = f"<title>{html.escape(name)} ({kind}) {html.escape(annotation.id)}</title>"
        attributes = (
            f'class="label" data-class="{html.escape(name)}" data-geometry="{kind}" '
            f'data-label-id="{html.escape(annotation.id)}"'
        )
        if isinstance(geometry, Mask):
            body = _mask_image(geometry, class_colour(category, name))
            missing = "" if geometry.width else ' data-missing="pixels"'
            parts.append(f"<g {attributes}{missing}>{title}{body}</g>")
        elif isinstance(geometry, Cuboid):
            parts.append(f'<g {attributes} data-missing="3-D">{title}</g>')
        else:
            fill = colour + "33" if kind in ("box", "rotated box", "polygon") else "none"
            parts.append(f"<g {attributes}>{title}{_shape(geometry, colour, radius, category, fill)}</g>")
    parts.append("</g></svg>")
    return "".join(parts)


def legend(categories: dict[str, Category], used: dict[str, int]) -> str:
    """The class colours of a gallery, as a row of swatches."""
    spans = []
    by_name = {c.name: c for c in categories.values()}
    for name in sorted(used):
        colour = _hex(class_colour(by_name.get(name), name))
        spans.append(f'<span><i style="background:{colour}"></i>{html.escape(name)}</span>')
    return f'<p class="legend">{"".join(spans)}</p>'
