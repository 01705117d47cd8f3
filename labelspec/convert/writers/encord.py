"""The ``encord`` writer: Encord label rows (``labels.json``) and their ontology (``ontology.json``).

Output folder::

    OUT/labels.json     a list of label rows (strict profile: branch_name, classification_answers[*].spaces)
    OUT/ontology.json   the ontology the rows refer to

Check it with ``labelspec validate OUT/labels.json --ontology OUT/ontology.json --profile strict``.

* **Rows** (``--layout sequences``, the default): the model's groups (``MediaGroup``, named by the items'
  ``sequence_id``) are written as such. A **video** is one ``video`` row with one data unit whose ``labels``
  are keyed by frame number (labelled frames only, as Encord writes them), with the video's size, title,
  link and ``data_fps`` / ``data_duration`` when the source gives them. An **image sequence** is one
  ``img_group`` row with ``is_image_sequence: true`` and one data unit per frame (``data_sequence`` = the
  frame number): that is how Encord's exports write image sequences, and encord 0.1.211 knows no other
  image-sequence data type (``DataType`` has no ``img_sequence``). An **image group** is one ``img_group``
  row with ``is_image_sequence: false``, one data unit per image in order. Every other item is an ``image``
  row. In a video, sequence or group row one track (``track_id``) of one ontology object is one
  ``objectHash`` on every frame; an attribute whose value (or presence) changes along a track is a dynamic
  attribute of the ontology, answered per frame range in ``object_actions`` as Encord does, the others
  are static answers in ``object_answers``. A video whose frames repeat a frame number or differ in size is
  written as an image sequence, frames without distinct numbers are numbered in order, and a
  ``data_duration`` that ends before the last labelled frame is left out (each reported). Volume slices
  (DICOM, NIfTI) and PDF pages are written as image rows (reported: the writer writes no medical or PDF
  rows). ``--layout images`` writes every media item as an image row of its own, each reported as
  flattened.

* **Status:** ``label_status`` is the source's status (``labelspec.convert.statuses``: encord 0.1.211
  ``encord.orm.label_row.LabelStatus``), LABELLED when the source has none; a rejected item is
  ``LABEL_IN_PROGRESS`` with ``annotation_task_status: RETURNED``; skipped and prelabelled items, which
  Encord has no status for, are NOT_LABELLED / LABEL_IN_PROGRESS (reported).
* **Ontology:** one ontology object per category and Encord shape used by its annotations (a category used
  with two shapes becomes ``<name>`` and ``<name> (<shape>)``, reported); categories without annotations
  become ``bounding_box`` objects. Colours: the category's, else the mask writers' palette. Object attributes
  become ontology attributes (select → radio, multiselect → checklist, text → text, number → numeric,
  checkbox → radio with options ``true``/``false``); options are the declared ones plus any answered value.
  Image classifications become ontology classifications with one attribute (radio for strings, checklist
  for tuples, numeric for numbers, text otherwise).
* **Hashes are deterministic:** ``featureNodeHash`` = the first 8 characters of the URL-safe base64 SHA-256 of
  a path such as ``object/<category id>/<shape>`` or ``object/<category id>/<shape>/attribute/<name>``;
  ``objectHash`` / ``classificationHash`` likewise from the annotation id (track id when set) or
  classification; label / data / dataset hashes are UUID5s of the media id and the dataset.
  ``createdAt`` is a fixed time (1970-01-01) so that outputs are byte-identical run to run.
* **Shapes** (coordinates normalised by the image size): boxes → ``bounding_box``, rotated boxes →
  ``rotatable_bounding_box``, polygons / multipolygons → ``polygon`` (``polygons`` with holes and parts,
  plus the legacy ``polygon`` ring), polylines → ``polyline``, points → ``point``, masks → ``bitmask`` (the
  Encord RLE codec, full image, row-major).
* **Dropped** (reported): keypoints (an Encord skeleton needs a skeleton template the model does not carry),
  cuboids, classifications attached to no media item.
"""

from __future__ import annotations

