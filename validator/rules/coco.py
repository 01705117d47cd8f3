"""Semantic rules of COCO instance (``COCO-…``) and COCO panoptic (``COCO-PANOPTIC-…``) files.

Both formats share this module; every check looks at ``ctx.format`` and returns at once on the other
flavour. The per-document lookups (image sizes, category ids, keypoint names) and the decoded panoptic
PNGs are built once per validation run (memoised on the rule context), so each rule is one linear pass.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from labelspec import format_ids
from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, rule, sectioned

INSTANCE = "coco-instance"
PANOPTIC = "coco-panoptic"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _list(document: Any, key: str) -> list[Any]:
    if isinstance(document, dict):
        value = document.get(key)
        if isinstance(value, list):
            return value
    return []


def _ids_text(ids: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > limit else "")


def _known_ids_text(ids: set[int]) -> str:
    if not ids:
        return "the file declares none"
    ordered = sorted(ids)
    if len(ordered) > 1 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"known ids: {ordered[0]}-{ordered[-1]}"
    return f"known ids: {_ids_text(ordered)}"


# ---------------------------------------------------------------------------------------------- tables


@dataclass
class _Tables:
    """What every rule needs to know about the images and categories of one document."""

    image_ids: set[int] = field(default_factory=set)
    # image id -> (height, width) when both are positive integers
    image_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    category_ids: set[int] = field(default_factory=set)
    # category id -> number of keypoint names (only categories that list keypoints)
    keypoint_counts: dict[int, int] = field(default_factory=dict)


def _shared(ctx: RuleContext) -> dict[str, Any]:
    """Values the rules of one document fill in as they go (decoded RLE totals, read PNGs)."""
    return {}


class IdColumn:
    """(position, value) of the items of one section whose value (an id) is an integer, in item order:
    compact columns (int64 arrays; a list of Python ints once a value does not fit 64 bits)."""

    def __init__(self) -> None:
        self.positions = array("q")
        self.values: array[int] | list[int] = array("q")

    def add(self, position: int, value: int) -> None:
        self.positions.append(position)
        try:
            self.values.append(value)
        except OverflowError:
            self.values = list(self.values)
            self.values.append(value)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.positions, self.values, strict=True)

    def extend(self, other: IdColumn) -> None:
        """Append the entries of ``other`` (read after these)."""
        self.positions.extend(other.positions)
        if isinstance(self.values, array) and isinstance(other.values, array):
            self.values.extend(other.values)
        else:
            self.values = [*self.values, *other.values]


class CocoIndex:
    """What the rules compare across items, built one item at a time (:meth:`add`, in section order:
    images and categories, then annotations): the image and category tables, and the ids of each section.
    The whole-document path builds it from the document; item-by-item validation
    (labelspec.validator.scale.sections) builds it from the items as it reads them."""

    def __init__(self, format_id: str) -> None:
        self.format = format_id
        self.tables = _Tables()
        self.ids = {section: IdColumn() for section in format_ids.get(format_id).sections}
        self.annotated_images = IdColumn()  # panoptic: the image_id of each annotation

    def add(self, section: str, position: int, item: Any) -> None:
        if not isinstance(item, dict):
            return
        item_id = item.get("id")
        if _is_int(item_id):
            self.ids[section].add(position, item_id)
        if section == "images" and _is_int(item_id):
            self.tables.image_ids.add(item_id)
            height, width = item.get("height"), item.get("width")
            if _is_int(height) and _is_int(width) and height > 0 and width > 0:
                self.tables.image_sizes.setdefault(item_id, (height, width))
        elif section == "categories" and _is_int(item_id):
            self.tables.category_ids.add(item_id)
            names = item.get("keypoints")
            if isinstance(names, list):
                self.tables.keypoint_counts.setdefault(item_id, len(names))
        elif section == "annotations" and self.format == PANOPTIC and _is_int(item.get("image_id")):
            self.annotated_images.add(position, item["image_id"])

    def extend(self, other: CocoIndex) -> None:
        """Add what ``other`` read, as if its items were added after these (a file validated in pieces,
        each with its own index, joined in file order: labelspec.validator.scale.sections)."""
        for section, column in other.ids.items():
            self.ids[section].extend(column)
        self.annotated_images.extend(other.annotated_images)
        tables, more = self.tables, other.tables
        tables.image_ids |= more.image_ids
        tables.category_ids |= more.category_ids
        for image_id, size in more.image_sizes.items():
            tables.image_sizes.setdefault(image_id, size)
        for category_id, count in more.keypoint_counts.items():
            tables.keypoint_counts.setdefault(category_id, count)


def coco_index(ctx: RuleContext) -> CocoIndex:
    """The index of the context's document (built from the whole document; see :class:`CocoIndex`)."""
    index = CocoIndex(ctx.format)
    for section in format_ids.get(ctx.format).sections:
        for position, item in enumerate(_list(ctx.document, section)):
            index.add(section, position, item)
    return index


