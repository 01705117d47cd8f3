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

    def to_json(self) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "featureNodeHash": short_hash(self.path),
            "required": self.required,
            "dynamic": False,
        }
        if self.kind in ("radio", "checklist"):
            node["options"] = [
                {
                    "id": f"{self.id}.{n}",
                    "label": value,
                    "value": _snake(value),
                    "featureNodeHash": self.option_hash(value),
                }
                for n, value in enumerate(self.options, 1)
            ]
        return node

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
        answers = [{"name": s, "value": _snake(s), "featureHash": self.option_hash(s)} for s in strings]
        return answers, exact

    def answer_dict(self, answers: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _snake(self.name),
            "featureHash": short_hash(self.path),
            "answers": answers,
            "manualAnnotation": True,
        }


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

    def to_json(self) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "color": self.color,
            "shape": self.shape,
            "featureNodeHash": self.feature_hash,
            "required": False,
        }
        if self.attributes:
            node["attributes"] = [a.to_json() for a in self.attributes.values()]
        return node


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
        rows, ontology = self.build(dataset, report)
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_json(out / LABELS_NAME, rows, force=options.force, indent=True),
            write_json(out / ONTOLOGY_NAME, ontology, force=options.force, indent=True),
        ]

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.validator.api import validate

        labels = next(p for p in paths if p.name == LABELS_NAME)
        ontology = next(p for p in paths if p.name == ONTOLOGY_NAME)
        return validate(labels, format="encord", profile="strict", ontology=ontology)

    def build(self, dataset: LabelledDataset, report: ConversionReport) -> tuple[list[Any], dict[str, Any]]:
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
        ontology = {
            "objects": [o.to_json() for o in objects.values()],
            "classifications": [
                {
                    "id": str(n),
                    "featureNodeHash": short_hash(f"classification/{name}/node"),
                    "attributes": [attribute.to_json()],
                }
                for n, (name, attribute) in enumerate(classifications.items(), 1)
            ],
        }
        report.counts["media"] = report.counts.get("media", 0) + len(rows)
        return rows, ontology

    def _row(
        self,
        index: int,
        dataset: LabelledDataset,
        objects: dict[tuple[str, str], _OntologyObject],
        classifications: dict[str, _Attribute],
        dataset_hash: str,
        dataset_title: str,
        report: ConversionReport,
    ) -> dict[str, Any]:
        item = dataset.media[index]
        if item.kind != "image":
            report.approximate("media item", f"a {item.kind} is written as an image label row", item.id)
        width, height = require_size(item, "encord")
        data_hash = _uuid(f"data/{item.id}")
        frame_objects: list[dict[str, Any]] = []
        object_answers: dict[str, Any] = {}
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
            payload = self._payload(annotation, width, height, report)
            if payload is None:
                continue
            object_hash = short_hash(f"object/{annotation.track_id or annotation.id}")
            entry: dict[str, Any] = {
                "name": node.name,
                "color": node.color,
                "shape": shape,
                "value": _snake(node.name),
                "createdAt": _CREATED,
                "createdBy": None,
                "confidence": 1 if annotation.confidence is None else annotation.confidence,
                "objectHash": object_hash,
                "featureHash": node.feature_hash,
                "manualAnnotation": True,
                **payload,
            }
            frame_objects.append(entry)
            answers: list[dict[str, Any]] = []
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
                answers.append(attribute.answer_dict(result[0]))
            object_answers[object_hash] = {"objectHash": object_hash, "classifications": answers}
            if annotation.is_crowd:
                report.drop("iscrowd", "Encord objects have no crowd flag", annotation.id)
        frame_classifications: list[dict[str, Any]] = []
        classification_answers: dict[str, Any] = {}
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
            frame_classifications.append(
                {
                    "name": attribute.name,
                    "value": _snake(attribute.name),
                    "createdAt": _CREATED,
                    "createdBy": None,
                    "confidence": 1,
                    "featureHash": feature_hash,
                    "classificationHash": classification_hash,
                    "manualAnnotation": True,
                }
            )
            classification_answers[classification_hash] = {
                "classificationHash": classification_hash,
                "featureHash": feature_hash,
                "classifications": [attribute.answer_dict(result[0])],
                "spaces": {},
            }
        mime = mimetypes.guess_type(item.file_name)[0] or "image/jpeg"
        return {
            "label_hash": _uuid(f"label/{item.id}"),
            "branch_name": "main",
            "created_at": None,
            "last_edited_at": None,
            "data_hash": data_hash,
            "dataset_hash": dataset_hash,
            "dataset_title": dataset_title,
            "data_title": item.file_name,
            "data_type": "image",
            "object_answers": object_answers,
            "classification_answers": classification_answers,
            "object_actions": {},
            "label_status": "LABELLED",
            "data_units": {
                data_hash: {
                    "data_hash": data_hash,
                    "data_title": item.file_name,
                    "data_link": item.url or item.file_name,
                    "data_type": mime,
                    "data_sequence": 0,
                    "width": width,
                    "height": height,
                    "labels": {"objects": frame_objects, "classifications": frame_classifications},
                }
            },
        }

    @staticmethod
    def _payload(
        annotation: Annotation, width: int, height: int, report: ConversionReport
    ) -> dict[str, Any] | None:
        geometry = annotation.geometry

        def xy(x: float, y: float) -> dict[str, float]:
            return {"x": x / width, "y": y / height}

        def flat(ring: Sequence[float]) -> list[float]:
            return [v / (width if i % 2 == 0 else height) for i, v in enumerate(ring)]

        if isinstance(geometry, Box):
            return {
                "boundingBox": {
                    "h": geometry.h / height,
                    "w": geometry.w / width,
                    **xy(geometry.x, geometry.y),
                }
            }
        if isinstance(geometry, RotatedBox):
            box = {"h": geometry.h / height, "w": geometry.w / width, **xy(geometry.x, geometry.y)}
            return {"rotatableBoundingBox": {**box, "theta": geometry.theta}}
        if isinstance(geometry, (Polygon, MultiPolygon)):
            polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
            parts = [[flat(ring) for ring in p.rings] for p in polygons if p.rings and len(p.rings[0]) >= 6]
            if not parts:
                report.drop("polygon annotation", "it has fewer than 3 points", annotation.id)
                return None
            outer = parts[0][0]
            legacy = {str(i // 2): {"x": outer[i], "y": outer[i + 1]} for i in range(0, len(outer) - 1, 2)}
            return {"polygon": legacy, "polygons": parts}
        if isinstance(geometry, Polyline):
            return {"polyline": {str(i): xy(x, y) for i, (x, y) in enumerate(geometry.points)}}
        if isinstance(geometry, Point):
            return {"point": {"0": xy(geometry.x, geometry.y)}}
        if isinstance(geometry, Mask):
            if geometry.height != height or geometry.width != width:
                report.drop("mask annotation", "its size differs from the image's", annotation.id)
                return None
            rle = encode_mask(decode_mask(geometry))
            return {"bitmask": {"rleString": rle, "top": 0, "left": 0, "width": width, "height": height}}
        return None


WRITER = EncordWriter()
