"""Drive Encord's SDK parser (encord 0.1.211) offline and decide whether it loads a label row without loss.

``build_label_row`` follows schemas/encord/notes.md#s13: a ``LabelRowV2`` needs a project client (a
``Mock``), an ``Ontology`` (``OrmOntology`` around ``OntologyStructure.from_dict`` of the ontology
structure dict, and a ``MagicMock`` API client) and a synthetic ``LabelRowMetadata``
standing in for what the API would return:

* ``data_type`` in upper case, ``file_type`` / ``data_link`` / ``width`` / ``height`` / ``audio_*`` from the
  first data unit (``file_type == "text/html"`` is how the SDK tells HTML from plain text);
* ``duration`` / ``frames_per_second`` from the first data unit when they are numbers (``to_encord_dict``
  writes ``data_duration`` / ``data_fps`` from the metadata, never from the row);
* ``number_of_frames`` one above the largest frame, page, millisecond or character index the row uses
  (objects beyond it are rejected as out of bounds);
* ``spaces`` from the row without their labels; a space carrying neither ``child_info`` nor
  ``scene_info`` (the writer does not always emit them) gets
  ``child_info = {layout_key: <space id>, file_name: <space id>}``, as the API would provide.

The metadata is built defensively (odd values fall back to neutral ones), so that every verdict comes from
``from_labels_dict`` itself and never from the harness.

``sdk_loads_without_loss`` then decides, with the SDK as the judge:

1. ``from_labels_dict(row)`` raises: not loaded.
2. ``to_encord_dict()`` raises (the SDK would not be able to save what it loaded): not loaded.
3. Otherwise the *inventory* of the input row is compared with the inventory of the SDK's output; anything
   present in the input and missing from (or changed in) the output is loss. The inventory holds:

   * object instances per (space, frame, objectHash) with a canonical form of their geometry;
   * frame classification instances per (space, frame, classificationHash);
   * range-based objects (audio, text, HTML) and range classifications per hash, with their merged
     ranges (or ``range_html`` spans);
   * static answers per (owner objectHash / classificationHash, attribute featureHash) with their value;
   * the ``label_status`` (an unknown status is silently rewritten as ``_MISSING_LABEL_STATUS_``);
   * dynamic answers (``object_actions``) per (objectHash, attribute featureHash, answer atom) with the
     merged frame ranges they cover.

Normalisation, i.e. what the SDK legitimately rewrites and is therefore *not* counted as loss:

* key order, list order (answers and actions are reversed on every write), duplicate entries;
* datetime formats (``created_at``, ``createdAt``, ... are not compared at all), ``trackHash`` (regenerated),
  ``shouldPropagate``, ``manualAnnotation``, ``confidence`` (null becomes 1.0), ``createdBy`` etc.;
* ``name`` / ``color`` / ``value`` of objects, classifications, answers and skeleton points (regenerated from
  the ontology);
* polygons: legacy ``polygon`` (dict or list) and ``polygons`` are compared as ``polygons`` (flat
  ``number[][][]``; a lone ``polygon`` is ``[[ring]]``, and ``polygons`` wins when both are present),
  since the SDK writes both;
* skeleton visibility: the legacy booleans (``invisible``/``occluded``/``selfOccluded``/``visible``) are
  compared as the ``visibility`` value the SDK writes; numbers are compared as floats;
* checklist answers split over several entries with the same featureHash are one answer (union of options);
  dynamic answers are compared as merged, inclusive integer ranges per (attribute, option or value), so the
  SDK's merge of checklist actions into non-overlapping ranges is not loss;
* the ``spaces`` summaries of ``object_answers`` / ``classification_answers`` entries (which spaces and
  ranges an instance occupies): the SDK derives them from the space labels, which are compared instead;
* a dynamic answer (``dynamic: true``, with a range) in object_answers counts as a dynamic action of its
  object: the SDK reads it onto its frames and writes it to object_actions;
* frames without labels (they are not written back), frame and data-unit ``metadata`` (read, not written),
  ``data_fps``/``data_duration`` strings (never read), and top-level keys the SDK ignores (``export_*``,
  ``is_valid``, ``video_link``, ...).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any
from unittest.mock import MagicMock, Mock

from encord.constants.enums import DataType
from encord.objects.ontology_labels_impl import LabelRowV2
from encord.objects.ontology_structure import OntologyStructure
from encord.ontology import Ontology
from encord.orm.label_row import LabelRowMetadata, LabelStatus
from encord.orm.ontology import Ontology as OrmOntology

JSON = Any
Inventory = dict[tuple[Any, ...], Any]

_IMAGE_TYPES = {"image", "img_group"}
_RANGE_TYPES = {"audio", "plain_text"}
_VISIBILITY_FLAGS = ("invisible", "occluded", "selfOccluded", "visible")
_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------- SDK objects


def make_ontology(structure: dict[str, Any]) -> Ontology:
    """An offline ``encord.ontology.Ontology`` for an ontology structure dict."""
    orm = OrmOntology("interop", OntologyStructure.from_dict(structure), "interop-ontology", _EPOCH, _EPOCH)
    return Ontology(orm, MagicMock())


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _first_data_unit(row: dict[str, Any]) -> dict[str, Any]:
    units = row.get("data_units")
    if isinstance(units, dict):
        for unit in units.values():
            if isinstance(unit, dict):
                return unit
    return {}


def _ints_in_ranges(value: Any) -> Iterator[int]:
    """Every integer end point of a ``range`` list (``[[s, e], ...]``)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list):
                for end in item:
                    number = _integer(end)
                    if number is not None:
                        yield number