def _tables(ctx: RuleContext) -> _Tables:
    """The image and category tables of the context's document, built once per document."""
    return ctx.memo(coco_index).tables


def _repeats(column: IdColumn) -> Iterator[tuple[int, int, int]]:
    """(position, value, position of its first occurrence) of every value seen before, in item order."""
    first: dict[int, int] = {}
    for position, value in column:
        earlier = first.setdefault(value, position)
        if earlier != position:
            yield position, value, earlier


def _duplicate_ids(ctx: RuleContext, section: str) -> Iterator[Hit]:
    for index, item_id, first in _repeats(ctx.memo(coco_index).ids[section]):
        yield (
            to_pointer([section, index, "id"]),
            f"{section[:-1]} id {item_id} is used again (first at /{section}/{first})",
            "ids must be unique: pycocotools indexes by id and keeps only the last entry",
        )


def _annotations(ctx: RuleContext) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, annotation in enumerate(_list(ctx.document, "annotations")):
        if isinstance(annotation, dict):
            yield index, annotation


# ---------------------------------------------------------------------------------------------- RLE


def decode_compressed_counts(counts: str) -> list[int] | str:
    """Run lengths of a pycocotools compressed RLE string, or the reason it does not decode.

    The format (``rleFrString`` in pycocotools' maskApi.c): each run is a little-endian sequence of
    5-bit groups, one character each (``chr(48 + group)``, bit 0x20 = more groups follow, bit 0x10 of the
    last group = sign); from the fourth run on, a run is stored as the difference to the run two before.
    Decoded with numpy (a mask's string is decoded at near C speed); :func:`decode_counts_slowly` is the
    plain reference, used for strings numpy's 64-bit integers cannot hold.
    """
    decoded = _decode_fast(counts)
    return decode_counts_slowly(counts) if decoded is None else list(decoded.tolist())


def decode_counts_slowly(counts: str) -> list[int] | str:
    """:func:`decode_compressed_counts` in plain Python, with unbounded integers."""
    runs: list[int] = []
    value = shift = 0
    for position, character in enumerate(counts):
        code = ord(character) - 48
        if code < 0 or code > 63:
            return f"character {character!r} at position {position} is outside '0'..'o'"
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            continue
        if code & 0x10:
            value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            return f"run {len(runs) + 1} decodes to a negative length ({value})"
        runs.append(value)
        value = shift = 0
    if shift:
        return f"the string ends inside run {len(runs) + 1} (its last character has the 'more' bit)"
    return runs


def _decode_fast(counts: str) -> Any:
    """The runs as a numpy int64 array, or None: for strings that do not decode (the plain decoder then
    names the first fault, in string order) and for values that may not fit 64 bits."""
    import numpy as np

    try:
        data = counts.encode("ascii")
    except UnicodeEncodeError:
        return None
    codes = np.frombuffer(data, dtype=np.uint8).astype(np.int64) - 48
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    more = (codes & 0x20) != 0
    if more[-1] or bool(((codes < 0) | (codes > 63)).any()):
        return None
    ends = np.flatnonzero(~more)
    starts = np.concatenate((np.zeros(1, dtype=np.int64), ends[:-1] + 1))
    lengths = ends - starts + 1
    if int(lengths.max()) > 12:
        return None  # more than 60 bits in one run
    offsets = np.arange(len(codes), dtype=np.int64) - np.repeat(starts, lengths)
    values = np.add.reduceat((codes & 0x1F) << (5 * offsets), starts)
    negative = (codes[ends] & 0x10) != 0
    values = values - np.where(negative, np.left_shift(np.int64(1), 5 * lengths), 0)
    if float(np.abs(values).max()) * len(values) >= 2.0**62:
        return None  # the running sums might overflow
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])
    runs[2::2] = np.cumsum(values[2::2])
    if bool((runs < 0).any()):
        return None
    return runs


