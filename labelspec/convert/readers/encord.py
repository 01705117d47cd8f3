"""Encord label rows (+ ontology) -> canonical model (notes/encord.md §3-§6).

- categories: the ontology's objects (``featureNodeHash`` -> name, colour, attribute definitions) with
  ``--ontology``; without it, each ``featureHash`` seen in the rows with the ``name``/``color`` the rows
  carry (reported once as approximated: rows repeat the names, but only the ontology is authoritative);
- media: ``image`` / ``img_group`` data units are images (frames of a sequence when the row says
  ``is_image_sequence``); ``video``, ``dicom`` and ``nifti`` labels keyed by frame become one frame/slice
  item per labelled frame (``sequence_id`` = data hash, ``frame_index``); other data types (audio, text,
  PDF, scenes, groups) are dropped and reported. Sizes from the data unit, else ``--media-dir`` headers;
- shapes (normalised coordinates times the data unit's width/height): ``bounding_box`` -> Box,
  ``rotatable_bounding_box`` -> RotatedBox (theta in degrees), ``polygon``/``polygons`` -> Polygon /
  MultiPolygon with holes (``polygons`` wins when both are given, as in the SDK), ``polyline``,
  ``point``, ``skeleton`` -> Keypoints (named, with visibility), ``bitmask`` -> Mask (the exact
  ``rleString`` codec, row-major, placed at ``top``/``left`` and re-encoded as COCO column-major counts),
  ``cuboid`` -> Cuboid; ``cuboid_2d`` and point-cloud ``segmentation`` are dropped and reported;
- ``objectHash`` is the track id; static answers (``object_answers``) become attributes of every
  instance of the object, dynamic answers (``object_actions``) attributes of the frames in their ranges;
  frame classifications and global (``range: []``) classifications become classifications.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from labelspec.convert.model import (
    Annotation,
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Box,
    Category,
    Classification,
    ConversionReport,
    Cuboid,
    Geometry,
    Keypoint,
    Keypoints,
    LabelledDataset,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.readers import number, with_size
from labelspec.convert.registry import ConversionError, ReadOptions

__all__ = ["read"]

_FRAMED = ("video", "dicom", "nifti")
_KINDS: dict[str, AttributeKind] = {
    "radio": "select",
    "checklist": "multiselect",
    "text": "text",
    "numeric": "number",
}


def _colour(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)
        except ValueError:
            return None
    return None


def _answer(entry: dict[str, Any]) -> AttributeValue:
    answers = entry.get("answers")
    if isinstance(answers, list):
        names = tuple(str(a.get("name", a.get("value"))) for a in answers if isinstance(a, dict))
        return names[0] if len(names) == 1 and entry.get("type", "radio") != "checklist" else names
    if isinstance(answers, (str, int, float, bool)) or answers is None:
        return answers
    return str(answers)


def _answers(entries: Any) -> dict[str, AttributeValue]:
    return {
        str(e.get("name", e.get("featureHash"))): _answer(e) for e in entries or [] if isinstance(e, dict)
    }


def _points(raw: Any) -> list[tuple[float, float]]:
    values = (
        [raw[k] for k in sorted(raw, key=int)]
        if isinstance(raw, dict)
        else raw
        if isinstance(raw, list)
        else []
    )
    return [(float(p["x"]), float(p["y"])) for p in values if isinstance(p, dict)]


def _visibility(point: dict[str, Any]) -> Literal["visible", "occluded", "invisible"]:
    value = point.get("visibility")
    if value == "invisible" or point.get("invisible"):
        return "invisible"
    if value in ("occluded", "selfOccluded") or point.get("occluded") or point.get("selfOccluded"):
        return "occluded"
    return "visible"


class _Reader:
    def __init__(self, options: ReadOptions, report: ConversionReport) -> None:
        self.options = options
        self.report = report
        self.categories: dict[str, Category] = {}
        self.classification_names: dict[str, str] = {}
        self.media: list[MediaItem] = []
        self.annotations: list[Annotation] = []
        self.classifications: list[Classification] = []
        ontology = options.ontology
        if isinstance(ontology, dict):
            for obj in ontology.get("objects") or []:
                definitions = tuple(
                    AttributeDefinition(
                        str(a.get("name")),
                        _KINDS[a["type"]],
                        tuple(str(o.get("label")) for o in a.get("options") or []),
                        bool(a.get("required")),
                    )
                    for a in obj.get("attributes") or []
                    if a.get("type") in _KINDS
                )
                self.categories[str(obj["featureNodeHash"])] = Category(
                    id=str(obj["featureNodeHash"]),
                    name=str(obj.get("name")),
                    color=_colour(obj.get("color")),
                    attributes=definitions,
                    source_id=obj["featureNodeHash"],
                )
            for cls in ontology.get("classifications") or []:
                attributes = cls.get("attributes") or [{}]
                self.classification_names[str(cls.get("featureNodeHash"))] = str(attributes[0].get("name"))
        elif ontology is None:
            self.report.approximate(
                "category names", "no --ontology: names and colours taken from the label rows"
            )

    def category(self, obj: dict[str, Any], where: str) -> str:
        feature = str(obj.get("featureHash"))
        if feature not in self.categories:
            if self.options.ontology is not None:
                self.report.approximate(
                    "category", "featureHash not in the ontology: the row's name is used", where
                )
            self.categories[feature] = Category(
                feature, str(obj.get("name", feature)), color=_colour(obj.get("color")), source_id=feature
            )
        return feature

    def geometry(self, obj: dict[str, Any], item: MediaItem, where: str) -> Geometry | None:
        shape = obj.get("shape")
        if "bitmask" in obj or shape == "bitmask":
            return self.bitmask(obj["bitmask"], item, where)
        if "cuboid" in obj and shape != "cuboid_2d":
            c = obj["cuboid"]
            return Cuboid(tuple(c["position"]), tuple(c["size"]), tuple(c["orientation"]))
        if shape in ("cuboid_2d", "segmentation", "audio", "text"):
            self.report.drop(f"{shape} object", "no equivalent in the model", where)
            return None
        if item.width is None or item.height is None:
            raise ConversionError(
                f"the size of data unit {item.file_name!r} is unknown (not in the export) and Encord "
                "coordinates are fractions of it; pass --media-dir DIR with the media files",
                2,
            )
        w, h = float(item.width), float(item.height)
        if "skeleton" in obj:
            points = [obj["skeleton"][k] for k in sorted(obj["skeleton"], key=int)]
            return Keypoints(
                tuple(
                    Keypoint(float(p["x"]) * w, float(p["y"]) * h, _visibility(p), p.get("name"))
                    for p in points
                )
            )
        if shape == "bounding_box":
            b = obj["boundingBox"]
            return Box(b["x"] * w, b["y"] * h, b["w"] * w, b["h"] * h)
        if shape == "rotatable_bounding_box":
            b = obj["rotatableBoundingBox"]
            return RotatedBox(b["x"] * w, b["y"] * h, b["w"] * w, b["h"] * h, float(b["theta"]))
        if shape == "polygon":
            polygons = obj.get("polygons")
            if isinstance(polygons, list) and polygons:
                built = tuple(
                    Polygon(
                        tuple(
                            tuple(v * (w if i % 2 == 0 else h) for i, v in enumerate(ring)) for ring in rings
                        )
                    )
                    for rings in polygons
                )
                return built[0] if len(built) == 1 else MultiPolygon(built)
            ring = tuple(c for x, y in _points(obj.get("polygon")) for c in (x * w, y * h))
            return Polygon((ring,)) if len(ring) >= 6 else None
        if shape == "polyline":
            return Polyline(tuple((x * w, y * h) for x, y in _points(obj.get("polyline"))))
        if shape == "point":
            p = obj["point"]["0"]
            return Point(float(p["x"]) * w, float(p["y"]) * h)
        self.report.drop("object", f"unknown shape {shape!r}", where)
        return None

    def bitmask(self, raw: dict[str, Any], item: MediaItem, where: str) -> Mask | None:
        import numpy as np

        from labelspec.codecs.encord_bitmask import decode_mask
        from labelspec.convert.readers.coco import mask_to_counts

        height, width = int(raw["height"]), int(raw["width"])
        pixels = decode_mask(raw["rleString"], height, width)
        full_h, full_w = item.height or height, item.width or width
        top, left = int(raw.get("top", 0)), int(raw.get("left", 0))
        if (top, left, height, width) != (0, 0, full_h, full_w):
            canvas = np.zeros((full_h, full_w), dtype=bool)
            part = pixels[: max(0, full_h - top), : max(0, full_w - left)]
            canvas[top : top + part.shape[0], left : left + part.shape[1]] = part
            if part.shape != pixels.shape:
                self.report.approximate("bitmask", "cropped to the image", where)
            pixels = canvas
        return Mask(full_h, full_w, mask_to_counts(pixels))

    def frame(self, blob: Any, item: MediaItem, frame: int | None, row: dict[str, Any], where: str) -> None:
        if not isinstance(blob, dict):
            return
        static = row.get("object_answers") or {}
        dynamic = row.get("object_actions") or {}
        for index, obj in enumerate(blob.get("objects") or []):
            at = f"{where}/objects/{index}"
            category = self.category(obj, at)
            geometry = self.geometry(obj, item, at)
            if geometry is None:
                continue
            object_hash = str(obj.get("objectHash"))
            attributes = _answers((static.get(object_hash) or {}).get("classifications"))
            for action in (dynamic.get(object_hash) or {}).get("actions") or []:
                ranges = action.get("range") or []
                if frame is None or any(s <= frame <= e for s, e in ranges):
                    attributes[str(action.get("name", action.get("featureHash")))] = _answer(action)
            confidence = number(obj.get("confidence"))
            ann_id = object_hash if frame is None else f"{object_hash}@{frame}"
            self.annotations.append(
                Annotation(
                    ann_id,
                    item.id,
                    category,
                    geometry,
                    attributes=attributes,
                    track_id=object_hash,
                    confidence=confidence,
                )
            )
        answers = row.get("classification_answers") or {}
        for cls in blob.get("classifications") or []:
            entry = answers.get(cls.get("classificationHash")) or {}
            for name, value in _answers(entry.get("classifications")).items():
                self.classifications.append(Classification(name, value, media_id=item.id))

    def row(self, row: dict[str, Any], where: str) -> None:
        data_type = str(row.get("data_type"))
        units = row.get("data_units") or {}
        if data_type not in ("image", "img_group", *_FRAMED):
            self.report.drop("label row", f"data type {data_type!r} has no image representation", where)
            return
        sequence = bool(row.get("is_image_sequence"))
        for data_hash, unit in units.items():
            at = f"{where}/data_units/{data_hash}"
            base = MediaItem(
                str(data_hash),
                str(unit.get("data_title") or data_hash),
                width=unit.get("width") or None,
                height=unit.get("height") or None,
                url=unit.get("data_link"),
            )
            base = with_size(base, self.options)
            labels = unit.get("labels") or {}
            if data_type in ("image", "img_group"):
                if sequence:
                    base = replace(
                        base,
                        kind="frame",
                        sequence_id=str(row.get("data_hash")),
                        frame_index=int(unit.get("data_sequence", 0)),
                    )
                self.media.append(base)
                self.frame(labels, base, None, row, f"{at}/labels")
                continue
            kind: Literal["frame", "slice"] = "frame" if data_type == "video" else "slice"
            stem = base.file_name.rsplit(".", 1)[0]
            for key in sorted(labels, key=int):
                frame = int(key)
                item = replace(
                    base,
                    id=f"{data_hash}@{frame}",
                    file_name=f"{stem}_{frame:06d}.jpg",
                    kind=kind,
                    sequence_id=str(data_hash),
                    frame_index=frame,
                )
                self.media.append(item)
                self.frame(labels[key], item, frame, row, f"{at}/labels/{key}")
        for entry in (row.get("classification_answers") or {}).values():
            if isinstance(entry, dict) and entry.get("createdBy") is not None and entry.get("range") == []:
                for name, value in _answers(entry.get("classifications")).items():
                    self.classifications.append(Classification(name, value, media_id=None))


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    reader = _Reader(options, report)
    rows = document if isinstance(document, list) else [document]
    for index, row in enumerate(rows):
        if isinstance(row, dict):
            reader.row(row, f"/{index}")
    categories = tuple(reader.categories.values())
    report.counts.update(
        media=len(reader.media), categories=len(categories), annotations=len(reader.annotations)
    )
    return LabelledDataset(
        tuple(reader.media), categories, tuple(reader.annotations), tuple(reader.classifications)
    )