import base64
import hashlib
import math
import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelspec.codecs.encord_bitmask import encode_mask
from labelspec.convert.atomic import write_json
from labelspec.convert.model import (
    Annotation,
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Box,
    Category,
    ConversionReport,
    Cuboid,
    GroupKind,
    Keypoints,
    LabelledDataset,
    Mask,
    MediaGroup,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.registry import WriteOptions
from labelspec.convert.statuses import status_of, to_encord
from labelspec.convert.writers import require_size
from labelspec.convert.writers.masks import category_colors, decode_mask
from labelspec.formats import encord, encord_ontology

if TYPE_CHECKING:
    from labelspec.validator.report import Report

__all__ = ["LABELS_NAME", "ONTOLOGY_NAME", "WRITER", "EncordWriter", "short_hash"]

LABELS_NAME = "labels.json"
ONTOLOGY_NAME = "ontology.json"
_NAMESPACE = uuid.UUID("0c1f2b8e-3d4a-4e5f-9a6b-7c8d9e0f1a2b")
_CREATED = "Thu, 01 Jan 1970 00:00:00 GMT"


def short_hash(key: str) -> str:
    """An 8-character, base64-alphabet hash of ``key`` (Encord's short hashes look like this)."""
    return base64.b64encode(hashlib.sha256(key.encode("utf-8")).digest()).decode("ascii")[:8]


def _uuid(key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, key))


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_")


def _shape(annotation: Annotation) -> str | None:
    geometry = annotation.geometry
    return {
        Box: "bounding_box",
        RotatedBox: "rotatable_bounding_box",
        Polygon: "polygon",
        MultiPolygon: "polygon",
        Polyline: "polyline",
        Point: "point",
        Mask: "bitmask",
    }.get(type(geometry))


