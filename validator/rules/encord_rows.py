"""Semantic rules of Encord label rows that need no ontology (``ENC-…`` without ``needs: [ontology]``).

Catalogued in ``schemas/encord/rules.yaml``. Each rule reads the row index
(:mod:`labelspec.validator.rules.encord_index`). Native twin: ``labelspec/native/encord_rules.c`` (the row
decider), whose every site names the rule id and the function here that it mirrors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, rule
from labelspec.validator.rules.encord_index import (
    BLOB_SPACES,
    EPS,
    FRAME_KEYED_TYPES,
    RANGE_TYPES,
    FrameObject,
    Path,
    Row,
    as_dict,
    as_list,
    as_str,
    int_or_digits,
    label_rows,
    object_hash_of,
)
from labelspec.validator.rules.encord_ontology import ontology_of

# Shapes in world units (point clouds), never fractions of an image.
_WORLD_SHAPES = frozenset({"cuboid", "segmentation"})


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


# ------------------------------------------------------------------------------------------ cross-references


@rule("ENC-OBJECT-ANSWER-ORPHAN")
def object_answer_orphan(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        if row.data_type in RANGE_TYPES:
            continue  # there the entries of object_answers are the objects
        for key, answer in as_dict(row.row.get("object_answers")).items():
            if not isinstance(answer, dict):
                continue
            object_hash = as_str(answer.get("objectHash")) or key
            if object_hash in row.object_features or object_hash in row.range_objects:
                continue
            if not as_list(answer.get("classifications")):
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
    for row in label_rows(ctx):
        present = row.object_features.keys() | row.range_objects
        if row.data_type in RANGE_TYPES:
            present |= {
                as_str(answer.get("objectHash")) or key
                for key, answer in as_dict(row.row.get("object_answers")).items()
                if isinstance(answer, dict)
            }
        for key, action in as_dict(row.row.get("object_actions")).items():
            if not isinstance(action, dict):
                continue
            object_hash = as_str(action.get("objectHash")) or key
            if object_hash not in present and as_list(action.get("actions")):  # no actions: nothing lost
                yield (
                    to_pointer((*row.path, "object_actions", key)),
                    f'object actions "{object_hash}" refer to no object of the row: the SDK ignores these '
                    "dynamic answers",
                    "remove the entry, or restore the object it belongs to",
                )


@rule("ENC-FRAME-CLASSIFICATION-UNANSWERED")
def frame_classification_unanswered(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        if not row.classifications:
            continue
        answers = as_dict(row.row.get("classification_answers"))
        for path, classification in row.classifications:
            class_hash = as_str(classification.get("classificationHash"))
            if class_hash is not None and class_hash not in answers:
                yield (
                    to_pointer(path),
                    f'frame classification "{class_hash}" has no classification_answers entry with that key: '
                    "the SDK silently drops it",
                    f'add classification_answers["{class_hash}"] with its answers',
                )


@rule("ENC-FRAME-OUT-OF-RANGE")
def frame_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for frame in row.frames:
            yield (
                to_pointer(frame.path),
                f"frame {frame.frame} is beyond the media: {frame.what} gives {frame.limit} frame(s), "
                f"numbered 0 to {frame.limit - 1}",
            )


@rule("ENC-IMAGE-LABELS-FRAME-KEYED")
def image_labels_frame_keyed(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for path in row.frame_keyed_images:
            yield (
                to_pointer(path),
                f'{row.data_type} labels are keyed by frame "{path[-1]}": the SDK reads objects and '
                "classifications directly from `labels` and silently finds none here",
                'move "objects" and "classifications" up into `labels`',
            )


@rule("ENC-IMG-GROUP-SEQUENCE-DUPLICATE")
def img_group_sequence_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        if row.data_type != "img_group":
            continue
        seen: dict[int, str] = {}
        for key, unit in as_dict(row.row.get("data_units")).items():
            if not isinstance(unit, dict):
                continue
            sequence = int_or_digits(unit.get("data_sequence"))
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
    for row in label_rows(ctx):
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
    for row in label_rows(ctx):
        for item in row.objects:
            object_hash, feature = object_hash_of(item.obj), as_str(item.obj.get("featureHash"))
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
    for row in label_rows(ctx):
        seen: dict[tuple[Path, str], int] = {}
        for item in row.objects:
            object_hash = object_hash_of(item.obj)
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
        box = as_dict(obj.get("rotatableBoundingBox"))
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
        for p, polygon in enumerate(as_list(obj.get("polygons"))):
            for r, ring in enumerate(as_list(polygon)):
                for k, value in enumerate(as_list(ring)):
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
        for k, value in enumerate(as_list(as_dict(obj.get("cuboid_2d")).get("front"))):
            number = _num(value)
            if number is not None:
                yield ("cuboid_2d", "front", k), number


def _inside_unit(values: Any) -> bool:
    """True when ``values`` is a list of plain numbers all within [0, 1] (allowing EPS)."""
    if not isinstance(values, list):
        return False
    for value in values:
        if type(value) is not float and type(value) is not int:
            return False
        if value < -EPS or value > 1 + EPS:
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
    low, high = -EPS, 1 + EPS
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
            if value < -EPS or value > 1 + EPS:
                return False
        return True
    if shape == "cuboid_2d":
        cuboid = obj.get("cuboid_2d")
        return type(cuboid) is dict and _inside_unit(cuboid.get("front"))
    return _vertices_inside(obj.get(shape))


@rule("ENC-COORDINATE-OUT-OF-RANGE")
def coordinate_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for item in row.objects:
            shape = item.obj.get("shape")
            if item.world or (isinstance(shape, str) and shape in _WORLD_SHAPES):
                continue
            hit = _box_edges_out_of_range(item) if shape == "bounding_box" else None
            if hit is None and not _surely_inside(item.obj):
                outside = [(p, v) for p, v in _coordinates(item.obj) if v < -EPS or v > 1 + EPS]
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


def _box_edges_out_of_range(item: FrameObject) -> Hit | None:
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
        if value is not None and (value < -EPS or value > 1 + EPS):
            return (
                to_pointer((*item.path, "boundingBox", key)),
                f"bounding box {what} = {_fmt(value)} is outside [0, 1]; coordinates are fractions of the "
                "image width and height",
            )
    return None


@rule("ENC-BOX-NEGATIVE-SIZE")
def box_negative_size(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
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
    for row in label_rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "polygon":
                continue
            legacy = item.obj.get("polygon")
            if isinstance(legacy, (dict, list)) and 0 < len(legacy) < 3:
                yield (
                    to_pointer((*item.path, "polygon")),
                    f"polygon has {len(legacy)} vertices; a polygon needs at least 3",
                )
            for pointer, ring in _number_rings(item):
                if not len(ring) % 2 and len(ring) < 6:
                    yield pointer, f"ring has {len(ring) // 2} point(s); a ring needs at least 3"


def _number_rings(item: FrameObject) -> Iterator[tuple[str, list[Any]]]:
    """(pointer, ring) of every all-number ring of a polygon object's ``polygons``."""
    for p, polygon in enumerate(as_list(item.obj.get("polygons"))):
        for r, ring in enumerate(as_list(polygon)):
            if isinstance(ring, list) and all(_num(v) is not None for v in ring):
                yield to_pointer((*item.path, "polygons", p, r)), ring


