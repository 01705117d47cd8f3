"""The ``segments`` writer: a Segments.ai release file (and its label bitmaps for a bitmap task).

Task type: ``segmentation-bitmap`` when the dataset has masks, else ``vector``.

* **vector**: boxes → ``bbox`` (``[[x0, y0], [x1, y1]]``, upper-left first), one-ring polygons → ``polygon``,
  polylines → ``polyline``, points → ``point``; polygons with holes lose their holes, multipolygons become one
  polygon annotation per part, rotated boxes their corner polygon (all reported); masks, keypoints and cuboids
  are dropped (reported).
* **segmentation-bitmap**: every annotation with an area is rasterised like the mask writers (masks exactly,
  polygons / boxes approximated; later annotations win where they overlap) into one RGBA label PNG per
  image, ``<release stem>_bitmaps/<image stem>.png`` next to the release file, with instance id =
  R + 256·G + 65536·B (:func:`labelspec.codecs.segments_bitmap.ids_to_rgba`) and ``segmentation_bitmap.url``
  the PNG's path relative to the release file. Points, polylines, keypoints and cuboids are dropped.
* Categories: the source's ids when they are unique integers, else 1..N (mapping reported); names; colours
  (own, else the mask writers' palette); attribute definitions (``input_type`` = the model kind, select
  values); ``has_instances`` = ``is_thing`` for bitmap tasks. Annotation ids are 1..N per sample.
* Samples: ``uuid`` (the media id when it is a UUID, else a UUID5 of it), ``name`` (the file name),
  ``attributes.image.url`` (the media URL, else its file name), ``metadata: {}``, one labelset
  ``ground-truth`` with status ``LABELED``; image classifications become ``image_attributes`` (declared in
  ``task_attributes.image_attributes``).
* Fixed release envelope (name ``labelspec``, owner ``labelspec``, creation time 1970-01-01): the output is
  byte-identical from run to run.
"""

from __future__ import annotations

