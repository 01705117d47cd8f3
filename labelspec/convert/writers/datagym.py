"""The ``datagym`` writer: a DataGym.ai image-project export (one JSON array: label classes, then tasks).

What it writes (schemas/datagym/notes.md#s1, the strict profile):

* ``label_classes``: one geometry class per category and DataGym geometry type used by its annotations
  (a category used with two types, e.g. boxes and polygons, becomes ``<name>`` and ``<name> <type>``,
  reported); classes of categories without annotations are written as ``rectangle``. Object attributes
  become nested classification classes (``select`` / ``checklist`` / ``freetext``), image
  classifications root classification classes. Class names are made to fit DataGym's export keys
  (``[a-zA-Z0-9_ -]{1,56}``, not a reserved keyword): renamings are reported.
* One task per media item: ``internal_media_ID`` (the media id when it is a UUID, else a UUID5 derived from
  it), ``external_media_ID`` (the file name), ``labeler: null``, ``status`` (the source's status,
  ``labelspec.convert.statuses``: a DataGym export holds completed, skipped and reviewed tasks only, so the
  other statuses become the nearest of these, reported; completed when the source has none),
  ``global_classifications``, ``labels``.
* Geometries: boxes as ``rectangle``, points as ``point``, polylines as ``line``, one-ring polygons as
  ``polygon``, polygons with holes as ``image_segmentation`` (rings), multipolygons as one
  ``image_segmentation`` value per part (reported), rotated boxes as their corner polygon (reported).
  Coordinates are whole pixels in DataGym: they are rounded to the nearest integer (the DataGym backend
  itself truncates), and negative ones clamped to 0; any change is reported.
* Dropped (reported): masks (DataGym exports its segmentations only as vector rings; no contour tracing is
  done), keypoints, cuboids, track ids, confidences. ``segmentations`` (bitmap URLs on the DataGym server)
  is not written: there is no server to serve them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelspec.convert.atomic import write_json
from labelspec.convert.model import (
    Annotation,
    AttributeValue,
    Box,
    Category,
    ConversionReport,
    Cuboid,
    Keypoints,
    LabelledDataset,
    Mask,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.registry import WriteOptions
from labelspec.convert.statuses import status_of, to_datagym
from labelspec.convert.writers import rotated_corners
from labelspec.formats import datagym

if TYPE_CHECKING:
    from labelspec.validator.report import Report

__all__ = ["WRITER", "DatagymWriter", "export_key"]

_KEY_CHARS = re.compile(r"[^a-zA-Z0-9_ -]")
_RESERVED = frozenset(
    [
        "geometry",
        "geometry_type",
        "class_name",
        "classification",
        "classifications",
        "global_classifications",
        "classification_type",
        "tag",
        "status",
        "label",
        "labeler",
        "label_classes",
        "reviewer",
        "image",
        "imageId",
        "external_image_ID",
        "internal_image_ID",
        "media",
        "mediaId",
        "external_media_ID",
        "internal_media_ID",
        "point",
        "line",
        "polygon",
        "rectangle",
        "checklist",
        "radio",
        "select",
    ]
)
# why frames become image tasks: a DataGym project export holds a video task as a header only (media ids,
# status, task_export_url, video_* facts); its labels are a different per-task document served by the backend
_NO_SEQUENCES = (
    "a DataGym export holds no video labels (a video task is a header; task_export_url serves them)"
)
_NAMESPACE = uuid.UUID("6b3c1c5e-6f7a-4d38-9a43-0d5c9b1e2a10")


def export_key(name: str, taken: set[str]) -> str:
    """``name`` as a DataGym export key: allowed characters, 1..56 long, not reserved, not in ``taken``."""
    key = _KEY_CHARS.sub("_", name).strip()[:56] or "class"
    if key in _RESERVED:
        key = f"{key}_class"[:56]
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = key[: 56 - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def _geometry_type(annotation: Annotation) -> str | None:
    geometry = annotation.geometry
    if isinstance(geometry, (Box,)):
        return "rectangle"
    if isinstance(geometry, Point):
        return "point"
    if isinstance(geometry, Polyline):
        return "line"
    if isinstance(geometry, RotatedBox):
        return "polygon"
    if isinstance(geometry, Polygon):
        return "polygon" if len(geometry.rings) <= 1 else "image_segmentation"
    if isinstance(geometry, MultiPolygon):
        return "image_segmentation"
    return None


class _Coords:
    """Rounds coordinates to whole non-negative pixels and remembers whether anything changed."""

    def __init__(self) -> None:
        self.changed = False

    def value(self, v: float) -> int:
        out = max(0, round(float(v)))
        if out != v:
            self.changed = True
        return out

    def point(self, x: float, y: float) -> datagym.PointXy:
        return datagym.PointXy.create(x=self.value(x), y=self.value(y))

    def ring(self, flat: Sequence[float]) -> list[datagym.PointXy]:
        return [self.point(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)]


def _media_uuid(media_id: str) -> str:
    try:
        return str(uuid.UUID(media_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, media_id))


def _answer(value: AttributeValue) -> tuple[str, list[Any]]:
    """(classification type, answer list) for an attribute / classification value."""
    if isinstance(value, tuple):
        return "checklist", [str(v) for v in value] or [None]
    if value is None:
        return "select", [None]
    if isinstance(value, str):
        return "select", [value]
    return "freetext", [str(value).lower() if isinstance(value, bool) else str(value)]


class DatagymWriter:
    target_id = "datagym"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        document = datagym.to_json(self.build_document(dataset, report))
        return [write_json(out, document, force=options.force, indent=True)]

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.validator.api import validate

        return validate(paths[0], format="datagym", profile="strict")

    def build(self, dataset: LabelledDataset, report: ConversionReport) -> list[Any]:
        """The export as JSON."""
        document: list[Any] = datagym.to_json(self.build_document(dataset, report))
        return document

    def build_document(self, dataset: LabelledDataset, report: ConversionReport) -> datagym.Document:
        roots: set[str] = set()
        classes: list[datagym.LabelClass] = []
        # category -> DataGym geometry types in first-use order
        used: dict[str, list[str]] = {c.id: [] for c in dataset.categories}
        for annotation in dataset.annotations:
            kind = _geometry_type(annotation)
            if (
                kind is not None
                and annotation.category_id in used
                and kind not in used[annotation.category_id]
            ):
                used[annotation.category_id].append(kind)
        class_key: dict[tuple[str, str], str] = {}
        attribute_keys: dict[tuple[str, str], tuple[str, str]] = {}  # (class key, attr) -> (key, type)
        for category in dataset.categories:
            kinds = used[category.id] or ["rectangle"]
            for n, kind in enumerate(kinds):
                wanted = category.name if n == 0 else f"{category.name} {kind}"
                key = export_key(wanted, roots)
                if key != category.name:
                    report.approximate(
                        "category name", f"written as the DataGym class {key!r} ({kind})", category.id
                    )
                class_key[(category.id, kind)] = key
                if kind == "image_segmentation":
                    classes.append(datagym.LabelClass.create(class_name=key, classification_type=kind))
                else:
                    classes.append(datagym.LabelClass.create(class_name=key, geometry_type=kind))
                nested: set[str] = {key}
                for definition in category.attributes:
                    attr_key = export_key(definition.name, nested)
                    if attr_key != definition.name:  # e.g. nested answers "parent/child": "/" is not allowed
                        report.approximate("attribute name", f"written as the DataGym key {attr_key!r}", key)
                    attr_type = {"multiselect": "checklist", "select": "select"}.get(
                        definition.kind, "freetext"
                    )
                    attribute_keys[(key, definition.name)] = (attr_key, attr_type)
                    classes.append(
                        datagym.LabelClass.create(class_name=attr_key, classification_type=attr_type)
                    )
        global_keys: dict[str, str] = {}
        global_types: dict[str, str] = {}
        for classification in dataset.classifications:
            if classification.name not in global_keys:
                global_keys[classification.name] = export_key(classification.name, roots)
                if global_keys[classification.name] != classification.name:
                    written = global_keys[classification.name]
                    report.approximate("classification name", f"written as the DataGym key {written!r}")
                global_types[classification.name] = _answer(classification.value)[0]
                classes.append(
                    datagym.LabelClass.create(
                        class_name=global_keys[classification.name],
                        classification_type=global_types[classification.name],
                    )
                )
        tasks: list[datagym.Task] = []
        by_media: dict[str, list[Annotation]] = {m.id: [] for m in dataset.media}
        for annotation in dataset.annotations:
            if annotation.media_id in by_media:
                by_media[annotation.media_id].append(annotation)
            else:
                report.drop("annotation", "it refers to an unknown media item", annotation.id)
        for item in dataset.media:
            if item.kind != "image":
                report.approximate(
                    "media item", f"a {item.kind} is written as an image task: {_NO_SEQUENCES}", item.id
                )
            labels: dict[str, list[datagym.GeometryEntry]] = {}
            for annotation in by_media[item.id]:
                self._annotation(annotation, dataset, class_key, attribute_keys, labels, report)
            global_classifications: dict[str, Any] = {}
            for classification in dataset.classifications:
                if classification.media_id is None:
                    report.approximate(
                        "classification", "a dataset/sequence classification is written on every task", ""
                    )
                elif classification.media_id != item.id:
                    continue
                kind, answer = _answer(classification.value)
                if kind != global_types[classification.name]:
                    report.approximate("classification", "its answer is written as text", item.id)
                    answer = [None if v is None else str(v) for v in answer[:1]]
                global_classifications[global_keys[classification.name]] = answer
            for key in global_keys.values():
                global_classifications.setdefault(key, [None])
            tasks.append(
                datagym.Task.create(
                    internal_media_id=_media_uuid(item.id),
                    external_media_id=item.file_name,
                    labeler=None,
                    status=status_of([item], to_datagym, "DataGym", report, item.id).value,
                    global_classifications=global_classifications,
                    labels=labels,
                )
            )
        report.counts["written_tasks"] = len(tasks)
        document = datagym.Document()
        document.append(datagym.LabelClassesElement.create(label_classes=classes))
        document.extend(tasks)
        return document

    def _annotation(
        self,
        annotation: Annotation,
        dataset: LabelledDataset,
        class_key: dict[tuple[str, str], str],
        attribute_keys: dict[tuple[str, str], tuple[str, str]],
        labels: dict[str, list[datagym.GeometryEntry]],
        report: ConversionReport,
    ) -> None:
        geometry = annotation.geometry
        kind = _geometry_type(annotation)
        if kind is None:
            what = {Mask: "mask", Keypoints: "keypoints", Cuboid: "cuboid"}.get(type(geometry), "annotation")
            report.drop(f"{what} annotation", f"DataGym has no {what} geometry", annotation.id)
            return
        key = class_key.get((annotation.category_id, kind))
        if key is None:
            report.drop("annotation", f"unknown category {annotation.category_id!r}", annotation.id)
            return
        coords = _Coords()
        payloads: list[Any] = []
        if isinstance(geometry, Box):
            x0, y0 = coords.value(geometry.x), coords.value(geometry.y)
            w, h = coords.value(geometry.x + geometry.w) - x0, coords.value(geometry.y + geometry.h) - y0
            if w <= 0 or h <= 0:
                report.drop("box annotation", "it is empty in whole pixels", annotation.id)
                return
            payloads.append([datagym.RectangleBox.create(x=x0, y=y0, w=w, h=h)])
        elif isinstance(geometry, Point):
            payloads.append([coords.point(geometry.x, geometry.y)])
        elif isinstance(geometry, Polyline):
            payloads.append([coords.point(x, y) for x, y in geometry.points])
        elif isinstance(geometry, RotatedBox):
            report.approximate("rotated box", "written as its corner polygon", annotation.id)
            payloads.append(coords.ring(rotated_corners(geometry)))
        elif isinstance(geometry, Polygon):
            if kind == "polygon":
                payloads.append(coords.ring(geometry.rings[0] if geometry.rings else ()))
            else:
                payloads.append([coords.ring(ring) for ring in geometry.rings])
        elif isinstance(geometry, MultiPolygon):
            if len(geometry.polygons) > 1:
                report.approximate(
                    "multipolygon", "each part is written as its own image_segmentation value", annotation.id
                )
            payloads.extend([coords.ring(ring) for ring in p.rings] for p in geometry.polygons)
        if coords.changed:
            report.approximate("coordinates", "rounded to whole non-negative pixels", annotation.id)
        if annotation.track_id is not None:
            report.drop("track id", "DataGym image tasks have no tracks", annotation.id)
        if annotation.confidence is not None:
            report.drop("confidence", "DataGym exports have no confidence", annotation.id)
        classifications = self._attributes(annotation, key, dataset, attribute_keys, report)
        for payload in payloads:
            labels.setdefault(key, []).append(
                datagym.GeometryEntry.create(
                    point=payload if kind == "point" else None,
                    line=payload if kind == "line" else None,
                    polygon=payload if kind == "polygon" else None,
                    rectangle=payload if kind == "rectangle" else None,
                    image_segmentation=payload if kind == "image_segmentation" else None,
                    classifications=dict(classifications),
                    nested_geometries={},
                )
            )

    @staticmethod
    def _attributes(
        annotation: Annotation,
        key: str,
        dataset: LabelledDataset,
        attribute_keys: dict[tuple[str, str], tuple[str, str]],
        report: ConversionReport,
    ) -> dict[str, Any]:
        category: Category | None
        try:
            category = dataset.category(annotation.category_id)
        except KeyError:
            category = None
        out: dict[str, Any] = {}
        declared = {d.name for d in category.attributes} if category is not None else set()
        for name, value in annotation.attributes.items():
            if name not in declared or (key, name) not in attribute_keys:
                report.drop("object attribute", f"{name!r} is not declared by the category", annotation.id)
                continue
            attr_key, attr_type = attribute_keys[(key, name)]
            kind, answer = _answer(value)
            if attr_type == "checklist" and kind != "checklist":
                answer = [None if v is None else str(v) for v in answer]
            elif attr_type != "checklist" and kind == "checklist":
                report.approximate(
                    "object attribute", f"{name!r}: only the first answer is kept", annotation.id
                )
                answer = answer[:1]
            out[attr_key] = answer
        for (class_name, _), (attr_key, _) in attribute_keys.items():
            if class_name == key:
                out.setdefault(attr_key, [None])
        return out


WRITER = DatagymWriter()
