"""COCO instance (detection / segmentation / keypoints) JSON -> canonical model.

- categories keep their integer ids (as strings in the model, ``source_id`` the integer), names,
  supercategories, colours (Segments.ai exports), keypoint names and skeletons (COCO's 1-based pairs become
  0-based);
- a segmentation given as polygons becomes a :class:`Polygon` (one ring) or a :class:`MultiPolygon`; RLE
  (compressed strings via pycocotools, or uncompressed counts) becomes a :class:`Mask`; an annotation with
  no segmentation keeps its ``bbox`` as a :class:`Box` (a negative width/height, as the Segments.ai SDK
  writes for reversed corners, is normalised and reported);
- an annotation with keypoints *and* a region becomes two model annotations sharing ``track_id`` (the COCO
  annotation id): the region, and a :class:`Keypoints` with id ``<id>#keypoints``; the coco-instance writer
  merges them back. A lone ``keypoints: [x, y, v]`` of a category without keypoint names is a Point;
- the Segments.ai SDK's non-COCO ``points`` key (a polygon) is read as a polygon.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import numpy as np

from labelspec.convert.model import (
    Annotation,
    Box,
    Category,
    ConversionReport,
    Geometry,
    Keypoint,
    Keypoints,
    LabelledDataset,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
)
from labelspec.convert.readers import number, with_size
from labelspec.convert.registry import ReadOptions
from labelspec.formats import coco_instance
from labelspec.formats._runtime import JsonObject, JsonTypeError, ListView, MissingPropertyError, to_raw

__all__ = ["compressed_to_counts", "mask_to_counts", "read"]

_V = TypeVar("_V", bound=JsonObject)

_VISIBILITY: dict[int, Literal["visible", "occluded", "invisible"]] = {
    0: "invisible",
    1: "occluded",
    2: "visible",
}


def mask_to_counts(mask: np.ndarray[Any, Any]) -> tuple[int, ...]:
    """COCO uncompressed RLE counts (column-major, 0s first) of a 2-D mask."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return ()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], change, [flat.size])))
    counts = tuple(int(r) for r in runs)
    return (0, *counts) if flat[0] else counts


def compressed_to_counts(counts: str | bytes, height: int, width: int) -> tuple[int, ...]:
    """Decode a COCO compressed RLE string into uncompressed counts (via a pycocotools mask decode)."""
    from pycocotools import mask as mask_utils

    raw = counts.encode("ascii") if isinstance(counts, str) else counts
    mask = mask_utils.decode({"size": [height, width], "counts": raw})
    return mask_to_counts(mask)


_NUMBERS = frozenset((int, float))  # JSON numbers as orjson/json give them (bool is not one)


def _polygons(segmentation: list[Any], report: ConversionReport, where: str) -> Geometry | None:
    if len(segmentation) == 1:  # the usual object: one ring, checked as in the loop below
        ring = segmentation[0]
        if type(ring) is list and len(ring) >= 6 and not len(ring) % 2 and set(map(type, ring)) <= _NUMBERS:
            return Polygon((tuple(map(float, ring)),))
    rings: list[tuple[float, ...]] = []
    for index, ring in enumerate(segmentation):
        # one type check per ring (set of the item types), not a call per coordinate: the hot loop of a
        # large COCO file
        if type(ring) is list and len(ring) >= 6 and not len(ring) % 2 and set(map(type, ring)) <= _NUMBERS:
            rings.append(tuple(map(float, ring)))
            continue
        report.drop("polygon ring", "fewer than 3 points or not numbers", f"{where}/segmentation/{index}")
    if not rings:
        return None
    if len(rings) == 1:
        return Polygon((rings[0],))
    return MultiPolygon(tuple(Polygon((ring,)) for ring in rings))


def _rle(segmentation: coco_instance.Rle, image: MediaItem | None) -> Mask:
    raw = segmentation.to_json()
    size = segmentation.size if "size" in raw else None
    if isinstance(size, ListView) and len(size) == 2:
        height, width = int(size[0]), int(size[1])
    elif image is not None and image.height is not None and image.width is not None:
        height, width = image.height, image.width
    else:
        raise ValueError("an RLE segmentation without size")
    counts = segmentation.counts if "counts" in raw else None
    if isinstance(counts, (str, bytes)):
        return Mask(height, width, compressed_to_counts(counts, height, width))
    return Mask(height, width, tuple(int(c) for c in counts or ()))


