"""Mask PNG writers: ``semantic-png``, ``semantic-png-color``, ``instance-png``, ``instance-png-color``.

Each writes a folder with one PNG per media item (``<file stem>.png``, the item's relative path kept when
it is safe, else its basename) and a JSON side table saying what the pixel values mean. Annotations are
rasterised in dataset order; where two overlap, **the later annotation wins** (reported as approximated).

``semantic-png`` (8-bit grayscale, mode ``L``; alias ``semantic``)
    pixel = the category's **value**: its id + ``--id-increment`` (default 0), as the segments-ai SDK
    writes it (segments-ai 1.33.0, ``segments.utils.get_semantic_bitmap``), when the source's category ids
    are unique integers; else its 1-based position in the category list (model order) + the increment;
    0 = background. ``classes.json`` lists ``{value, id, source_id, name, color}`` for every category.
    A value outside 1..255 is an error that names the increment that fits (never a wrap-around).

``semantic-png-color`` (8-bit RGB; alias ``semantic-color``)
    pixel = the category's colour: its own ``color`` when it has one, else :data:`COLORMAP` indexed by the
    category's 0-based position (``COLORMAP[(value - 1) % 36]``); black = background. ``classes.json`` as
    above, with the colour actually used. Unlike the segments-ai SDK, which looks colours up by *category
    id* as a list index (shifted by one for 0-based ids, IndexError past the list), the colour is always the
    category's own.

``instance-png`` (16-bit grayscale, mode ``I;16``; alias ``instance``)
    pixel = the instance's **value**: its annotation id as the source wrote it (the Segments instance id,
    as the SDK's instance export writes the bitmap; a COCO annotation id) when the ids of the item are
    unique integers 1..65535, else 1..N in annotation order within the media item; 0 = background.
    ``instances.json`` maps every PNG to ``[{value, annotation_id, category_id, category}]``. More than
    65535 instances on one item is an error (the SDK clamps ids to 65535 silently).

``instance-png-color`` (8-bit RGB; alias ``instance-color``)
    pixel = ``COLORMAP[(value - 1) % 36]`` for the ``instance-png`` value ``value``; black = background;
    the same ``instances.json``. (The SDK truncates ids mod 256 first; for values < 256 the colours are
    the same.)

Geometries: masks (exact), boxes (pixel ranges: exact when the corners are integers), polygons, multipolygons
and rotated boxes (rasterised with pycocotools, as COCO does; reported as approximated). Points, polylines,
keypoints and cuboids have no area: dropped and reported. Attributes, track ids, confidences and
classifications have no place in a PNG: dropped and reported.

:data:`COLORMAP` is the fixed 36-colour palette of the segments-ai SDK (``segments/export.py``), so that the
colour PNGs of a release with category ids 1..N equal the SDK's.
"""

from __future__ import annotations

