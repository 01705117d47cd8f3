"""DataGym.ai project export -> canonical model (notes/datagym.md §1).

- element 0's ``label_classes``: geometry classes (point, line, polygon, rectangle) and image
  segmentation classes become categories (id = ``class_name``); classification classes (select,
  checklist, freetext) become answers, not categories;
- one image per task (``internal_media_ID``, or the pre-2021 ``internal_image_ID``); ``external_media_ID``
  is the file name (task status and labeler are not carried); image sizes are not in DataGym exports,
  so they are read from the media file headers under ``--media-dir`` (writers that need them stop with a
  clear error when they are missing);
- geometries (payload key = the type, or the documentation's generic ``geometry``, dispatched on the
  class's type): rectangle ``{x, y, w, h}`` -> Box, polygon -> Polygon, line -> Polyline, point -> Point,
  image segmentation rings -> Polygon (ring 0 outer, the others holes; a closing point repeating the first
  is removed); all-null rectangles, null points, too few points and empty segmentations are dropped and
  reported;
- a geometry's classifications become its attributes (nested answers as ``parent/child``); nested
  geometries become annotations of their own with the attribute ``parent`` (the parent annotation id);
  global classifications become image classifications;
- video-project tasks carry no labels in the export and are dropped (reported).
"""

from __future__ import annotations

from typing import Any

from labelspec.convert.model import (
    Annotation,
    AttributeValue,
    Box,
    Category,
    Classification,
    ConversionReport,
    Geometry,
    LabelledDataset,
    MediaItem,
    Point,
    Polygon,
    Polyline,
)
from labelspec.convert.readers import number, with_size
from labelspec.convert.registry import ReadOptions

__all__ = ["read"]

_GEOMETRY_TYPES = ("rectangle", "polygon", "line", "point", "image_segmentation")


def _answers(key: str, values: Any, out: dict[str, AttributeValue]) -> None:
    """Flatten one classification value array (``[answer(s)…, {child: [...]}, …]``) into ``out``."""
    if not isinstance(values, list):
        return
    answers = [v for v in values if not isinstance(v, dict)]
    texts = tuple(str(v) for v in answers if v is not None)
    out[key] = None if not texts else texts[0] if len(answers) == 1 else texts
    for child in (v for v in values if isinstance(v, dict)):
        for child_key, child_values in child.items():
            _answers(f"{key}/{child_key}", child_values, out)


def _classifications(block: Any) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for key, values in (block or {}).items() if isinstance(block, dict) else ():
        _answers(str(key), values, out)
    return out


def _points(raw: Any) -> list[tuple[float, float]] | None:
    if not isinstance(raw, list):
        return None
    points = []
    for point in raw:
        x, y = (number(point.get("x")), number(point.get("y"))) if isinstance(point, dict) else (None, None)
        if x is None or y is None:
            return None
        points.append((x, y))
    return points


def _geometry(kind: str, payload: Any, report: ConversionReport, where: str) -> Geometry | None:
    if kind == "rectangle":
        box = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], dict) else {}
        values = [number(box.get(k)) for k in ("x", "y", "w", "h")]
        if any(v is None for v in values):
            report.drop("rectangle", "null coordinates (DataGym writes them for invalid rectangles)", where)
            return None
        x, y, w, h = (float(v) for v in values if v is not None)
        return Box(x, y, w, h)
    if kind == "image_segmentation":
        rings = []
        for ring in payload if isinstance(payload, list) else []:
            points = _points(ring)
            if points and len(points) > 3 and points[0] == points[-1]:
                points = points[:-1]
            if not points or len(points) < 3:
                report.drop("segmentation ring", "fewer than 3 points or null coordinates", where)
                continue
            rings.append(tuple(c for p in points for c in p))
        if not rings:
            report.drop("image segmentation", "no ring with 3 or more points", where)
            return None
        return Polygon(tuple(rings))
    points = _points(payload)
    least = {"point": 1, "line": 2, "polygon": 3}.get(kind)
    if least is None:
        report.drop("geometry", f"unknown geometry type {kind!r}", where)
        return None
    if points is None or len(points) < least:
        report.drop(kind, f"null coordinates or fewer than {least} point(s)", where)
        return None
    if kind == "point":
        return Point(*points[0])
    if kind == "line":
        return Polyline(tuple(points))
    return Polygon((tuple(c for p in points for c in p),))


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    items = document if isinstance(document, list) else []
    classes: list[Any] = []
    if items and isinstance(items[0], dict) and "label_classes" in items[0]:
        classes = items[0]["label_classes"] or []
        items = items[1:]
    kinds: dict[str, str] = {}
    categories: list[Category] = []
    for entry in classes:
        name = str(entry.get("class_name"))
        kind = entry.get("geometry_type") or entry.get("classification_type")
        if kind in _GEOMETRY_TYPES and name not in kinds:
            kinds[name] = str(kind)
            categories.append(Category(id=name, name=name, source_id=name))
    media: list[MediaItem] = []
    annotations: list[Annotation] = []
    classifications: list[Classification] = []

    def add(key: str, entry: Any, media_id: str, ann_id: str, where: str, parent: str | None) -> None:
        if not isinstance(entry, dict):
            return
        kind = kinds.get(key)
        payload_key = next((k for k in (*_GEOMETRY_TYPES, "geometry") if k in entry), None)
        if kind is None:
            kind = payload_key if payload_key in _GEOMETRY_TYPES else None
            if kind is None:
                report.drop("geometry", f"class {key!r} is not a geometry class of the export", where)
                return
            kinds[key] = kind
            categories.append(Category(id=key, name=key, source_id=key))
        geometry = _geometry(kind, entry.get(payload_key) if payload_key else None, report, where)
        attributes = _classifications(entry.get("classifications"))
        if parent is not None:
            attributes["parent"] = parent
        if geometry is not None:
            annotations.append(Annotation(ann_id, media_id, key, geometry, attributes=attributes))
        for child_key, children in (entry.get("nested_geometries") or {}).items():
            for index, child in enumerate(children if isinstance(children, list) else []):
                child_where = f"{where}/nested_geometries/{child_key}/{index}"
                add(str(child_key), child, media_id, f"{ann_id}/{child_key}/{index}", child_where, ann_id)

    for number_, task in enumerate(items, 1):
        if not isinstance(task, dict):
            continue
        media_id = task.get("internal_media_ID", task.get("internal_image_ID"))
        file_name = task.get("external_media_ID", task.get("external_image_ID")) or media_id
        if "labels" not in task and "global_classifications" not in task:
            report.drop("video task", "DataGym video-project exports carry no labels", f"/{number_}")
            continue
        item = MediaItem(
            id=str(media_id), file_name=str(file_name), attributes={"status": task.get("status")}
        )
        media.append(with_size(item, options))
        for name, value in _classifications(task.get("global_classifications")).items():
            classifications.append(Classification(name, value, media_id=item.id))
        for key, entries in (task.get("labels") or {}).items():
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                where = f"/{number_}/labels/{key}/{index}"
                add(str(key), entry, item.id, f"{item.id}/{key}/{index}", where, None)
    report.counts.update(media=len(media), categories=len(categories), annotations=len(annotations))
    return LabelledDataset(tuple(media), tuple(categories), tuple(annotations), tuple(classifications))