def _box(bbox: Any, report: ConversionReport, where: str) -> Box | None:
    if type(bbox) is not list or len(bbox) != 4:
        return None
    values = [number(v) for v in bbox]
    if any(v is None for v in values):
        return None
    x, y, w, h = (float(v) for v in values if v is not None)
    if w < 0 or h < 0:
        report.approximate("box", "negative width/height (reversed corners) normalised", f"{where}/bbox")
        x, w = (x + w, -w) if w < 0 else (x, w)
        y, h = (y + h, -h) if h < 0 else (y, h)
    return Box(x, y, w, h)


def _category(category: coco_instance.Category) -> Category:
    color = category.color
    names = category.keypoints
    skeleton = category.skeleton
    supercategory = category.supercategory
    name = category.name if "name" in category.to_json() else category.id
    return Category(
        id=str(category.id),
        name=str(name),
        supercategory=supercategory if isinstance(supercategory, str) else None,
        color=_colour(color),
        # A string (Encord's exporter writes "keypoint", COCO-D10) names nothing: read as no names.
        keypoint_names=tuple(str(n) for n in names) if isinstance(names, ListView) else (),
        skeleton=tuple((int(a) - 1, int(b) - 1) for a, b in skeleton)
        if isinstance(skeleton, ListView)
        else (),
        source_id=category.id,
    )


def _colour(value: Any) -> tuple[int, int, int] | None:
    """A non-COCO ``color`` (COCO-D11): ``[r, g, b(, a)]`` (Segments.ai) or ``"#rrggbb"`` (COCO-Annotator)."""
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
        except ValueError:
            return None
    if isinstance(value, (list, ListView)) and len(value) >= 3:
        rgb = [value[0], value[1], value[2]]
        if all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb):
            return (int(rgb[0]), int(rgb[1]), int(rgb[2]))
    return None


def _point_pairs(value: Any) -> tuple[float, ...] | None:
    """The Segments.ai SDK's non-COCO ``points`` polygon ``[[x, y], ...]`` (COCO-D03), else None."""
    if not isinstance(value, (list, ListView)) or len(value) < 3:
        return None
    coords: list[float] = []
    for pair in value:
        xy = [number(c) for c in pair[:2]] if isinstance(pair, (list, ListView)) and len(pair) >= 2 else []
        if len(xy) != 2 or xy[0] is None or xy[1] is None:
            return None
        coords.extend((xy[0], xy[1]))
    return tuple(coords)


def _one_point_rings(segmentation: list[Any]) -> bool:
    """Encord's exporter repeats a point object as the polygon ``[[x, y]]`` (COCO-D10)."""
    return all(isinstance(ring, list) and len(ring) == 2 for ring in segmentation)


def _zero_box(bbox: Any) -> bool:
    return type(bbox) is list and len(bbox) == 4 and bbox[2] == 0 and bbox[3] == 0


def _keypoints(values: list[Any], category: Category | None) -> Keypoints | Point | None:
    triplets = [values[i : i + 3] for i in range(0, len(values) - len(values) % 3, 3)]
    names = category.keypoint_names if category is not None else ()
    if not names and len(triplets) == 1:
        x, y, v = triplets[0]
        return Point(float(x), float(y)) if v else None
    points = []
    for index, (x, y, v) in enumerate(triplets):
        name = names[index] if index < len(names) else None
        points.append(Keypoint(float(x), float(y), _VISIBILITY.get(int(v), "visible"), name))
    return Keypoints(tuple(points)) if points else None


