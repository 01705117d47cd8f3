"""Semantic rules of the Encord label-row export (``ENC-…``) and the Encord ontology structure (``ENCO-…``).

Catalogued in ``schemas/encord/rules.yaml`` and ``schemas/encord-ontology/rules.yaml``; the facts behind them
are in schemas/encord/notes.md.
Every check reads one index of the document, built once per validation in a single
pass over the label rows (:func:`_label_index`), and, for the ontology-aware rules, one index of the ontology
(:func:`_ontology_index`). Both are cached on the :class:`RuleContext`, so a large export is walked once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from labelspec.validator.envelope import unwrap
from labelspec.validator.numbers import int_of_digits
from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, rule

Path = tuple[str | int, ...]

_IMAGE_TYPES = frozenset({"image", "img_group"})
_RANGE_TYPES = frozenset({"audio", "plain_text"})
_FRAME_KEYED_TYPES = frozenset({"video", "dicom", "dicom_study", "nifti", "pdf", "scene"})
# Spaces whose labels are one {objects, classifications} blob rather than keyed by frame.
_BLOB_SPACES = frozenset({"point_cloud", "scene_image"})
# Shapes in world units (point clouds), never fractions of an image.
_WORLD_SHAPES = frozenset({"cuboid", "segmentation"})
_EPS = 1e-6
_DIGITS = re.compile(r"[0-9]+")


# ----------------------------------------------------------------------------------------------- helpers


def _int_or_digits(value: Any) -> int | None:
    """An integer, or a string of digits as the SDK reads it with int(); anything else is None (so is a
    string too long for int(), which the schema reports where it constrains one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int_of_digits(value)
    return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _dim(value: Any) -> int | None:
    """A media dimension if known (a positive integer); 0, null and absent mean unknown."""
    number = _int_or_digits(value)
    return number if number else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _fmt(value: float) -> str:
    return f"{value:g}"


# ----------------------------------------------------------------------------------- label-row document index


@dataclass(slots=True)
class _FrameObject:
    """One entry of a frame's ``objects``."""

    path: Path
    obj: dict[str, Any]
    width: int | None  # of the media the frame belongs to, when known
    height: int | None
    world: bool  # point-cloud data: world units


@dataclass(slots=True)
class _Frame:
    """A frame key of frame-keyed labels whose media declares how many frames it has."""

    path: Path
    frame: int
    limit: int
    what: str


@dataclass(slots=True)
class _Row:
    index: int | None  # None: the document is this one row (a single label row object)
    row: dict[str, Any]
    data_type: str | None
    objects: list[_FrameObject] = field(default_factory=list)
    classifications: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    frames: list[_Frame] = field(default_factory=list)
    frame_keyed_images: list[Path] = field(default_factory=list)
    # objectHash -> featureHash of frame objects (first occurrence) and of range-based objects.
    object_features: dict[str, str] = field(default_factory=dict)
    # objectHash of range-based objects (audio/text entries of object_answers, objects placed via spaces).
    range_objects: set[str] = field(default_factory=set)
    # classificationHash -> featureHash of frame classifications and instance-form answers.
    classification_features: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return () if self.index is None else (self.index,)


def _rows(ctx: RuleContext) -> list[_Row]:
    """The label rows of the context's document, indexed once per document."""
    return ctx.memo(_index_rows)


def _index_rows(ctx: RuleContext) -> list[_Row]:
    return _label_index(ctx.document)


def _label_index(document: Any) -> list[_Row]:
    rows: list[_Row] = []
    if isinstance(document, dict):  # one label row alone: pointers are relative to it
        return [_index_row(None, document)]
    if not isinstance(document, list):
        return rows
    for i, row in enumerate(document):
        if isinstance(row, dict):
            rows.append(_index_row(i, row))
    return rows


def _index_row(i: int | None, row: dict[str, Any]) -> _Row:
    data_type = _str(row.get("data_type"))
    entry = _Row(i, row, data_type)
    for unit_key, unit in _dict(row.get("data_units")).items():
        if not isinstance(unit, dict):
            continue
        labels = unit.get("labels")
        if not isinstance(labels, dict) or data_type in _RANGE_TYPES:
            continue
        path: Path = (*entry.path, "data_units", unit_key, "labels")
        width, height = _dim(unit.get("width")), _dim(unit.get("height"))
        blob_like = data_type not in _FRAME_KEYED_TYPES and (
            "objects" in labels or "classifications" in labels
        )
        if data_type in _IMAGE_TYPES or data_type == "group" or blob_like:
            _index_blob(entry, labels, path, width, height, world=False)
            for key, blob in labels.items():
                if _DIGITS.fullmatch(key) and data_type in _IMAGE_TYPES:
                    entry.frame_keyed_images.append((*path, key))
                    if isinstance(blob, dict):
                        _index_blob(entry, blob, (*path, key), width, height, world=False)
        else:
            for key, blob in labels.items():
                if isinstance(blob, dict):
                    _index_blob(entry, blob, (*path, key), width, height, world=data_type == "scene")
    for space_id, space in _dict(row.get("spaces")).items():
        if isinstance(space, dict):
            _index_space(entry, space_id, space)
    answers = _dict(row.get("object_answers"))
    for key, answer in answers.items():
        if not isinstance(answer, dict):
            continue
        object_hash = _str(answer.get("objectHash")) or key
        if data_type in _RANGE_TYPES or answer.get("spaces") or "range_html" in answer:
            entry.range_objects.add(object_hash)
            feature = _str(answer.get("featureHash"))
            if feature is not None:
                entry.object_features.setdefault(object_hash, feature)
    for key, answer in _dict(row.get("classification_answers")).items():
        if isinstance(answer, dict) and "createdBy" in answer:
            feature = _str(answer.get("featureHash"))
            if feature is not None:
                entry.classification_features.setdefault(key, feature)
    return entry


def _index_space(entry: _Row, space_id: str, space: dict[str, Any]) -> None:
    labels = space.get("labels")
    if not isinstance(labels, dict):
        return
    space_type = _str(space.get("space_type"))
    path: Path = (*entry.path, "spaces", space_id, "labels")
    width, height = _dim(space.get("width")), _dim(space.get("height"))
    if space_type in _BLOB_SPACES:
        _index_blob(entry, labels, path, width, height, world=space_type == "point_cloud")
        return
    limit: int | None = None
    what = ""
    if space_type in ("video", "image_sequence", "medical_file"):
        limit, what = _int_or_digits(space.get("number_of_frames")), "number_of_frames"
    elif space_type == "pdf":
        limit, what = _int_or_digits(space.get("number_of_pages")), "number_of_pages"
    elif space_type == "medical_stack" and isinstance(space.get("frames"), list):
        limit, what = len(space["frames"]), "the number of its frames"
    elif space_type == "image":
        limit, what = 1, "a single image"
    for key, blob in labels.items():
        frame = _int_or_digits(key)
        if limit is not None and frame is not None and frame >= limit:
            entry.frames.append(
                _Frame((*path, key), frame, limit, f"space {space_id!r} ({space_type}, {what})")
            )
        if isinstance(blob, dict):
            _index_blob(entry, blob, (*path, key), width, height, world=False)


def _index_blob(
    entry: _Row, blob: dict[str, Any], path: Path, width: int | None, height: int | None, *, world: bool
) -> None:
    for j, obj in enumerate(_as_list(blob.get("objects"))):
        if not isinstance(obj, dict):
            continue
        entry.objects.append(_FrameObject((*path, "objects", j), obj, width, height, world))
        object_hash, feature = _str(obj.get("objectHash")), _str(obj.get("featureHash"))
        if object_hash is not None and feature is not None:
            entry.object_features.setdefault(object_hash, feature)
    for j, classification in enumerate(_as_list(blob.get("classifications"))):
        if not isinstance(classification, dict):
            continue
        entry.classifications.append(((*path, "classifications", j), classification))
        class_hash, feature = (
            _str(classification.get("classificationHash")),
            _str(classification.get("featureHash")),
        )
        if class_hash is not None and feature is not None:
            entry.classification_features.setdefault(class_hash, feature)


def _object_hash(obj: dict[str, Any]) -> str | None:
    return _str(obj.get("objectHash"))


# ------------------------------------------------------------------------------------------ cross-references


@rule("ENC-OBJECT-ANSWER-ORPHAN")
def object_answer_orphan(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if row.data_type in _RANGE_TYPES:
            continue  # there the entries of object_answers are the objects
        for key, answer in _dict(row.row.get("object_answers")).items():
            if not isinstance(answer, dict):
                continue
            object_hash = _str(answer.get("objectHash")) or key
            if object_hash in row.object_features or object_hash in row.range_objects:
                continue
            if not _as_list(answer.get("classifications")):
                continue  # no answers: the SDK skips the entry, but nothing is lost
            yield (
                to_pointer((*row.path, "object_answers", key)),
                f'object answer "{object_hash}" refers to no object in any frame of the row: the SDK '
                "ignores its "
                "answers",
                "remove the entry, or restore the object it belongs to",
            )


@rule("ENC-OBJECT-ACTION-ORPHAN")
def object_action_orphan(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        present = row.object_features.keys() | row.range_objects
        if row.data_type in _RANGE_TYPES:
            present |= {
                _str(answer.get("objectHash")) or key
                for key, answer in _dict(row.row.get("object_answers")).items()
                if isinstance(answer, dict)
            }
        for key, action in _dict(row.row.get("object_actions")).items():
            if not isinstance(action, dict):
                continue
            object_hash = _str(action.get("objectHash")) or key
            if object_hash not in present and _as_list(action.get("actions")):  # no actions: nothing lost
                yield (
                    to_pointer((*row.path, "object_actions", key)),
                    f'object actions "{object_hash}" refer to no object of the row: the SDK ignores these '
                    "dynamic answers",
                    "remove the entry, or restore the object it belongs to",
                )


@rule("ENC-FRAME-CLASSIFICATION-UNANSWERED")
def frame_classification_unanswered(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if not row.classifications:
            continue
        answers = _dict(row.row.get("classification_answers"))
        for path, classification in row.classifications:
            class_hash = _str(classification.get("classificationHash"))
            if class_hash is not None and class_hash not in answers:
                yield (
                    to_pointer(path),
                    f'frame classification "{class_hash}" has no classification_answers entry with that key: '
                    "the SDK silently drops it",
                    f'add classification_answers["{class_hash}"] with its answers',
                )


@rule("ENC-FRAME-OUT-OF-RANGE")
def frame_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for frame in row.frames:
            yield (
                to_pointer(frame.path),
                f"frame {frame.frame} is beyond the media: {frame.what} gives {frame.limit} frame(s), "
                f"numbered 0 to {frame.limit - 1}",
            )


@rule("ENC-IMAGE-LABELS-FRAME-KEYED")
def image_labels_frame_keyed(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for path in row.frame_keyed_images:
            yield (
                to_pointer(path),
                f'{row.data_type} labels are keyed by frame "{path[-1]}": the SDK reads objects and '
                "classifications directly from `labels` and silently finds none here",
                'move "objects" and "classifications" up into `labels`',
            )


@rule("ENC-IMG-GROUP-SEQUENCE-DUPLICATE")
def img_group_sequence_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if row.data_type != "img_group":
            continue
        seen: dict[int, str] = {}
        for key, unit in _dict(row.row.get("data_units")).items():
            if not isinstance(unit, dict):
                continue
            sequence = _int_or_digits(unit.get("data_sequence"))
            if sequence is None:
                continue
            if sequence in seen:
                yield (
                    to_pointer((*row.path, "data_units", key, "data_sequence")),
                    f'data_sequence {sequence} is also the frame index of data unit "{seen[sequence]}": the '
                    "SDK "
                    "keys images by it, so one of them is lost",
                )
            else:
                seen[sequence] = key


@rule("ENC-IMAGE-SEQUENCE-FLAG-MISMATCH")
def image_sequence_flag_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if "is_image_sequence" not in row.row or row.data_type is None:
            continue
        flag = row.row["is_image_sequence"]
        if row.data_type == "img_group" and flag is None:
            yield (
                to_pointer((*row.path, "is_image_sequence")),
                "is_image_sequence is null on an img_group row; expected true (image sequence) or false "
                "(image group)",
            )
        elif row.data_type != "img_group" and isinstance(flag, bool):
            yield (
                to_pointer((*row.path, "is_image_sequence")),
                f"is_image_sequence is {str(flag).lower()} on a row of data_type {row.data_type}; only "
                "img_group rows are "
                "image groups or sequences (expected null)",
            )


# ------------------------------------------------------------------------------------------ object geometry


@rule("ENC-OBJECT-FEATURE-CHANGES")
def object_feature_changes(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            object_hash, feature = _object_hash(item.obj), _str(item.obj.get("featureHash"))
            if object_hash is None or feature is None:
                continue
            first = row.object_features.get(object_hash)
            if first is not None and first != feature:
                yield (
                    to_pointer((*item.path, "featureHash")),
                    f'object "{object_hash}" has featureHash "{feature}" here but "{first}" on its first '
                    "frame: "
                    "the SDK keeps the first class and silently ignores this one",
                    "give the instance a new objectHash if it is a different object",
                )


@rule("ENC-OBJECT-HASH-DUPLICATE-IN-FRAME")
def object_hash_duplicate_in_frame(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        seen: dict[tuple[Path, str], int] = {}
        for item in row.objects:
            object_hash = _object_hash(item.obj)
            if object_hash is None:
                continue
            frame_path = item.path[:-2]
            first = seen.setdefault((frame_path, object_hash), int(item.path[-1]))
            if first != item.path[-1]:
                yield (
                    to_pointer((*item.path, "objectHash")),
                    f'objectHash "{object_hash}" occurs twice in this frame (also at objects/{first}): one '
                    "instance has one geometry per frame, so the SDK keeps only one of them",
                )


def _vertex(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict):
        x, y = _num(value.get("x")), _num(value.get("y"))
        if x is not None and y is not None and "z" not in value:
            return x, y
    return None


def _vertices(container: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(container, dict):
        yield from container.items()
    elif isinstance(container, list):
        yield from enumerate(container)


def _coordinates(obj: dict[str, Any]) -> Iterator[tuple[Path, float]]:
    """Every normalised coordinate of a 2-D object, as (relative path, value)."""
    shape = obj.get("shape")
    if shape == "rotatable_bounding_box":
        box = _dict(obj.get("rotatableBoundingBox"))
        for side in ("x", "y", "w", "h"):
            value = _num(box.get(side))
            if value is not None and not (side in "wh" and value < 0):
                yield ("rotatableBoundingBox", side), value
    elif shape == "polygon":
        for key, vertex in _vertices(obj.get("polygon")):
            point = _vertex(vertex)
            if point is not None:
                yield ("polygon", key, "x"), point[0]
                yield ("polygon", key, "y"), point[1]
        for p, polygon in enumerate(_as_list(obj.get("polygons"))):
            for r, ring in enumerate(_as_list(polygon)):
                for k, value in enumerate(_as_list(ring)):
                    number = _num(value)
                    if number is not None:
                        yield ("polygons", p, r, k), number
    elif shape in ("polyline", "point", "skeleton"):
        payload = {
            "polyline": obj.get("polyline"),
            "point": obj.get("point"),
            "skeleton": obj.get("skeleton"),
        }
        for key, vertex in _vertices(payload[shape]):
            point = _vertex(vertex)
            if point is not None:
                yield (shape, key, "x"), point[0]
                yield (shape, key, "y"), point[1]
    elif shape == "cuboid_2d":
        for k, value in enumerate(_as_list(_dict(obj.get("cuboid_2d")).get("front"))):
            number = _num(value)
            if number is not None:
                yield ("cuboid_2d", "front", k), number


def _inside_unit(values: Any) -> bool:
    """True when ``values`` is a list of plain numbers all within [0, 1] (allowing _EPS)."""
    if not isinstance(values, list):
        return False
    for value in values:
        if type(value) is not float and type(value) is not int:
            return False
        if value < -_EPS or value > 1 + _EPS:
            return False
    return True


def _vertices_inside(vertices: Any) -> bool:
    """True when ``vertices`` (a dict or list of {x, y} dicts) has only float x, y within [0, 1]."""
    if type(vertices) is dict:
        values: Any = vertices.values()
    elif type(vertices) is list:
        values = vertices
    else:
        return False
    low, high = -_EPS, 1 + _EPS
    for vertex in values:
        if type(vertex) is not dict:
            return False
        x, y = vertex.get("x"), vertex.get("y")
        if type(x) is not float or type(y) is not float:
            return False
        if x < low or x > high or y < low or y > high:
            return False
    return True


# Shapes :func:`_coordinates` reads; for any other shape it yields nothing.
_COORDINATE_SHAPES = frozenset(
    {"rotatable_bounding_box", "polygon", "polyline", "point", "skeleton", "cuboid_2d"}
)


def _surely_inside(obj: dict[str, Any]) -> bool:
    """A cheap sufficient test that :func:`_coordinates` yields nothing outside [0, 1] for ``obj``: only
    the common forms are recognised (polygons as flat number lists, vertices as {x, y} dicts, boxes and
    cuboid fronts of plain numbers); anything else takes the exact path."""
    shape = obj.get("shape")
    if not isinstance(shape, str) or shape not in _COORDINATE_SHAPES:
        return True  # _coordinates yields nothing
    if shape == "polygon":
        legacy = obj.get("polygon")
        if legacy is not None and not _vertices_inside(legacy):
            return False
        polygons = obj.get("polygons")
        if polygons is None:
            return True
        return isinstance(polygons, list) and all(
            isinstance(polygon, list) and all(_inside_unit(ring) for ring in polygon) for polygon in polygons
        )
    if shape == "rotatable_bounding_box":
        box = obj.get("rotatableBoundingBox")
        if type(box) is not dict:
            return False
        for side in ("x", "y", "w", "h"):
            value = box.get(side)
            if type(value) is not float and type(value) is not int:
                return False
            if value < -_EPS or value > 1 + _EPS:
                return False
        return True
    if shape == "cuboid_2d":
        cuboid = obj.get("cuboid_2d")
        return type(cuboid) is dict and _inside_unit(cuboid.get("front"))
    return _vertices_inside(obj.get(shape))


@rule("ENC-COORDINATE-OUT-OF-RANGE")
def coordinate_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            shape = item.obj.get("shape")
            if item.world or (isinstance(shape, str) and shape in _WORLD_SHAPES):
                continue
            hit = _box_edges_out_of_range(item) if shape == "bounding_box" else None
            if hit is None and not _surely_inside(item.obj):
                outside = [(p, v) for p, v in _coordinates(item.obj) if v < -_EPS or v > 1 + _EPS]
                if outside:
                    first_path, first_value = outside[0]
                    hit = (
                        to_pointer((*item.path, *first_path)),
                        f"{len(outside)} coordinate(s) of this {item.obj.get('shape')} are outside [0, 1] "
                        f"(first: {first_path[-1] if isinstance(first_path[-1], str) else 'value'} = "
                        f"{_fmt(first_value)}); coordinates are fractions of the image width and height",
                    )
            if hit is not None:
                yield hit


def _box_edges_out_of_range(item: _FrameObject) -> Hit | None:
    box = item.obj.get("boundingBox")
    if not isinstance(box, dict):
        return None
    x, y, w, h = (_num(box.get(key)) for key in ("x", "y", "w", "h"))
    checks: list[tuple[str, str, float | None]] = [("x", "left edge x", x), ("y", "top edge y", y)]
    if x is not None and w is not None and w >= 0:
        checks.append(("w", "right edge x + w", x + w))
    if y is not None and h is not None and h >= 0:
        checks.append(("h", "bottom edge y + h", y + h))
    for key, what, value in checks:
        if value is not None and (value < -_EPS or value > 1 + _EPS):
            return (
                to_pointer((*item.path, "boundingBox", key)),
                f"bounding box {what} = {_fmt(value)} is outside [0, 1]; coordinates are fractions of the "
                "image width and height",
            )
    return None


@rule("ENC-BOX-NEGATIVE-SIZE")
def box_negative_size(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            key = {"bounding_box": "boundingBox", "rotatable_bounding_box": "rotatableBoundingBox"}.get(
                str(item.obj.get("shape"))
            )
            box = item.obj.get(key) if key else None
            if not isinstance(box, dict):
                continue
            for side in ("w", "h"):
                value = _num(box.get(side))
                if value is not None and value < 0:
                    yield (
                        to_pointer((*item.path, str(key), side)),
                        f"box {'width' if side == 'w' else 'height'} {side} = {_fmt(value)} is negative; "
                        "(x, y) "
                        "is the top-left corner and w, h must be >= 0",
                    )


@rule("ENC-POLYGON-DEGENERATE")
def polygon_degenerate(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "polygon":
                continue
            legacy = item.obj.get("polygon")
            if isinstance(legacy, (dict, list)) and 0 < len(legacy) < 3:
                yield (
                    to_pointer((*item.path, "polygon")),
                    f"polygon has {len(legacy)} vertices; a polygon needs at least 3",
                )
            for p, polygon in enumerate(_as_list(item.obj.get("polygons"))):
                for r, ring in enumerate(_as_list(polygon)):
                    if not isinstance(ring, list) or not all(_num(v) is not None for v in ring):
                        continue
                    pointer = to_pointer((*item.path, "polygons", p, r))
                    if len(ring) % 2:
                        yield (
                            pointer,
                            f"ring has an odd number of values ({len(ring)}); a ring is a flat list of x, y "
                            "pairs",
                        )
                    elif len(ring) < 6:
                        yield pointer, f"ring has {len(ring) // 2} point(s); a ring needs at least 3"


@rule("ENC-POLYGON-FORMS-DIFFER")
def polygon_forms_differ(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            obj = item.obj
            if obj.get("shape") != "polygon" or "polygon" not in obj or "polygons" not in obj:
                continue
            legacy = obj["polygon"]
            if isinstance(legacy, dict):
                try:
                    points = [legacy[k] for k in sorted(legacy, key=int)]
                except ValueError:
                    continue
            elif isinstance(legacy, list):
                points = legacy
            else:
                continue
            flat: list[float] = []
            for vertex in points:
                point = _vertex(vertex)
                if point is None:
                    break
                flat.extend(point)
            else:
                polygons = _as_list(obj["polygons"])
                rings = _as_list(polygons[0]) if polygons else []
                ring = rings[0] if rings else None
                if not isinstance(ring, list) or not all(_num(v) is not None for v in ring):
                    continue
                if len(ring) != len(flat) or any(
                    abs(a - float(b)) > 1e-9 for a, b in zip(flat, ring, strict=True)
                ):
                    yield (
                        to_pointer((*item.path, "polygon")),
                        "the legacy `polygon` is not ring 0 of polygon 0 of `polygons`: the SDK keeps "
                        "`polygons` "
                        "and discards `polygon`",
                    )


@rule("ENC-POLYLINE-MIXED-DIMENSIONS")
def polyline_mixed_dimensions(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "polyline":
                continue
            dims: dict[bool, str | int] = {}
            for key, vertex in _vertices(item.obj.get("polyline")):
                if isinstance(vertex, dict):
                    dims.setdefault("z" in vertex, key)
            if len(dims) == 2:
                yield (
                    to_pointer((*item.path, "polyline", dims[True])),
                    f"polyline mixes 3-D points (first: {dims[True]}) with 2-D points (first: "
                    f"{dims[False]}); "
                    "the SDK raises LabelRowError",
                )


_RLE_CHARS = re.compile(r"[0-o]+")  # '0' .. 'o': the 64 characters of the encoding


def _rle_totals(strings: list[str]) -> list[int | None]:
    """The pixel count (sum of the run lengths) of each rleString, decoded together in one numpy pass.

    None where the string is not surely valid or the batch cannot be exact (values too large for int64
    sums): :func:`decode_rle_string` then decodes it alone, with its own error. Where a number is given,
    the string decodes without error and the number is ``sum(decode_rle_string(string))``.
    """
    out: list[int | None] = [None] * len(strings)
    chosen: list[int] = []
    for k, text in enumerate(strings):
        if not text:
            out[k] = 0  # decodes to no runs
        elif text.isascii() and text[-1] <= "O" and _RLE_CHARS.fullmatch(text):
            chosen.append(k)
    if not chosen:
        return out
    picked = [strings[k] for k in chosen]
    import numpy as np  # here: numpy costs start-up time, and only bitmasks need it

    chars: Any = np.frombuffer("".join(picked).encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    ends: Any = np.flatnonzero((chars & 0x20) == 0)
    starts: Any = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths: Any = ends - starts + 1
    if int(lengths.max()) > 12:
        return out  # a run length of more than 60 bits somewhere: decode one by one
    position = np.arange(chars.size, dtype=np.int64) - np.repeat(starts, lengths)
    values: Any = np.add.reduceat((chars & 0x1F) << (5 * position), starts)
    negative = (chars[ends] & 0x10) != 0
    values[negative] -= np.left_shift(np.int64(1), 5 * lengths[negative])
    if int(np.abs(values).max()) > 2**31:
        return out
    # Groups never cross strings (each string ends on a last character): the string of each group.
    boundaries = np.cumsum(np.fromiter((len(text) for text in picked), dtype=np.int64, count=len(picked)))
    owner = np.searchsorted(boundaries, ends, side="right")
    group_count: Any = np.bincount(owner, minlength=len(picked))
    if int(group_count.max()) > 2**14:
        return out
    first = np.cumsum(group_count) - group_count
    local = np.arange(values.size, dtype=np.int64) - np.repeat(first, group_count)
    # counts[i] = values[i] + counts[i - 2] from i = 3 on: per string, a running sum over the odd groups
    # and one over the even groups from 2 on.
    counts = values.copy()
    for mask in ((local & 1) == 1, ((local & 1) == 0) & (local >= 2)):
        running = np.cumsum(np.where(mask, values, 0))
        before = running[first] - np.where(mask[first], values[first], 0)
        counts[mask] = (running - np.repeat(before, group_count))[mask]
    lowest = np.minimum.reduceat(counts, first).tolist()
    totals = np.add.reduceat(counts, first).tolist()
    for k, low, total in zip(chosen, lowest, totals, strict=True):
        if low >= 0:
            out[k] = total
    return out


@rule("ENC-BITMASK-RLE-INVALID")
def bitmask_rle_invalid(ctx: RuleContext) -> Iterator[Hit]:
    # imported here: the codec needs numpy, which costs start-up time to every validation
    from labelspec.codecs.encord_bitmask import RleError, decode_rle_string

    candidates: list[tuple[_FrameObject, bool, str]] = []  # (object, is bitmask, RLE string)
    for row in _rows(ctx):
        for item in row.objects:
            obj = item.obj
            shape = obj.get("shape")
            if shape == "bitmask":
                mask = obj.get("bitmask")
                if isinstance(mask, dict) and isinstance(mask.get("rleString"), str):
                    candidates.append((item, True, mask["rleString"]))
            elif shape == "segmentation" and isinstance(obj.get("segmentation"), str):
                candidates.append((item, False, obj["segmentation"]))
    if not candidates:
        return
    totals = _rle_totals([text for _, _, text in candidates])
    for (item, is_bitmask, text), total in zip(candidates, totals, strict=True):
        if is_bitmask:
            mask = item.obj["bitmask"]
            if total is None:
                try:
                    total = sum(decode_rle_string(text))
                except RleError as exc:
                    yield (
                        to_pointer((*item.path, "bitmask", "rleString")),
                        f"rleString does not decode: {exc}",
                    )
                    continue
            width, height = _int_or_digits(mask.get("width")), _int_or_digits(mask.get("height"))
            if width is not None and height is not None and total > width * height:
                yield (
                    to_pointer((*item.path, "bitmask", "rleString")),
                    f"rleString covers {total} pixels, more than the {width}x{height} = "
                    f"{width * height} of the bitmask (the SDK raises IndexError)",
                )
        elif total is None:
            try:
                decode_rle_string(text)
            except RleError as exc:
                yield to_pointer((*item.path, "segmentation")), f"segmentation RLE does not decode: {exc}"


@rule("ENC-BITMASK-SIZE-MISMATCH")
def bitmask_size_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            mask = item.obj.get("bitmask")
            if item.obj.get("shape") != "bitmask" or not isinstance(mask, dict):
                continue
            if item.width is None or item.height is None:
                continue
            width, height = _int_or_digits(mask.get("width")), _int_or_digits(mask.get("height"))
            if width is None or height is None or (width, height) == (item.width, item.height):
                continue
            yield (
                to_pointer((*item.path, "bitmask")),
                f"bitmask is {width}x{height} but its media is {item.width}x{item.height}: the SDK writes "
                "full-image masks and raises ValueError when saving this one",
            )


# ---------------------------------------------------------------------------- media bounds, consistency


def _video_frame_limit(unit: dict[str, Any]) -> tuple[int, float, float] | None:
    """(number of frames, fps, duration) of a video data unit, as the SDK derives the count from the media
    metadata (encord 0.1.211 ontology_labels_impl.py: ``ceil(fps * duration)``); None when either is not a
    positive finite number."""
    fps, duration = _num(unit.get("data_fps")), _num(unit.get("data_duration"))
    if fps is None or duration is None or fps <= 0 or duration <= 0:
        return None
    frames = fps * duration
    if not math.isfinite(frames):
        return None
    return math.ceil(frames), fps, duration


@rule("ENC-FRAME-BEYOND-DURATION")
def frame_beyond_duration(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if row.data_type != "video":
            continue
        for unit_key, unit in _dict(row.row.get("data_units")).items():
            if not isinstance(unit, dict) or not isinstance(unit.get("labels"), dict):
                continue
            limit = _video_frame_limit(unit)
            if limit is None:
                continue
            count, fps, duration = limit
            for key in unit["labels"]:
                frame = _int_or_digits(key)
                if frame is not None and frame >= count:
                    yield (
                        to_pointer((*row.path, "data_units", unit_key, "labels", key)),
                        f"frame {frame} is beyond the video: data_duration {_fmt(duration)} s at data_fps "
                        f"{_fmt(fps)} gives {count} frame(s), numbered 0 to {count - 1} (the SDK rejects "
                        "the object as out of bounds)",
                    )


def _range_ends(ranges: Any) -> Iterator[tuple[int, float]]:
    """(index, end) of every [start, end] pair of a range list whose end is a number."""
    for n, pair in enumerate(_as_list(ranges)):
        if isinstance(pair, list) and len(pair) == 2:
            end = _num(pair[1])
            if end is not None:
                yield n, end


def _audio_row_limit(row: _Row) -> float | None:
    """An audio row's length in milliseconds, from its first data unit's data_duration (seconds)."""
    if row.data_type != "audio":
        return None
    units = list(_dict(row.row.get("data_units")).values())
    duration = _num(units[0].get("data_duration")) if units and isinstance(units[0], dict) else None
    return duration * 1000 if duration is not None and duration > 0 else None


@rule("ENC-AUDIO-RANGE-BEYOND-DURATION")
def audio_range_beyond_duration(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        row_limit = _audio_row_limit(row)
        if row_limit is None:
            continue
        for section in ("object_answers", "classification_answers"):
            for key, entry in _dict(row.row.get(section)).items():
                if not isinstance(entry, dict):
                    continue
                for n, end in _range_ends(entry.get("range")):
                    if end > row_limit:
                        yield (
                            to_pointer((*row.path, section, key, "range", n)),
                            f"range ends at {_fmt(end)} ms, beyond the audio's data_duration of "
                            f"{_fmt(row_limit / 1000)} s ({_fmt(row_limit)} ms)",
                        )


@rule("ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION")
def audio_space_range_beyond_duration(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        audio_spaces = {
            space_id: _num(space.get("duration_ms"))
            for space_id, space in _dict(row.row.get("spaces")).items()
            if isinstance(space, dict) and space.get("space_type") == "audio"
        }
        if not audio_spaces:
            continue
        for section in ("object_answers", "classification_answers"):
            for key, entry in _dict(row.row.get(section)).items():
                if not isinstance(entry, dict):
                    continue
                for space_id, placed in _dict(entry.get("spaces")).items():
                    limit = audio_spaces.get(space_id)
                    if limit is None or not isinstance(placed, dict):
                        continue
                    for n, end in _range_ends(placed.get("range")):
                        if end > limit:
                            yield (
                                to_pointer((*row.path, section, key, "spaces", space_id, "range", n)),
                                f"range ends at {_fmt(end)} ms, beyond the {_fmt(limit)} ms (duration_ms) of "
                                f"audio space {space_id!r} (the SDK raises LabelRowError)",
                            )


def _frame_keyed_blobs(row: _Row) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """(path, frame, blob) of every frame-keyed {objects, classifications} blob of a row: data units of the
    frame-keyed types and frame-keyed spaces."""
    if row.data_type in _FRAME_KEYED_TYPES:
        for unit_key, unit in _dict(row.row.get("data_units")).items():
            for key, blob in _dict(_dict(unit).get("labels")).items():
                frame = _int_or_digits(key)
                if frame is not None and isinstance(blob, dict):
                    yield (*row.path, "data_units", unit_key, "labels", key), frame, blob
    for space_id, space in _dict(row.row.get("spaces")).items():
        if not isinstance(space, dict) or space.get("space_type") in _BLOB_SPACES:
            continue
        for key, blob in _dict(space.get("labels")).items():
            frame = _int_or_digits(key)
            if frame is not None and isinstance(blob, dict):
                yield (*row.path, "spaces", space_id, "labels", key), frame, blob


@rule("ENC-OBJECT-FRAME-MISMATCH")
def object_frame_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for path, frame, blob in _frame_keyed_blobs(row):
            for j, obj in enumerate(_as_list(blob.get("objects"))):
                if not isinstance(obj, dict) or "frame" not in obj:
                    continue
                stated = _int_or_digits(obj["frame"])
                if stated is not None and stated != frame:
                    yield (
                        to_pointer((*path, "objects", j, "frame")),
                        f"object says frame {stated} but is stored under frame key {frame}: the SDK "
                        "places it on the key's frame and drops `frame`",
                    )


def _confidences(row: _Row) -> Iterator[tuple[Path, Any]]:
    for item in row.objects:
        if "confidence" in item.obj:
            yield item.path, item.obj["confidence"]
    for path, classification in row.classifications:
        if "confidence" in classification:
            yield path, classification["confidence"]
    for section in ("object_answers", "classification_answers"):
        for key, entry in _dict(row.row.get(section)).items():
            if isinstance(entry, dict) and "confidence" in entry:
                yield (*row.path, section, key), entry["confidence"]


@rule("ENC-CONFIDENCE-OUT-OF-RANGE")
def confidence_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for path, value in _confidences(row):
            number = _num(value)
            if number is not None and not 0 <= number <= 1:
                yield (
                    to_pointer((*path, "confidence")),
                    f"confidence {_fmt(number)} is outside [0, 1]; it is a score between 0 and 1 (manual "
                    "labels: 1)",
                )


@rule("ENC-ANSWER-SPACE-UNKNOWN")
def answer_space_unknown(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        if row.data_type == "scene":
            continue  # event-based scenes build their spaces from the answers themselves
        spaces = _dict(row.row.get("spaces"))
        for section in ("object_answers", "classification_answers"):
            for key, entry in _dict(row.row.get(section)).items():
                if not isinstance(entry, dict):
                    continue
                for space_id in _dict(entry.get("spaces")):
                    if space_id not in spaces:
                        yield (
                            to_pointer((*row.path, section, key, "spaces", space_id)),
                            f"space {space_id!r} is not a space of the row (`spaces` has "
                            f"{len(spaces)}): the SDK reads each space's labels from the answers naming "
                            "it, so this placement is silently lost",
                        )


# Data types whose classifications live on frames (encord 0.1.211 encord.constants.enums.GEOMETRIC_TYPES).
_GEOMETRIC_TYPES = frozenset(
    {"video", "image", "img_group", "group", "dicom", "dicom_study", "nifti", "pdf", "scene"}
)


def _unplaced(entry: dict[str, Any]) -> bool:
    """True when encord 0.1.211 LabelRowV2._parse_root_classifications_from_answers drops the entry: a
    frame-based row, no root range (resolve_classification_ranges) and no placement on a space."""
    if not _str(entry.get("featureHash")):
        return False  # resolve_classification_ranges returns None: not read at all (schema/other rules)
    if _as_list(entry.get("range")):
        return False
    return not any(space_id != "root" for space_id in _dict(entry.get("spaces")))


@rule("ENC-CLASSIFICATION-RANGE-MISSING")
def classification_range_missing(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    for row in _rows(ctx):
        if row.data_type not in _GEOMETRIC_TYPES or "root" in _dict(row.row.get("spaces")):
            continue  # range-based media keep every classification; a root space holds them itself
        if row.data_type == "scene" and _dict(row.row.get("scene")).get("isContinuous"):
            continue  # event-based scenes keep classifications as ranges
        # Only entries of frame classifications (the form written before 0.1.211): an entry no frame lists
        # is a global classification when it has no range, which only the ontology could contradict.
        on_frames = {_str(c.get("classificationHash")) for _, c in row.classifications}
        for key, entry in _dict(row.row.get("classification_answers")).items():
            if key not in on_frames or not isinstance(entry, dict) or not _unplaced(entry):
                continue
            feature = str(entry["featureHash"])
            if ontology is not None and feature in ontology.global_classifications:
                continue  # a global classification is range-only: kept without frames
            yield (
                to_pointer((*row.path, "classification_answers", key)),
                f"frame classification {key!r} has no `range` and no space placement in its "
                "classification_answers entry: encord 0.1.211 no longer reads the frames' classifications, "
                "places classifications only by these ranges and drops this one with its answers",
                "add the frames it holds on as `range`, e.g. [[0, 0]] for an image",
            )


@rule("ENC-GROUP-CHILD-LAYOUT-UNMATCHED")
def group_child_layout_unmatched(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        spaces = row.row.get("spaces")
        if row.data_type != "group" or not isinstance(spaces, dict):
            continue
        layouts = {
            layout
            for space in spaces.values()
            if isinstance(space, dict)
            and (layout := _str(_dict(space.get("child_info")).get("layout_key"))) is not None
        }
        for unit_key, unit in _dict(row.row.get("data_units")).items():
            children = _dict(_dict(unit).get("metadata")).get("children")
            for n, child in enumerate(_as_list(children)):
                layout = _str(_dict(child).get("layout_key"))
                if layout is not None and layout not in layouts:
                    yield (
                        to_pointer(
                            (*row.path, "data_units", unit_key, "metadata", "children", n, "layout_key")
                        ),
                        f"child {_dict(child).get('name')!r} has layout_key {layout!r}, which no space's "
                        "child_info names: its labels have no space to live in",
                    )


@rule("ENC-POLYLINE-DEGENERATE")
def polyline_degenerate(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            line = item.obj.get("polyline")
            if item.obj.get("shape") == "polyline" and isinstance(line, (dict, list)) and len(line) < 2:
                yield (
                    to_pointer((*item.path, "polyline")),
                    f"polyline has {len(line)} point(s); a polyline needs at least 2",
                )


@rule("ENC-CUBOID-SIZE-NOT-POSITIVE")
def cuboid_size_not_positive(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "cuboid":
                continue
            for n, value in enumerate(_as_list(_dict(item.obj.get("cuboid")).get("size"))):
                number = _num(value)
                if number is not None and number <= 0:
                    yield (
                        to_pointer((*item.path, "cuboid", "size", n)),
                        f"cuboid size {'xyz'[n] if n < 3 else n} = {_fmt(number)} is not positive; a "
                        "cuboid's extent is positive along every axis",
                    )


# ---------------------------------------------------------------------------------------- ranges, datetimes


def _range_lists(row: _Row) -> Iterator[tuple[Path, Any]]:
    """Every ``range`` list of frame / millisecond / character ranges in a row."""
    for section in ("object_answers", "classification_answers"):
        for key, entry in _dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            yield (*row.path, section, key, "range"), entry.get("range")
            for space_id, space in _dict(entry.get("spaces")).items():
                if isinstance(space, dict) and space.get("type") == "frame":
                    yield (*row.path, section, key, "spaces", space_id, "range"), space.get("range")
    for key, entry in _dict(row.row.get("object_actions")).items():
        for a, action in enumerate(_as_list(_dict(entry).get("actions"))):
            if isinstance(action, dict):
                yield (*row.path, "object_actions", key, "actions", a, "range"), action.get("range")


def _html_spans(row: _Row) -> Iterator[tuple[Path, Any, Any]]:
    for key, entry in _dict(row.row.get("object_answers")).items():
        if not isinstance(entry, dict):
            continue
        for n, span in enumerate(_as_list(entry.get("range_html"))):
            if isinstance(span, dict):
                yield (*row.path, "object_answers", key, "range_html", n), span.get("start"), span.get("end")
        for space_id, space in _dict(entry.get("spaces")).items():
            if isinstance(space, dict) and space.get("type") == "html":
                for n, span in enumerate(_as_list(space.get("range"))):
                    if isinstance(span, list) and len(span) == 2:
                        yield (
                            (*row.path, "object_answers", key, "spaces", space_id, "range", n),
                            span[0],
                            span[1],
                        )


@rule("ENC-RANGE-REVERSED")
def range_reversed(ctx: RuleContext) -> Iterator[Hit]:
    for row in _rows(ctx):
        for path, ranges in _range_lists(row):
            for n, pair in enumerate(_as_list(ranges)):
                if isinstance(pair, list) and len(pair) == 2:
                    start, end = _int_or_digits(pair[0]), _int_or_digits(pair[1])
                    if start is not None and end is not None and start > end:
                        yield (
                            to_pointer((*path, n)),
                            f"range [{start}, {end}] starts after it ends (start > end)",
                        )
        for path, start_pos, end_pos in _html_spans(row):
            begin, finish = _dict(start_pos), _dict(end_pos)
            if begin.get("xpath") is None or begin.get("xpath") != finish.get("xpath"):
                continue
            first, last = _int_or_digits(begin.get("offset")), _int_or_digits(finish.get("offset"))
            if first is not None and last is not None and first > last:
                yield (
                    to_pointer(path),
                    f"HTML span starts at offset {first} and ends at offset {last} of the same node (start "
                    "> end)",
                )


_DATETIME_PATTERN = re.compile(
    r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} (?:GMT|UTC)"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)$"
)
# Datetimes surely real (every field within its range, days 29-31 only in months that have them): the
# common forms skip _datetime_error, whose verdict for them is always None. Anything else takes that path.
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_SURELY_REAL_DATETIME = re.compile(
    rf"(?:(?!0000)[0-9]{{4}}-{_MONTH_DAY} {_TIME}(?:\.[0-9]+)?"
    rf"|(?!0000)[0-9]{{4}}-{_MONTH_DAY}T{_TIME}(?:Z|\+00:00)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), "
    r"(?:(?:0[1-9]|1[0-9]|2[0-8]) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"|(?:29|30) (?:Jan|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"|31 (?:Jan|Mar|May|Jul|Aug|Oct|Dec))"
    rf" (?!0000)[0-9]{{4}} {_TIME} (?:GMT|UTC))"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ROW_DATETIMES = ("created_at", "last_edited_at", "exported_at")
_ITEM_DATETIMES = ("createdAt", "lastEditedAt")


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _field_error(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> str | None:
    """Why these fields are not a real date and time (None if they are): year 1-9999, month 1-12, a day of
    that month (29 February in leap years only), hour 0-23, minute and second 0-59 (no leap second)."""
    if year < 1:
        return f"year {year:04d} is out of range (0001-9999)"
    if not 1 <= month <= 12:
        return f"month {month:02d} is out of range (01-12)"
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = _DAYS_IN_MONTH[month - 1] + (month == 2 and leap)
    if not 1 <= day <= last:
        return f"day {day:02d} is out of range for {_MONTHS[month - 1]} {year:04d} (01-{last})"
    for value, name, high in ((hour, "hour", 23), (minute, "minute", 59), (second, "second", 59)):
        if value > high:
            return f"{name} {value:02d} is out of range (00-{high})"
    return None


def _datetime_error(text: str) -> str | None:
    """Why a string of ``_DATETIME_PATTERN`` is not a real date and time (None if it is one).

    The grammar is explicit, the same on every Python version (``datetime.fromisoformat`` accepts more on
    3.11 than on 3.10) and the one the native decider implements (``datetime_verdict`` in
    labelspec/native/encord_rules.c):

    * ``YYYY-MM-DD HH:MM:SS[.f+]`` (the export's own form): the date and time fields;
    * ``Www, DD Mon YYYY HH:MM:SS GMT|UTC`` (RFC 1123): the fields; the weekday is not checked against the
      date (as ``strptime`` does not);
    * ISO 8601 ``YYYY-MM-DD[THH:MM[:SS[.f+]][Z|+HH|+HHMM|+HH:MM]]``: the fields, and a UTC offset strictly
      within a day (``-`` likewise).

    The pattern's ``$`` also matches before a final line break: the export's own form is judged without
    it, any other form followed by one is not a datetime.
    """
    body = text[:-1] if text.endswith("\n") else text
    if len(body) >= 19 and body[10] == " " and body[3:5] != ", ":
        return _field_error(
            *(int(body[i:j]) for i, j in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)))
        )
    if body is not text:
        return "a line break follows it"
    if text[3:5] == ", ":  # "Thu, 07 Sep 2023 09:47:35 GMT"
        month = _MONTHS.index(text[8:11]) + 1
        return _field_error(
            int(text[12:16]), month, int(text[5:7]), int(text[17:19]), int(text[20:22]), int(text[23:25])
        )
    error = _field_error(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    if error is not None or len(text) == 10:
        return error
    hour, minute = int(text[11:13]), int(text[14:16])
    second, at = 0, 16
    if text[at : at + 1] == ":":
        second, at = int(text[at + 1 : at + 3]), at + 3
        if text[at : at + 1] == ".":
            at += 1
            while at < len(text) and text[at].isdigit():
                at += 1
    error = _field_error(int(text[0:4]), int(text[5:7]), int(text[8:10]), hour, minute, second)
    if error is not None:
        return error
    zone = text[at:]
    if zone in ("", "Z"):
        return None
    offset = int(zone[1:3]) * 60 + (int(zone[-2:]) if len(zone) > 3 else 0)
    if offset >= 24 * 60:
        return f"UTC offset {zone} is not within a day"
    return None


def _datetime_fields(row: _Row) -> Iterator[tuple[Path, str, str]]:
    """Every string in a datetime field of a row, as (path of its container, key, value): the pointer is
    built only for the few values that turn out invalid."""
    row_path = row.path
    data = row.row
    for key in _ROW_DATETIMES:
        value = data.get(key)
        if isinstance(value, str):
            yield row_path, key, value
    history = data.get("export_history")
    if isinstance(history, list):
        for n, entry in enumerate(history):
            if isinstance(entry, dict):
                value = entry.get("exported_at")
                if isinstance(value, str):
                    yield (*row_path, "export_history", n), "exported_at", value
    for item in row.objects:
        obj = item.obj
        for key in _ITEM_DATETIMES:
            value = obj.get(key)
            if isinstance(value, str):
                yield item.path, key, value
    for path, classification in row.classifications:
        for key in _ITEM_DATETIMES:
            value = classification.get(key)
            if isinstance(value, str):
                yield path, key, value
    for section in ("object_answers", "classification_answers"):
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if isinstance(entry, dict):
                for key in _ITEM_DATETIMES:
                    value = entry.get(key)
                    if isinstance(value, str):
                        yield (*row_path, section, name), key, value


_UNSEEN = object()


@rule("ENC-DATETIME-INVALID")
def datetime_invalid(ctx: RuleContext) -> Iterator[Hit]:
    verdicts: dict[str, Any] = {}  # exports repeat the same few timestamps: parse each once
    match = _DATETIME_PATTERN.match
    surely_real = _SURELY_REAL_DATETIME.fullmatch
    for row in _rows(ctx):
        for base, key, value in _datetime_fields(row):
            error = verdicts.get(value, _UNSEEN)
            if error is _UNSEEN:
                real = surely_real(value) or not match(value)
                error = None if real else _datetime_error(value)
                verdicts[value] = error
            if error is not None:
                yield (
                    to_pointer((*base, key)),
                    f'"{value}" has the form of a datetime but is not a real one ({error})',
                )


# ------------------------------------------------------------------------------------------ ontology index


@dataclass(slots=True)
class _Attribute:
    hash: str
    name: str
    type: str | None
    required: bool
    dynamic: bool
    options: set[str] = field(default_factory=set)
    parent_option: str | None = None  # the radio option this attribute is nested under


@dataclass(slots=True)
class _Owner:
    """An ontology object class or classification with every attribute of its tree."""

    hash: str
    name: str
    shape: str | None
    attributes: dict[str, _Attribute] = field(default_factory=dict)
    top: list[_Attribute] = field(default_factory=list)
    nested: dict[str, list[_Attribute]] = field(default_factory=dict)  # option hash -> attributes under it


@dataclass(slots=True)
class _Ontology:
    objects: dict[str, _Owner] = field(default_factory=dict)
    classifications: dict[str, _Owner] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # any node hash -> what it is
    # skeleton class hash -> (template path label, point featureHashes of its template, number of points)
    skeletons: dict[str, tuple[str, frozenset[str], int]] = field(default_factory=dict)
    global_classifications: set[str] = field(default_factory=set)  # level "global": range-only

    def kind_hint(self, feature_hash: str) -> str | None:
        kind = self.kinds.get(feature_hash)
        return f'"{feature_hash}" is an {kind} of the ontology' if kind else None


# The last ontology indexed, held (so its id is not reused) with its index; valid while it is the same object.
_LAST_ONTOLOGY: list[Any] = []


def _ontology(ctx: RuleContext) -> _Ontology | None:
    if ctx.ontology is None:
        return None
    return ctx.memo(_index_ontology)


def _index_ontology(ctx: RuleContext) -> _Ontology:
    # item-by-item validation checks every label row against the same ontology object, each row in a
    # context of its own: the index outlives the context, for as long as the ontology object is the same
    if _LAST_ONTOLOGY and _LAST_ONTOLOGY[0] is ctx.ontology:
        cached: _Ontology = _LAST_ONTOLOGY[1]
        return cached
    index = _ontology_index(ctx.ontology)
    _LAST_ONTOLOGY[:] = [ctx.ontology, index]
    return index


def _ontology_index(structure: Any) -> _Ontology:
    index = _Ontology()
    if isinstance(structure, dict) and "objects" not in structure:
        for key in ("structure", "editor"):  # a project ontology, an API response (ENCO-D08)
            if isinstance(structure.get(key), dict):
                structure = structure[key]
                break
    if not isinstance(structure, dict):
        return index
    for kind, items, target in (
        ("object", structure.get("objects"), index.objects),
        ("classification", structure.get("classifications"), index.classifications),
    ):
        for item in _as_list(items):
            feature = _str(_dict(item).get("featureNodeHash"))
            if feature is None or feature in target:
                continue
            owner = _Owner(feature, str(item.get("name", "")), _str(item.get("shape")))
            target[feature] = owner
            if kind == "classification" and item.get("level") == "global":
                index.global_classifications.add(feature)
            index.kinds.setdefault(feature, f"{kind} class" if kind == "object" else kind)
            for attribute in _as_list(item.get("attributes")):
                added = _add_attribute(index, owner, attribute, None, depth=0)
                if added is not None:
                    owner.top.append(added)
    _add_skeleton_templates(index, structure)
    return index


def _add_skeleton_templates(index: _Ontology, structure: dict[str, Any]) -> None:
    """The template of each skeleton class: linked by feature_node_hash, else by name (as the editor finds
    it; ENCO-SKELETON-OBJECT-WITHOUT-TEMPLATE)."""
    by_hash: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, Any]] = {}
    for entry in _as_list(structure.get("skeleton_templates")):
        template = _dict(entry).get("template")
        if not isinstance(template, dict) or not isinstance(template.get("skeleton"), dict):
            continue
        feature, name = _str(template.get("feature_node_hash")), _str(template.get("name"))
        if feature is not None:
            by_hash.setdefault(feature, template)
        if name is not None:
            by_name.setdefault(name, template)
    for feature, owner in index.objects.items():
        if owner.shape != "skeleton":
            continue
        template = by_hash.get(feature) or by_name.get(owner.name)
        if template is None:
            continue
        points = [p for p in template["skeleton"].values() if isinstance(p, dict)]
        hashes = frozenset(
            h for p in points if (h := _str(p.get("featureHash")) or _str(p.get("feature_hash"))) is not None
        )
        index.skeletons[feature] = (str(template.get("name", "")), hashes, len(template["skeleton"]))


def _add_attribute(
    index: _Ontology, owner: _Owner, node: Any, parent_option: str | None, depth: int
) -> _Attribute | None:
    feature = _str(_dict(node).get("featureNodeHash"))
    if feature is None or depth > 50:
        return None
    attribute = _Attribute(
        feature,
        str(node.get("name", "")),
        _str(node.get("type")),
        node.get("required") is True,
        node.get("dynamic") is True,
        parent_option=parent_option,
    )
    owner.attributes.setdefault(feature, attribute)
    index.kinds.setdefault(feature, "attribute")
    for option in _as_list(node.get("options")):
        option_hash = _str(_dict(option).get("featureNodeHash"))
        if option_hash is None:
            continue
        attribute.options.add(option_hash)
        index.kinds.setdefault(option_hash, "option")
        if attribute.type != "radio":
            continue  # the SDK reads nested attributes under radio options only
        for nested in _as_list(option.get("options")):
            added = _add_attribute(index, owner, nested, option_hash, depth + 1)
            if added is not None:
                owner.nested.setdefault(option_hash, []).append(added)
    return attribute


# ------------------------------------------------------------------------------------- ontology-aware rules


def _range_object_answers(row: _Row) -> Iterator[tuple[Path, dict[str, Any]]]:
    """object_answers entries that are objects themselves (audio, text, HTML, objects placed via spaces)."""
    for key, entry in _dict(row.row.get("object_answers")).items():
        if isinstance(entry, dict) and (_str(entry.get("objectHash")) or key) in row.range_objects:
            yield (*row.path, "object_answers", key), entry


@rule("ENC-OBJECT-FEATURE-UNKNOWN")
def object_feature_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    if ontology is None:
        return
    for row in _rows(ctx):
        candidates = [(item.path, item.obj) for item in row.objects]
        candidates += [(p, e) for p, e in _range_object_answers(row) if row.data_type in _RANGE_TYPES]
        for path, obj in candidates:
            feature = _str(obj.get("featureHash"))
            if feature is not None and feature not in ontology.objects:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'featureHash "{feature}" of object "{obj.get("objectHash")}" is not an object class of '
                    "the "
                    "ontology (the SDK raises OntologyError)",
                    ontology.kind_hint(feature) or "",
                )


@rule("ENC-CLASSIFICATION-FEATURE-UNKNOWN")
def classification_feature_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    if ontology is None:
        return
    for row in _rows(ctx):
        candidates = list(row.classifications)
        for key, entry in _dict(row.row.get("classification_answers")).items():
            if isinstance(entry, dict):
                candidates.append(((*row.path, "classification_answers", key), entry))
        for path, item in candidates:
            feature = _str(item.get("featureHash"))
            if feature is not None and feature not in ontology.classifications:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'featureHash "{feature}" of classification "{item.get("classificationHash")}" is not a '
                    "classification of the ontology (the SDK raises OntologyError)",
                    ontology.kind_hint(feature) or "",
                )


@rule("ENC-SHAPE-MISMATCH")
def shape_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    if ontology is None:
        return
    for row in _rows(ctx):
        for item in row.objects:
            owner = ontology.objects.get(str(item.obj.get("featureHash")))
            shape = item.obj.get("shape")
            if owner is None or owner.shape is None or not isinstance(shape, str) or shape == owner.shape:
                continue
            yield (
                to_pointer((*item.path, "shape")),
                f'object "{item.obj.get("objectHash")}" is a {shape} but its ontology class "{owner.name}" '
                "is drawn "
                f"as {owner.shape} (the SDK raises LabelRowError)",
            )
        if row.data_type not in _RANGE_TYPES:
            continue
        expected = "audio" if row.data_type == "audio" else "text"
        for path, entry in _range_object_answers(row):
            owner = ontology.objects.get(str(entry.get("featureHash")))
            if owner is not None and owner.shape is not None and owner.shape != expected:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'object "{entry.get("objectHash")}" of a {row.data_type} row belongs to the class '
                    f'"{owner.name}", drawn as {owner.shape}; expected a class of shape {expected}',
                )


@rule("ENC-SKELETON-TEMPLATE-MISMATCH")
def skeleton_template_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    if ontology is None or not ontology.skeletons:
        return
    for row in _rows(ctx):
        for item in row.objects:
            linked = ontology.skeletons.get(str(item.obj.get("featureHash")))
            points = item.obj.get("skeleton")
            if linked is None or item.obj.get("shape") != "skeleton" or not isinstance(points, dict):
                continue
            name, hashes, count = linked
            if len(points) != count:
                yield (
                    to_pointer((*item.path, "skeleton")),
                    f"skeleton has {len(points)} point(s) but its template {name!r} has {count}: the editor "
                    "draws the template's points and edges",
                )
                continue
            for key, point in points.items():
                feature = _str(_dict(point).get("featureHash"))
                if feature is not None and hashes and feature not in hashes:
                    yield (
                        to_pointer((*item.path, "skeleton", key, "featureHash")),
                        f'skeleton point featureHash "{feature}" is not a point of the template {name!r}',
                    )


@dataclass(slots=True)
class _AnswerList:
    path: Path
    answers: list[Any]
    owner: _Owner
    dynamic: bool  # object_actions
    static_objects: bool  # object_answers of an object


def _answer_lists(row: _Row, ontology: _Ontology) -> Iterator[_AnswerList]:
    for section, list_key in (("object_answers", "classifications"), ("object_actions", "actions")):
        for key, entry in _dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            object_hash = _str(entry.get("objectHash")) or key
            feature = row.object_features.get(object_hash) or _str(entry.get("featureHash"))
            owner = ontology.objects.get(feature) if feature else None
            answers = entry.get(list_key)
            if owner is not None and isinstance(answers, list):
                yield _AnswerList(
                    (*row.path, section, key, list_key),
                    answers,
                    owner,
                    dynamic=section == "object_actions",
                    static_objects=section == "object_answers",
                )
    for key, entry in _dict(row.row.get("classification_answers")).items():
        if not isinstance(entry, dict):
            continue
        feature = _str(entry.get("featureHash")) or row.classification_features.get(key)
        owner = ontology.classifications.get(feature) if feature else None
        answers = entry.get("classifications")
        if owner is not None and isinstance(answers, list):
            yield _AnswerList(
                (*row.path, "classification_answers", key, "classifications"),
                answers,
                owner,
                dynamic=False,
                static_objects=False,
            )


_Answered = tuple[_AnswerList, int, dict[str, Any], _Attribute | None]


def _answered(ctx: RuleContext) -> list[_Answered]:
    """Every answer of every list whose owner is known, with its ontology attribute (None if unknown).

    Built once per document: seven rules read it."""
    return ctx.memo(_collect_answered)


def _collect_answered(ctx: RuleContext) -> list[_Answered]:
    ontology = _ontology(ctx)
    if ontology is None:
        return []
    answered: list[_Answered] = []
    append = answered.append
    for row in _rows(ctx):
        for answer_list in _answer_lists(row, ontology):
            attributes = answer_list.owner.attributes
            for n, answer in enumerate(answer_list.answers):
                if type(answer) is dict or isinstance(answer, dict):
                    feature = answer.get("featureHash")
                    if isinstance(feature, str):
                        append((answer_list, n, answer, attributes.get(feature)))
    return answered


@rule("ENC-ATTRIBUTE-UNKNOWN")
def attribute_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None and ontology is not None:
            feature = answer["featureHash"]
            yield (
                to_pointer((*answer_list.path, n, "featureHash")),
                f'answer to attribute "{feature}", which is not an attribute of "{answer_list.owner.name}" '
                "in the "
                "ontology (the SDK raises LabelRowError)",
                ontology.kind_hint(feature) or "",
            )


@rule("ENC-OPTION-UNKNOWN")
def option_unknown(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None or attribute.type not in ("radio", "checklist"):
            continue
        for m, option in enumerate(_as_list(answer.get("answers"))):
            feature = _str(_dict(option).get("featureHash"))
            if feature is not None and feature not in attribute.options:
                yield (
                    to_pointer((*answer_list.path, n, "answers", m, "featureHash")),
                    f'option "{feature}" is not an option of the {attribute.type} attribute '
                    f'"{attribute.name}" '
                    "(the SDK raises OntologyError)",
                )


_EXPECTED_FORM = {
    "radio": "a list holding one option",
    "checklist": "a list of options",
    "text": "a string",
    "numeric": "a number",
}


def _form_fits(attribute_type: str, answers: Any) -> bool:
    if attribute_type in ("radio", "checklist"):
        return isinstance(answers, list)
    if attribute_type == "text":
        return isinstance(answers, str)
    return isinstance(answers, (int, float)) and not isinstance(answers, bool)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


@rule("ENC-ANSWER-TYPE-MISMATCH")
def answer_type_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None or attribute.type not in _EXPECTED_FORM or "answers" not in answer:
            continue
        value = answer["answers"]
        if _form_fits(attribute.type, value):
            continue
        consequence = {
            "radio": "the SDK silently ignores it (or raises TypeError on a 1-character string)",
            "checklist": "the SDK raises TypeError",
            "text": "the SDK stores it unchecked",
            "numeric": "the SDK raises LabelRowError",
        }[attribute.type]
        yield (
            to_pointer((*answer_list.path, n, "answers")),
            f'{attribute.type} attribute "{attribute.name}" is answered with {_describe(value)}; expected '
            f"{_EXPECTED_FORM[attribute.type]} ({consequence})",
        )


@rule("ENC-RADIO-ANSWER-COUNT")
def radio_answer_count(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        value = answer.get("answers")
        if (
            attribute is not None
            and attribute.type == "radio"
            and isinstance(value, list)
            and len(value) != 1
        ):
            yield (
                to_pointer((*answer_list.path, n, "answers")),
                f'radio attribute "{attribute.name}" has {len(value)} options selected; a radio answer holds '
                "exactly one (the SDK silently ignores any other count)",
            )


@rule("ENC-NESTED-ANSWER-UNSELECTED")
def nested_answer_unselected(ctx: RuleContext) -> Iterator[Hit]:
    selected_by_list: dict[int, set[str]] = {}
    for answer_list, n, _answer, attribute in _answered(ctx):
        if attribute is None or attribute.parent_option is None or answer_list.dynamic:
            continue
        selected = selected_by_list.get(id(answer_list.answers))
        if selected is None:
            selected = {
                feature
                for item in answer_list.answers
                if isinstance(item, dict)
                for option in _as_list(item.get("answers"))
                if (feature := _str(_dict(option).get("featureHash"))) is not None
            }
            selected_by_list[id(answer_list.answers)] = selected
        if attribute.parent_option not in selected:
            yield (
                to_pointer((*answer_list.path, n)),
                f'nested attribute "{attribute.name}" is answered, but the option '
                f'"{attribute.parent_option}" it '
                "hangs under is not selected in the same answer list",
            )


@rule("ENC-DYNAMIC-ANSWER-STATIC")
def dynamic_answer_static(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if answer_list.static_objects and attribute is not None and attribute.dynamic:
            if "range" in answer and "trackHash" in answer:
                continue
            yield (
                to_pointer((*answer_list.path, n)),
                f'dynamic attribute "{attribute.name}" is answered in object_answers without range and '
                "trackHash "
                "(the SDK raises KeyError); dynamic answers belong in object_actions",
            )


@rule("ENC-REQUIRED-ATTRIBUTE-UNANSWERED")
def required_attribute_unanswered(ctx: RuleContext) -> Iterator[Hit]:
    ontology = _ontology(ctx)
    if ontology is None:
        return
    for row in _rows(ctx):
        answered = _answered_features(row)
        seen: set[str] = set()
        for item in row.objects:
            object_hash = _object_hash(item.obj)
            if object_hash is None or object_hash in seen:
                continue
            seen.add(object_hash)
            owner = ontology.objects.get(str(item.obj.get("featureHash")))
            if owner is not None:
                yield from _missing_required(
                    owner, answered.get(("o", object_hash), set()), item.path, object_hash
                )
        for path, entry in _range_object_answers(row):
            object_hash = _str(entry.get("objectHash")) or str(path[-1])
            owner = ontology.objects.get(str(entry.get("featureHash")))
            if owner is not None and object_hash not in seen:
                seen.add(object_hash)
                yield from _missing_required(
                    owner, answered.get(("o", object_hash), set()), path, object_hash
                )
        seen_classes: set[str] = set()
        instances = [
            (path, c.get("classificationHash"), c.get("featureHash")) for path, c in row.classifications
        ]
        for key, entry in _dict(row.row.get("classification_answers")).items():
            if isinstance(entry, dict) and "createdBy" in entry:
                instances.append(((*row.path, "classification_answers", key), key, entry.get("featureHash")))
        for path, class_hash, feature in instances:
            if not isinstance(class_hash, str) or class_hash in seen_classes:
                continue
            seen_classes.add(class_hash)
            owner = ontology.classifications.get(str(feature))
            if owner is not None:
                yield from _missing_required(owner, answered.get(("c", class_hash), set()), path, class_hash)


def _answered_features(row: _Row) -> dict[tuple[str, str], set[str]]:
    answered: dict[tuple[str, str], set[str]] = {}
    sections = (("object_answers", "classifications", "o"), ("object_actions", "actions", "o"))
    for section, list_key, kind in (*sections, ("classification_answers", "classifications", "c")):
        for key, entry in _dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            owner_hash = key if kind == "c" else (_str(entry.get("objectHash")) or key)
            target = answered.setdefault((kind, owner_hash), set())
            for answer in _as_list(entry.get(list_key)):
                if isinstance(answer, dict) and isinstance(answer.get("featureHash"), str):
                    target.add(answer["featureHash"])
                    for option in _as_list(answer.get("answers")):
                        feature = _str(_dict(option).get("featureHash"))
                        if feature is not None:
                            target.add(feature)
    return answered


def _missing_required(owner: _Owner, answered: set[str], path: Path, instance: str) -> Iterator[Hit]:
    pending = list(owner.top)
    while pending:
        attribute = pending.pop()
        if attribute.hash in answered:
            for option in attribute.options & answered:
                pending.extend(owner.nested.get(option, []))
        elif attribute.required:
            yield (
                to_pointer(path),
                f'required attribute "{attribute.name}" ({attribute.hash}) of "{owner.name}" is not '
                "answered for "
                f'instance "{instance}"',
            )


# -------------------------------------------------------------------------------------- encord-ontology rules


def _ontology_root(document: Any) -> tuple[dict[str, Any], Path]:
    """The ontology structure of an encord-ontology document and its path in the document (an API
    response holds it under ``editor``); an empty structure when the document is not an object."""
    inner, path = unwrap("encord-ontology", document)
    return (inner if isinstance(inner, dict) else {}), path


def _ontology_nodes(document: Any) -> Iterator[tuple[Path, dict[str, Any], bool]]:
    """Every object, classification, attribute and option of an ontology, as (path, node, dynamic-ok).

    ``dynamic-ok`` is true only for the top-level attributes of object classes.
    """
    structure, root = _ontology_root(document)
    stack: list[tuple[Path, Any, bool, int]] = []
    for section in ("objects", "classifications"):
        for n, item in enumerate(_as_list(structure.get(section))):
            if isinstance(item, dict):
                yield (*root, section, n), item, False
                for a, attribute in enumerate(_as_list(item.get("attributes"))):
                    stack.append(((*root, section, n, "attributes", a), attribute, section == "objects", 0))
    stack.reverse()
    while stack:
        path, node, dynamic_ok, depth = stack.pop()
        if not isinstance(node, dict) or depth > 100:
            continue
        yield path, node, dynamic_ok
        children: list[tuple[Path, Any, bool, int]] = []
        for o, option in enumerate(_as_list(node.get("options"))):
            children.append(((*path, "options", o), option, False, depth + 1))
        stack.extend(reversed(children))


@dataclass(slots=True)
class _Node:
    """A node of the ontology tree as the SDK builds it."""

    path: Path
    hash: str | None
    kind: str  # object, classification, attribute, option
    depth: int  # 0 for objects and classifications


def _sdk_descendants(item: dict[str, Any], path: Path) -> list[_Node]:
    """The attributes and options under an object or classification, depth first in document order, as the
    SDK's _get_element_by_hash walks them: radio options hold nested attributes (NestableOption), checklist
    options none (FlatOption), text and numeric attributes no options (encord 0.1.211 attributes.py
    Attribute.from_dict, options.py)."""
    out: list[_Node] = []
    # (path, node, kind, depth, whether an option's `options` are nested attributes)
    stack: list[tuple[Path, Any, str, int, bool]] = [
        ((*path, "attributes", a), node, "attribute", 1, False)
        for a, node in reversed(list(enumerate(_as_list(item.get("attributes")))))
    ]
    while stack:
        node_path, node, kind, depth, nestable = stack.pop()
        if not isinstance(node, dict) or depth > 100:
            continue
        out.append(_Node(node_path, _str(node.get("featureNodeHash")), kind, depth))
        if kind == "attribute":
            child_kind, child_nestable = "option", node.get("type") == "radio"
            if node.get("type") not in ("radio", "checklist"):
                continue
        elif nestable:
            child_kind, child_nestable = "attribute", False
        else:
            continue
        children = _as_list(node.get("options"))
        for o in range(len(children) - 1, -1, -1):
            stack.append(((*node_path, "options", o), children[o], child_kind, depth + 1, child_nestable))
    return out


def _shadowed(node: _Node, earlier: _Node, scope: str) -> Hit:
    consequence = (
        "rows naming it are read as that node"
        if earlier.kind == node.kind
        else f"the SDK finds a {earlier.kind} where it expects a {node.kind} and raises an error"
    )
    return (
        to_pointer((*node.path, "featureNodeHash")),
        f'featureNodeHash "{node.hash}" of this {node.kind} is also the hash of the {earlier.kind} at '
        f"{to_pointer(earlier.path)}, which the SDK finds first when it looks the hash up {scope}: "
        f"{consequence}",
    )


@rule("ENCO-FEATURE-NODE-HASH-DUPLICATE")
def feature_node_hash_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    """A node whose hash an SDK lookup resolves to another node: object classes and classifications are
    looked up in the whole ontology (OntologyStructure.get_child_by_hash: the objects with their trees, then
    the classifications with theirs), attributes within their owner's tree (_get_attribute_by_hash), options
    within their attribute's subtree (Attribute.get_child_by_hash). Equal hashes in different scopes, such
    as attributes of two object classes, never meet."""
    structure, root = _ontology_root(ctx.document)
    everything: dict[str, _Node] = {}  # hash -> first node in the whole-ontology search order
    for section, kind in (("objects", "object"), ("classifications", "classification")):
        for n, item in enumerate(_as_list(structure.get(section))):
            if not isinstance(item, dict):
                continue
            top = _Node((*root, section, n), _str(item.get("featureNodeHash")), kind, 0)
            if top.hash is not None:
                first = everything.setdefault(top.hash, top)
                if first is not top:
                    yield _shadowed(top, first, "in the whole ontology (get_child_by_hash)")
            tree = _sdk_descendants(item, top.path)
            in_owner: dict[str, _Node] = {}
            for i, node in enumerate(tree):
                if node.hash is None:
                    continue
                everything.setdefault(node.hash, node)
                first = in_owner.setdefault(node.hash, node)
                if node.kind == "attribute":
                    if first is not node:
                        yield _shadowed(node, first, f"among the attributes of its {kind}")
                    yield from _shadowed_options(tree, i)


def _shadowed_options(tree: list[_Node], at: int) -> Iterator[Hit]:
    """Options of the attribute ``tree[at]`` whose hash an earlier node of the attribute's subtree has."""
    depth = tree[at].depth
    seen: dict[str, _Node] = {}
    for node in tree[at + 1 :]:
        if node.depth <= depth:
            break
        if node.hash is None:
            continue
        first = seen.setdefault(node.hash, node)
        if first is not node and node.kind == "option" and node.depth == depth + 1:
            yield _shadowed(node, first, "among the options of its attribute")


@rule("ENCO-DYNAMIC-NOT-TOP-LEVEL")
def dynamic_not_top_level(ctx: RuleContext) -> Iterator[Hit]:
    for path, node, dynamic_ok in _ontology_nodes(ctx.document):
        if node.get("dynamic") is True and not dynamic_ok and "type" in node:
            where = "a classification" if path[0] == "classifications" else "a nested attribute"
            yield (
                to_pointer((*path, "dynamic")),
                f'attribute "{node.get("name")}" is dynamic but is {where}; only top-level attributes of '
                "object "
                "classes can be dynamic",
            )


def _templates(document: Any) -> Iterator[tuple[Path, dict[str, Any]]]:
    structure, root = _ontology_root(document)
    for n, entry in enumerate(_as_list(structure.get("skeleton_templates"))):
        template = _dict(entry).get("template")
        if isinstance(template, dict):
            yield (*root, "skeleton_templates", n, "template"), template


@rule("ENCO-SKELETON-OBJECT-WITHOUT-TEMPLATE")
def skeleton_object_without_template(ctx: RuleContext) -> Iterator[Hit]:
    structure, root = _ontology_root(ctx.document)
    names: set[str | None] = set()
    hashes: set[str | None] = set()
    for _, template in _templates(ctx.document):
        names.add(_str(template.get("name")))
        hashes.add(_str(template.get("feature_node_hash")))
    for n, item in enumerate(_as_list(structure.get("objects"))):
        if isinstance(item, dict) and item.get("shape") == "skeleton":
            if _str(item.get("featureNodeHash")) in hashes or _str(item.get("name")) in names:
                continue
            yield (
                to_pointer((*root, "objects", n)),
                f'skeleton class "{item.get("name")}" has no skeleton template (none with feature_node_hash '
                f'"{item.get("featureNodeHash")}" or name "{item.get("name")}"): its points cannot be drawn',
            )


@rule("ENCO-SKELETON-TEMPLATE-UNLINKED")
def skeleton_template_unlinked(ctx: RuleContext) -> Iterator[Hit]:
    structure, _ = _ontology_root(ctx.document)
    skeletons = {
        item["featureNodeHash"]: item.get("shape")
        for item in _as_list(structure.get("objects"))
        if isinstance(item, dict) and isinstance(item.get("featureNodeHash"), str)
    }
    for path, template in _templates(ctx.document):
        feature = template.get("feature_node_hash")
        if not isinstance(feature, str):
            continue
        shape = skeletons.get(feature)
        if shape != "skeleton":
            what = "no object class" if feature not in skeletons else f"a {shape} class, not a skeleton class"
            yield (
                to_pointer((*path, "feature_node_hash")),
                f'skeleton template "{template.get("name")}" names feature_node_hash "{feature}", which is '
                f"{what}",
            )
