"""Segments.ai release file -> canonical model (schemas/segments/notes.md#s1 to #s7).

- ``task_attributes.categories`` -> categories (id = the Segments id as a string, ``source_id`` the int;
  colour, ``has_instances`` as thing/stuff, attribute definitions); ``image_attributes`` of a label ->
  media attributes;
- the labelset: ``--labelset``, else ``ground-truth`` when the release has it, else the first labelset;
  ``--status`` keeps only labels with one of the statuses (case-insensitive; a null label is
  ``UNLABELED``, as in the SDK); the label's status becomes the status of the sample's items
  (``labelspec.convert.statuses``). Filtered samples are counted (``counts.filtered_samples``); samples
  without a label are dropped and reported (the SDK skips them too);
- image vector tasks (``vector``, ``bboxes``, ``keypoints``): bbox (corners in either order) -> Box,
  polygon -> Polygon, polyline -> Polyline, point -> Point, pixel floats kept; image sizes from the
  media headers under ``--media-dir`` (the release has none);
- bitmap tasks (``segmentation-bitmap[-highres]``): the label PNG (``R + 256·G + 65536·B`` ids, the exact
  codec of ``labelspec.codecs.segments_bitmap``, no 16-bit clamping unlike the SDK's cache) -> one Mask
  per annotation id, at full 24-bit precision; zero-pixel instances and pixels whose id has no
  annotation are reported; the image size is the bitmap's. PNGs are found under ``--media-dir`` (URL
  basename), as local paths / ``file:`` URLs, or fetched (``labelspec.convert.fetch``, cached);
- image sequences: one frame media item per frame (``kind="frame"``, ``sequence_id`` the sample,
  ``frame_index``), ``track_id`` kept, and one ``MediaGroup`` (``image_sequence``) per sample;
- point-cloud cuboid tasks: cuboids (position, dimensions, yaw as rotation about z; a 3-D rotation
  quaternion is converted to roll/pitch/yaw) on a media item marked ``media_type: pointcloud``; other
  point-cloud, multi-sensor and text tasks are dropped and reported.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from labelspec.convert.media import media_basename
from labelspec.convert.model import (
    MISSING_MEDIA,
    Annotation,
    AttributeDefinition,
    AttributeKind,
    Box,
    Category,
    ConversionReport,
    Cuboid,
    Geometry,
    LabelledDataset,
    LabelStatus,
    Mask,
    MediaGroup,
    MediaItem,
    Point,
    Polygon,
    Polyline,
)
from labelspec.convert.readers import as_attribute_value, keeps, number, with_size
from labelspec.convert.registry import ConversionError, ReadOptions
from labelspec.convert.statuses import from_segments
from labelspec.formats import segments
from labelspec.formats._runtime import JsonObject, JsonView, ListView, MissingPropertyError, to_raw

__all__ = ["read"]

_IMAGE_VECTOR = ("vector", "bboxes", "keypoints")
# samples a labeler skipped: as images without objects they would teach a model false negatives
SKIPPED_STATUSES = frozenset({"SKIPPED"})
_BITMAP = ("segmentation-bitmap", "segmentation-bitmap-highres")
_KINDS: dict[str, AttributeKind] = {
    "select": "select",
    "multiselect": "multiselect",
    "text": "text",
    "number": "number",
    "checkbox": "checkbox",
}


def _get(view: Any, name: str) -> Any:
    """The property ``name`` of a view; None when a required one is absent or ``view`` is not a view."""
    if not isinstance(view, JsonObject):
        return None
    try:
        return getattr(view, name)
    except MissingPropertyError:
        return None


def _as(definition: str, value: Any) -> Any:
    """``value`` (a view or plain JSON) as a view of ``#/definitions/<definition>``: sample and label
    attributes are typed by the dataset's task type, which the base classes do not know."""
    return segments.from_json_as(definition, value.to_json() if isinstance(value, JsonView) else value)


def _url(ref: Any) -> Any:
    return _get(ref, "url")


