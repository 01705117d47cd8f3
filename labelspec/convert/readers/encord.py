"""Encord label rows (+ ontology) -> canonical model (schemas/encord/notes.md#s3 to #s6).

- categories: the ontology's objects (``featureNodeHash`` -> name, colour, attribute definitions, those
  nested under radio options too: kept flat, the nesting reported) with
  ``--ontology``; without it, each ``featureHash`` seen in the rows with the ``name``/``color`` the rows
  carry (reported once as approximated: rows repeat the names, but only the ontology is authoritative);
- media: ``image`` / ``img_group`` data units are images (frames of a sequence when the row says
  ``is_image_sequence``); ``video``, ``dicom`` and ``nifti`` labels keyed by frame become one frame/slice
  item per labelled frame (``sequence_id`` = data hash, ``frame_index``); other data types (audio, text,
  PDF, scenes, groups) are dropped and reported. Sizes from the data unit, else ``--media-dir`` headers;
- groups: every video, image sequence, image group, volume and PDF (and every such data-group space) is a
  ``MediaGroup`` (kind, title, size, ``data_fps`` / ``data_duration`` when they are numbers, the link), and
  its items name it by ``sequence_id`` (the images of an image group too, with no ``frame_index``);
- shapes (normalised coordinates times the data unit's width/height): ``bounding_box`` -> Box,
  ``rotatable_bounding_box`` -> RotatedBox (theta in degrees), ``polygon``/``polygons`` -> Polygon /
  MultiPolygon with holes (``polygons`` wins when both are given, as in the SDK), ``polyline``,
  ``point``, ``skeleton`` -> Keypoints (named, with visibility), ``bitmask`` -> Mask (the exact
  ``rleString`` codec, row-major, placed at ``top``/``left`` and re-encoded as COCO column-major counts),
  ``cuboid`` -> Cuboid; ``cuboid_2d`` and point-cloud ``segmentation`` are dropped and reported;
- ``objectHash`` is the track id; static answers (``object_answers``) become attributes of every
  instance of the object, dynamic answers (``object_actions``) attributes of the frames in their ranges;
  frame classifications and global (``range: []``) classifications become classifications;
- one label row per data item and branch: a second row of the same data (the exports of two projects put
  together) is dropped and reported, as it would repeat the item's media;
- ``label_status`` (and ``annotation_task_status`` RETURNED, a reviewer's rejection) becomes the status of
  every item of the row (``labelspec.convert.statuses``); the other workflow states are reported as not kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from labelspec.convert.model import (
    MISSING_MEDIA,
    NORMALISED,
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
    GroupKind,
    Keypoint,
    Keypoints,
    LabelledDataset,
    LabelStatus,
    Mask,
    MediaGroup,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.readers import keeps, number, with_size
from labelspec.convert.registry import ConversionError, ReadOptions
from labelspec.convert.statuses import from_encord
from labelspec.formats import encord, encord_ontology
from labelspec.formats._runtime import JsonObject, ListView, MissingPropertyError, child_pointer
from labelspec.validator.envelope import unwrap

__all__ = ["read"]

_FRAMED = ("video", "dicom", "nifti", "pdf")  # labels keyed by frame, slice or page
# data-group spaces whose labels are frame-keyed objects on pixels (audio, text, HTML and PDF spaces are not)
_IMAGE_SPACES = ("video", "image", "image_sequence", "medical_file")
# rows nobody labelled: as COCO images without objects they would teach a model false negatives
SKIPPED_STATUSES = frozenset({"NOT_LABELLED"})
_GROUP_KINDS: dict[str, GroupKind] = {
    "video": "video",
    "image_sequence": "image_sequence",
    "medical_file": "volume",
    "dicom": "volume",
    "nifti": "volume",
    "pdf": "document",
}
_KINDS: dict[str, AttributeKind] = {
    "radio": "select",
    "checklist": "multiselect",
    "text": "text",
    "numeric": "number",
}


def _get(view: JsonObject, name: str) -> Any:
    """The property ``name`` of a view; None when a required one is absent (readers never fail on that)."""
    try:
        return getattr(view, name)
    except MissingPropertyError:
        return None


def _seconds(value: Any) -> float | None:
    """``data_fps`` / ``data_duration`` as a positive number (rows write numbers, the documentation numeric
    strings); None when absent or not a positive finite number."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 < value < float("inf") else None