def _largest_index(row: dict[str, Any]) -> int:
    """The largest frame / page / ms / character index the row refers to (0 when none)."""
    found = [0]
    units = row.get("data_units")
    for unit in units.values() if isinstance(units, dict) else []:
        if not isinstance(unit, dict):
            continue
        found.extend(n for n in [_integer(unit.get("data_sequence"))] if n is not None)
        labels = unit.get("labels")
        if isinstance(labels, dict):
            found.extend(n for n in map(_integer, labels) if n is not None)
    for key in ("object_answers", "classification_answers"):
        entries = row.get(key)
        for entry in entries.values() if isinstance(entries, dict) else []:
            if isinstance(entry, dict):
                found.extend(_ints_in_ranges(entry.get("range")))
                spaces = entry.get("spaces")
                for space in spaces.values() if isinstance(spaces, dict) else []:
                    if isinstance(space, dict):
                        found.extend(_ints_in_ranges(space.get("range")))
    actions = row.get("object_actions")
    for entry in actions.values() if isinstance(actions, dict) else []:
        for action in entry.get("actions", []) if isinstance(entry, dict) else []:
            if isinstance(action, dict):
                found.extend(_ints_in_ranges(action.get("range")))
    spaces = row.get("spaces")
    for space in spaces.values() if isinstance(spaces, dict) else []:
        labels = space.get("labels") if isinstance(space, dict) else None
        if isinstance(labels, dict):
            found.extend(n for n in map(_integer, labels) if n is not None)
    return max(found)


def _metadata_spaces(row: dict[str, Any]) -> dict[str, Any]:
    spaces = row.get("spaces")
    result: dict[str, Any] = {}
    for space_id, info in spaces.items() if isinstance(spaces, dict) else []:
        if not isinstance(info, dict):
            continue
        meta = {key: value for key, value in info.items() if key != "labels"}
        if "child_info" not in meta and "scene_info" not in meta and "root_info" not in meta:
            meta["child_info"] = {"layout_key": space_id, "file_name": space_id}
        if meta.get("space_type") == "video":  # 0.1.211 VideoSpace reads both from the API's space info
            meta.setdefault("data_duration", 0.0)
            meta.setdefault("data_fps", 0.0)
        result[space_id] = meta
    return result


def make_metadata(row: dict[str, Any]) -> LabelRowMetadata:
    """Synthetic API metadata for ``row`` (see the module docstring)."""
    unit = _first_data_unit(row)
    data_type = row.get("data_type")
    try:
        status = LabelStatus(row.get("label_status"))
    except ValueError:
        status = LabelStatus.NOT_LABELLED
    duration = _number(unit.get("data_duration"))
    width, height = _integer(unit.get("width")), _integer(unit.get("height"))
    return LabelRowMetadata(
        label_hash=row.get("label_hash") if isinstance(row.get("label_hash"), str) else None,
        created_at=None,
        last_edited_at=None,
        branch_name=row["branch_name"] if isinstance(row.get("branch_name"), str) else "main",
        data_hash=str(row.get("data_hash", "")),
        dataset_hash=str(row.get("dataset_hash", "")),
        dataset_title=str(row.get("dataset_title", "")),
        data_title=str(row.get("data_title", "")),
        data_type=data_type.upper() if isinstance(data_type, str) else DataType.MISSING_DATA_TYPE.value,
        data_link=unit.get("data_link") if isinstance(unit.get("data_link"), str) else None,
        label_status=status,
        annotation_task_status=None,
        workflow_graph_node=None,
        is_shadow_data=False,
        frames_per_second=_number(unit.get("data_fps")),
        number_of_frames=_largest_index(row) + 1,
        duration=duration,
        height=height,
        width=width,
        audio_sample_rate=_integer(unit.get("audio_sample_rate")),
        audio_codec=unit.get("audio_codec") if isinstance(unit.get("audio_codec"), str) else None,
        audio_bit_depth=_integer(unit.get("audio_bit_depth")),
        audio_num_channels=_integer(unit.get("audio_num_channels")),
        spaces=_metadata_spaces(row),
        file_type=unit.get("data_type") if isinstance(unit.get("data_type"), str) else None,
    )


