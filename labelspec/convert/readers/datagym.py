"""DataGym.ai project export -> canonical model (schemas/datagym/notes.md#s1).

- element 0's ``label_classes``: geometry classes (point, line, polygon, rectangle) and image
  segmentation classes become categories (id = ``class_name``); classification classes (select,
  checklist, freetext) become answers, not categories;
- one image per task (``internal_media_ID``, or the pre-2021 ``internal_image_ID``); ``external_media_ID``
  is the file name; the task ``status`` becomes the item's status (``labelspec.convert.statuses``;
  the labeler is not carried); image sizes are not in DataGym exports,
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

from collections.abc import Mapping
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
from labelspec.convert.readers import keeps, number, with_size
from labelspec.convert.registry import ReadOptions
from labelspec.convert.statuses import from_datagym
from labelspec.formats import datagym
from labelspec.formats._runtime import JsonObject, ListView, MissingPropertyError

__all__ = ["read"]

_GEOMETRY_TYPES = ("rectangle", "polygon", "line", "point", "image_segmentation")
# tasks a labeler skipped: as images without objects they would teach a model false negatives
SKIPPED_STATUSES = frozenset({"SKIPPED", "REVIEWED_SKIP"})


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


def _get(view: JsonObject, name: str) -> Any:
    """The property ``name`` of a view; None when a required one is absent (readers never fail on that)."""
    try:
        return getattr(view, name)
    except MissingPropertyError:
        return None


def _coordinate(point: Any, key: str) -> float | None:
    """A coordinate of a point/rectangle: a typed view, or a plain object (the generic ``geometry`` payload
    is typed ``Any``)."""
    if isinstance(point, JsonObject):
        return number(_get(point, key))
    return number(point.get(key)) if isinstance(point, dict) else None


def _classifications(block: Any) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for key, values in block.items() if isinstance(block, Mapping) else ():
        _answers(str(key), values, out)  # answer arrays are typed list[Any]: read as JSON
    return out


def _points(raw: Any) -> list[tuple[float, float]] | None:
    if not isinstance(raw, (list, ListView)):
        return None
    points = []
    for point in raw:
        x, y = _coordinate(point, "x"), _coordinate(point, "y")
        if x is None or y is None:
            return None
        points.append((x, y))
    return points


def _geometry(kind: str, payload: Any, report: ConversionReport, where: str) -> Geometry | None:
    if kind == "rectangle":
        box = payload[0] if isinstance(payload, (list, ListView)) and payload else None
        values = [_coordinate(box, k) for k in ("x", "y", "w", "h")]
        if any(v is None for v in values):
            report.drop("rectangle", "null coordinates (DataGym writes them for invalid rectangles)", where)
            return None
        x, y, w, h = (float(v) for v in values if v is not None)
        return Box(x, y, w, h)
    if kind == "image_segmentation":
        rings = []
        for ring in payload if isinstance(payload, (list, ListView)) else []:
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
    doc = datagym.from_json(document if isinstance(document, list) else [])
    items: Any = [datagym.from_json_as("task", task) for task in doc.to_json()]
    classes: Any = ()
    if items and isinstance(doc[0], dict) and "label_classes" in doc[0]:
        classes = doc.label_classes_element.label_classes or ()
        items = doc.tasks
    kinds: dict[str, str] = {}
    categories: list[Category] = []
    for entry in classes:
        name = str(_get(entry, "class_name"))
        kind = entry.geometry_type or entry.classification_type
        if kind in _GEOMETRY_TYPES and name not in kinds:
            kinds[name] = str(kind)
            categories.append(Category(id=name, name=name, source_id=name))
    media: list[MediaItem] = []
    annotations: list[Annotation] = []
    classifications: list[Classification] = []

    def add(key: str, item: Any, media_id: str, ann_id: str, where: str, parent: str | None) -> None:
        if not isinstance(item, JsonObject):
            return
        # nested entries are read as top-level ones (a superset: image_segmentation, nested_geometries)
        entry = datagym.GeometryEntry.from_json(item.to_json(), item.pointer)
        kind = kinds.get(key)
        payload_key = next((k for k in (*_GEOMETRY_TYPES, "geometry") if k in entry.to_json()), None)
        if kind is None:
            kind = payload_key if payload_key in _GEOMETRY_TYPES else None
            if kind is None:
                report.drop("geometry", f"class {key!r} is not a geometry class of the export", where)
                return
            kinds[key] = kind
            categories.append(Category(id=key, name=key, source_id=key))
        geometry = _geometry(kind, getattr(entry, payload_key) if payload_key else None, report, where)
        attributes = _classifications(_get(entry, "classifications"))
        if parent is not None:
            attributes["parent"] = parent
        if geometry is not None:
            annotations.append(Annotation(ann_id, media_id, key, geometry, attributes=attributes))
        for child_key, children in (entry.nested_geometries or {}).items():
            for index, child in enumerate(children if isinstance(children, ListView) else []):
                child_where = f"{where}/nested_geometries/{child_key}/{index}"
                add(str(child_key), child, media_id, f"{ann_id}/{child_key}/{index}", child_where, ann_id)

    filtered = 0
    for number_, task in enumerate(items, 1):
        if not isinstance(task, datagym.Task):
            continue
        raw = task.to_json()  # which keys are present (a null ID does not fall back to the legacy key)
        media_id = task.internal_media_id if "internal_media_ID" in raw else task.internal_image_id
        file_name = (
            task.external_media_id if "external_media_ID" in raw else task.external_image_id
        ) or media_id
        status = _get(task, "status")
        if not keeps(status, options, SKIPPED_STATUSES, from_datagym(status)):
            filtered += 1
            continue
        if "labels" not in raw and "global_classifications" not in raw:
            report.drop("video task", "DataGym video-project exports carry no labels", f"/{number_}")
            continue
        item = MediaItem(id=str(media_id), file_name=str(file_name), status=from_datagym(status))
        media.append(with_size(item, options))
        for name, value in _classifications(task.global_classifications).items():
            classifications.append(Classification(name, value, media_id=item.id))
        for key, entries in (task.labels or {}).items():
            for index, entry in enumerate(entries if isinstance(entries, ListView) else []):
                where = f"/{number_}/labels/{key}/{index}"
                add(str(key), entry, item.id, f"{item.id}/{key}/{index}", where, None)
    report.counts.update(media=len(media), categories=len(categories), annotations=len(annotations))
    if filtered:
        report.counts["filtered_tasks"] = filtered
    return LabelledDataset(tuple(media), tuple(categories), tuple(annotations), tuple(classifications))