def _group(
    group_id: str, kind: GroupKind, name: str, source: Any, width: Any = None, height: Any = None
) -> MediaGroup:
    """The group of a video / sequence / volume data unit or space (``source``: its JSON)."""
    raw = source if isinstance(source, dict) else {}
    fps, duration = _seconds(raw.get("data_fps")), _seconds(raw.get("data_duration"))
    frames = raw.get("number_of_frames")
    count = frames if isinstance(frames, int) and not isinstance(frames, bool) and frames > 0 else None
    link = raw.get("data_link")
    return MediaGroup(
        group_id,
        kind,
        name,
        width=width if isinstance(width, int) and width > 0 else None,
        height=height if isinstance(height, int) and height > 0 else None,
        fps=fps if kind == "video" else None,
        duration=duration if kind == "video" else None,
        frame_count=count,
        url=link if isinstance(link, str) and link else None,
    )


def _colour(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        try:
            return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)
        except ValueError:
            return None
    return None


def _answer(entry: encord.AttributeAnswer) -> AttributeValue:
    answers = _get(entry, "answers")  # typed Any: radio/checklist option lists, or a text/number
    if isinstance(answers, list):
        names = tuple(str(a.get("name", a.get("value"))) for a in answers if isinstance(a, dict))
        # "type" is not in the schema of an answer (older exports write it): read from the JSON
        kind = entry.to_json().get("type", "radio")
        return names[0] if len(names) == 1 and kind != "checklist" else names
    if isinstance(answers, (str, int, float, bool)) or answers is None:
        return answers
    return str(answers)


def _answer_name(entry: encord.AttributeAnswer) -> str:
    name = entry.name
    return str(name if name is not None or "name" in entry.to_json() else _get(entry, "feature_hash"))


def _answers(entries: ListView[encord.AttributeAnswer] | None) -> dict[str, AttributeValue]:
    return {_answer_name(e): _answer(e) for e in entries or () if isinstance(e, encord.AttributeAnswer)}


def _points(raw: Any) -> list[tuple[float, float]]:
    values = (
        [raw[k] for k in sorted(raw, key=int)]
        if isinstance(raw, dict)
        else raw
        if isinstance(raw, list)
        else []
    )
    return [(float(p["x"]), float(p["y"])) for p in values if isinstance(p, dict)]


def _visibility(point: encord.SkeletonPoint) -> Literal["visible", "occluded", "invisible"]:
    value = point.visibility
    if value == "invisible" or point.invisible:
        return "invisible"
    if value in ("occluded", "selfOccluded") or point.occluded or point.self_occluded:
        return "occluded"
    return "visible"


def _option_label(option: Any) -> str:
    if isinstance(option, encord_ontology.OptionCommon):
        return str(_get(option, "label"))
    return str(option.get("label"))  # options of an attribute type the schema does not detail


def _definition(attribute: encord_ontology.OntologyAttribute) -> AttributeDefinition | None:
    kind = _get(attribute, "type")
    if kind not in _KINDS:
        return None
    return AttributeDefinition(
        str(_get(attribute, "name")),
        _KINDS[kind],
        tuple(_option_label(o) for o in attribute.options or ()),
        bool(attribute.required),
    )


def _definitions(
    attributes: Any, report: ConversionReport, where: str, nested: bool = False
) -> list[AttributeDefinition]:
    """The attribute definitions of an ontology object, the attributes nested under radio options too: their
    answers are listed flat in ``object_answers`` like the others, so the model keeps them as attributes of
    the category; that they are asked only under their option is not kept (reported)."""
    found: list[AttributeDefinition] = []
    for attribute in attributes or ():
        if not isinstance(attribute, encord_ontology.OntologyAttribute):
            continue
        definition = _definition(attribute)
        if definition is not None:
            found.append(definition)
            if nested:
                report.approximate(
                    "nested attribute",
                    f"{definition.name!r} is asked under a radio option: kept as an attribute of the object",
                    where,
                )
        for option in attribute.options or () if _get(attribute, "type") == "radio" else ():
            if isinstance(option, encord_ontology.NestableOption):
                found.extend(_definitions(option.options, report, where, nested=True))
    return found