def _size(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _items(raw_doc: dict[str, Any], key: str) -> list[Any]:
    """The raw array ``key`` of the document ([] when absent, null or empty)."""
    value = raw_doc.get(key)
    if not value:
        return []
    if type(value) is not list:
        raise JsonTypeError(f"/{key}", "an array", value)
    return value


def _object(value: Any, cls: type[_V], pointer: str) -> dict[str, Any]:
    """``value`` as a raw JSON object; anything else raises what the typed view would (``JsonTypeError``)."""
    if type(value) is not dict:
        cls.from_json(value, pointer)  # raises
    raw: dict[str, Any] = value
    return raw


def _required(raw: dict[str, Any], key: str, pointer: str) -> Any:
    if key not in raw:
        raise MissingPropertyError(f"{pointer}/{key}")
    return raw[key]


def _media_item(value: Any, pointer: str, options: ReadOptions) -> MediaItem:
    image = _object(value, coco_instance.Image, pointer)
    coco_url = image.get("coco_url")
    item = MediaItem(
        id=str(_required(image, "id", pointer)),
        file_name=str(image["file_name"] if image.get("file_name") else image["id"]),
        width=_size(image.get("width")),
        height=_size(image.get("height")),
        url=coco_url if isinstance(coco_url, str) else None,
    )
    return with_size(item, options)


def _annotations(
    value: Any,
    index: int,
    by_category: dict[str, Category],
    by_media: dict[str, MediaItem],
    report: ConversionReport,
) -> list[Annotation]:
    """The model annotations of the COCO annotation at ``/annotations/<index>`` (none, one, or a region
    and its keypoints); ``by_media`` holds (at least) its image."""
    where = f"/annotations/{index}"
    raw = value if type(value) is dict else _object(value, coco_instance.Annotation, where)
    # labelformat writes no annotation ids (COCO-D13): the position stands in for it.
    source_id = raw.get("id")
    ann_id = str(source_id) if source_id is not None else f"annotation-{index}"
    if "image_id" not in raw or "category_id" not in raw:
        _required(raw, "image_id", where)
        _required(raw, "category_id", where)
    media_id, category_id = str(raw["image_id"]), str(raw["category_id"])
    segmentation = raw.get("segmentation")
    bbox = raw.get("bbox")
    keypoints = None
    values = raw.get("keypoints")
    if type(values) is list and values:
        keypoints = _keypoints(values, by_category.get(category_id))
    region: Geometry | None = None
    if type(segmentation) is list and segmentation:
        if not (keypoints is not None and _one_point_rings(segmentation)):  # else: the keypoints hold it
            region = _polygons(segmentation, report, where)
    elif type(segmentation) is dict:
        rle = coco_instance.Rle.from_json(segmentation, f"{where}/segmentation")
        region = _rle(rle, by_media.get(media_id))
    elif "points" in raw and (points := _point_pairs(raw["points"])) is not None:
        region = Polygon((points,))  # Segments.ai SDK polygons
    if region is None and not (keypoints is not None and _zero_box(bbox)):
        region = _box(bbox, report, where)
    if region is None and keypoints is None:
        report.drop("annotation", "no geometry (no segmentation, bbox or keypoints)", where)
        return []
    is_crowd = raw.get("iscrowd") == 1
    score = raw.get("score")
    confidence = None if score is None else number(score)
    track = ann_id if region is not None and isinstance(keypoints, Keypoints) else None
    out: list[Annotation] = []
    if region is not None:
        out.append(
            Annotation(ann_id, media_id, category_id, region, {}, track, confidence, is_crowd, source_id)
        )
    if keypoints is not None:
        kp_id = f"{ann_id}#keypoints" if region is not None else ann_id
        out.append(Annotation(kp_id, media_id, category_id, keypoints, {}, track, confidence, is_crowd))
    return out


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    # Images and annotations are read from the raw JSON (no typed view per item: 100 000s of them in a
    # large file), with the views' semantics: required keys raise MissingPropertyError, non-objects
    # JsonTypeError, and numbers are floats in the model.
    doc = coco_instance.from_json(document)
    raw_doc = doc.to_json()
    categories = tuple(_category(c) for c in (doc.categories if raw_doc.get("categories") else ()))
    by_category = {c.id: c for c in categories}
    media = [_media_item(value, f"/images/{i}", options) for i, value in enumerate(_items(raw_doc, "images"))]
    by_media = {m.id: m for m in media}
    annotations: list[Annotation] = []
    extend = annotations.extend
    for index, value in enumerate(_items(raw_doc, "annotations")):
        extend(_annotations(value, index, by_category, by_media, report))
    info: dict[str, Any] = {}
    if "info" in raw_doc:
        info["coco_info"] = to_raw(doc.info)
    if "licenses" in raw_doc:
        info["coco_licenses"] = to_raw(doc.licenses)
    report.counts.update(media=len(media), categories=len(categories), annotations=len(annotations))
    return LabelledDataset(tuple(media), categories, tuple(annotations), info=info)