def build_label_row(row: dict[str, Any], ontology: dict[str, Any]) -> LabelRowV2:
    """An offline ``LabelRowV2`` ready for ``from_labels_dict(row)`` (notes §13)."""
    return LabelRowV2(make_metadata(row), Mock(), make_ontology(ontology))


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: " + " ".join(str(error).split())


def sdk_round_trip(row: dict[str, Any], ontology: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """``(to_encord_dict() output, "")`` if the SDK parses and re-serialises ``row``, else ``(None, why)``."""
    if not isinstance(row, dict):
        return None, f"a label row must be an object, got {type(row).__name__}"
    try:
        label_row = build_label_row(row, ontology)
    except Exception as error:  # the harness itself could not stand in for the API
        raise RuntimeError(f"cannot build synthetic metadata: {error!r}") from error
    try:
        label_row.from_labels_dict(row)
    except Exception as error:
        return None, f"from_labels_dict raised {_one_line(error)}"
    try:
        written = label_row.to_encord_dict()
    except Exception as error:
        return None, f"to_encord_dict raised {_one_line(error)}"
    return json.loads(json.dumps(written, default=str)), ""


def sdk_loads_without_loss(row: JSON, ontology: dict[str, Any]) -> tuple[bool, str]:
    """Whether the SDK loads ``row`` with no error and no silent loss, and why not."""
    written, reason = sdk_round_trip(row, ontology)
    if written is None:
        return False, reason
    lost = compare_inventories(inventory(row), inventory(written))
    if lost:
        return False, "silent loss: " + "; ".join(lost[:8]) + (" ..." if len(lost) > 8 else "")
    return True, "loaded without loss"


# ------------------------------------------------------------------------------------------- inventories


def _canonical(value: Any) -> Any:
    """A hashable, order-insensitive-where-it-should-be form of a JSON value (numbers as floats)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return tuple(_canonical(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(key), _canonical(item)) for key, item in value.items()))
    return repr(value)


def _sorted_by_index(payload: Any) -> list[Any]:
    if isinstance(payload, dict):
        return [payload[key] for key in sorted(payload, key=lambda k: int(k) if str(k).isdigit() else -1)]
    if isinstance(payload, list):
        return list(payload)
    return [payload]


def _xy(point: Any) -> tuple[Any, ...]:
    if not isinstance(point, dict):
        return ("?", _canonical(point))
    coords = [point.get("x"), point.get("y")] + ([point["z"]] if "z" in point else [])
    return tuple(_canonical(c) for c in coords)


def _visibility(point: dict[str, Any]) -> Any:
    if point.get("visibility") is not None:
        return point["visibility"]
    for flag in _VISIBILITY_FLAGS:
        if point.get(flag) is True:
            return flag
    return None


def _geometry(obj: dict[str, Any]) -> Any:
    """Canonical geometry of a frame object (see the normalisation in the module docstring)."""
    shape = obj.get("shape")
    try:
        if shape == "polygon" or (
            ("polygon" in obj or "polygons" in obj)
            and shape not in ("bounding_box", "rotatable_bounding_box", "polyline", "point")
        ):
            if obj.get("polygons"):
                return ("polygons", _canonical(obj["polygons"]))
            ring = [c for point in _sorted_by_index(obj.get("polygon")) for c in _xy(point)]
            return ("polygons", ((tuple(ring),),))
        if "skeleton" in obj:
            points = _sorted_by_index(obj["skeleton"])
            return ("skeleton", tuple((_xy(p), p.get("name"), _visibility(p)) for p in points))
        if "bitmask" in obj:
            return ("bitmask", _canonical(obj["bitmask"]))
        if "cuboid" in obj:
            return ("cuboid", _canonical(obj["cuboid"]))
        if shape == "polyline":
            return ("polyline", tuple(_xy(p) for p in _sorted_by_index(obj.get("polyline"))))
        if shape == "point":
            return ("point", _xy(obj.get("point", {}).get("0")))
        payload_key = {
            "bounding_box": "boundingBox",
            "rotatable_bounding_box": "rotatableBoundingBox",
            "cuboid_2d": "cuboid_2d",
            "segmentation": "segmentation",
        }.get(str(shape))
        if payload_key is not None:
            return (shape, _canonical(obj.get(payload_key)))
    except (AttributeError, TypeError, ValueError):
        pass
    return ("unreadable", _canonical({k: v for k, v in obj.items() if k not in ("name", "color", "value")}))


def _answer_atoms(answer: dict[str, Any]) -> list[Any]:
    """The atoms of one attribute answer: chosen option featureHashes, or the text / numeric value."""
    answers = answer.get("answers")
    if isinstance(answers, list):
        return [
            ("option", item.get("featureHash")) if isinstance(item, dict) else ("raw", _canonical(item))
            for item in answers
        ] or [("empty-checklist",)]
    return [("value", _canonical(answers))]


def _add_answers(inv: Inventory, owner: tuple[Any, ...], answer_list: Any) -> None:
    """Record the answers of one owner; split checklist entries are one answer (an empty one adds nothing)."""
    atoms: dict[Any, set[Any]] = {}
    for answer in answer_list if isinstance(answer_list, list) else []:
        if not isinstance(answer, dict):
            malformed = (*owner, "answer", "?", _canonical(answer))
            inv[malformed] = True
            continue
        atoms.setdefault(answer.get("featureHash"), set()).update(_answer_atoms(answer))
    for feature_hash, found in atoms.items():
        if len(found) > 1:
            found.discard(("empty-checklist",))
        for atom in found:
            key = (*owner, "answer", feature_hash, atom)
            inv[key] = True


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _ranges(value: Any) -> Any:
    pairs = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) == 2 and all(_integer(v) is not None for v in item):
            pairs.append((int(item[0]), int(item[1])))
        else:
            return ("unreadable", _canonical(value))
    return _merge(pairs)


def _html_ranges(value: Any) -> Any:
    return tuple(sorted(_canonical(item) for item in value)) if isinstance(value, list) else _canonical(value)


def _frame_blobs(labels: Any, fixed_frame: int | None) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(frame, {objects, classifications}) pairs of a labels object, whatever its layout."""
    if not isinstance(labels, dict):
        return
    if "objects" in labels or "classifications" in labels:
        yield (fixed_frame if fixed_frame is not None else 0), labels
    for key, blob in labels.items():
        if str(key).isdigit() and isinstance(blob, dict):
            yield (fixed_frame if fixed_frame is not None else int(key)), blob


def _add_blob(inv: Inventory, space: str, frame: Any, blob: dict[str, Any]) -> None:
    for obj in blob.get("objects") or []:
        if isinstance(obj, dict):
            inv[("object", space, frame, obj.get("objectHash"))] = _geometry(obj)
    for cls in blob.get("classifications") or []:
        if isinstance(cls, dict):
            inv[("classification", space, frame, cls.get("classificationHash"))] = cls.get("featureHash")


def inventory(row: JSON) -> Inventory:
    """Everything of ``row`` that must survive a load: see the module docstring."""
    inv: Inventory = {}
    if not isinstance(row, dict):
        return inv
    data_type = row.get("data_type")
    inv[("label_status",)] = row.get("label_status")
    units = row.get("data_units")
    for unit in units.values() if isinstance(units, dict) else []:
        if not isinstance(unit, dict):
            continue
        fixed = _integer(unit.get("data_sequence")) if data_type in _IMAGE_TYPES else None
        if data_type in _IMAGE_TYPES and fixed is None:
            fixed = -1
        for frame, blob in _frame_blobs(unit.get("labels"), fixed):
            _add_blob(inv, "", frame, blob)
    spaces = row.get("spaces")
    for space_id, space in spaces.items() if isinstance(spaces, dict) else []:
        if isinstance(space, dict):
            for frame, blob in _frame_blobs(space.get("labels"), None):
                _add_blob(inv, space_id, frame, blob)

    moved: list[tuple[Any, dict[str, Any]]] = []  # ranged dynamic answers in object_answers: actions, really
    object_answers = row.get("object_answers")
    for key, entry in object_answers.items() if isinstance(object_answers, dict) else []:
        if not isinstance(entry, dict):
            inv[("object_answers", key, "malformed")] = True
            continue
        object_hash = entry.get("objectHash", key)
        if data_type in _RANGE_TYPES or "range" in entry or "range_html" in entry:
            where = (
                ("range_html", _html_ranges(entry["range_html"]))
                if entry.get("range_html")
                else ("range", _ranges(entry.get("range")))
            )
            inv[("range_object", object_hash)] = (entry.get("featureHash"), where)
        answers = entry.get("classifications")
        if isinstance(answers, list):
            moved.extend((object_hash, a) for a in answers if _is_moved_action(a))
            answers = [a for a in answers if not _is_moved_action(a)]
        _add_answers(inv, ("object", object_hash), answers)

    classification_answers = row.get("classification_answers")
    for key, entry in classification_answers.items() if isinstance(classification_answers, dict) else []:
        if not isinstance(entry, dict):
            inv[("classification_answers", key, "malformed")] = True
            continue
        classification_hash = entry.get("classificationHash", key)
        if "createdBy" in entry:
            inv[("range_classification", classification_hash)] = (
                entry.get("featureHash"),
                _ranges(entry.get("range")),
            )
        _add_answer_placements(inv, row, classification_hash, entry)
        _add_answers(inv, ("classification", classification_hash), entry.get("classifications"))

    object_actions = row.get("object_actions")
    dynamic: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    actions: list[tuple[Any, Any, Any]] = [(hash_, hash_, a) for hash_, a in moved]
    for key, entry in object_actions.items() if isinstance(object_actions, dict) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("actions"), list):
            inv[("object_actions", key, "malformed")] = True
            continue
        actions.extend((key, entry.get("objectHash", key), action) for action in entry["actions"])
    for key, object_hash, action in actions:
        if not isinstance(action, dict):
            inv[("object_actions", key, "malformed action")] = True
            continue
        ranges = _ranges(action.get("range"))
        for atom in _answer_atoms(action):
            slot = dynamic.setdefault(("action", object_hash, action.get("featureHash"), atom), [])
            if ranges and ranges[0] == "unreadable":
                inv[("action", key, "unreadable range", _canonical(action.get("range")))] = True
            else:
                slot.extend(ranges)
    for slot_key, pairs in dynamic.items():
        inv[slot_key] = _merge(pairs)
    return inv


