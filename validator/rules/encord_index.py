"""The index of an Encord label-row export that every Encord rule reads, built once per document.

One pass over the label rows (:func:`label_rows`) records, per row, its data units, spaces, frames, objects
and answers; the row rules (:mod:`labelspec.validator.rules.encord_rows`) and the ontology rules
(:mod:`labelspec.validator.rules.encord_ontology`) read it instead of walking the document again. The facts
behind it are in schemas/encord/notes.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from labelspec.validator.numbers import int_of_digits
from labelspec.validator.rules.base import RuleContext

Path = tuple[str | int, ...]

# Tolerance of the [0, 1] coordinate checks of the row rules (encord_rows; the native row decider gets the
# same: labelspec.validator.native.encord_rows.COORDINATE_EPS, read from here without importing the rules).
EPS = 1e-6

_IMAGE_TYPES = frozenset({"image", "img_group"})
RANGE_TYPES = frozenset({"audio", "plain_text"})
FRAME_KEYED_TYPES = frozenset({"video", "dicom", "dicom_study", "nifti", "pdf", "scene"})
# Spaces whose labels are one {objects, classifications} blob rather than keyed by frame.
BLOB_SPACES = frozenset({"point_cloud", "scene_image"})
_DIGITS = re.compile(r"[0-9]+")


# ----------------------------------------------------------------------------------------------- helpers


def int_or_digits(value: Any) -> int | None:
    """An integer, or a string of digits as the SDK reads it with int(); anything else is None (so is a
    string too long for int(), which the schema reports where it constrains one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int_of_digits(value)
    return None


def _dim(value: Any) -> int | None:
    """A media dimension if known (a positive integer); 0, null and absent mean unknown."""
    number = int_or_digits(value)
    return number if number else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# ----------------------------------------------------------------------------------- label-row document index


@dataclass(slots=True)
class FrameObject:
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
class Row:
    index: int | None  # None: the document is this one row (a single label row object)
    row: dict[str, Any]
    data_type: str | None
    objects: list[FrameObject] = field(default_factory=list)
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


def label_rows(ctx: RuleContext) -> list[Row]:
    """The label rows of the context's document, indexed once per document."""
    return ctx.memo(_index_rows)


def _index_rows(ctx: RuleContext) -> list[Row]:
    return _label_index(ctx.document)


def _label_index(document: Any) -> list[Row]:
    rows: list[Row] = []
    if isinstance(document, dict):  # one label row alone: pointers are relative to it
        return [_index_row(None, document)]
    if not isinstance(document, list):
        return rows
    for i, row in enumerate(document):
        if isinstance(row, dict):
            rows.append(_index_row(i, row))
    return rows


def _index_row(i: int | None, row: dict[str, Any]) -> Row:
    data_type = as_str(row.get("data_type"))
    entry = Row(i, row, data_type)
    for unit_key, unit in as_dict(row.get("data_units")).items():
        if not isinstance(unit, dict):
            continue
        labels = unit.get("labels")
        if not isinstance(labels, dict) or data_type in RANGE_TYPES:
            continue
        path: Path = (*entry.path, "data_units", unit_key, "labels")
        width, height = _dim(unit.get("width")), _dim(unit.get("height"))
        blob_like = data_type not in FRAME_KEYED_TYPES and (
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
    for space_id, space in as_dict(row.get("spaces")).items():
        if isinstance(space, dict):
            _index_space(entry, space_id, space)
    answers = as_dict(row.get("object_answers"))
    for key, answer in answers.items():
        if not isinstance(answer, dict):
            continue
        object_hash = as_str(answer.get("objectHash")) or key
        if data_type in RANGE_TYPES or answer.get("spaces") or "range_html" in answer:
            entry.range_objects.add(object_hash)
            feature = as_str(answer.get("featureHash"))
            if feature is not None:
                entry.object_features.setdefault(object_hash, feature)
    for key, answer in as_dict(row.get("classification_answers")).items():
        if isinstance(answer, dict) and "createdBy" in answer:
            feature = as_str(answer.get("featureHash"))
            if feature is not None:
                entry.classification_features.setdefault(key, feature)
    return entry


def _index_space(entry: Row, space_id: str, space: dict[str, Any]) -> None:
    labels = space.get("labels")
    if not isinstance(labels, dict):
        return
    space_type = as_str(space.get("space_type"))
    path: Path = (*entry.path, "spaces", space_id, "labels")
    width, height = _dim(space.get("width")), _dim(space.get("height"))
    if space_type in BLOB_SPACES:
        _index_blob(entry, labels, path, width, height, world=space_type == "point_cloud")
        return
    limit: int | None = None
    what = ""
    if space_type in ("video", "image_sequence", "medical_file"):
        limit, what = int_or_digits(space.get("number_of_frames")), "number_of_frames"
    elif space_type == "pdf":
        limit, what = int_or_digits(space.get("number_of_pages")), "number_of_pages"
    elif space_type == "medical_stack" and isinstance(space.get("frames"), list):
        limit, what = len(space["frames"]), "the number of its frames"
    elif space_type == "image":
        limit, what = 1, "a single image"
    for key, blob in labels.items():
        frame = int_or_digits(key)
        if limit is not None and frame is not None and frame >= limit:
            entry.frames.append(
                _Frame((*path, key), frame, limit, f"space {space_id!r} ({space_type}, {what})")
            )
        if isinstance(blob, dict):
            _index_blob(entry, blob, (*path, key), width, height, world=False)


def _index_blob(
    entry: Row, blob: dict[str, Any], path: Path, width: int | None, height: int | None, *, world: bool
) -> None:
    for j, obj in enumerate(as_list(blob.get("objects"))):
        if not isinstance(obj, dict):
            continue
        entry.objects.append(FrameObject((*path, "objects", j), obj, width, height, world))
        object_hash, feature = as_str(obj.get("objectHash")), as_str(obj.get("featureHash"))
        if object_hash is not None and feature is not None:
            entry.object_features.setdefault(object_hash, feature)
    for j, classification in enumerate(as_list(blob.get("classifications"))):
        if not isinstance(classification, dict):
            continue
        entry.classifications.append(((*path, "classifications", j), classification))
        class_hash, feature = (
            as_str(classification.get("classificationHash")),
            as_str(classification.get("featureHash")),
        )
        if class_hash is not None and feature is not None:
            entry.classification_features.setdefault(class_hash, feature)


def object_hash_of(obj: dict[str, Any]) -> str | None:
    return as_str(obj.get("objectHash"))