def _sum(runs: Any) -> int:
    if not len(runs) or float(runs.max()) * len(runs) < 2.0**62:
        return int(runs.sum())
    return sum(runs.tolist())  # exact, whatever the size


def _rle_total(ctx: RuleContext, index: int, counts: str) -> int | str:
    """Pixel total of a compressed RLE (or why it does not decode), decoded once per run and annotation."""
    totals = ctx.memo(_shared).setdefault("rle_totals", {})
    cached = totals.get(index)
    if isinstance(cached, (int, str)):
        return cached
    decoded = _decode_fast(counts)
    if decoded is None:
        slow = decode_counts_slowly(counts)
        result: int | str = slow if isinstance(slow, str) else sum(slow)
    else:
        result = _sum(decoded)
    totals[index] = result
    return result


def _rle(segmentation: Any) -> tuple[int, int, Any] | None:
    """(height, width, counts) of an RLE segmentation with a well-formed size, else None."""
    if not isinstance(segmentation, dict):
        return None
    size = segmentation.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0 for v in size)):
        return None
    return size[0], size[1], segmentation.get("counts")


# ---------------------------------------------------------------------------------------------- ids


@rule("COCO-IMAGE-ID-DUPLICATE")
def image_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == INSTANCE:
        yield from _duplicate_ids(ctx, "images")


@rule("COCO-ANNOTATION-ID-DUPLICATE")
def annotation_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == INSTANCE:
        yield from _duplicate_ids(ctx, "annotations")


@rule("COCO-CATEGORY-ID-DUPLICATE")
def category_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == INSTANCE:
        yield from _duplicate_ids(ctx, "categories")


def _unknown_references(ctx: RuleContext, key: str, known: set[int], noun: str) -> Iterator[Hit]:
    """Annotations whose integer ``key`` (image_id, category_id) names nothing in ``known``."""
    for index, annotation in _annotations(ctx):
        value = annotation.get(key)
        if _is_int(value) and value not in known:
            yield (
                to_pointer(["annotations", index, key]),
                f"{key} {value} names no {noun} ({_known_ids_text(known)})",
            )