import io
import posixpath
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelspec.codecs.segments_bitmap import ids_to_rgba
from labelspec.convert.atomic import write_bytes, write_json
from labelspec.convert.media import safe_member_path
from labelspec.convert.model import (
    Annotation,
    AttributeDefinition,
    AttributeValue,
    Box,
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
from labelspec.convert.statuses import status_of, to_segments
from labelspec.convert.writers import rotated_corners
from labelspec.convert.writers.coco_instance import category_ids
from labelspec.convert.writers.masks import category_colors, iter_layers, png_names
from labelspec.convert.writers.segments_sequences import SequenceSample, plan_sequences
from labelspec.formats import segments

if TYPE_CHECKING:
    from labelspec.validator.report import Report

__all__ = ["LABELSET", "WRITER", "SegmentsWriter"]

LABELSET = "ground-truth"
_NAMESPACE = uuid.UUID("5e6d7a1c-2b3f-4c5d-8e9f-0a1b2c3d4e5f")
_CREATED = "1970-01-01 00:00:00.000000+00:00"


def _uuid(media_id: str) -> str:
    try:
        return str(uuid.UUID(media_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, media_id))


def _json_value(value: AttributeValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _definition(definition: AttributeDefinition) -> segments.TaskAttribute:
    # values before is_mandatory (the order this writer has always used, not the schema's): set one by one
    entry = segments.TaskAttribute.create(name=definition.name, input_type=definition.kind)
    if definition.kind in ("select", "multiselect"):
        entry.values = list(definition.options)
    if definition.required:
        entry.is_mandatory = True
    return entry


def _image_attribute_kind(value: AttributeValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"input_type": "checkbox"}
    if isinstance(value, (int, float)):
        return {"input_type": "number"}
    if isinstance(value, tuple):
        return {"input_type": "multiselect", "values": []}
    return {"input_type": "text"}


class SegmentsWriter:
    target_id = "segments"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        document, bitmaps = self.build_document(dataset, report, options, bitmap_dir=f"{out.stem}_bitmaps")
        release = segments.to_json(document)
        paths = [
            write_bytes(safe_member_path(out.parent, name), data, force=options.force)
            for name, data in bitmaps
        ]
        paths.insert(0, write_json(out, release, force=options.force, indent=True))
        return paths

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.codecs.segments_bitmap import BitmapFormatError, read_bitmap
        from labelspec.formats._runtime import load_json
        from labelspec.validator.api import validate
        from labelspec.validator.report import Finding

        release = paths[0]
        report = validate(release, format="segments", profile="strict")
        document = load_json(release)
        findings: list[Finding] = []
        task_type = document["dataset"]["task_type"]
        if task_type in ("segmentation-bitmap", "image-segmentation-sequence"):
            frames = [
                (f"/dataset/samples/{n}/labels/{LABELSET}/attributes", label)
                for n, sample in enumerate(document["dataset"]["samples"])
                if (label := (sample["labels"][LABELSET] or {}).get("attributes")) is not None
            ]
            if task_type == "image-segmentation-sequence":
                frames = [
                    (f"{at}/frames/{m}", frame)
                    for at, label in frames
                    for m, frame in enumerate(label["frames"])
                ]
            for at, label in frames:
                pointer = f"{at}/segmentation_bitmap/url"
                try:
                    url = label["segmentation_bitmap"]["url"]
                    path = safe_member_path(release.parent, url)
                    ids = read_bitmap(path, require_alpha=True)
                except (BitmapFormatError, OSError, ValueError) as exc:
                    findings.append(Finding("SEG-BITMAP-UNREADABLE", "error", pointer, str(exc)))
                    continue
                present = {int(v) for v in np.unique(ids)} - {0}
                declared = {int(a["id"]) for a in label["annotations"]}
                if present != declared:
                    message = f"bitmap ids {sorted(present)} differ from annotation ids {sorted(declared)}"
                    findings.append(Finding("SEG-BITMAP-ID-UNANNOTATED", "error", pointer, message))
        if findings and report.files:
            report.files[0].findings.extend(findings)
        return report

    def build(
        self,
        dataset: LabelledDataset,
        report: ConversionReport,
        options: WriteOptions | None = None,
        *,
        bitmap_dir: str = "release_bitmaps",
    ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """The release document (as JSON) and the bitmaps (path relative to the release folder, PNG bytes)."""
        document, bitmaps = self.build_document(dataset, report, options, bitmap_dir=bitmap_dir)
        release: dict[str, Any] = segments.to_json(document)
        return release, bitmaps

    def build_document(
        self,
        dataset: LabelledDataset,
        report: ConversionReport,
        options: WriteOptions | None = None,
        *,
        bitmap_dir: str = "release_bitmaps",
    ) -> tuple[segments.Document, list[tuple[str, bytes]]]:
        """The release document and the bitmaps (path relative to the release's folder, PNG bytes)."""
        bitmap = any(isinstance(a.geometry, Mask) for a in dataset.annotations)
        plan = plan_sequences(dataset, (options.layout if options else None) or "sequences", report)
        numbers = {key: n for sample in plan or () for key, n in sample.numbers.items()}
        sample_of = {item.id: sample for sample in plan or () for item in sample.items}
        if plan is not None:
            task_type = "image-segmentation-sequence" if bitmap else "image-vector-sequence"
        else:
            task_type = "segmentation-bitmap" if bitmap else "vector"
        cat_ids, kept = category_ids(dataset.categories)
        if not kept:
            report.mappings["category_id"] = dict(cat_ids)
        colors = category_colors(dataset.categories)
        categories: list[segments.Category] = []
        for i, category in enumerate(dataset.categories):
            # attributes before has_instances (not the schema's order): set one by one
            entry = segments.Category.create(
                id=cat_ids[category.id], name=category.name, color=list(colors[i])
            )
            if category.attributes:
                entry.attributes = [_definition(d) for d in category.attributes]
            if bitmap:
                entry.has_instances = category.is_thing
            categories.append(entry)
        image_attributes: dict[str, dict[str, Any]] = {}
        for classification in dataset.classifications:
            if classification.media_id is None:
                report.drop("classification", "a Segments release has no dataset-level classification", "")
                continue
            kind = _image_attribute_kind(classification.value)
            spec = image_attributes.setdefault(classification.name, {"name": classification.name, **kind})
            if spec["input_type"] == "multiselect" and isinstance(classification.value, tuple):
                spec["values"] = sorted(set(spec["values"]) | {str(v) for v in classification.value})
        per_media: dict[str, list[segments.SegmentationAnnotation | segments.VectorAnnotation]] = {
            m.id: [] for m in dataset.media
        }
        bitmaps: list[tuple[str, bytes]] = []
        bitmap_urls: dict[str, str] = {}
        if bitmap:
            names = png_names(dataset, report)
            layers = iter_layers(
                dataset, report, self.target_id, options, keep_attributes=True, keep_classifications=True
            )
            for layer in layers:
                ids = np.zeros((layer.height, layer.width), dtype=np.uint32)
                for n, (annotation, mask) in enumerate(layer.instances, 1):
                    number = numbers.get(annotation.id, n)  # in a sequence: the track's number
                    ids[mask] = number
                    per_media[layer.item.id].append(
                        segments.SegmentationAnnotation.create(
                            **self._annotation_entry(number, annotation, cat_ids, report, plan is not None)
                        )
                    )
                name = posixpath.join(bitmap_dir, names[layer.item.id])
                bitmaps.append((name, _rgba_png(ids)))
                bitmap_urls[layer.item.id] = name
        else:
            for annotation in dataset.annotations:
                if annotation.media_id not in per_media:
                    report.drop("annotation", "it refers to an unknown media item", annotation.id)
                    continue
                if annotation.category_id not in cat_ids:
                    report.drop("annotation", f"unknown category {annotation.category_id!r}", annotation.id)
                    continue
                for part, (shape, points) in enumerate(self._vector(annotation, report)):
                    entries = per_media[annotation.media_id]
                    sample = sample_of.get(annotation.media_id)
                    if sample is None:
                        number = len(entries) + 1
                    else:  # the track's number; the other parts of a multipolygon are tracks of their own
                        number = sample.numbers[annotation.id] if part == 0 else sample.new_number()
                    fields = self._annotation_entry(number, annotation, cat_ids, report, sample is not None)
                    # id, category_id, attributes, type, points: set one by one (not the schema's order)
                    vector = segments.VectorAnnotation()
                    vector.id = fields["id"]
                    vector.category_id = fields["category_id"]
                    vector.attributes = fields["attributes"]
                    vector.type = shape
                    vector.points = points
                    entries.append(vector)
        samples: list[segments.Sample] = []
        for sample in plan or ():
            samples.append(self._sequence_sample(sample, dataset, per_media, bitmap_urls, report))
        for item in dataset.media if plan is None else ():
            if item.kind != "image":
                report.approximate("media item", f"a {item.kind} is written as an image sample", item.id)
            values = {c.name: _json_value(c.value) for c in dataset.classifications if c.media_id == item.id}
            label_attributes: segments.ImageSegmentationLabelAttributes | segments.ImageVectorLabelAttributes
            if bitmap:
                label_attributes = segments.ImageSegmentationLabelAttributes.create(
                    format_version="0.1",
                    annotations=[
                        a for a in per_media[item.id] if isinstance(a, segments.SegmentationAnnotation)
                    ],
                    segmentation_bitmap=segments.UrlRef.create(url=bitmap_urls[item.id]),
                    image_attributes=values or None,
                )
            else:
                label_attributes = segments.ImageVectorLabelAttributes.create(
                    format_version="0.1",
                    annotations=[a for a in per_media[item.id] if isinstance(a, segments.VectorAnnotation)],
                    image_attributes=values or None,
                )
            image = segments.UrlRef.create(url=item.url or item.file_name)
            samples.append(
                segments.Sample.create(
                    uuid=_uuid(item.id),
                    name=item.file_name,
                    attributes=segments.ImageSampleAttributes.create(image=image).to_json(),
                    metadata={},
                    labels={
                        LABELSET: segments.Label.create(
                            label_status=status_of([item], to_segments, "Segments", report, item.id).value,
                            attributes=label_attributes.to_json(),
                        )
                    },
                )
            )
        task_attributes = segments.TaskAttributes.create(
            format_version="0.1",
            categories=categories,
            image_attributes=[
                segments.TaskAttribute.create(
                    name=spec["name"], input_type=spec["input_type"], values=spec.get("values")
                )
                for spec in image_attributes.values()
            ]
            or None,
        )
        release = segments.Document.create(
            name="labelspec",
            description="converted by labelspec",
            created_at=_CREATED,
            dataset=segments.Dataset.create(
                name=str(dataset.info.get("name", "") or "labelspec"),
                description="",
                created_at=_CREATED,
                owner="labelspec",
                task_type=task_type,
                task_attributes=task_attributes,
                labelsets=[segments.Labelset.create(name=LABELSET, description="")],
                samples=samples,
            ),
        )
        written = sum(map(len, per_media.values()))
        report.counts.update(written_samples=len(samples), written_annotations=written)
        return release, bitmaps

    @staticmethod
    def _sequence_sample(
        sample: SequenceSample,
        dataset: LabelledDataset,
        per_media: Mapping[str, Sequence[segments.SegmentationAnnotation | segments.VectorAnnotation]],
        bitmap_urls: Mapping[str, str],
        report: ConversionReport,
    ) -> segments.Sample:
        """One sample of an image sequence release: its frames (image and name) and one label frame per
        frame, whose annotations carry their track's number as ``id`` and ``track_id``."""
        group = sample.group
        head = sample.items[0]
        name = group.name if group is not None else head.file_name
        stem = posixpath.splitext(name)[0]
        frames: list[dict[str, Any]] = []
        label_frames: list[dict[str, Any]] = []
        for position, item in enumerate(sample.items):
            # a video frame's url is the video's: the frame is named by its file name
            url = (
                item.file_name if group is not None and group.kind == "video" else item.url or item.file_name
            )
            frame_name = posixpath.splitext(posixpath.basename(item.file_name))[0]
            frame_name = frame_name.removeprefix(f"{stem}-") or f"{position + 1:05d}"
            # a video frame's time, when the frame rate is known (Segments numbers frames by position)
            fps = group.fps if group is not None and group.kind == "video" else None
            timestamp = round(item.frame_index / fps, 6) if fps and item.frame_index is not None else None
            frames.append(
                segments.ImageFrame.create(
                    image=segments.UrlRef.create(url=url), name=frame_name, timestamp=timestamp
                ).to_json()
            )
            annotations = []
            for annotation in per_media[item.id]:
                entry = annotation.to_json()
                entry.update(track_id=entry["id"], is_keyframe=True)  # every frame's state is given
                annotations.append(entry)
            label_frame: dict[str, Any] = {"annotations": annotations}
            values = {c.name: _json_value(c.value) for c in dataset.classifications if c.media_id == item.id}
            if values:
                label_frame["image_attributes"] = values
            if item.id in bitmap_urls:
                label_frame["segmentation_bitmap"] = {"url": bitmap_urls[item.id]}
            label_frames.append(label_frame)
        where = group.id if group is not None else head.id
        status = status_of(sample.items, to_segments, "Segments", report, where)
        return segments.Sample.create(
            uuid=_uuid(where),
            name=name,
            attributes={"frames": frames},
            metadata={},
            labels={
                LABELSET: segments.Label.create(
                    label_status=status.value, attributes={"format_version": "0.1", "frames": label_frames}
                )
            },
        )

    @staticmethod
    def _annotation_entry(
        n: int,
        annotation: Annotation,
        cat_ids: dict[str, int],
        report: ConversionReport,
        tracked: bool = False,
    ) -> dict[str, Any]:
        if annotation.confidence is not None:
            report.drop("confidence", "a Segments label has no per-object confidence", annotation.id)
        if annotation.track_id is not None and not tracked:
            report.drop("track id", "image samples have no tracks", annotation.id)
        if annotation.is_crowd:
            report.drop("iscrowd", "Segments annotations have no crowd flag", annotation.id)
        return {
            "id": n,
            "category_id": cat_ids.get(annotation.category_id, 0),
            "attributes": {k: _json_value(v) for k, v in annotation.attributes.items()},
        }

    @staticmethod
    def _vector(annotation: Annotation, report: ConversionReport) -> list[tuple[str, list[list[float]]]]:
        geometry = annotation.geometry

        def pairs(flat: Sequence[float]) -> list[list[float]]:
            return [[float(flat[i]), float(flat[i + 1])] for i in range(0, len(flat) - 1, 2)]

        if isinstance(geometry, Box):
            x0, x1 = sorted((geometry.x, geometry.x + geometry.w))
            y0, y1 = sorted((geometry.y, geometry.y + geometry.h))
            return [("bbox", [[x0, y0], [x1, y1]])]
        if isinstance(geometry, Point):
            return [("point", [[geometry.x, geometry.y]])]
        if isinstance(geometry, Polyline):
            return [("polyline", [[x, y] for x, y in geometry.points])]
        if isinstance(geometry, RotatedBox):
            report.approximate("rotated box", "written as its corner polygon", annotation.id)
            return [("polygon", pairs(rotated_corners(geometry)))]
        if isinstance(geometry, (Polygon, MultiPolygon)):
            polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
            if len(polygons) > 1:
                report.approximate("multipolygon", "each part is written as its own polygon", annotation.id)
            if any(len(p.rings) > 1 for p in polygons):
                report.approximate("polygon hole", "Segments vector polygons have no holes", annotation.id)
            return [("polygon", pairs(p.rings[0])) for p in polygons if p.rings]
        what = {Mask: "mask", Keypoints: "keypoints", Cuboid: "cuboid"}.get(type(geometry), "annotation")
        report.drop(f"{what} annotation", f"a vector release has no {what}", annotation.id)
        return []


def _rgba_png(ids: np.ndarray[Any, Any]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(ids_to_rgba(ids)).save(buffer, format="PNG")
    return buffer.getvalue()


WRITER = SegmentsWriter()