class _Reader:
    def __init__(self, options: ReadOptions, report: ConversionReport) -> None:
        self.options = options
        self.report = report
        self.categories: dict[str, Category] = {}
        self.classification_names: dict[str, str] = {}
        self.media: list[MediaItem] = []
        self.groups: list[MediaGroup] = []
        self.annotations: list[Annotation] = []
        self.annotation_ids: set[str] = set()
        self.classifications: list[Classification] = []
        self.placed: set[str] = set()  # classificationHashes a frame entry placed (in the current row)
        if isinstance(options.ontology, dict):
            # the API's {..., "editor": structure} as well as the structure itself (ENCO-D08)
            ontology = encord_ontology.from_json(unwrap("encord-ontology", options.ontology)[0])
            for obj in _get(ontology, "objects") or ():
                definitions = tuple(
                    _definitions(obj.attributes, report, f"ontology object {_get(obj, 'name')!r}")
                )
                node = obj.feature_node_hash
                self.categories[str(node)] = Category(
                    id=str(node),
                    name=str(_get(obj, "name")),
                    color=_colour(_get(obj, "color")),
                    attributes=definitions,
                    source_id=node,
                )
            for cls in _get(ontology, "classifications") or ():
                attributes = _get(cls, "attributes")
                first = attributes[0] if attributes else None
                name = _get(first, "name") if isinstance(first, JsonObject) else None
                self.classification_names[str(_get(cls, "feature_node_hash"))] = str(name)
        elif options.ontology is None:
            self.report.approximate(
                "category names", "no --ontology: names and colours taken from the label rows"
            )

    def category(self, obj: encord.FrameObject, where: str) -> str:
        feature = str(_get(obj, "feature_hash"))
        if feature not in self.categories:
            if self.options.ontology is not None:
                self.report.approximate(
                    "category", "featureHash not in the ontology: the row's name is used", where
                )
            name = _get(obj, "name")
            self.categories[feature] = Category(
                feature,
                str(name if name is not None or "name" in obj.to_json() else feature),
                color=_colour(_get(obj, "color")),
                source_id=feature,
            )
        return feature

    def geometry(self, obj: encord.FrameObject, item: MediaItem, where: str) -> Geometry | None:
        shape = _get(obj, "shape")
        bitmask = _get(obj, "bitmask")
        if bitmask is not None or shape == "bitmask":
            if bitmask is None:
                raise MissingPropertyError(child_pointer(obj.pointer, "bitmask"))
            return self.bitmask(bitmask, item, where)
        cuboid = _get(obj, "cuboid")
        if cuboid is not None and shape != "cuboid_2d":
            # the numbers as the export wrote them (the typed view reads vector3 items as floats)
            return Cuboid(
                tuple(cuboid.position.to_json()),
                tuple(cuboid.size.to_json()),
                tuple(cuboid.orientation.to_json()),
            )
        if shape in ("cuboid_2d", "segmentation", "audio", "text"):
            self.report.drop(f"{shape} object", "no equivalent in the model", where)
            return None
        if item.attributes.get(NORMALISED):
            item = replace(item, width=1, height=1)
        if item.width is None or item.height is None:
            raise ConversionError(
                f"the size of data unit {item.file_name!r} is unknown (not in the export) and Encord "
                "coordinates are fractions of it; pass --media-dir DIR with the media files",
                2,
            )
        w, h = float(item.width), float(item.height)
        skeleton = _get(obj, "skeleton")
        if skeleton is not None:
            points = [skeleton[k] for k in sorted(skeleton, key=int)]
            return Keypoints(
                tuple(
                    Keypoint(float(p.x) * w, float(p.y) * h, _visibility(p), _get(p, "name")) for p in points
                )
            )
        if shape == "bounding_box":
            b = obj.bounding_box
            assert b is not None, "a bounding_box object has a boundingBox (validated)"
            return Box(b.x * w, b.y * h, b.w * w, b.h * h)
        if shape == "rotatable_bounding_box":
            r = obj.rotatable_bounding_box
            assert r is not None, "a rotatable_bounding_box object has a rotatableBoundingBox (validated)"
            return RotatedBox(r.x * w, r.y * h, r.w * w, r.h * h, float(r.theta))
        if shape == "polygon":
            polygons = _get(obj, "polygons")
            if isinstance(polygons, ListView) and polygons:
                built = tuple(
                    Polygon(
                        tuple(
                            tuple(v * (w if i % 2 == 0 else h) for i, v in enumerate(ring)) for ring in rings
                        )
                    )
                    for rings in polygons
                )
                return built[0] if len(built) == 1 else MultiPolygon(built)
            ring = tuple(c for x, y in _points(_get(obj, "polygon")) for c in (x * w, y * h))
            return Polygon((ring,)) if len(ring) >= 6 else None
        if shape == "polyline":
            return Polyline(tuple((x * w, y * h) for x, y in _points(_get(obj, "polyline"))))
        if shape == "point":
            point = obj.point
            assert point is not None, "a point object has a point (validated)"
            p = point.p_0
            return Point(float(p.x) * w, float(p.y) * h)
        self.report.drop("object", f"unknown shape {shape!r}", where)
        return None

    def bitmask(self, mask: encord.Bitmask, item: MediaItem, where: str) -> Mask | None:
        import numpy as np

        from labelspec.codecs.encord_bitmask import decode_mask
        from labelspec.convert.readers.coco import mask_to_counts

        height, width = int(mask.height), int(mask.width)
        pixels = decode_mask(mask.rle_string, height, width)
        full_h, full_w = item.height or height, item.width or width
        top, left = int(_get(mask, "top") or 0), int(_get(mask, "left") or 0)
        if (top, left, height, width) != (0, 0, full_h, full_w):
            canvas = np.zeros((full_h, full_w), dtype=bool)
            part = pixels[: max(0, full_h - top), : max(0, full_w - left)]
            canvas[top : top + part.shape[0], left : left + part.shape[1]] = part
            if part.shape != pixels.shape:
                self.report.approximate("bitmask", "cropped to the image", where)
            pixels = canvas
        return Mask(full_h, full_w, mask_to_counts(pixels))

    def frame(
        self, blob: Any, item: MediaItem, frame: int | None, row: encord.LabelRow, where: str, group: bool
    ) -> None:
        if not isinstance(blob, (encord.ImageLabels, encord.FrameLabels)):
            return
        static = _get(row, "object_answers") or {}  # a map of ObjectAnswer (a plain dict in the base class)
        dynamic = _get(row, "object_actions") or {}
        for index, obj in enumerate(blob.objects or ()):
            at = f"{where}/objects/{index}"
            category = self.category(obj, at)
            geometry = self.geometry(obj, item, at)
            if geometry is None:
                continue
            object_hash = str(_get(obj, "object_hash"))
            answer = static.get(object_hash)
            if isinstance(answer, dict):  # rows of no known data type: the map's values are not typed
                answer = encord.from_json_as("object_answer", answer)
            attributes = _answers(
                _get(answer, "classifications") if isinstance(answer, encord.ObjectAnswer) else None
            )
            action = dynamic.get(object_hash)
            for dynamic_answer in (_get(action, "actions") if action else None) or ():
                ranges = _get(dynamic_answer, "range") or ()
                if frame is None or any(s <= frame <= e for s, e in ranges):
                    attributes[_answer_name(dynamic_answer)] = _answer(dynamic_answer)
            confidence = number(obj.confidence)
            # one objectHash spans the frames of a video and the images of a group or sequence: the
            # annotation is the object on one frame / data unit
            ann_id = (
                f"{object_hash}@{item.id}"
                if group
                else f"{object_hash}@{frame}"
                if frame is not None
                else object_hash
            )
            if ann_id in self.annotation_ids:  # one objectHash reused in another row of the export
                ann_id = (
                    f"{ann_id}@{item.id}"
                    if f"{ann_id}@{item.id}" not in self.annotation_ids
                    else (f"{ann_id}@{item.id}#{len(self.annotations)}")
                )
            self.annotation_ids.add(ann_id)
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
        answers = _get(row, "classification_answers") or {}
        for cls in blob.classifications or ():
            self.placed.add(str(_get(cls, "classification_hash")))
            entry = answers.get(_get(cls, "classification_hash"))
            classifications = entry.classifications if entry else None
            for name, value in _answers(classifications).items():
                self.classifications.append(Classification(name, value, media_id=item.id))

    def spaces(self, row: encord.LabelRow, where: str) -> None:
        """A data group: every image, video, image-sequence and medical space is read as media of its own
        (``<data hash>/<space id>``, frames ``…@<frame>``), sized by the space; other spaces are reported."""
        spaces = row.to_json().get("spaces")
        group_hash = str(_get(row, "data_hash"))
        status = _status(row)
        for space_id, space in (spaces or {}).items() if isinstance(spaces, dict) else ():
            at = f"{where}/spaces/{space_id}"
            space_type = space.get("space_type") if isinstance(space, dict) else None
            labels = space.get("labels") if isinstance(space, dict) else None
            if space_type not in _IMAGE_SPACES:
                if labels:
                    self.report.drop("space", f"a {space_type} space has no image representation", at)
                continue
            child = space.get("child_info") or {}
            name = str(child.get("file_name") or space_id)
            base = with_size(
                MediaItem(
                    f"{group_hash}/{space_id}",
                    name,
                    width=space.get("width") or None,
                    height=space.get("height") or None,
                    status=status,
                ),
                self.options,
            )
            stem = name.rsplit(".", 1)[0]
            frames = labels if isinstance(labels, dict) else {}
            if space_type != "image":
                kind = _GROUP_KINDS[str(space_type)]
                self.groups.append(_group(base.id, kind, name, space, base.width, base.height))
            for key in sorted((k for k in frames if str(k).isdigit()), key=int):
                frame = int(key)
                blob = encord.from_json_as("frame_labels", frames[key])
                item = (
                    base
                    if space_type == "image"
                    else replace(
                        base,
                        id=f"{base.id}@{frame}",
                        file_name=f"{stem}_{frame:06d}.jpg",
                        kind="frame" if space_type != "medical_file" else "slice",
                        sequence_id=base.id,
                        frame_index=frame,
                    )
                )
                self.media.append(item)
                self.frame(blob, item, frame, row, f"{at}/labels/{key}", True)

    def row(self, row: encord.LabelRow, where: str) -> None:
        data_type = str(_get(row, "data_type"))
        units = _get(row, "data_units") or {}
        if data_type == "group":
            self.spaces(row, where)
            return
        if data_type not in ("image", "img_group", *_FRAMED):
            self.report.drop("label row", f"data type {data_type!r} has no image representation", where)
            return
        sequence = bool(row.is_image_sequence) and data_type == "img_group"
        self.placed = set()
        frames: dict[int, list[MediaItem]] = {}  # the row's items by the frame number ranges refer to
        if data_type == "img_group":
            self.groups.append(
                MediaGroup(
                    str(_get(row, "data_hash")),
                    "image_sequence" if sequence else "image_group",
                    str(_get(row, "data_title") or _get(row, "data_hash")),
                )
            )
        for data_hash, unit in units.items():
            at = f"{where}/data_units/{data_hash}"
            base = MediaItem(
                str(data_hash),
                str(_get(unit, "data_title") or data_hash),
                width=unit.width or None,
                height=unit.height or None,
                url=unit.data_link,
                status=_status(row),
            )
            base = with_size(base, self.options)
            if self.options.inspect and (base.width is None or base.height is None):
                # looking, not converting: keep the fractions, and say why there is no size
                why = "the export gives no size and no media file was found"
                base = replace(base, attributes={**base.attributes, NORMALISED: True, MISSING_MEDIA: why})
            labels: Any = unit.labels or {}
            if data_type in ("image", "img_group"):
                if isinstance(labels, dict):  # a data unit the schema does not type: wrap as image labels
                    labels = encord.from_json_as("image_labels", labels)
                if sequence:
                    data_sequence = _get(unit, "data_sequence")
                    base = replace(
                        base,
                        kind="frame",
                        sequence_id=str(_get(row, "data_hash")),
                        frame_index=int(0 if data_sequence is None else data_sequence),
                    )
                elif data_type == "img_group":  # a member of the group, in no order in time
                    base = replace(base, sequence_id=str(_get(row, "data_hash")))
                self.media.append(base)
                data_sequence = _get(unit, "data_sequence")
                at_frame = int(data_sequence) if data_type == "img_group" and data_sequence is not None else 0
                frames.setdefault(at_frame, []).append(base)
                self.frame(labels, base, None, row, f"{at}/labels", data_type == "img_group")
                continue
            if isinstance(labels, dict):
                labels = encord.from_json_as("frame_keyed_labels", labels)
            kind: Literal["frame", "slice"] = "frame" if data_type in ("video", "pdf") else "slice"
            self.groups.append(
                _group(
                    str(data_hash),
                    _GROUP_KINDS[data_type],
                    base.file_name,
                    unit.to_json(),
                    base.width,
                    base.height,
                )
            )
            stem = base.file_name.rsplit(".", 1)[0]
            for key in sorted(labels, key=int):
                frame = int(key)
                item = replace(
                    base,
                    id=f"{data_hash}@{frame}",
                    # a PDF page is an image of the page: named for the rendered page under --media-dir
                    file_name=f"{stem}_page{frame + 1:04d}.png"
                    if data_type == "pdf"
                    else f"{stem}_{frame:06d}.jpg",
                    kind=kind,
                    sequence_id=str(data_hash),
                    frame_index=frame,
                )
                if data_type == "pdf":
                    item = with_size(item, self.options)  # the rendered page image
                self.media.append(item)
                frames.setdefault(frame, []).append(item)
                self.frame(labels[key], item, frame, row, f"{at}/labels/{key}", False)
        for hash_, entry in (_get(row, "classification_answers") or {}).items():
            if not isinstance(entry, encord.ClassificationAnswer):
                continue
            if entry.created_by is not None and entry.range == []:
                for name, value in _answers(entry.classifications).items():
                    self.classifications.append(Classification(name, value, media_id=None))
            elif str(hash_) not in self.placed:
                self.ranged(entry, frames, f"{where}/classification_answers/{hash_}")

    def ranged(
        self, entry: encord.ClassificationAnswer, frames: dict[int, list[MediaItem]], where: str
    ) -> None:
        """A classification placed by its ``range`` alone, as encord 0.1.211 ``to_encord_dict`` writes them
        (the frames' ``classifications`` lists stay empty): one classification per media item in the range;
        frames in the range that have no item (no labelled object) are reported."""
        pairs = [
            (int(p[0]), int(p[1]))
            for p in _get(entry, "range") or ()
            if len(p) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in p)
        ]
        values = _answers(entry.classifications)
        if not pairs or not values:
            return
        covered = 0
        for frame, items in sorted(frames.items()):
            if any(start <= frame <= end for start, end in pairs):
                covered += 1
                for item in items:
                    for name, value in values.items():
                        self.classifications.append(Classification(name, value, media_id=item.id))
        if covered < len({f for start, end in pairs for f in range(start, min(end, start + 10**6) + 1)}):
            self.report.drop(
                "classification", "on frames without labelled objects, which have no media item", where
            )