@rule("COCO-IMAGE-ID-UNKNOWN")
def image_id_unknown(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == INSTANCE:
        yield from _unknown_references(ctx, "image_id", _tables(ctx).image_ids, "image")


@rule("COCO-CATEGORY-ID-UNKNOWN")
def category_id_unknown(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == INSTANCE:
        yield from _unknown_references(ctx, "category_id", _tables(ctx).category_ids, "category")


# ---------------------------------------------------------------------------------------------- masks


@rule("COCO-RLE-SIZE-MISMATCH")
def rle_size_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    sizes = _tables(ctx).image_sizes
    for index, annotation in _annotations(ctx):
        rle = _rle(annotation.get("segmentation"))
        image_id = annotation.get("image_id")
        if rle is None or not _is_int(image_id) or image_id not in sizes:
            continue
        height, width = sizes[image_id]
        if (rle[0], rle[1]) != (height, width):
            yield (
                to_pointer(["annotations", index, "segmentation", "size"]),
                f"RLE size is [{rle[0]}, {rle[1]}] but image {image_id} is {height} high and {width} wide "
                f"(expected [{height}, {width}], i.e. [height, width])",
                "size is [height, width]; a swapped or stale size decodes to a distorted mask",
            )


@rule("COCO-RLE-COUNTS-UNDECODABLE")
def rle_counts_undecodable(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        rle = _rle(annotation.get("segmentation"))
        if rle is None or not isinstance(rle[2], str):
            continue
        decoded = _rle_total(ctx, index, rle[2])
        if isinstance(decoded, str):
            yield (
                to_pointer(["annotations", index, "segmentation", "counts"]),
                f"compressed RLE counts do not decode: {decoded}",
            )


@rule("COCO-RLE-PIXEL-TOTAL")
def rle_pixel_total(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        rle = _rle(annotation.get("segmentation"))
        if rle is None:
            continue
        height, width, counts = rle
        if isinstance(counts, str):
            decoded = _rle_total(ctx, index, counts)
            if isinstance(decoded, str):
                continue  # COCO-RLE-COUNTS-UNDECODABLE
            total = decoded
            kind = "compressed"
        elif isinstance(counts, list) and all(_is_int(c) and c >= 0 for c in counts):
            total = sum(counts)
            kind = "uncompressed"
        else:
            continue
        if total != height * width:
            yield (
                to_pointer(["annotations", index, "segmentation", "counts"]),
                f"{kind} RLE runs cover {total} pixels but size [{height}, {width}] has {height * width}",
                "pycocotools decodes the runs into an h*w buffer without checking the total",
            )


def _polygons(ctx: RuleContext) -> Iterator[tuple[str, list[Any]]]:
    """(pointer, polygon) of every polygon of an instance file's annotations."""
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        segmentation = annotation.get("segmentation")
        if isinstance(segmentation, list):
            for number, polygon in enumerate(segmentation):
                if isinstance(polygon, list):
                    yield to_pointer(["annotations", index, "segmentation", number]), polygon


@rule("COCO-POLYGON-ODD-COORDINATES")
def polygon_odd_coordinates(ctx: RuleContext) -> Iterator[Hit]:
    for pointer, polygon in _polygons(ctx):
        if len(polygon) % 2:
            yield (
                pointer,
                f"polygon has {len(polygon)} numbers; a flat [x1, y1, x2, y2, ...] list needs an even count",
                "pycocotools reads len//2 vertices and silently drops the last number",
            )


@rule("COCO-ANNOTATION-ID-MISSING")
def annotation_id_missing(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        if "id" not in annotation:
            yield (
                to_pointer(["annotations", index]),
                "the annotation has no id",
                "pycocotools' COCO() indexes annotations by id and raises KeyError without one",
            )


@rule("COCO-ISCROWD-BOOLEAN")
def iscrowd_boolean(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        if isinstance(annotation.get("iscrowd"), bool):
            yield (
                to_pointer(["annotations", index, "iscrowd"]),
                f"iscrowd is {str(annotation['iscrowd']).lower()}, not the integer 0 or 1",
                "pycocotools reads it as an integer; readers with typed models reject a boolean",
            )


@rule("COCO-POLYGON-TOO-FEW-POINTS")
def polygon_too_few_points(ctx: RuleContext) -> Iterator[Hit]:
    for pointer, polygon in _polygons(ctx):
        if len(polygon) < 6:
            yield (
                pointer,
                f"polygon has {len(polygon)} numbers: fewer than 3 vertices enclose no area",
                "pycocotools' frPyObjects (annToMask) raises on polygons of fewer than 6 numbers; "
                "a point or a line belongs in keypoints or bbox",
            )


@rule("COCO-CATEGORY-KEYPOINTS-NOT-LIST")
def category_keypoints_not_list(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, category in enumerate(_list(ctx.document, "categories")):
        if isinstance(category, dict) and isinstance(category.get("keypoints"), str):
            yield (
                to_pointer(["categories", index, "keypoints"]),
                f"keypoints is the string {category['keypoints']!r}, not a list of keypoint names",
                "code that iterates the names gets one name per character",
            )


@rule("COCO-ISCROWD-POLYGONS")
def iscrowd_polygons(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        segmentation = annotation.get("segmentation")
        if annotation.get("iscrowd") == 1 and isinstance(segmentation, list) and segmentation:
            yield (
                to_pointer(["annotations", index, "iscrowd"]),
                "iscrowd is 1 but the segmentation is a list of polygons; the COCO format gives crowd "
                "regions an RLE mask and single objects polygons",
                "set iscrowd to 0 if this is one object",
            )


@rule("COCO-RLE-NOT-CROWD")
def rle_not_crowd(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        if annotation.get("iscrowd") == 0 and isinstance(annotation.get("segmentation"), dict):
            yield (
                to_pointer(["annotations", index, "iscrowd"]),
                "iscrowd is 0 but the segmentation is an RLE mask; the COCO format gives single objects "
                "polygons and crowd regions RLE",
                "pycocotools reads it; consumers that rasterise non-crowd objects with frPyObjects "
                "(torchvision's COCO reference) fail on compressed counts",
            )


# ---------------------------------------------------------------------------------------------- geometry


def _bbox(value: Any) -> tuple[float, float, float, float] | None:
    if isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value):
        return value[0], value[1], value[2], value[3]
    return None


def _bbox_outside(box: tuple[float, float, float, float], height: int, width: int) -> str | None:
    x, y, w, h = box
    if w < 0 or h < 0:
        return None  # COCO-BBOX-NEGATIVE-SIZE
    problems = []
    if x < 0 or y < 0:
        problems.append(f"its top-left corner ({x}, {y}) is left of or above the image")
    if x + w > width:
        problems.append(f"its right edge x+w = {x + w} is past the width {width}")
    if y + h > height:
        problems.append(f"its bottom edge y+h = {y + h} is past the height {height}")
    return "; ".join(problems) or None


@rule("COCO-BBOX-NEGATIVE-SIZE")
def bbox_negative_size(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        box = _bbox(annotation.get("bbox"))
        if box is not None and (box[2] < 0 or box[3] < 0):
            yield (
                to_pointer(["annotations", index, "bbox"]),
                f"bbox [{box[0]}, {box[1]}, {box[2]}, {box[3]}] has a negative width or height",
                "a box drawn from bottom-right to top-left: use [x+w, y+h, -w, -h] for the negative axes",
            )


@rule("COCO-BBOX-OUTSIDE-IMAGE")
def bbox_outside_image(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    sizes = _tables(ctx).image_sizes
    for index, annotation in _annotations(ctx):
        box = _bbox(annotation.get("bbox"))
        image_id = annotation.get("image_id")
        if box is None or not _is_int(image_id) or image_id not in sizes:
            continue
        height, width = sizes[image_id]
        problem = _bbox_outside(box, height, width)
        if problem:
            yield (
                to_pointer(["annotations", index, "bbox"]),
                f"bbox leaves image {image_id} ({width}x{height}): {problem}",
            )


@rule("COCO-AREA-NOT-POSITIVE")
def area_not_positive(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        area = annotation.get("area")
        if _is_number(area) and area <= 0:
            yield (
                to_pointer(["annotations", index, "area"]),
                f"area is {area}; an object covers at least part of a pixel",
                "area is the mask's pixel count (or the polygon's area)",
            )


@rule("COCO-KEYPOINTS-LENGTH")
def keypoints_length(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    names = _tables(ctx).keypoint_counts
    for index, annotation in _annotations(ctx):
        keypoints = annotation.get("keypoints")
        if not isinstance(keypoints, list):
            continue
        category_id = annotation.get("category_id")
        expected = names.get(category_id) if _is_int(category_id) else None
        if expected is not None and len(keypoints) != 3 * expected:
            yield (
                to_pointer(["annotations", index, "keypoints"]),
                f"{len(keypoints)} keypoint numbers, but category {category_id} names {expected} "
                f"keypoints (expected {3 * expected}: x, y, v per keypoint)",
            )
        elif expected is None and len(keypoints) % 3:
            yield (
                to_pointer(["annotations", index, "keypoints"]),
                f"{len(keypoints)} keypoint numbers is not a multiple of 3 (x, y, v per keypoint)",
            )


@rule("COCO-NUM-KEYPOINTS-MISMATCH")
def num_keypoints_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != INSTANCE:
        return
    for index, annotation in _annotations(ctx):
        keypoints = annotation.get("keypoints")
        declared = annotation.get("num_keypoints")
        if not isinstance(keypoints, list) or not _is_int(declared) or len(keypoints) % 3:
            continue
        flags = keypoints[2::3]
        if not all(_is_number(v) for v in flags):
            continue
        labelled = sum(1 for v in flags if v > 0)
        if labelled != declared:
            yield (
                to_pointer(["annotations", index, "num_keypoints"]),
                f"num_keypoints is {declared} but {labelled} keypoints have visibility > 0",
                "COCOeval skips objects with num_keypoints 0 and uses it to ignore unlabelled objects",
            )


# ============================================================================================== panoptic


def _segments(ctx: RuleContext) -> Iterator[tuple[int, dict[str, Any], int, dict[str, Any]]]:
    """(annotation index, annotation, segment index, segment) of a panoptic document."""
    for index, annotation in _annotations(ctx):
        segments = annotation.get("segments_info")
        if not isinstance(segments, list):
            continue
        for number, segment in enumerate(segments):
            if isinstance(segment, dict):
                yield index, annotation, number, segment


@rule("COCO-PANOPTIC-IMAGE-ID-DUPLICATE")
def panoptic_image_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == PANOPTIC:
        yield from _duplicate_ids(ctx, "images")


@rule("COCO-PANOPTIC-CATEGORY-ID-DUPLICATE")
def panoptic_category_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == PANOPTIC:
        yield from _duplicate_ids(ctx, "categories")


@rule("COCO-PANOPTIC-IMAGE-ID-UNKNOWN")
def panoptic_image_id_unknown(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == PANOPTIC:
        yield from _unknown_references(ctx, "image_id", _tables(ctx).image_ids, "image")


@rule("COCO-PANOPTIC-IMAGE-ANNOTATED-TWICE")
def panoptic_image_annotated_twice(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != PANOPTIC:
        return
    for index, image_id, first in _repeats(ctx.memo(coco_index).annotated_images):
        yield (
            to_pointer(["annotations", index, "image_id"]),
            f"image {image_id} already has a panoptic annotation (/annotations/{first}); one PNG per image",
            "panopticapi keys annotations by image_id and keeps only one of them",
        )


@rule("COCO-PANOPTIC-CATEGORY-ID-UNKNOWN")
def panoptic_category_id_unknown(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != PANOPTIC:
        return
    known = _tables(ctx).category_ids
    for index, _annotation, number, segment in _segments(ctx):
        category_id = segment.get("category_id")
        if _is_int(category_id) and category_id not in known:
            yield (
                to_pointer(["annotations", index, "segments_info", number, "category_id"]),
                f"category_id {category_id} names no category ({_known_ids_text(known)})",
            )


def _segment_duplicates(ctx: RuleContext, same_category: bool) -> Iterator[Hit]:
    for index, annotation in _annotations(ctx):
        segments = annotation.get("segments_info")
        if not isinstance(segments, list):
            continue
        first: dict[int, tuple[int, Any]] = {}
        for number, segment in enumerate(segments):
            if not isinstance(segment, dict) or not _is_int(segment.get("id")):
                continue
            segment_id = segment["id"]
            category_id = segment.get("category_id")
            if segment_id not in first:
                first[segment_id] = (number, category_id)
                continue
            earlier, earlier_category = first[segment_id]
            if (earlier_category == category_id) != same_category:
                continue
            pointer = to_pointer(["annotations", index, "segments_info", number, "id"])
            where = f"/annotations/{index}/segments_info/{earlier}"
            if same_category:
                yield (
                    pointer,
                    f"segment id {segment_id} is listed twice in this image (first at {where}), both of "
                    f"category {category_id}",
                    "panopticapi keeps one entry per id, so the other's area and bbox are lost; merge them "
                    "into one segment",
                )
            else:
                yield (
                    pointer,
                    f"segment id {segment_id} is listed again with category {category_id}, but {where} "
                    f"gives it category {earlier_category}: its pixels cannot belong to both",
                )


@rule("COCO-PANOPTIC-SEGMENT-ID-DUPLICATE")
def panoptic_segment_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == PANOPTIC:
        yield from _segment_duplicates(ctx, same_category=True)


@rule("COCO-PANOPTIC-SEGMENT-ID-CONFLICT")
def panoptic_segment_id_conflict(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format == PANOPTIC:
        yield from _segment_duplicates(ctx, same_category=False)


@rule("COCO-PANOPTIC-AREA-NOT-POSITIVE")
def panoptic_area_not_positive(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != PANOPTIC:
        return
    for index, _annotation, number, segment in _segments(ctx):
        area = segment.get("area")
        if _is_number(area) and area <= 0:
            yield (
                to_pointer(["annotations", index, "segments_info", number, "area"]),
                f"segment area is {area}: a segment with no pixels cannot be in the PNG",
                "panopticapi's pq_compute raises for a segment listed in the JSON but absent from the PNG",
            )


@rule("COCO-PANOPTIC-BBOX-OUTSIDE-IMAGE")
def panoptic_bbox_outside_image(ctx: RuleContext) -> Iterator[Hit]:
    if ctx.format != PANOPTIC:
        return
    sizes = _tables(ctx).image_sizes
    for index, annotation, number, segment in _segments(ctx):
        box = _bbox(segment.get("bbox"))
        image_id = annotation.get("image_id")
        if box is None or not _is_int(image_id) or image_id not in sizes:
            continue
        height, width = sizes[image_id]
        problem = _bbox_outside(box, height, width)
        if problem:
            yield (
                to_pointer(["annotations", index, "segments_info", number, "bbox"]),
                f"segment bbox leaves image {image_id} ({width}x{height}): {problem}",
            )


# ---------------------------------------------------------------------------------------------- PNGs


@dataclass
class _Png:
    """The outcome of reading one panoptic PNG: an error text, or its size and id histogram."""

    error: str | None = None
    missing: bool = False
    height: int = 0
    width: int = 0
    counts: dict[int, int] = field(default_factory=dict)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _png_path(png_dir: Path, file_name: str) -> Path | None:
    relative = Path(file_name)
    if relative.is_absolute() or ".." in relative.parts or not file_name.strip():
        return None
    return png_dir / relative


def _read_png(ctx: RuleContext, png_dir: Path, file_name: str) -> _Png:
    """Each PNG is decoded once per validation run, whichever rules look at it."""
    pngs = ctx.memo(_shared).setdefault("pngs", {})
    cached = pngs.get(file_name)
    if isinstance(cached, _Png):
        return cached
    result = _load_png(png_dir, file_name)
    pngs[file_name] = result
    return result


def _load_png(png_dir: Path, file_name: str) -> _Png:
    path = _png_path(png_dir, file_name)
    if path is None:
        return _Png(error=f"file_name {_short(file_name)!r} points outside the PNG folder", missing=True)
    try:
        present = path.is_file()
    except (OSError, ValueError):  # a name too long or with a NUL byte names no file
        present = False
    if not present:
        return _Png(error=f"{_short(file_name)} is not in the PNG folder {png_dir}", missing=True)
    try:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            image_format, mode = image.format, image.mode
            if image_format != "PNG":
                return _Png(error=f"{_short(file_name)} is a {image_format or 'unknown'} image, not a PNG")
            if mode != "RGB":
                return _Png(error=f"{_short(file_name)} has mode {mode}; a panoptic PNG is 8-bit RGB")
            pixels = np.asarray(image, dtype=np.uint32)
    except Exception as exc:
        return _Png(error=f"{_short(file_name)} does not decode as an image ({type(exc).__name__}: {exc})")
    ids = pixels[:, :, 0] + (pixels[:, :, 1] << 8) + (pixels[:, :, 2] << 16)
    values, counts = np.unique(ids, return_counts=True)
    histogram = {int(v): int(c) for v, c in zip(values.tolist(), counts.tolist(), strict=True) if v}
    return _Png(height=int(pixels.shape[0]), width=int(pixels.shape[1]), counts=histogram)


def _pngs(ctx: RuleContext) -> Iterator[tuple[int, dict[str, Any], _Png]]:
    if ctx.format != PANOPTIC or ctx.png_dir is None:
        return
    for index, annotation in _annotations(ctx):
        file_name = annotation.get("file_name")
        if isinstance(file_name, str):
            yield index, annotation, _read_png(ctx, ctx.png_dir, file_name)


@rule("COCO-PANOPTIC-PNG-MISSING")
def panoptic_png_missing(ctx: RuleContext) -> Iterator[Hit]:
    for index, _annotation, png in _pngs(ctx):
        if png.missing and png.error:
            yield to_pointer(["annotations", index, "file_name"]), png.error


@rule("COCO-PANOPTIC-PNG-FORMAT")
def panoptic_png_format(ctx: RuleContext) -> Iterator[Hit]:
    for index, _annotation, png in _pngs(ctx):
        if not png.missing and png.error:
            yield (
                to_pointer(["annotations", index, "file_name"]),
                png.error,
                "panopticapi reads the PNG as RGB and computes id = R + 256*G + 65536*B",
            )


@rule("COCO-PANOPTIC-PNG-SIZE")
def panoptic_png_size(ctx: RuleContext) -> Iterator[Hit]:
    sizes = _tables(ctx).image_sizes if ctx.png_dir is not None else {}
    for index, annotation, png in _pngs(ctx):
        image_id = annotation.get("image_id")
        if png.error or not _is_int(image_id) or image_id not in sizes:
            continue
        height, width = sizes[image_id]
        if (png.height, png.width) != (height, width):
            yield (
                to_pointer(["annotations", index, "file_name"]),
                f"the PNG is {png.width}x{png.height} but image {image_id} is {width}x{height}",
            )


@rule("COCO-PANOPTIC-PNG-SEGMENTS-MISMATCH")
def panoptic_png_segments_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for index, annotation, png in _pngs(ctx):
        segments = annotation.get("segments_info")
        if png.error or not isinstance(segments, list):
            continue
        listed = {s["id"] for s in segments if isinstance(s, dict) and _is_int(s.get("id"))}
        drawn = set(png.counts)
        only_png = sorted(drawn - listed)
        only_json = sorted(listed - drawn)
        if only_png:
            yield (
                to_pointer(["annotations", index, "segments_info"]),
                f"ids drawn in the PNG but not listed in segments_info: {_ids_text(only_png)}",
                "panopticapi's pq_compute raises KeyError on a PNG id missing from the JSON",
            )
        if only_json:
            yield (
                to_pointer(["annotations", index, "segments_info"]),
                f"ids listed in segments_info but absent from the PNG: {_ids_text(only_json)}",
                "panopticapi's pq_compute raises for JSON segments that have no pixels",
            )


@rule("COCO-PANOPTIC-PNG-AREA")
def panoptic_png_area(ctx: RuleContext) -> Iterator[Hit]:
    for index, annotation, png in _pngs(ctx):
        segments = annotation.get("segments_info")
        if png.error or not isinstance(segments, list):
            continue
        # Duplicate ids (COCO-PANOPTIC-SEGMENT-ID-DUPLICATE) share their pixels: compare the sum.
        listed: Counter[int] = Counter()
        first: dict[int, int] = {}
        for number, segment in enumerate(segments):
            if isinstance(segment, dict) and _is_int(segment.get("id")) and _is_number(segment.get("area")):
                listed[segment["id"]] += segment["area"]
                first.setdefault(segment["id"], number)
        for segment_id, area in listed.items():
            pixels = png.counts.get(segment_id)
            if pixels is not None and pixels != area:
                yield (
                    to_pointer(["annotations", index, "segments_info", first[segment_id], "area"]),
                    f"segment {segment_id} has area {area} but {pixels} pixels of its colour in the PNG",
                )


# Rules that compare the items of one section (run once over the whole file's index: see
# labelspec.validator.rules.base.SECTIONED_RULES); the others read only the image and category tables.
sectioned(
    INSTANCE,
    ["COCO-IMAGE-ID-DUPLICATE", "COCO-ANNOTATION-ID-DUPLICATE", "COCO-CATEGORY-ID-DUPLICATE"],
    coco_index,
    CocoIndex,
)
sectioned(
    PANOPTIC,
    [
        "COCO-PANOPTIC-IMAGE-ID-DUPLICATE",
        "COCO-PANOPTIC-CATEGORY-ID-DUPLICATE",
        "COCO-PANOPTIC-IMAGE-ANNOTATED-TWICE",
    ],
    coco_index,
    CocoIndex,
)