def _is_moved_action(answer: Any) -> bool:
    """A dynamic answer (``dynamic: true`` with a range) in object_answers, as older platform versions wrote
    them: encord 0.1.211 reads it onto its frames and writes it to object_actions."""
    return isinstance(answer, dict) and answer.get("dynamic") is True and "range" in answer


def _add_answer_placements(inv: Inventory, row: dict[str, Any], key: str, entry: dict[str, Any]) -> None:
    """Frames a classification is on, as ``classification_answers`` places it: encord 0.1.211 writes a
    classification only there (``range`` for the row, ``spaces[id].range`` per space) and never in the frames'
    ``classifications``, so both placements count as the same (space, frame, classificationHash) entry."""
    if data_type_is_ranged(row) or not entry.get("featureHash"):
        return
    placements = [("", entry.get("range"))]
    spaces = entry.get("spaces")
    for space_id, space in spaces.items() if isinstance(spaces, dict) else []:
        if isinstance(space, dict) and space.get("type", "frame") == "frame":
            placements.append((space_id, space.get("range")))
    for space_id, ranges in placements:
        merged = _ranges(ranges)
        if merged and merged[0] == "unreadable":
            continue
        for start, end in merged:
            for frame in range(start, min(end, start + 10_000) + 1):
                inv.setdefault(("classification", space_id, frame, key), entry.get("featureHash"))


def data_type_is_ranged(row: dict[str, Any]) -> bool:
    """Audio and text rows: their classification ranges are milliseconds or characters, not frames."""
    return row.get("data_type") in _RANGE_TYPES


def _describe(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def compare_inventories(before: Inventory, after: Inventory) -> list[str]:
    """What of ``before`` (the input) is missing from, or changed in, ``after`` (the SDK's output)."""
    lost: list[str] = []
    for key, value in before.items():
        if key not in after:
            lost.append(f"{_describe(key)} dropped")
        elif after[key] != value and not _same_numbers(after[key], value):
            lost.append(f"{_describe(key)} changed from {value!r} to {after[key]!r}")
    return lost


def _same_numbers(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(x == y or _same_numbers(x, y) for x, y in zip(a, b, strict=True))
    return False