_PICTURED = ("image", "img_group", "group", *_FRAMED)  # rows whose data becomes media items


def _identity(raw: dict[str, Any]) -> tuple[str, ...]:
    """What a row's media items are named after: its data hash and data units (same data, same media)."""
    units = raw.get("data_units")
    return (
        str(raw.get("data_type")),
        str(raw.get("data_hash")),
        *sorted(units if isinstance(units, dict) else ()),
    )


def _status(row: encord.LabelRow) -> LabelStatus | None:
    raw = row.to_json()
    return from_encord(raw.get("label_status"), raw.get("annotation_task_status"))


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    reader = _Reader(options, report)
    rows = encord.from_json(document)  # a list of label rows, or one row alone (an object)
    filtered = 0
    read_rows: dict[tuple[str, ...], str] = {}  # the data of a row with images -> where its (first) row is
    for index, row in enumerate(rows):
        if not isinstance(row, encord.LabelRow):
            continue
        where = "" if rows.single else f"/{index}"  # a lone row: pointers into it
        raw = row.to_json()
        branch = raw.get("branch_name") or "main"  # rows exported before label branches are on main
        if branch != options.branch:
            report.drop("label row", f"on label branch {branch!r}, not {options.branch!r} (--branch)", where)
        elif not keeps(
            raw.get("label_status"),
            options,
            SKIPPED_STATUSES,
            _status(row),
            raw.get("annotation_task_status"),
        ):
            filtered += 1
        elif _identity(raw) in read_rows:
            # e.g. the exports of two projects on one dataset put together: each row's labels are a whole
            # labelling of the data, and reading both would give one image twice (duplicate media ids)
            first = read_rows[_identity(raw)] or "/"
            report.drop(
                "label row",
                f"a second label row of the same data on branch {branch!r} (the first is at {first}); "
                "only the first is read",
                where,
            )
        else:
            if raw.get("data_type") in _PICTURED:
                read_rows[_identity(raw)] = where
            task_status = raw.get("annotation_task_status")
            if task_status is not None and task_status != "RETURNED":
                report.approximate(
                    "workflow status",
                    f"annotation_task_status {task_status} is not kept: the row's label_status is",
                    where,
                )
            reader.row(row, where)
    categories = tuple(reader.categories.values())
    report.counts.update(
        media=len(reader.media), categories=len(categories), annotations=len(reader.annotations)
    )
    if filtered:
        report.counts["filtered_rows"] = filtered
    members = {m.sequence_id for m in reader.media}
    return LabelledDataset(
        tuple(reader.media),
        categories,
        tuple(reader.annotations),
        tuple(reader.classifications),
        groups=tuple(g for g in reader.groups if g.id in members),
    )