@rule("ENC-POLYGON-ODD-VALUES")
def polygon_odd_values(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "polygon":
                continue
            for pointer, ring in _number_rings(item):
                if len(ring) % 2:
                    yield (
                        pointer,
                        f"ring has an odd number of values ({len(ring)}); a ring is a flat list of x, y "
                        "pairs (the SDK raises IndexError)",
                    )


@rule("ENC-POLYGON-FORMS-DIFFER")
def polygon_forms_differ(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
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
                polygons = as_list(obj["polygons"])
                rings = as_list(polygons[0]) if polygons else []
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
    for row in label_rows(ctx):
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

    candidates: list[tuple[FrameObject, bool, str]] = []  # (object, is bitmask, RLE string)
    for row in label_rows(ctx):
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
            width, height = int_or_digits(mask.get("width")), int_or_digits(mask.get("height"))
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
    for row in label_rows(ctx):
        for item in row.objects:
            mask = item.obj.get("bitmask")
            if item.obj.get("shape") != "bitmask" or not isinstance(mask, dict):
                continue
            if item.width is None or item.height is None:
                continue
            width, height = int_or_digits(mask.get("width")), int_or_digits(mask.get("height"))
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
    for row in label_rows(ctx):
        if row.data_type != "video":
            continue
        for unit_key, unit in as_dict(row.row.get("data_units")).items():
            if not isinstance(unit, dict) or not isinstance(unit.get("labels"), dict):
                continue
            limit = _video_frame_limit(unit)
            if limit is None:
                continue
            count, fps, duration = limit
            for key in unit["labels"]:
                frame = int_or_digits(key)
                if frame is not None and frame >= count:
                    yield (
                        to_pointer((*row.path, "data_units", unit_key, "labels", key)),
                        f"frame {frame} is beyond the video: data_duration {_fmt(duration)} s at data_fps "
                        f"{_fmt(fps)} gives {count} frame(s), numbered 0 to {count - 1} (the SDK rejects "
                        "the object as out of bounds)",
                    )


def _range_ends(ranges: Any) -> Iterator[tuple[int, float]]:
    """(index, end) of every [start, end] pair of a range list whose end is a number."""
    for n, pair in enumerate(as_list(ranges)):
        if isinstance(pair, list) and len(pair) == 2:
            end = _num(pair[1])
            if end is not None:
                yield n, end


def _audio_row_limit(row: Row) -> float | None:
    """An audio row's length in milliseconds, from its first data unit's data_duration (seconds)."""
    if row.data_type != "audio":
        return None
    units = list(as_dict(row.row.get("data_units")).values())
    duration = _num(units[0].get("data_duration")) if units and isinstance(units[0], dict) else None
    return duration * 1000 if duration is not None and duration > 0 else None


@rule("ENC-AUDIO-RANGE-BEYOND-DURATION")
def audio_range_beyond_duration(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        row_limit = _audio_row_limit(row)
        if row_limit is None:
            continue
        for section in ("object_answers", "classification_answers"):
            for key, entry in as_dict(row.row.get(section)).items():
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
    for row in label_rows(ctx):
        audio_spaces = {
            space_id: _num(space.get("duration_ms"))
            for space_id, space in as_dict(row.row.get("spaces")).items()
            if isinstance(space, dict) and space.get("space_type") == "audio"
        }
        if not audio_spaces:
            continue
        for section in ("object_answers", "classification_answers"):
            for key, entry in as_dict(row.row.get(section)).items():
                if not isinstance(entry, dict):
                    continue
                for space_id, placed in as_dict(entry.get("spaces")).items():
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


def _frame_keyed_blobs(row: Row) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """(path, frame, blob) of every frame-keyed {objects, classifications} blob of a row: data units of the
    frame-keyed types and frame-keyed spaces."""
    if row.data_type in FRAME_KEYED_TYPES:
        for unit_key, unit in as_dict(row.row.get("data_units")).items():
            for key, blob in as_dict(as_dict(unit).get("labels")).items():
                frame = int_or_digits(key)
                if frame is not None and isinstance(blob, dict):
                    yield (*row.path, "data_units", unit_key, "labels", key), frame, blob
    for space_id, space in as_dict(row.row.get("spaces")).items():
        if not isinstance(space, dict) or space.get("space_type") in BLOB_SPACES:
            continue
        for key, blob in as_dict(space.get("labels")).items():
            frame = int_or_digits(key)
            if frame is not None and isinstance(blob, dict):
                yield (*row.path, "spaces", space_id, "labels", key), frame, blob


@rule("ENC-OBJECT-FRAME-MISMATCH")
def object_frame_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for path, frame, blob in _frame_keyed_blobs(row):
            for j, obj in enumerate(as_list(blob.get("objects"))):
                if not isinstance(obj, dict) or "frame" not in obj:
                    continue
                stated = int_or_digits(obj["frame"])
                if stated is not None and stated != frame:
                    yield (
                        to_pointer((*path, "objects", j, "frame")),
                        f"object says frame {stated} but is stored under frame key {frame}: the SDK "
                        "places it on the key's frame and drops `frame`",
                    )


def _confidences(row: Row) -> Iterator[tuple[Path, Any]]:
    for item in row.objects:
        if "confidence" in item.obj:
            yield item.path, item.obj["confidence"]
    for path, classification in row.classifications:
        if "confidence" in classification:
            yield path, classification["confidence"]
    for section in ("object_answers", "classification_answers"):
        for key, entry in as_dict(row.row.get(section)).items():
            if isinstance(entry, dict) and "confidence" in entry:
                yield (*row.path, section, key), entry["confidence"]


@rule("ENC-CONFIDENCE-OUT-OF-RANGE")
def confidence_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
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
    for row in label_rows(ctx):
        if row.data_type == "scene":
            continue  # event-based scenes build their spaces from the answers themselves
        spaces = as_dict(row.row.get("spaces"))
        for section in ("object_answers", "classification_answers"):
            for key, entry in as_dict(row.row.get(section)).items():
                if not isinstance(entry, dict):
                    continue
                for space_id in as_dict(entry.get("spaces")):
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
    if not as_str(entry.get("featureHash")):
        return False  # resolve_classification_ranges returns None: not read at all (schema/other rules)
    if as_list(entry.get("range")):
        return False
    return not any(space_id != "root" for space_id in as_dict(entry.get("spaces")))


@rule("ENC-CLASSIFICATION-RANGE-MISSING")
def classification_range_missing(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    for row in label_rows(ctx):
        if row.data_type not in _GEOMETRIC_TYPES or "root" in as_dict(row.row.get("spaces")):
            continue  # range-based media keep every classification; a root space holds them itself
        if row.data_type == "scene" and as_dict(row.row.get("scene")).get("isContinuous"):
            continue  # event-based scenes keep classifications as ranges
        # Only entries of frame classifications (the form written before 0.1.211): an entry no frame lists
        # is a global classification when it has no range, which only the ontology could contradict.
        on_frames = {as_str(c.get("classificationHash")) for _, c in row.classifications}
        for key, entry in as_dict(row.row.get("classification_answers")).items():
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
    for row in label_rows(ctx):
        spaces = row.row.get("spaces")
        if row.data_type != "group" or not isinstance(spaces, dict):
            continue
        layouts = {
            layout
            for space in spaces.values()
            if isinstance(space, dict)
            and (layout := as_str(as_dict(space.get("child_info")).get("layout_key"))) is not None
        }
        for unit_key, unit in as_dict(row.row.get("data_units")).items():
            children = as_dict(as_dict(unit).get("metadata")).get("children")
            for n, child in enumerate(as_list(children)):
                layout = as_str(as_dict(child).get("layout_key"))
                if layout is not None and layout not in layouts:
                    yield (
                        to_pointer(
                            (*row.path, "data_units", unit_key, "metadata", "children", n, "layout_key")
                        ),
                        f"child {as_dict(child).get('name')!r} has layout_key {layout!r}, which no space's "
                        "child_info names: its labels have no space to live in",
                    )


@rule("ENC-POLYLINE-DEGENERATE")
def polyline_degenerate(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for item in row.objects:
            line = item.obj.get("polyline")
            if item.obj.get("shape") == "polyline" and isinstance(line, (dict, list)) and len(line) < 2:
                yield (
                    to_pointer((*item.path, "polyline")),
                    f"polyline has {len(line)} point(s); a polyline needs at least 2",
                )


@rule("ENC-CUBOID-SIZE-NOT-POSITIVE")
def cuboid_size_not_positive(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for item in row.objects:
            if item.obj.get("shape") != "cuboid":
                continue
            for n, value in enumerate(as_list(as_dict(item.obj.get("cuboid")).get("size"))):
                number = _num(value)
                if number is not None and number <= 0:
                    yield (
                        to_pointer((*item.path, "cuboid", "size", n)),
                        f"cuboid size {'xyz'[n] if n < 3 else n} = {_fmt(number)} is not positive; a "
                        "cuboid's extent is positive along every axis",
                    )


# ---------------------------------------------------------------------------------------- ranges, datetimes


def _range_lists(row: Row) -> Iterator[tuple[Path, Any]]:
    """Every ``range`` list of frame / millisecond / character ranges in a row."""
    for section in ("object_answers", "classification_answers"):
        for key, entry in as_dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            yield (*row.path, section, key, "range"), entry.get("range")
            for space_id, space in as_dict(entry.get("spaces")).items():
                if isinstance(space, dict) and space.get("type") == "frame":
                    yield (*row.path, section, key, "spaces", space_id, "range"), space.get("range")
    for key, entry in as_dict(row.row.get("object_actions")).items():
        for a, action in enumerate(as_list(as_dict(entry).get("actions"))):
            if isinstance(action, dict):
                yield (*row.path, "object_actions", key, "actions", a, "range"), action.get("range")


def _html_spans(row: Row) -> Iterator[tuple[Path, Any, Any]]:
    for key, entry in as_dict(row.row.get("object_answers")).items():
        if not isinstance(entry, dict):
            continue
        for n, span in enumerate(as_list(entry.get("range_html"))):
            if isinstance(span, dict):
                yield (*row.path, "object_answers", key, "range_html", n), span.get("start"), span.get("end")
        for space_id, space in as_dict(entry.get("spaces")).items():
            if isinstance(space, dict) and space.get("type") == "html":
                for n, span in enumerate(as_list(space.get("range"))):
                    if isinstance(span, list) and len(span) == 2:
                        yield (
                            (*row.path, "object_answers", key, "spaces", space_id, "range", n),
                            span[0],
                            span[1],
                        )


@rule("ENC-RANGE-REVERSED")
def range_reversed(ctx: RuleContext) -> Iterator[Hit]:
    for row in label_rows(ctx):
        for path, ranges in _range_lists(row):
            for n, pair in enumerate(as_list(ranges)):
                if isinstance(pair, list) and len(pair) == 2:
                    start, end = int_or_digits(pair[0]), int_or_digits(pair[1])
                    if start is not None and end is not None and start > end:
                        yield (
                            to_pointer((*path, n)),
                            f"range [{start}, {end}] starts after it ends (start > end)",
                        )
        for path, start_pos, end_pos in _html_spans(row):
            begin, finish = as_dict(start_pos), as_dict(end_pos)
            if begin.get("xpath") is None or begin.get("xpath") != finish.get("xpath"):
                continue
            first, last = int_or_digits(begin.get("offset")), int_or_digits(finish.get("offset"))
            if first is not None and last is not None and first > last:
                yield (
                    to_pointer(path),
                    f"HTML span starts at offset {first} and ends at offset {last} of the same node (start "
                    "> end)",
                )


DATETIME_PATTERN = re.compile(
    r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} (?:GMT|UTC)"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)$"
)
# Datetimes surely real (every field within its range, days 29-31 only in months that have them): the
# common forms skip datetime_error, whose verdict for them is always None. Anything else takes that path.
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
SURELY_REAL_DATETIME = re.compile(
    rf"(?:(?!0000)[0-9]{{4}}-{_MONTH_DAY} {_TIME}(?:\.[0-9]+)?"
    rf"|(?!0000)[0-9]{{4}}-{_MONTH_DAY}T{_TIME}(?:Z|\+00:00)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), "
    r"(?:(?:0[1-9]|1[0-9]|2[0-8]) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"|(?:29|30) (?:Jan|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"|31 (?:Jan|Mar|May|Jul|Aug|Oct|Dec))"
    rf" (?!0000)[0-9]{{4}} {_TIME} (?:GMT|UTC))"
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The datetimes encord 0.1.211 parses (LabelRowV2._parse_label_row_dict, _AnnotationMetadata.from_dict); it
# never reads exported_at (row or export_history), so a bad one there is not checked by ENC-DATETIME-INVALID.
_ROW_DATETIMES = ("created_at", "last_edited_at")
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
        return f"day {day:02d} is out of range for {MONTHS[month - 1]} {year:04d} (01-{last})"
    for value, name, high in ((hour, "hour", 23), (minute, "minute", 59), (second, "second", 59)):
        if value > high:
            return f"{name} {value:02d} is out of range (00-{high})"
    return None


def datetime_error(text: str) -> str | None:
    """Why a string of ``DATETIME_PATTERN`` is not a real date and time (None if it is one).

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
        month = MONTHS.index(text[8:11]) + 1
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


def _datetime_fields(row: Row) -> Iterator[tuple[Path, str, str]]:
    """Every string in a datetime field of a row, as (path of its container, key, value): the pointer is
    built only for the few values that turn out invalid."""
    row_path = row.path
    data = row.row
    for key in _ROW_DATETIMES:
        value = data.get(key)
        if isinstance(value, str):
            yield row_path, key, value
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
    match = DATETIME_PATTERN.match
    surely_real = SURELY_REAL_DATETIME.fullmatch
    for row in label_rows(ctx):
        for base, key, value in _datetime_fields(row):
            error = verdicts.get(value, _UNSEEN)
            if error is _UNSEEN:
                real = surely_real(value) or not match(value)
                error = None if real else datetime_error(value)
                verdicts[value] = error
            if error is not None:
                yield (
                    to_pointer((*base, key)),
                    f'"{value}" has the form of a datetime but is not a real one ({error})',
                )