import io
import json
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from labelspec.convert.atomic import write_bytes, write_json
from labelspec.convert.media import UnsafeNameError, media_basename, safe_member_path, size_from_media
from labelspec.convert.model import (
    Annotation,
    Box,
    Category,
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
from labelspec.convert.registry import ConversionError, WriteOptions
from labelspec.convert.writers import MissingSizeError, integer_ids, rotated_corners

if TYPE_CHECKING:
    from labelspec.validator.report import Report

__all__ = [
    "COLORMAP",
    "INSTANCE_PNG",
    "INSTANCE_PNG_COLOR",
    "SEMANTIC_PNG",
    "SEMANTIC_PNG_COLOR",
    "MaskLayer",
    "MaskWriter",
    "category_colors",
    "decode_mask",
    "iter_layers",
    "layer_of",
    "png_names",
    "rasterise",
]

RGB = tuple[int, int, int]
BoolArray = npt.NDArray[np.bool_]

COLORMAP: tuple[RGB, ...] = (
    (0, 113, 188), (216, 82, 24), (236, 176, 31), (125, 46, 141), (118, 171, 47), (76, 189, 237),
    (161, 19, 46), (255, 0, 0), (255, 127, 0), (190, 190, 0), (0, 255, 0), (0, 0, 255),
    (170, 0, 255), (84, 84, 0), (84, 170, 0), (84, 255, 0), (170, 84, 0), (170, 170, 0),
    (170, 255, 0), (255, 84, 0), (255, 170, 0), (255, 255, 0), (0, 84, 127), (0, 170, 127),
    (0, 255, 127), (84, 0, 127), (84, 84, 127), (84, 170, 127), (84, 255, 127), (170, 0, 127),
    (170, 84, 127), (170, 170, 127), (170, 255, 127), (255, 0, 127), (255, 84, 127), (255, 170, 127),
)  # fmt: skip
"""The segments-ai SDK's 36 fixed colours (no black among them, so 0 stays background)."""

MAX_SEMANTIC_CLASSES = 255
MAX_INSTANCES = 65535

_AREALESS = {Point: "point", Polyline: "polyline", Keypoints: "keypoints", Cuboid: "cuboid"}


# --------------------------------------------------------------------------------------------------------
# Rasterisation


def decode_mask(mask: Mask) -> BoolArray:
    """The ``height × width`` boolean array of a model mask (COCO uncompressed RLE, column-major)."""
    counts = np.asarray(mask.counts, dtype=np.int64)
    size = mask.height * mask.width
    if counts.size and int(counts.min()) < 0:
        raise ValueError("a mask run length is negative")
    total = int(counts.sum()) if counts.size else 0
    if total != size:
        raise ValueError(f"the mask runs cover {total} pixels, not {mask.width}x{mask.height} = {size}")
    values = (np.arange(counts.size) % 2).astype(np.bool_)
    flat = np.repeat(values, counts)
    result: BoolArray = flat.reshape(mask.width, mask.height).T
    return result


def _polygon_mask(rings: Sequence[Sequence[float]], height: int, width: int) -> BoolArray:
    """Union of the filled rings, rasterised the way COCO does (pycocotools)."""
    try:
        from pycocotools import mask as coco_mask
    except ImportError as exc:  # pragma: no cover - pycocotools is a dependency of the converters
        raise ConversionError("rasterising polygons needs pycocotools (pip install pycocotools)", 2) from exc
    usable = [[float(v) for v in ring] for ring in rings if len(ring) >= 6 and len(ring) % 2 == 0]
    if not usable:
        return np.zeros((height, width), dtype=np.bool_)
    rles = coco_mask.frPyObjects(usable, height, width)
    merged = coco_mask.merge(rles)
    result: BoolArray = np.asarray(coco_mask.decode(merged), dtype=np.bool_)
    return result


def _polygon(polygon: Polygon, height: int, width: int) -> BoolArray:
    if not polygon.rings:
        return np.zeros((height, width), dtype=np.bool_)
    out = _polygon_mask(polygon.rings[:1], height, width)
    for hole in polygon.rings[1:]:
        out &= ~_polygon_mask([hole], height, width)
    return out


def _box(box: Box, height: int, width: int) -> BoolArray:
    x0, x1 = sorted((box.x, box.x + box.w))
    y0, y1 = sorted((box.y, box.y + box.h))
    c0, c1 = max(0, round(x0)), min(width, round(x1))
    r0, r1 = max(0, round(y0)), min(height, round(y1))
    out = np.zeros((height, width), dtype=np.bool_)
    if c1 > c0 and r1 > r0:
        out[r0:r1, c0:c1] = True
    return out


def rasterise(geometry: Geometry, height: int, width: int) -> tuple[BoolArray | None, bool]:
    """``(mask, exact)`` for a geometry with an area; ``(None, False)`` for one without (point, line, ...).

    ``exact`` is False when rasterising changed the geometry (polygons, rotated boxes, fractional boxes).
    """
    if isinstance(geometry, Mask):
        return decode_mask(geometry), True
    if isinstance(geometry, Box):
        exact = all(float(v).is_integer() for v in (geometry.x, geometry.y, geometry.w, geometry.h))
        exact = exact and geometry.x >= 0 and geometry.y >= 0
        exact = exact and geometry.x + geometry.w <= width and geometry.y + geometry.h <= height
        return _box(geometry, height, width), exact
    if isinstance(geometry, Polygon):
        return _polygon(geometry, height, width), False
    if isinstance(geometry, MultiPolygon):
        out = np.zeros((height, width), dtype=np.bool_)
        for polygon in geometry.polygons:
            out |= _polygon(polygon, height, width)
        return out, False
    if isinstance(geometry, RotatedBox):
        return _polygon_mask([rotated_corners(geometry)], height, width), False
    return None, False


# --------------------------------------------------------------------------------------------------------
# Naming and colours


def _relative_stem(item: MediaItem) -> str | None:
    name = item.file_name.replace("\\", "/")
    if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    stem = posixpath.splitext("/".join(parts))[0]
    return stem or None


def png_names(
    dataset: LabelledDataset | Sequence[MediaItem],
    report: ConversionReport | None = None,
    *,
    suffix: str = ".png",
) -> dict[str, str]:
    """A unique, safe relative PNG name for every media item (media id -> name), deterministic.

    The item's file name without its extension (relative folders kept); absolute or escaping names fall
    back to their basename; frames get ``_<frame index:05d>``; names that would collide get ``_2``, ``_3``...
    Every fallback and renaming is reported as approximated.
    """
    names: dict[str, str] = {}
    used: set[str] = set()
    media = dataset.media if isinstance(dataset, LabelledDataset) else dataset
    for item in media:
        stem = _relative_stem(item)
        if stem is None:
            base = posixpath.splitext(media_basename(item.file_name))[0]
            stem = base if base not in ("", ".", "..") else f"media_{len(names) + 1}"
            if report is not None:
                report.approximate(
                    "output file name",
                    f"the media name {item.file_name!r} is not a safe relative path; named {stem}{suffix}",
                    item.id,
                )
        if item.kind != "image" and item.frame_index is not None:
            stem = f"{stem}_{item.frame_index:05d}"
        candidate, n = stem, 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{stem}_{n}"
        if n > 1 and report is not None:
            report.approximate(
                "output file name",
                f"{stem}{suffix} is taken by another media item; named {candidate}{suffix}",
                item.id,
            )
        used.add(candidate.lower())
        names[item.id] = candidate + suffix
    return names


def category_colors(categories: Sequence[Category]) -> list[RGB]:
    """The colour of every category: its own, else ``COLORMAP[position % 36]`` (deterministic)."""
    colors: list[RGB] = []
    for i, category in enumerate(categories):
        if category.color is not None:
            r, g, b = (int(c) for c in category.color[:3])
            colors.append((r, g, b))
        else:
            colors.append(COLORMAP[i % len(COLORMAP)])
    return colors


# --------------------------------------------------------------------------------------------------------
# Layers: the rasterised annotations of one media item


@dataclass
class MaskLayer:
    """One media item with its annotations rasterised, overlaps already resolved (later wins)."""

    item: MediaItem
    height: int
    width: int
    instances: list[tuple[Annotation, BoolArray]]  # only annotations that kept at least one pixel


def _item_size(
    item: MediaItem, annotations: Sequence[Annotation], options: WriteOptions | None
) -> tuple[int, int] | None:
    if item.width is not None and item.height is not None:
        return item.height, item.width
    for annotation in annotations:
        if isinstance(annotation.geometry, Mask):
            return annotation.geometry.height, annotation.geometry.width
    if options is not None and options.media_dir is not None:
        size = size_from_media(options.media_dir, item.url or item.file_name) or size_from_media(
            options.media_dir, item.file_name
        )
        if size is not None:
            return size[1], size[0]
    return None


def report_unwritable(
    annotation: Annotation, report: ConversionReport, target: str, *, keep_attributes: bool = False
) -> None:
    """Report what a mask writer never carries: attributes, track ids, confidences."""
    if annotation.attributes and not keep_attributes:
        report.drop("object attribute", f"{target} has no place for attributes", annotation.id)
    if annotation.track_id is not None and not keep_attributes:
        report.drop("track id", f"{target} has no tracks", annotation.id)
    if annotation.confidence is not None:
        report.drop("confidence", f"{target} has no confidence", annotation.id)


def layer_of(
    item: MediaItem,
    annotations: Sequence[Annotation],
    report: ConversionReport,
    target: str,
    options: WriteOptions | None = None,
    *,
    keep_attributes: bool = False,
) -> MaskLayer:
    """Rasterise one media item's annotations (in order; later wins), reporting every loss."""
    size = _item_size(item, annotations, options)
    if size is None:
        raise MissingSizeError(item, target)
    height, width = size
    rasters: list[tuple[Annotation, BoolArray]] = []
    for annotation in annotations:
        kind = _AREALESS.get(type(annotation.geometry))
        if kind is not None:
            report.drop(f"{kind} annotation", f"a {kind} has no area to draw in {target}", annotation.id)
            continue
        if isinstance(annotation.geometry, Mask) and (
            annotation.geometry.height != height or annotation.geometry.width != width
        ):
            report.drop(
                "mask annotation",
                f"its size {annotation.geometry.width}x{annotation.geometry.height} differs from the "
                f"image's {width}x{height}",
                annotation.id,
            )
            continue
        try:
            mask, exact = rasterise(annotation.geometry, height, width)
        except ValueError as exc:
            report.drop("annotation", f"its mask cannot be decoded ({exc})", annotation.id)
            continue
        if mask is None:
            report.drop("annotation", f"its geometry cannot be drawn in {target}", annotation.id)
            continue
        if not exact:
            what = f"{type(annotation.geometry).__name__.lower()} geometry"
            report.approximate(what, "rasterised to pixels", annotation.id)
        report_unwritable(annotation, report, target, keep_attributes=keep_attributes)
        rasters.append((annotation, mask))
    # Later annotations win: remove from each mask the pixels of every later one.
    covered = np.zeros((height, width), dtype=np.bool_)
    kept: list[tuple[Annotation, BoolArray]] = []
    for annotation, mask in reversed(rasters):
        if not mask.any():
            report.drop("annotation", "it covers no pixel", annotation.id)
            continue
        visible = mask & ~covered
        if not visible.any():
            report.drop("annotation", "later annotations cover all of its pixels", annotation.id)
            covered |= mask
            continue
        if visible.sum() != mask.sum():
            report.approximate(
                "overlapping annotation",
                "pixels covered by later annotations go to the later one",
                annotation.id,
            )
        covered |= mask
        kept.append((annotation, visible))
    kept.reverse()
    return MaskLayer(item, height, width, kept)


def iter_layers(
    dataset: LabelledDataset,
    report: ConversionReport,
    target: str,
    options: WriteOptions | None = None,
    *,
    keep_attributes: bool = False,
    keep_classifications: bool = False,
) -> Iterator[MaskLayer]:
    """Rasterise every media item's annotations (dataset order; later wins), reporting every loss."""
    by_media: dict[str, list[Annotation]] = {item.id: [] for item in dataset.media}
    for annotation in dataset.annotations:
        if annotation.media_id in by_media:
            by_media[annotation.media_id].append(annotation)
        else:
            report.drop(
                "annotation", f"it refers to the unknown media item {annotation.media_id!r}", annotation.id
            )
    for item in dataset.media:
        yield layer_of(item, by_media[item.id], report, target, options, keep_attributes=keep_attributes)
    if not keep_classifications:
        for classification in dataset.classifications:
            report.drop("classification", f"{target} has no classifications", classification.media_id or "")


# --------------------------------------------------------------------------------------------------------
# Writers


def _png_bytes(array: npt.NDArray[Any], mode: str | None = None) -> bytes:
    from PIL import Image

    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


Kind = Literal["semantic", "instance"]


@dataclass(frozen=True)
class MaskWriter:
    """A mask PNG writer (registry protocol): ``kind`` semantic or instance, grey or ``color``."""

    target_id: str
    kind: Kind
    color: bool

    @property
    def side_table(self) -> str:
        return "classes.json" if self.kind == "semantic" else "instances.json"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        layers = iter_layers(dataset, report, self.target_id, options)
        return self._write_layers(dataset.categories, dataset.media, layers, out, options, report)

    def write_groups(
        self,
        categories: Sequence[Category],
        groups: Iterable[tuple[MediaItem, Sequence[Annotation]]],
        out: Path,
        options: WriteOptions,
        report: ConversionReport,
        *,
        media: Sequence[MediaItem] = (),
        info: dict[str, Any] | None = None,
    ) -> list[Path]:
        """The PNGs written as the groups come (a large COCO file read one image at a time): one image's
        annotations and pixels are held at a time; ``media``: the groups' media items, in order."""
        layers = (
            layer_of(item, annotations, report, self.target_id, options) for item, annotations in groups
        )
        return self._write_layers(categories, media, layers, out, options, report)

    def _write_layers(
        self,
        categories: Sequence[Category],
        media: Sequence[MediaItem],
        layers: Iterable[MaskLayer],
        out: Path,
        options: WriteOptions,
        report: ConversionReport,
    ) -> list[Path]:
        positions = {c.id: n for n, c in enumerate(categories, 1)}
        values = (
            semantic_values(categories, options.id_increment, self.target_id)
            if self.kind == "semantic" and not self.color
            else positions  # colour PNGs hold colours; their table numbers the categories
        )
        if self.kind == "semantic" and values != positions:
            report.mappings["semantic_value"] = dict(values)
        names = png_names(media, report)
        colors = category_colors(categories)
        position = {category.id: i for i, category in enumerate(categories)}
        category_names = {category.id: category.name for category in categories}
        paths: list[Path] = []
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        # instances.json is written image by image, as the PNGs are (its entries grow with the dataset)
        table = (
            _InstanceTable(out / self.side_table, self.target_id, options.force)
            if self.kind == "instance"
            else None
        )
        try:
            for layer in layers:
                name = names[layer.item.id]
                if table is None:
                    pixels = self._semantic(layer, values, position, colors, report)
                else:
                    numbers = instance_values(layer.instances)
                    pixels = self._instance(layer, numbers, name)
                    table.add(
                        name,
                        [
                            {
                                "value": value,
                                "annotation_id": annotation.id,
                                "category_id": annotation.category_id,
                                "category": category_names.get(annotation.category_id),
                            }
                            for value, (annotation, _) in zip(numbers, layer.instances, strict=True)
                        ],
                    )
                try:
                    path = safe_member_path(out, name)
                except UnsafeNameError as exc:  # png_names never produces one; kept as a guard
                    raise ConversionError(str(exc), 2) from exc
                paths.append(write_bytes(path, _png_bytes(pixels), force=options.force))
                written += len(layer.instances)
        finally:
            if table is not None:
                table.close()
        if table is None:
            side: Any = {
                "format": self.target_id,
                "background": 0 if not self.color else [0, 0, 0],
                "classes": [
                    {
                        "value": values[category.id],
                        "id": category.id,
                        "source_id": _jsonable(category.source_id),
                        "name": category.name,
                        "color": list(colors[i]),
                    }
                    for i, category in enumerate(categories)
                ],
            }
            paths.append(write_json(out / self.side_table, side, force=options.force, indent=True))
        else:
            paths.append(table.path)
        report.counts.update(written_images=len(media), written_annotations=written)
        return paths

    def _semantic(
        self,
        layer: MaskLayer,
        category_values: dict[str, int],
        position: dict[str, int],
        colors: Sequence[RGB],
        report: ConversionReport,
    ) -> npt.NDArray[np.uint8]:
        values = np.zeros((layer.height, layer.width), dtype=np.uint8)
        positions = np.zeros((layer.height, layer.width), dtype=np.uint16)  # 1-based, for the colours
        for annotation, mask in layer.instances:
            index = position.get(annotation.category_id)
            if index is None:
                report.drop("annotation", f"unknown category {annotation.category_id!r}", annotation.id)
                continue
            values[mask] = category_values[annotation.category_id]
            positions[mask] = index + 1
        if not self.color:
            return values
        lut = np.zeros((len(colors) + 1, 3), dtype=np.uint8)
        if colors:
            lut[1:] = np.asarray(colors, dtype=np.uint8)
        result: npt.NDArray[np.uint8] = lut[positions]
        return result

    def _instance(self, layer: MaskLayer, numbers: Sequence[int], name: str) -> npt.NDArray[Any]:
        if len(layer.instances) > MAX_INSTANCES:
            raise ConversionError(
                f"{name}: {len(layer.instances)} instances on one image; {self.target_id} holds at most "
                f"{MAX_INSTANCES} (16-bit values), and never clamps"
            )
        values = np.zeros((layer.height, layer.width), dtype=np.uint16)
        for value, (_, mask) in zip(numbers, layer.instances, strict=True):
            values[mask] = value
        if not self.color:
            return values
        lut = np.asarray(COLORMAP, dtype=np.uint8)
        rgb = np.zeros((layer.height, layer.width, 3), dtype=np.uint8)
        nonzero = values > 0
        rgb[nonzero] = lut[(values[nonzero].astype(np.int64) - 1) % len(COLORMAP)]
        return rgb

    def validate_output(self, paths: Sequence[Path]) -> Report:
        return check_mask_pngs(paths, self)


def semantic_values(categories: Sequence[Category], increment: int, target: str) -> dict[str, int]:
    """Category id -> its ``semantic-png`` value, as the segments-ai SDK writes it (segments-ai 1.33.0,
    ``segments.utils.get_semantic_bitmap``: ``category_id + id_increment``): the source's integer category
    ids when they are unique integers, else the 1-based positions, plus ``increment``. A value of 0 (the
    background) or past 255 (8-bit) cannot be written: an error that says which ``--id-increment`` fits."""
    if len(categories) > MAX_SEMANTIC_CLASSES:
        raise ConversionError(
            f"{target} holds at most {MAX_SEMANTIC_CLASSES} categories in an 8-bit PNG; the dataset has "
            f"{len(categories)}"
        )
    kept = integer_ids([c.source_id if c.source_id is not None else c.id for c in categories])
    bases = kept if kept is not None else list(range(1, len(categories) + 1))
    values = {c.id: base + increment for c, base in zip(categories, bases, strict=True)}
    low, high = min(values.values(), default=1), max(values.values(), default=1)
    if low < 1 or high > MAX_SEMANTIC_CLASSES:
        fits = 1 - min(bases)
        raise ConversionError(
            f"{target} writes category id + id increment as 8-bit values 1..{MAX_SEMANTIC_CLASSES} (0 is the "
            f"background); with increment {increment} they span {low}..{high}"
            + (f"; pass --id-increment {fits}" if 1 <= max(bases) + fits <= MAX_SEMANTIC_CLASSES else ""),
            2,
        )
    return values


def instance_values(instances: Sequence[tuple[Annotation, Any]]) -> list[int]:
    """The ``instance-png`` value of each instance of one image: its annotation id as the source wrote it
    (the Segments instance id, as the segments-ai SDK's instance export writes the bitmap; a COCO id) when
    those are unique integers 1..65535 on the image, else 1..N in annotation order (``instances.json``
    always maps values to annotations)."""
    kept = integer_ids([a.source_id if a.source_id is not None else a.id for a, _ in instances])
    if kept is not None and all(1 <= v <= MAX_INSTANCES for v in kept):
        return kept
    return list(range(1, len(instances) + 1))


class _InstanceTable:
    """``instances.json`` written as the images come: ``{"format", "background", "images": {png name:
    [entries]}}``, one line per image, so that the table of a large dataset is never held whole."""

    def __init__(self, path: Path, target: str, force: bool) -> None:
        from labelspec.convert.atomic import check_writable

        check_writable(path, force)
        self.path = path
        self.handle = open(path, "wb")  # noqa: SIM115  (closed by close())
        head = {"format": target, "background": 0}
        self.handle.write(_dump(head)[:-1] + b',\n "images": {')
        self.count = 0

    def add(self, name: str, entries: list[dict[str, Any]]) -> None:
        self.handle.write((b"," if self.count else b"") + b"\n  " + _dump(name) + b": " + _dump(entries))
        self.count += 1

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.write(b"\n }\n}\n")
            self.handle.close()


def _dump(value: Any) -> bytes:
    from labelspec.formats._runtime import dump_json

    return dump_json(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def check_mask_pngs(paths: Sequence[Path], writer: MaskWriter) -> Report:
    """PNG checks of a mask writer's output: each PNG decodes with the expected mode, values are in range."""
    from PIL import Image

    from labelspec.validator.report import FileReport, Finding, Report

    report = Report()
    expected = {("semantic", False): "L", ("semantic", True): "RGB", ("instance", False): "I;16",
                ("instance", True): "RGB"}[(writer.kind, writer.color)]  # fmt: skip
    side = next((p for p in paths if p.name == writer.side_table), None)
    table: Any = None
    if side is None:
        missing = Finding("mask.side-table-missing", "error", "", f"{writer.side_table} was not written")
        where = str(paths[0].parent) if paths else ""
        report.files.append(FileReport(where, writer.target_id, "lenient", [missing]))
    else:
        table = json.loads(side.read_bytes())
    for path in paths:
        if path.suffix.lower() != ".png":
            continue
        findings: list[Finding] = []
        try:
            with Image.open(path) as image:
                mode = image.mode
                pixels = np.asarray(image)
        except (OSError, ValueError) as exc:
            findings.append(Finding("mask.png-unreadable", "error", "", f"not a readable PNG: {exc}"))
        else:
            if mode != expected:
                message = f"mode {mode!r}, expected {expected!r}"
                findings.append(Finding("mask.png-mode", "error", "", message))
            elif table is not None and not writer.color:
                if writer.kind == "semantic":
                    known = {int(entry["value"]) for entry in table["classes"]}
                else:
                    member = PurePosixPath(path.relative_to(side.parent if side else path.parent)).as_posix()
                    known = {int(entry["value"]) for entry in table["images"].get(member, [])}
                stray = sorted(set(np.unique(pixels).tolist()) - known - {0})
                if stray:
                    message = f"pixel value {stray[0]} has no entry in {writer.side_table}"
                    findings.append(Finding("mask.png-value", "error", "", message))
        report.files.append(FileReport(str(path), writer.target_id, "lenient", findings))
    return report


SEMANTIC_PNG = MaskWriter("semantic-png", "semantic", False)
SEMANTIC_PNG_COLOR = MaskWriter("semantic-png-color", "semantic", True)
INSTANCE_PNG = MaskWriter("instance-png", "instance", False)
INSTANCE_PNG_COLOR = MaskWriter("instance-png-color", "instance", True)