def _category(raw: segments.Category) -> Category:
    color = raw.color
    definitions = []
    for attribute in raw.attributes or ():
        kind = _KINDS.get(str(_get(attribute, "input_type")))
        name = _get(attribute, "name")
        if kind is None or not name:
            continue
        options = tuple(str(v) for v in _get(attribute, "values") or ())
        definitions.append(AttributeDefinition(str(name), kind, options, bool(attribute.is_mandatory)))
    name = raw.name if "name" in raw.to_json() else raw.id
    return Category(
        id=str(raw.id),
        name=str(name),
        color=(int(color[0]), int(color[1]), int(color[2]))
        if isinstance(color, ListView) and len(color) >= 3
        else None,
        attributes=tuple(definitions),
        is_thing=bool(raw.has_instances if "has_instances" in raw.to_json() else True),
        source_id=raw.id,
    )


def _attributes(raw: Any) -> dict[str, Any]:
    # attribute values are typed Any: read as JSON
    return {str(k): as_attribute_value(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _vector(annotation: segments.VectorAnnotation, report: ConversionReport, where: str) -> Geometry | None:
    kind = _get(annotation, "type")
    points = []
    for point in _get(annotation, "points") or ():
        values = [number(v) for v in point[:2]] if isinstance(point, ListView) else []
        if len(values) != 2 or values[0] is None or values[1] is None:
            report.drop(f"{kind} annotation", "a point is not two numbers", where)
            return None
        points.append((float(values[0]), float(values[1])))
    least = {"bbox": 2, "polygon": 3, "polyline": 2, "point": 1}.get(str(kind))
    if least is None:
        report.drop("annotation", f"unknown vector type {kind!r}", where)
        return None
    if len(points) < least:
        report.drop(f"{kind} annotation", f"fewer than {least} point(s)", where)
        return None
    if kind == "bbox":
        (x0, y0), (x1, y1) = points[0], points[1]
        return Box(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
    if kind == "polygon":
        return Polygon((tuple(c for p in points for c in p),))
    if kind == "polyline":
        return Polyline(tuple(points))
    return Point(*points[0])


def _number(view: JsonObject, name: str, default: float = 0.0) -> float:
    value = _get(view, name)
    return default if value is None and name not in view.to_json() else float(value)


def _euler(q: segments.Xyzw) -> tuple[float, float, float]:
    x, y, z, w = (_number(q, k) for k in ("qx", "qy", "qz", "qw"))
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


def _xyz(raw: Any) -> tuple[float, float, float]:
    if not isinstance(raw, JsonObject):
        return 0.0, 0.0, 0.0
    return _number(raw, "x"), _number(raw, "y"), _number(raw, "z")


def _legacy(document: segments.Document) -> segments.Dataset:
    """The 2020 layout (``tasks`` + ``samples``, no ``dataset``) in the shape of the current one."""
    tasks = [t for t in document.tasks or () if isinstance(t, segments.DocumentTasksItem)]
    first = tasks[0] if tasks else None
    dataset: segments.Dataset = segments.Dataset.from_json(
        {
            "name": document.name,
            "task_type": _get(first, "task_type"),
            "task_attributes": to_raw(_get(first, "attributes")) or {},
            "labelsets": [{"name": _get(t, "name")} for t in tasks],
            "samples": to_raw(document.samples) or [],
        }
    )
    return dataset


_SAMPLE_ATTRIBUTES = {
    "image-vector-sequence": "image_sequence_sample_attributes",
    "image-segmentation-sequence": "image_sequence_sample_attributes",
    "pointcloud-cuboid": "pointcloud_sample_attributes",
    "pointcloud-cuboid-sequence": "pointcloud_sequence_sample_attributes",
}
_LABEL_ATTRIBUTES = {
    "segmentation-bitmap": "image_segmentation_label_attributes",
    "segmentation-bitmap-highres": "image_segmentation_label_attributes",
    "image-vector-sequence": "image_sequence_vector_label_attributes",
    "image-segmentation-sequence": "image_sequence_segmentation_label_attributes",
    "pointcloud-cuboid": "pointcloud_cuboid_label_attributes",
    "pointcloud-cuboid-sequence": "pointcloud_cuboid_sequence_label_attributes",
}


class _Reader:
    def __init__(self, document: Any, options: ReadOptions, report: ConversionReport) -> None:
        doc = segments.from_json(document)
        dataset = doc.dataset
        self.dataset = dataset if dataset is not None and dataset.to_json() else _legacy(doc)
        self.options = options
        self.report = report
        self.media: list[MediaItem] = []
        self.groups: list[MediaGroup] = []
        self.annotations: list[Annotation] = []
        self.status: LabelStatus | None = None  # the status of the sample being read

    def labelset(self) -> str:
        names = [str(_get(s, "name")) for s in self.dataset.labelsets or ()]
        chosen = self.options.labelset
        if chosen is not None:
            if names and chosen not in names:
                raise ConversionError(
                    f"no labelset {chosen!r} in the release; labelsets: {', '.join(names)}", 2
                )
            return chosen
        if "ground-truth" in names or not names:
            return "ground-truth"
        return names[0]

    def bitmap(self, url: str) -> Any:
        from labelspec.codecs.segments_bitmap import read_bitmap
        from labelspec.convert.fetch import NetworkPolicy, fetch_one

        base = self.options.source_path.parent if self.options.source_path is not None else Path()
        local = url if "://" in url else str(base / url) if not Path(url).is_absolute() else url
        cache = self.options.cache_dir or Path(".labelspec-cache")
        policy = NetworkPolicy(self.options.offline, self.options.allow_private_network)
        path = fetch_one(local, cache, media_dir=self.options.media_dir, policy=policy)
        return read_bitmap(path)

    def unavailable(self, media: MediaItem, annotations: Any, why: str, track: bool) -> MediaItem:
        """Inspect mode: the bitmap cannot be had; its annotations get empty masks, the item says why."""

        for annotation in annotations:
            has_track = "track_id" in annotation.to_json()
            track_id = str(annotation.track_id if has_track else annotation.id) if track else None
            self.annotations.append(
                Annotation(
                    f"{media.id}#{annotation.id}",
                    media.id,
                    str(annotation.category_id),
                    Mask(0, 0, ()),
                    attributes=_attributes(annotation.attributes),
                    track_id=track_id,
                )
            )
        return replace(media, attributes={**media.attributes, MISSING_MEDIA: why})

    def masks(self, media: MediaItem, label: Any, where: str, track: bool) -> MediaItem:
        """``label``: the attributes of a segmentation label, or one frame of a sequence's."""
        import numpy as np

        from labelspec.convert.readers.coco import mask_to_counts

        url = _url(_get(label, "segmentation_bitmap"))
        annotations = _get(label, "annotations") or ()
        if not url:
            if annotations:
                self.report.drop("bitmap label", "no segmentation bitmap URL", where)
            return media
        try:
            ids = self.bitmap(str(url))
        except (OSError, ValueError) as exc:
            if not self.options.inspect:
                raise
            return self.unavailable(media, annotations, f"segmentation bitmap: {exc}", track)
        height, width = ids.shape
        if media.width is not None and (media.width, media.height) != (width, height):
            self.report.approximate(
                "media size", "the image and its bitmap differ; the bitmap's is used", media.id
            )

        media = replace(media, width=width, height=height)
        known = set()
        for index, annotation in enumerate(annotations):
            instance = int(annotation.id)
            known.add(instance)
            pixels = ids == instance
            if not pixels.any():
                self.report.drop(
                    "bitmap instance", "zero pixels in the bitmap", f"{where}/annotations/{index}"
                )
                continue
            mask = Mask(height, width, mask_to_counts(pixels))
            has_track = "track_id" in annotation.to_json()
            track_id = str(annotation.track_id if has_track else instance) if track else None
            self.annotations.append(
                Annotation(
                    f"{media.id}#{instance}",
                    media.id,
                    str(annotation.category_id),
                    mask,
                    attributes=_attributes(annotation.attributes),
                    track_id=track_id,
                    source_id=instance,
                )
            )
        stray = set(int(v) for v in np.unique(ids)) - known - {0}
        if stray:
            self.report.drop(
                "bitmap pixels", "their instance id has no annotation", f"{where} ids {sorted(stray)[:5]}"
            )
        return media

    def vectors(self, media: MediaItem, label: Any, where: str, track: bool) -> None:
        """``label``: the attributes of a vector label, or one frame of a sequence's."""
        for index, annotation in enumerate(_get(label, "annotations") or ()):
            geometry = _vector(annotation, self.report, f"{where}/annotations/{index}")
            if geometry is None:
                continue
            track_id = _get(annotation, "track_id") if track else None
            self.annotations.append(
                Annotation(
                    f"{media.id}#{annotation.id}",
                    media.id,
                    str(annotation.category_id),
                    geometry,
                    attributes=_attributes(annotation.attributes),
                    track_id=str(track_id) if track_id is not None else None,
                    source_id=annotation.id,
                )
            )

    def cuboids(self, media: MediaItem, label: Any, where: str, track: bool) -> None:
        """``label``: the attributes of a cuboid label, or one frame of a sequence's."""
        for index, annotation in enumerate(_get(label, "annotations") or ()):
            kind = _get(annotation, "type")
            if kind not in ("cuboid", "cuboid-sync"):
                self.report.drop(
                    f"{kind} annotation",
                    "only cuboids are read from point clouds",
                    f"{where}/annotations/{index}",
                )
                continue
            rotation = annotation.rotation
            angles = (
                _euler(rotation)
                if isinstance(rotation, segments.Xyzw)
                else (0.0, 0.0, _number(annotation, "yaw"))
            )
            position, dimensions = _get(annotation, "position"), _get(annotation, "dimensions")
            cuboid = Cuboid(_xyz(position), _xyz(dimensions), angles)
            track_id = _get(annotation, "track_id") if track else None
            self.annotations.append(
                Annotation(
                    f"{media.id}#{annotation.id}",
                    media.id,
                    str(annotation.category_id),
                    cuboid,
                    attributes=_attributes(annotation.attributes),
                    track_id=str(track_id) if track_id is not None else None,
                )
            )

    def run(self) -> LabelledDataset:
        task_type = str(_get(self.dataset, "task_type"))
        task_attributes = self.dataset.task_attributes
        categories = tuple(_category(c) for c in _get(task_attributes, "categories") or ())
        labelset = self.labelset()
        filtered = 0
        for number_, sample in enumerate(_get(self.dataset, "samples") or ()):
            where = f"/dataset/samples/{number_}"
            label = (_get(sample, "labels") or {}).get(labelset)
            is_label = isinstance(label, JsonObject)
            status = str(_get(label, "label_status")).upper() if is_label else "UNLABELED"
            if not keeps(status, self.options, SKIPPED_STATUSES, from_segments(status)):
                filtered += 1
                continue
            if not is_label:
                self.report.drop("sample", f"no label in labelset {labelset!r}", where)
                continue
            uuid, name = str(sample.uuid), str(_get(sample, "name") or sample.uuid)
            self.status = from_segments(status)
            self.sample(
                task_type,
                uuid,
                name,
                _get(sample, "attributes") or {},
                _get(label, "attributes") or {},
                f"{where}/labels/{labelset}",
            )
        self.report.counts.update(
            media=len(self.media),
            categories=len(categories),
            annotations=len(self.annotations),
        )
        if filtered:
            self.report.counts["filtered_samples"] = filtered
        return LabelledDataset(
            tuple(self.media),
            categories,
            tuple(self.annotations),
            info={"segments_release": _get(self.dataset, "name"), "labelset": labelset},
            groups=tuple(self.groups),
        )

    def sample(
        self, task_type: str, uuid: str, name: str, sample_attributes: Any, label_attributes: Any, where: str
    ) -> None:
        attributes = _as(_SAMPLE_ATTRIBUTES.get(task_type, "image_sample_attributes"), sample_attributes)
        label = _as(_LABEL_ATTRIBUTES.get(task_type, "image_vector_label_attributes"), label_attributes)
        if task_type == "multisensor-sequence":
            self.sensors(sample_attributes, label_attributes, uuid, name, where)
            return
        if task_type in _IMAGE_VECTOR or task_type in _BITMAP:
            url = _url(_get(attributes, "image"))
            item = MediaItem(uuid, name, url=url, attributes=_attributes(_get(label, "image_attributes")))
            item = with_size(item, self.options)
            if task_type in _BITMAP:
                item = self.masks(item, label, where, track=False)
            else:
                self.vectors(item, label, where, track=False)
            self.media.append(replace(item, status=self.status))
            return
        if task_type in ("image-vector-sequence", "image-segmentation-sequence"):
            frames = _get(attributes, "frames") or ()
            self.groups.append(MediaGroup(uuid, "image_sequence", name))
            for index, frame_label in enumerate(_get(label, "frames") or ()):
                image = frames[index] if index < len(frames) else None
                url = _url(_get(image, "image"))
                frame_name = str(_get(image, "name") or f"{index + 1:05d}")
                extension = posixpath.splitext(media_basename(url))[1] if url else ""
                item = MediaItem(
                    f"{uuid}/{index}",
                    f"{posixpath.splitext(name)[0]}-{frame_name}{extension}",
                    kind="frame",
                    url=url,
                    sequence_id=uuid,
                    frame_index=index,
                    attributes=_attributes(_get(frame_label, "image_attributes")),
                )
                item = with_size(item, self.options)
                if task_type == "image-segmentation-sequence":
                    item = self.masks(item, frame_label, f"{where}/attributes/frames/{index}", track=True)
                else:
                    self.vectors(item, frame_label, f"{where}/attributes/frames/{index}", track=True)
                self.media.append(replace(item, status=self.status))
            return
        if task_type in ("pointcloud-cuboid", "pointcloud-cuboid-sequence"):
            sequence = task_type.endswith("sequence")
            frames = _get(label, "frames") if sequence else [label]
            clouds = _get(attributes, "frames") if sequence else [attributes]
            for index, frame_label in enumerate(frames or ()):
                cloud = (clouds or [None])[index] if index < len(clouds or ()) else None
                url = _url(_get(cloud, "pcd"))
                item = MediaItem(
                    f"{uuid}/{index}" if sequence else uuid,
                    name if not sequence else f"{name}-{index + 1:05d}",
                    kind="frame" if sequence else "image",
                    url=url,
                    sequence_id=uuid if sequence else None,
                    frame_index=index if sequence else None,
                    attributes={"media_type": "pointcloud"},
                )
                self.cuboids(item, frame_label, where, track=sequence)
                self.media.append(replace(item, status=self.status))
            return
        self.report.drop("sample", f"task type {task_type!r} has no representation in the model", where)

    def sensors(
        self, sample_attributes: Any, label_attributes: Any, uuid: str, name: str, where: str
    ) -> None:
        """A multi-sensor sample: each sensor read as a sample of its own task type (media ids
        ``<sample>/<sensor>``); point-cloud sensors end up as point-cloud items, which image targets drop
        and report, so a mixed release still converts its cameras."""
        raw = sample_attributes.to_json() if isinstance(sample_attributes, JsonView) else sample_attributes
        raw_label = label_attributes.to_json() if isinstance(label_attributes, JsonView) else label_attributes
        sensors = raw.get("sensors") if isinstance(raw, dict) else None
        labels = raw_label.get("sensors") if isinstance(raw_label, dict) else None
        by_name = {str(s.get("name")): (n, s) for n, s in enumerate(labels or ()) if isinstance(s, dict)}
        for sensor in sensors if isinstance(sensors, list) else ():
            if not isinstance(sensor, dict):
                continue
            sensor_name = str(sensor.get("name"))
            number_, sensor_label = by_name.get(sensor_name, (None, None))
            if sensor_label is None or not sensor_label.get("attributes"):
                # a sensor without labels (the SDK writes an empty list as its placeholder)
                self.report.drop(
                    "sensor", "no label for this sensor in the labelset", f"{where}/{sensor_name}"
                )
                continue
            self.sample(
                str(sensor.get("task_type")),
                f"{uuid}/{sensor_name}",
                f"{posixpath.splitext(name)[0]}-{sensor_name}",
                sensor.get("attributes") or {},
                sensor_label.get("attributes") or {},
                f"{where}/attributes/sensors/{number_}",
            )


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    return _Reader(document, options, report).run()