def _hex(rgb: Sequence[int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb[:3])


class _Attribute:
    """One ontology attribute with its options (value -> option node)."""

    def __init__(self, path: str, node_id: str, definition: AttributeDefinition) -> None:
        self.name = definition.name
        self.kind = {"select": "radio", "multiselect": "checklist", "text": "text", "number": "numeric"}.get(
            definition.kind, "radio"
        )
        self.checkbox = definition.kind == "checkbox"
        self.path = path
        self.id = node_id
        self.required = definition.required
        self.dynamic = False  # answered per frame range in object_actions (a track's value changes)
        self.options: list[str] = ["true", "false"] if self.checkbox else list(definition.options)

    def option_hash(self, value: str) -> str:
        return short_hash(f"{self.path}/option/{value}")

    def node(self) -> encord_ontology.OntologyAttribute:
        # Encord's own ontologies give name and type before featureNodeHash (not the schema's order):
        # the keys are set one by one in that order.
        node = encord_ontology.OntologyAttribute()
        node.id = self.id
        node.name = self.name
        node.type = self.kind
        node.feature_node_hash = short_hash(self.path)
        node.required = self.required
        node.dynamic = self.dynamic
        if self.kind in ("radio", "checklist"):
            option = encord_ontology.NestableOption if self.kind == "radio" else encord_ontology.FlatOption
            node.options = [
                option.create(
                    id=f"{self.id}.{n}",
                    label=value,
                    value=_snake(value),
                    feature_node_hash=self.option_hash(value),
                )
                for n, value in enumerate(self.options, 1)
            ]
        return encord_ontology.OntologyAttribute.from_json(node.to_json())  # the class of its type

    def answer(self, value: AttributeValue) -> tuple[Any, bool] | None:
        """(answers, exact) for a value; None when it cannot be written."""
        if self.kind == "numeric":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value, True
            return None
        if self.kind == "text":
            if value is None:
                return None
            return (value if isinstance(value, str) else str(value)), isinstance(value, str)
        values = list(value) if isinstance(value, tuple) else [value]
        strings = [str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None]
        exact = all(isinstance(v, str) for v in values) or self.checkbox
        if self.kind == "radio" and len(strings) != 1:
            return None
        for s in strings:
            if s not in self.options:
                self.options.append(s)
        return [self._option_answer(s) for s in strings], exact

    def _option_answer(self, option: str) -> encord.OptionAnswer:
        answer = encord.OptionAnswer()  # name, value, featureHash: the order Encord writes
        answer.name = option
        answer.value = _snake(option)
        answer.feature_hash = self.option_hash(option)
        return answer

    def answer_node(self, answers: Any) -> encord.AttributeAnswer:
        return encord.AttributeAnswer.create(
            name=self.name,
            value=_snake(self.name),
            feature_hash=short_hash(self.path),
            answers=answers,
            manual_annotation=True,
        )


class _OntologyObject:
    def __init__(self, node_id: str, category: Category, shape: str, name: str, color: str) -> None:
        self.id = node_id
        self.category = category
        self.shape = shape
        self.name = name
        self.color = color
        self.path = f"object/{category.id}/{shape}"
        self.feature_hash = short_hash(self.path)
        self.attributes: dict[str, _Attribute] = {
            d.name: _Attribute(f"{self.path}/attribute/{d.name}", f"{node_id}.{n}", d)
            for n, d in enumerate(category.attributes, 1)
        }

    def node(self) -> encord_ontology.OntologyObject:
        return encord_ontology.OntologyObject.create(
            id=self.id,
            name=self.name,
            color=self.color,
            shape=self.shape,
            feature_node_hash=self.feature_hash,
            required=False,
            attributes=[a.node() for a in self.attributes.values()] if self.attributes else None,
        )


def _classification_kind(value: AttributeValue) -> AttributeKind:
    if isinstance(value, tuple):
        return "multiselect"
    if isinstance(value, str):
        return "select"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return "text"


@dataclass
class _Context:
    """What every row of one output shares."""

    objects: dict[tuple[str, str], _OntologyObject]
    classifications: dict[str, _Attribute]
    dataset_hash: str
    dataset_title: str
    report: ConversionReport
    by_media: dict[str, list[Annotation]]  # the annotations of each media item, in dataset order


def _track(annotation: Annotation) -> str:
    return annotation.track_id if annotation.track_id is not None else f"annotation/{annotation.id}"


def _ranges(frames: Sequence[int]) -> list[list[int]]:
    """Sorted frame numbers as inclusive ``[start, end]`` runs of consecutive frames."""
    runs: list[list[int]] = []
    for frame in sorted(set(frames)):
        if runs and frame == runs[-1][1] + 1:
            runs[-1][1] = frame
        else:
            runs.append([frame, frame])
    return runs


def _mark_dynamic(plan: list[tuple[MediaGroup | None, list[MediaItem]]], context: _Context) -> None:
    """Make dynamic the ontology attributes whose value (or presence) changes along a track of a video,
    sequence or group row: Encord answers those per frame range in ``object_actions``."""
    for group, items in plan:
        if group is None:
            continue
        tracks: dict[tuple[str, str, str], list[Mapping[str, AttributeValue]]] = {}
        for item in items:
            for annotation in context.by_media.get(item.id, ()):
                shape = _shape(annotation)
                if shape is not None:
                    key = (_track(annotation), annotation.category_id, shape)
                    tracks.setdefault(key, []).append(annotation.attributes)
        for (_, category_id, shape), answers in tracks.items():
            node = context.objects.get((category_id, shape))
            if node is None or len(answers) < 2:
                continue
            for name, attribute in node.attributes.items():
                if len({repr(a[name]) if name in a else "" for a in answers}) > 1:
                    attribute.dynamic = True


class _Row:
    """The answers of one label row and its objectHashes. In a video, sequence or group row (``scope`` =
    the group id) one track of one ontology object is one objectHash on every frame, as in Encord; an
    annotation without a track is an object of its own. Image rows keep the hash of the track / id."""

    def __init__(self, scope: str | None) -> None:
        self.scope = scope
        self.object_answers: dict[str, Any] = {}
        self.classification_answers: dict[str, Any] = {}
        self._placed: set[tuple[int, str]] = set()
        self._nodes: dict[str, str] = {}  # track -> the featureHash of its first instance
        self._attributes: dict[str, Mapping[str, Any]] = {}
        # objectHash -> its ontology object and, per dynamic attribute, (frame, value) of every instance
        self._dynamic: dict[str, tuple[_OntologyObject, dict[str, list[tuple[int, AttributeValue]]]]] = {}

    def object_hash(
        self, annotation: Annotation, node: _OntologyObject, frame: int, report: ConversionReport
    ) -> str:
        if self.scope is None:
            return short_hash(f"object/{annotation.track_id or annotation.id}")
        track = _track(annotation)
        first = self._nodes.setdefault(track, node.feature_hash)
        if (
            first != node.feature_hash
        ):  # Encord keeps one featureHash per objectHash (ENC-OBJECT-FEATURE-CHANGES)
            report.approximate(
                "track",
                "its category or shape changes: one Encord object per category and shape",
                annotation.id,
            )
        object_hash = short_hash(f"object/{self.scope}/{track}/{node.feature_hash}")
        if (frame, object_hash) in self._placed:  # one object is on a frame once
            report.approximate(
                "track", "it is twice on one frame: the second is an Encord object of its own", annotation.id
            )
            object_hash = short_hash(f"object/{self.scope}/annotation/{annotation.id}/{node.feature_hash}")
        self._placed.add((frame, object_hash))
        return object_hash

    def answer_object(
        self,
        object_hash: str,
        annotation: Annotation,
        node: _OntologyObject,
        frame: int,
        report: ConversionReport,
    ) -> None:
        """The answers of one instance: dynamic attributes per frame, static ones from the first instance."""
        dynamic = self._dynamic.setdefault(object_hash, (node, {}))[1]
        for name, value in annotation.attributes.items():
            attribute = node.attributes.get(name)
            if attribute is not None and attribute.dynamic:
                dynamic.setdefault(name, []).append((frame, value))
        static = {
            name: value
            for name, value in annotation.attributes.items()
            if name not in node.attributes or not node.attributes[name].dynamic
        }
        if object_hash in self.object_answers:
            if self._attributes[object_hash] != static:
                report.approximate(
                    "object attribute",
                    "it differs between the frames of one track: the answers of its first frame are written",
                    annotation.id,
                )
            return
        self._attributes[object_hash] = static
        answers: list[encord.AttributeAnswer] = []
        for name, value in static.items():
            attribute = node.attributes.get(name)
            result = attribute.answer(value) if attribute is not None else None
            if attribute is None or result is None:
                report.drop(
                    "object attribute", f"{name!r} cannot be written as an Encord answer", annotation.id
                )
                continue
            if not result[1]:
                report.approximate("object attribute", f"{name!r} written as text", annotation.id)
            answers.append(attribute.answer_node(result[0]))
        self.object_answers[object_hash] = encord.ObjectAnswer.create(
            object_hash=object_hash, classifications=answers
        ).to_json()

    def object_actions(self, report: ConversionReport) -> dict[str, Any]:
        """The dynamic answers: per object and attribute, one action per value with the frame ranges it
        holds on (the layout encord 0.1.211 ``LabelRowV2.to_encord_dict`` writes)."""
        actions: dict[str, Any] = {}
        for object_hash, (node, by_name) in self._dynamic.items():
            entries: list[dict[str, Any]] = []
            for name, answered in by_name.items():
                attribute = node.attributes[name]
                values: dict[str, tuple[AttributeValue, list[int]]] = {}
                for frame, value in answered:
                    values.setdefault(repr(value), (value, []))[1].append(frame)
                for value, frames in values.values():
                    result = attribute.answer(value)
                    if result is None:
                        report.drop(
                            "object attribute", f"{name!r} cannot be written as an Encord answer", object_hash
                        )
                        continue
                    if not result[1]:
                        report.approximate("object attribute", f"{name!r} written as text", object_hash)
                    entry = attribute.answer_node(result[0]).to_json()
                    entry.update(dynamic=True, range=_ranges(frames), shouldPropagate=False)
                    entries.append(entry)
            if entries:
                actions[object_hash] = {"objectHash": object_hash, "actions": entries}
        return actions


_FLATTENED = {
    "volume": "the encord writer writes no DICOM or NIfTI rows: each slice is written as an image label row",
    "document": "the encord writer writes no PDF rows: each page is written as an image label row",
}


def _inferred(group_id: str, items: Sequence[MediaItem]) -> MediaGroup:
    """The group of items whose reader described none: frames are a sequence, images a group."""
    kinds = {item.kind for item in items}
    kind: GroupKind = (
        "volume" if "slice" in kinds else "image_sequence" if "frame" in kinds else "image_group"
    )
    return MediaGroup(group_id, kind, group_id)


def _numbered(items: list[MediaItem]) -> list[MediaItem] | None:
    """The frames in frame order, or None when their frame numbers are missing or repeated."""
    frames = [item.frame_index for item in items]
    if any(f is None or f < 0 for f in frames) or len(set(frames)) != len(frames):
        return None
    return sorted(items, key=lambda item: item.frame_index or 0)


def _plan(
    dataset: LabelledDataset, layout: str, report: ConversionReport
) -> list[tuple[MediaGroup | None, list[MediaItem]]]:
    """What each label row holds: (None, [image]) for an image row, (group, its items) for a video, image
    sequence or image group row; groups that cannot be written as such are flattened and reported."""
    order, members = dataset.media_by_group()
    plan: list[tuple[MediaGroup | None, list[MediaItem]]] = []
    for entry in order:
        if isinstance(entry, MediaItem):
            plan.append((None, [entry]))
            continue
        items = members[entry]
        group = dataset.group(entry) or _inferred(entry, items)
        flattened = _FLATTENED.get(group.kind)
        if layout == "images":
            flattened = (
                f"--layout images: each item of a {group.kind.replace('_', ' ')} is an image label row"
            )
        if flattened is not None:
            for item in items:
                report.approximate("media item", flattened, item.id)
            plan.extend((None, [item]) for item in items)
            continue
        if group.kind in ("video", "image_sequence"):
            numbered = _numbered(items)
            sizes = {(item.width, item.height) for item in items}
            if group.kind == "video" and (numbered is None or len(sizes) > 1):
                report.approximate(
                    "video",
                    "its frames have no distinct frame numbers or differ in size: written as an image "
                    "sequence",
                    group.id,
                )
                group = replace(group, kind="image_sequence")
            if numbered is None:
                report.approximate(
                    "image sequence", "its frames have no distinct frame numbers: numbered in order", group.id
                )
                numbered = [replace(item, frame_index=n) for n, item in enumerate(items)]
            items = numbered
        plan.append((group, items))
    return plan


def _unit(data_hash: str, title: str, link: str, mime: str) -> dict[str, Any]:
    return {"data_hash": data_hash, "data_title": title, "data_link": link, "data_type": mime}


def _mime(name: str, default: str) -> str:
    return mimetypes.guess_type(name)[0] or default


class EncordWriter:
    target_id = "encord"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        rows, ontology = self.build_documents(dataset, report, layout=options.layout or "sequences")
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_json(out / LABELS_NAME, encord.to_json(rows), force=options.force, indent=True),
            write_json(
                out / ONTOLOGY_NAME, encord_ontology.to_json(ontology), force=options.force, indent=True
            ),
        ]

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.validator.api import validate

        labels = next(p for p in paths if p.name == LABELS_NAME)
        ontology = next(p for p in paths if p.name == ONTOLOGY_NAME)
        return validate(labels, format="encord", profile="strict", ontology=ontology)

    def build(
        self, dataset: LabelledDataset, report: ConversionReport, *, layout: str = "sequences"
    ) -> tuple[list[Any], dict[str, Any]]:
        """The label rows and the ontology of ``dataset`` (as JSON)."""
        rows, ontology = self.build_documents(dataset, report, layout=layout)
        return encord.to_json(rows), encord_ontology.to_json(ontology)

    def build_documents(
        self, dataset: LabelledDataset, report: ConversionReport, *, layout: str = "sequences"
    ) -> tuple[encord.Document, encord_ontology.Document]:
        """The label rows and the ontology of ``dataset``; ``layout`` ``"images"`` writes every media item as
        an image row of its own (videos and sequences flattened, reported)."""
        colors = category_colors(dataset.categories)
        shapes: dict[str, list[str]] = {c.id: [] for c in dataset.categories}
        for annotation in dataset.annotations:
            shape = _shape(annotation)
            known = shapes.get(annotation.category_id)
            if shape is not None and known is not None and shape not in known:
                known.append(shape)
        objects: dict[tuple[str, str], _OntologyObject] = {}
        for i, category in enumerate(dataset.categories):
            for n, shape in enumerate(shapes[category.id] or ["bounding_box"]):
                name = category.name if n == 0 else f"{category.name} ({shape})"
                if n:
                    report.approximate(
                        "category", f"its {shape} annotations use the object {name!r}", category.id
                    )
                node_id = str(len(objects) + 1)
                objects[(category.id, shape)] = _OntologyObject(
                    node_id, category, shape, name, _hex(colors[i])
                )
        classifications: dict[str, _Attribute] = {}
        for classification in dataset.classifications:
            if classification.name not in classifications:
                n = len(classifications) + 1
                definition = AttributeDefinition(
                    classification.name, _classification_kind(classification.value)
                )
                path = f"classification/{classification.name}"
                classifications[classification.name] = _Attribute(path, f"{n}.1", definition)
        dataset_hash = _uuid(f"dataset/{dataset.info.get('name', '')}")
        dataset_title = str(dataset.info.get("name", "") or "labelspec")
        by_media: dict[str, list[Annotation]] = {}
        for annotation in dataset.annotations:
            by_media.setdefault(annotation.media_id, []).append(annotation)
        context = _Context(objects, classifications, dataset_hash, dataset_title, report, by_media)
        plan = _plan(dataset, layout, report)
        _mark_dynamic(plan, context)
        rows: list[dict[str, Any]] = []
        for group, items in plan:
            if group is None:
                rows.extend(self._image_row(item, dataset, context) for item in items)
            elif group.kind == "video":
                rows.append(self._video_row(group, items, dataset, context))
            else:
                rows.append(self._group_row(group, items, dataset, context))
        media_ids = {m.id for m in dataset.media}
        for annotation in dataset.annotations:
            if annotation.media_id not in media_ids:
                report.drop("annotation", "it refers to an unknown media item", annotation.id)
        for classification in dataset.classifications:
            if classification.media_id is None:
                report.drop("classification", "Encord image rows have no dataset-level classification", "")
        ontology = encord_ontology.Document.create(
            objects=[o.node() for o in objects.values()],
            classifications=[
                encord_ontology.OntologyClassification.create(
                    id=str(n),
                    feature_node_hash=short_hash(f"classification/{name}/node"),
                    attributes=[attribute.node()],
                )
                for n, (name, attribute) in enumerate(classifications.items(), 1)
            ],
        )
        report.counts["written_rows"] = len(rows)
        return encord.from_json(rows), ontology

    def _labels(
        self,
        item: MediaItem,
        frame: int,
        size: tuple[int, int],
        dataset: LabelledDataset,
        context: _Context,
        row: _Row,
    ) -> dict[str, Any]:
        """The ``{objects, classifications}`` of one image / frame / data unit of ``row``, whose frame number
        (the classification ranges) is ``frame``; the row's answers are filled in on the way."""
        width, height = size
        report = context.report
        frame_objects: list[encord.FrameObject] = []
        for annotation in context.by_media.get(item.id, ()):
            shape = _shape(annotation)
            if shape is None:
                kind = {Keypoints: "keypoints", Cuboid: "cuboid"}.get(type(annotation.geometry), "annotation")
                reason = (
                    "an Encord skeleton needs a template" if kind == "keypoints" else "no 2-D Encord shape"
                )
                report.drop(f"{kind} annotation", reason, annotation.id)
                continue
            node = context.objects.get((annotation.category_id, shape))
            if node is None:
                report.drop("annotation", f"unknown category {annotation.category_id!r}", annotation.id)
                continue
            # the keys in the order the Encord SDK writes them (not the schema's): set one by one
            entry = encord.FrameObject()
            entry.name = node.name
            entry.color = node.color
            entry.shape = shape
            entry.value = _snake(node.name)
            entry.created_at = _CREATED
            entry.created_by = None
            entry.confidence = 1 if annotation.confidence is None else annotation.confidence
            object_hash = row.object_hash(annotation, node, frame, report)
            entry.object_hash = object_hash
            entry.feature_hash = node.feature_hash
            entry.manual_annotation = True
            if not self._payload(entry, annotation, width, height, report):  # the shape's payload last
                continue
            frame_objects.append(entry)
            row.answer_object(object_hash, annotation, node, frame, report)
            if annotation.is_crowd:
                report.drop("iscrowd", "Encord objects have no crowd flag", annotation.id)
        frame_classifications: list[encord.FrameClassification] = []
        for n, classification in enumerate(dataset.classifications):
            if classification.media_id != item.id:
                continue
            attribute = context.classifications[classification.name]
            result = attribute.answer(classification.value)
            if result is None:
                report.drop("classification", "its value cannot be written as an Encord answer", item.id)
                continue
            classification_hash = short_hash(f"classification/{item.id}/{n}")
            feature_hash = short_hash(f"classification/{classification.name}/node")
            frame_classification = encord.FrameClassification()  # the SDK's key order, not the schema's
            frame_classification.name = attribute.name
            frame_classification.value = _snake(attribute.name)
            frame_classification.created_at = _CREATED
            frame_classification.created_by = None
            frame_classification.confidence = 1
            frame_classification.feature_hash = feature_hash
            frame_classification.classification_hash = classification_hash
            frame_classification.manual_annotation = True
            frame_classifications.append(frame_classification)
            answer = encord.ClassificationAnswer.create(
                classification_hash=classification_hash,
                feature_hash=feature_hash,
                classifications=[attribute.answer_node(result[0])],
                spaces={},
            )
            # encord 0.1.211 places a classification only by this range (its frame; an image is frame 0):
            # without it the SDK drops the classification (ENC-CLASSIFICATION-RANGE-MISSING)
            answer.range = [[frame, frame]]
            row.classification_answers[classification_hash] = answer.to_json()
        labels = encord.ImageLabels.create(objects=frame_objects, classifications=frame_classifications)
        return labels.to_json()

    def _row(self, key: str, title: str, data_type: str, context: _Context) -> dict[str, Any]:
        """The head of a label row (the key order of Encord's exports, not the schema's)."""
        return {
            "label_hash": _uuid(f"label/{key}"),
            "branch_name": "main",
            "created_at": None,
            "last_edited_at": None,
            "data_hash": "",
            "dataset_hash": context.dataset_hash,
            "dataset_title": context.dataset_title,
            "data_title": title,
            "data_type": data_type,
        }

    @staticmethod
    def _finish(
        row: dict[str, Any],
        state: _Row,
        units: dict[str, Any],
        items: Sequence[MediaItem],
        report: ConversionReport,
    ) -> dict[str, Any]:
        where = (items[0].sequence_id or items[0].id) if items else ""
        status = status_of(items, to_encord, "Encord", report, where)
        if status.extra is not None:  # the workflow's RETURNED: a reviewer's rejection
            row["annotation_task_status"] = status.extra
        row["object_answers"] = state.object_answers
        row["classification_answers"] = state.classification_answers
        row["object_actions"] = state.object_actions(report)
        row["label_status"] = status.value
        row["data_units"] = units
        return row

    def _image_row(self, item: MediaItem, dataset: LabelledDataset, context: _Context) -> dict[str, Any]:
        """One ``image`` row for one media item."""
        size = require_size(item, "encord")
        data_hash = _uuid(f"data/{item.id}")
        state = _Row(None)
        labels = self._labels(item, 0, size, dataset, context, state)
        row = self._row(item.id, item.file_name, "image", context)
        row["data_hash"] = data_hash
        unit = _unit(
            data_hash, item.file_name, item.url or item.file_name, _mime(item.file_name, "image/jpeg")
        )
        unit.update(data_sequence=0, width=size[0], height=size[1], labels=labels)
        return self._finish(row, state, {data_hash: unit}, [item], context.report)

    def _video_row(
        self, group: MediaGroup, items: list[MediaItem], dataset: LabelledDataset, context: _Context
    ) -> dict[str, Any]:
        """One ``video`` row: one data unit, labels keyed by frame number, one objectHash per track."""
        size = (
            (group.width, group.height) if group.width and group.height else require_size(items[0], "encord")
        )
        data_hash = _uuid(f"data/{group.id}")
        state = _Row(group.id)
        labels: dict[str, Any] = {}
        for item in items:
            frame = item.frame_index if item.frame_index is not None else 0
            labels[str(frame)] = self._labels(item, frame, size, dataset, context, state)
        row = self._row(group.id, group.name, "video", context)
        row["data_hash"] = data_hash
        unit = _unit(data_hash, group.name, group.url or group.name, _mime(group.name, "video/mp4"))
        unit.update(data_sequence=0, width=size[0], height=size[1], labels=labels)
        last = max(int(key) for key in labels)
        if (
            group.fps is not None
            and group.duration is not None
            and last >= math.ceil(group.fps * group.duration)
        ):
            context.report.approximate(
                "video duration",
                f"frame {last} lies beyond data_duration {group.duration} s at {group.fps} fps: "
                "data_duration is left out",
                group.id,
            )
            unit["data_fps"] = group.fps
        else:
            if group.duration is not None:
                unit["data_duration"] = group.duration
            if group.fps is not None:
                unit["data_fps"] = group.fps
        return self._finish(row, state, {data_hash: unit}, items, context.report)

    def _group_row(
        self, group: MediaGroup, items: list[MediaItem], dataset: LabelledDataset, context: _Context
    ) -> dict[str, Any]:
        """One ``img_group`` row: one data unit per image (``data_sequence`` its frame number in an image
        sequence, its position in an image group), ``is_image_sequence`` telling the two apart."""
        sequence = group.kind == "image_sequence"
        state = _Row(group.id)
        units: dict[str, Any] = {}
        for position, item in enumerate(items):
            frame = item.frame_index if sequence and item.frame_index is not None else position
            size = require_size(item, "encord")
            data_hash = _uuid(f"data/{item.id}")
            labels = self._labels(item, frame, size, dataset, context, state)
            unit = _unit(
                data_hash, item.file_name, item.url or item.file_name, _mime(item.file_name, "image/jpeg")
            )
            unit.update(data_sequence=frame, width=size[0], height=size[1], labels=labels)
            units[data_hash] = unit
        row = self._row(group.id, group.name, "img_group", context)
        row["data_hash"] = _uuid(f"group/{group.id}")
        row["is_image_sequence"] = sequence
        return self._finish(row, state, units, items, context.report)

    @staticmethod
    def _payload(
        entry: encord.FrameObject, annotation: Annotation, width: int, height: int, report: ConversionReport
    ) -> bool:
        """Set the shape's payload of ``entry``; False when the annotation cannot be written (reported)."""
        geometry = annotation.geometry

        def vertex(x: float, y: float) -> encord.Vertex:
            return encord.Vertex.create(x=x / width, y=y / height)

        def flat(ring: Sequence[float]) -> list[float]:
            return [v / (width if i % 2 == 0 else height) for i, v in enumerate(ring)]

        # boxes: h, w, x, y (then theta), the key order of the Encord SDK, not the schema's
        if isinstance(geometry, Box):
            box = encord.BoundingBox()
            box.h, box.w = geometry.h / height, geometry.w / width
            box.x, box.y = geometry.x / width, geometry.y / height
            entry.bounding_box = box
            return True
        if isinstance(geometry, RotatedBox):
            rotated = encord.RotatableBoundingBox()
            rotated.h, rotated.w = geometry.h / height, geometry.w / width
            rotated.x, rotated.y = geometry.x / width, geometry.y / height
            rotated.theta = geometry.theta
            entry.rotatable_bounding_box = rotated
            return True
        if isinstance(geometry, (Polygon, MultiPolygon)):
            polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
            parts = [[flat(ring) for ring in p.rings] for p in polygons if p.rings and len(p.rings[0]) >= 6]
            if not parts:
                report.drop("polygon annotation", "it has fewer than 3 points", annotation.id)
                return False
            outer = parts[0][0]
            entry.polygon = {  # the legacy ring (typed Any: a map of vertices)
                str(i // 2): encord.Vertex.create(x=outer[i], y=outer[i + 1])
                for i in range(0, len(outer) - 1, 2)
            }
            entry.polygons = parts
            return True
        if isinstance(geometry, Polyline):
            entry.polyline = {str(i): vertex(x, y) for i, (x, y) in enumerate(geometry.points)}
            return True
        if isinstance(geometry, Point):
            entry.point = encord.Point.create(p_0=vertex(geometry.x, geometry.y))
            return True
        if isinstance(geometry, Mask):
            if geometry.height != height or geometry.width != width:
                report.drop("mask annotation", "its size differs from the image's", annotation.id)
                return False
            rle = encode_mask(decode_mask(geometry))
            entry.bitmask = encord.Bitmask.create(rle_string=rle, top=0, left=0, width=width, height=height)
            return True
        return False


WRITER = EncordWriter()
