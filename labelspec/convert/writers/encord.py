"""The ``encord`` writer: Encord label rows (``labels.json``) and their ontology (``ontology.json``).

Output folder::

    OUT/labels.json     a list of label rows, one ``image`` row per media item (strict profile: branch_name,
                        classification_answers[*].spaces)
    OUT/ontology.json   the ontology the rows refer to

Check it with ``labelspec validate OUT/labels.json --ontology OUT/ontology.json --profile strict``.

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
  cuboids, classifications attached to no media item, media of kind frame/slice are written as image rows
  (approximated).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import uuid
from collections.abc import Sequence
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
        node.dynamic = False
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


class EncordWriter:
    target_id = "encord"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        rows, ontology = self.build_documents(dataset, report)
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

    def build(self, dataset: LabelledDataset, report: ConversionReport) -> tuple[list[Any], dict[str, Any]]:
        """The label rows and the ontology of ``dataset`` (as JSON)."""
        rows, ontology = self.build_documents(dataset, report)
        return encord.to_json(rows), encord_ontology.to_json(ontology)

    def build_documents(
        self, dataset: LabelledDataset, report: ConversionReport
    ) -> tuple[encord.Document, encord_ontology.Document]:
        """The label rows and the ontology of ``dataset``."""
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
        rows = [
            self._row(item_index, dataset, objects, classifications, dataset_hash, dataset_title, report)
            for item_index in range(len(dataset.media))
        ]
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
        return encord.from_json([row.to_json() for row in rows]), ontology

    def _row(
        self,
        index: int,
        dataset: LabelledDataset,
        objects: dict[tuple[str, str], _OntologyObject],
        classifications: dict[str, _Attribute],
        dataset_hash: str,
        dataset_title: str,
        report: ConversionReport,
    ) -> encord.LabelRowImage:
        item = dataset.media[index]
        if item.kind != "image":
            report.approximate("media item", f"a {item.kind} is written as an image label row", item.id)
        width, height = require_size(item, "encord")
        data_hash = _uuid(f"data/{item.id}")
        frame_objects: list[encord.FrameObject] = []
        object_answers: dict[str, encord.ObjectAnswer] = {}
        for annotation in dataset.annotations_of(item.id):
            shape = _shape(annotation)
            if shape is None:
                kind = {Keypoints: "keypoints", Cuboid: "cuboid"}.get(type(annotation.geometry), "annotation")
                reason = (
                    "an Encord skeleton needs a template" if kind == "keypoints" else "no 2-D Encord shape"
                )
                report.drop(f"{kind} annotation", reason, annotation.id)
                continue
            node = objects.get((annotation.category_id, shape))
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
            object_hash = short_hash(f"object/{annotation.track_id or annotation.id}")
            entry.object_hash = object_hash
            entry.feature_hash = node.feature_hash
            entry.manual_annotation = True
            if not self._payload(entry, annotation, width, height, report):  # the shape's payload last
                continue
            frame_objects.append(entry)
            answers: list[encord.AttributeAnswer] = []
            for name, value in annotation.attributes.items():
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
            object_answers[object_hash] = encord.ObjectAnswer.create(
                object_hash=object_hash, classifications=answers
            )
            if annotation.is_crowd:
                report.drop("iscrowd", "Encord objects have no crowd flag", annotation.id)
        frame_classifications: list[encord.FrameClassification] = []
        classification_answers: dict[str, encord.ClassificationAnswer] = {}
        for n, classification in enumerate(dataset.classifications):
            if classification.media_id != item.id:
                continue
            attribute = classifications[classification.name]
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
            # encord 0.1.211 places a classification only by this range (the image is frame 0): without it
            # the SDK drops the classification (ENC-CLASSIFICATION-RANGE-MISSING)
            answer.range = [[0, 0]]
            classification_answers[classification_hash] = answer
        mime = mimetypes.guess_type(item.file_name)[0] or "image/jpeg"
        # Label rows and data units keep the key order of Encord's exports (not the schema's): set one by one.
        unit = encord.ImageDataUnit()
        unit.data_hash = data_hash
        unit.data_title = item.file_name
        unit.data_link = item.url or item.file_name
        unit.data_type = mime
        unit.data_sequence = 0
        unit.width = width
        unit.height = height
        labels = encord.ImageLabels.create(objects=frame_objects, classifications=frame_classifications)
        unit.labels = labels.to_json()  # the generated setter is typed as the base class's (a dict)
        row = encord.LabelRowImage()
        row.label_hash = _uuid(f"label/{item.id}")
        row.branch_name = "main"
        row.created_at = None
        row.last_edited_at = None
        row.data_hash = data_hash
        row.dataset_hash = dataset_hash
        row.dataset_title = dataset_title
        row.data_title = item.file_name
        row.data_type = "image"
        row.object_answers = object_answers
        row.classification_answers = classification_answers
        row.object_actions = {}
        row.label_status = "LABELLED"
        row.data_units = {data_hash: unit}
        return row

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
