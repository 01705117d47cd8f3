"""Semantic rules of YOLO datasets (``YOLO-…``), on the parsed form of ``validator/yolo_text.py``:
``{names, nc?, names_file, labels: {relpath: [[class, v1, v2, ...], ...]}}``.

A line is read by its number of values after the class index:

* 4: a detection box ``cx cy w h`` (darknet, ultralytics detect);
* an even number >= 6: an ultralytics segmentation polygon ``x1 y1 x2 y2 ...`` (at least 3 points), or a
  pose line with 2-value keypoints (the same arity, and read the same way here: all values in [0, 1]);
* 4 + 3k: an ultralytics pose line, box then k keypoints ``x y visibility`` (when k is even the arity is
  a polygon's too: the line is pose when every visibility field is 0, 1 or 2);
* 8: an ultralytics oriented box ``x1 y1 ... x4 y4`` (the four corners; read as a polygon would be);
* anything else cannot be any of these (YOLO-LINE-ARITY).

A dataset whose data.yaml declares ``kpt_shape: [k, d]`` is a pose dataset: every line is a box and k
keypoints of d values (``x y``, or ``x y visibility`` when d is 3), and any other arity is an error.

Pointers are ``/labels/<file>/<line index>[/<field index>]``; the loader turns them into file/line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labelspec.validator.numbers import int_of_digits
from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, rule

DETECTION = "detection"
POLYGON = "polygon"
ORIENTED_BOX = "oriented box"
POSE = "pose"  # keypoints x y visibility
POSE_XY = "pose (x y keypoints)"


_PLAIN_NUMBERS = frozenset((int, float))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def keypoint_shape(document: Any) -> tuple[int, int] | None:
    """data.yaml's ``kpt_shape`` as (keypoints, values per keypoint) when it is well formed."""
    shape = document.get("kpt_shape") if isinstance(document, dict) else None
    if isinstance(shape, list) and len(shape) == 2 and all(_is_int(v) for v in shape):
        return (shape[0], shape[1]) if shape[0] >= 1 and shape[1] in (2, 3) else None
    return None


def line_kind(line: list[Any], kpt_shape: tuple[int, int] | None = None) -> str | None:
    """What a label line (class index first) is, or None when its arity fits no kind.

    With a ``kpt_shape`` (k, d) only a pose line of k keypoints of d values fits. Otherwise a pose line
    with 3-value keypoints and an even count (e.g. 2 keypoints: 10 values) has the arity of a polygon too;
    it is read as pose when every visibility field is 0, 1 or 2.
    """
    values = len(line) - 1
    if kpt_shape is not None:
        keypoints, per_point = kpt_shape
        if values != 4 + keypoints * per_point:
            return None
        return POSE if per_point == 3 else POSE_XY
    if values == 4:
        return DETECTION
    if values == 8:
        return ORIENTED_BOX
    pose_arity = values > 4 and (values - 4) % 3 == 0
    if values >= 6 and values % 2 == 0:
        if pose_arity and all(line[i] in (0, 1, 2) for i in range(7, len(line), 3)):
            return POSE
        return POLYGON
    if pose_arity:
        return POSE
    return None


def _lines(ctx: RuleContext) -> list[tuple[str, int, list[Any], str | None]]:
    """(file key, line index, line, kind) of every line whose fields are all numbers, class an integer.

    Collected once per document (the rules share it).
    """
    return ctx.memo(_collect_lines)


def _collect_lines(ctx: RuleContext) -> list[tuple[str, int, list[Any], str | None]]:
    found: list[tuple[str, int, list[Any], str | None]] = []
    document = ctx.document
    labels = document.get("labels") if isinstance(document, dict) else None
    kpt_shape = keypoint_shape(document)
    if isinstance(labels, dict):
        for key, lines in labels.items():
            if not isinstance(lines, list):
                continue
            for index, line in enumerate(lines):
                if (
                    isinstance(line, list)
                    and len(line) >= 5
                    and _is_int(line[0])
                    # the usual line holds plain ints and floats: one set of types, not a call per field
                    and (set(map(type, line[1:])) <= _PLAIN_NUMBERS or all(_is_number(v) for v in line[1:]))
                ):
                    found.append((key, index, line, line_kind(line, kpt_shape)))
    return found


def _box(line: list[Any], kind: str | None) -> tuple[float, float, float, float] | None:
    """The box of a detection or pose line."""
    if kind in (DETECTION, POSE, POSE_XY):
        return line[1], line[2], line[3], line[4]
    return None


def _coordinate_fields(line: list[Any], kind: str | None) -> Iterator[int]:
    """Field indexes of the line that are fractions of the image size (not pose visibility flags)."""
    if kind in (DETECTION, POLYGON, ORIENTED_BOX):
        yield from range(1, len(line))
    elif kind in (POSE, POSE_XY):
        yield from range(1, 5)
        for start in range(5, len(line), 3 if kind == POSE else 2):
            yield start
            yield start + 1


def _names(document: Any) -> tuple[set[int], str] | None:
    """The valid class indexes and a description of them, when the dataset names its classes."""
    names = document.get("names") if isinstance(document, dict) else None
    if isinstance(names, list):
        if not names:
            return None
        return set(range(len(names))), f"{len(names)} names, indexes 0-{len(names) - 1}"
    if isinstance(names, dict) and names:
        digits = [int_of_digits(k) for k in names if isinstance(k, str) and k.isascii() and k.isdigit()]
        indexes = {i for i in digits if i is not None}
        shown = ", ".join(str(i) for i in sorted(indexes)[:10])
        return indexes, f"names mapping with indexes {shown}{', …' if len(indexes) > 10 else ''}"
    return None


# ---------------------------------------------------------------------------------------------- classes


@rule("YOLO-CLASS-OUT-OF-RANGE")
def class_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    known = _names(ctx.document)
    if known is None:
        return
    indexes, described = known
    for key, index, line, _kind in _lines(ctx):
        if line[0] >= 0 and line[0] not in indexes:  # a negative index is schema.minimum
            yield (
                to_pointer(["labels", key, index, 0]),
                f"class index {line[0]} has no name ({described})",
                "ultralytics rejects the label file (class >= nc) and darknet reads past its names",
            )


@rule("YOLO-NC-NAMES-MISMATCH")
def nc_names_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    document = ctx.document
    if not isinstance(document, dict):
        return
    nc, names = document.get("nc"), document.get("names")
    if _is_int(nc) and isinstance(names, (list, dict)) and nc != len(names):
        yield (
            "/nc",
            f"nc is {nc} but {len(names)} class name{'s are' if len(names) != 1 else ' is'} given",
            "ultralytics refuses a data.yaml whose names and nc disagree",
        )


# ---------------------------------------------------------------------------------------------- lines


@rule("YOLO-LINE-ARITY")
def line_arity(ctx: RuleContext) -> Iterator[Hit]:
    kpt_shape = keypoint_shape(ctx.document)
    for key, index, line, kind in _lines(ctx):
        values = len(line) - 1
        if kind is None and kpt_shape is not None:
            keypoints, per_point = kpt_shape
            yield (
                to_pointer(["labels", key, index]),
                f"{values} numbers after the class index: data.yaml's kpt_shape [{keypoints}, {per_point}] "
                f"makes every line a box and {keypoints} keypoints of {per_point} values "
                f"({4 + keypoints * per_point} numbers)",
                "ultralytics reshapes every pose line to kpt_shape and skips the label file when it fails",
            )
        elif kind is None:
            yield (
                to_pointer(["labels", key, index]),
                f"{values} numbers after the class index: not a box (4), an oriented box (8), a polygon (an "
                "even number, at least 6) or a pose line (4 + 3 per keypoint)",
                "ultralytics skips the whole label file when a line does not reshape",
            )


@rule("YOLO-COORD-OUT-OF-RANGE")
def coord_out_of_range(ctx: RuleContext) -> Iterator[Hit]:
    whole = (DETECTION, POLYGON, ORIENTED_BOX)  # every field after the class is a coordinate
    for key, index, line, kind in _lines(ctx):
        if kind in whole and min(line[1:]) >= 0 and max(line[1:]) <= 1:
            continue  # the usual line: no field to report, and no generator per field
        for position in _coordinate_fields(line, kind):
            value = line[position]
            if value < 0 or value > 1:
                yield (
                    to_pointer(["labels", key, index, position]),
                    f"{value} is not a fraction of the image size in [0, 1]",
                    "ultralytics drops the whole label file (non-normalized or out of bounds coordinates)",
                )


@rule("YOLO-BOX-SIZE-NOT-POSITIVE")
def box_size_not_positive(ctx: RuleContext) -> Iterator[Hit]:
    for key, index, line, kind in _lines(ctx):
        box = _box(line, kind)
        if box is None:
            continue
        for position, name in ((3, "width"), (4, "height")):
            if box[position - 1] <= 0:
                yield (
                    to_pointer(["labels", key, index, position]),
                    f"box {name} is {box[position - 1]}; it must be greater than 0",
                )


@rule("YOLO-BOX-OUTSIDE-IMAGE")
def box_outside_image(ctx: RuleContext) -> Iterator[Hit]:
    for key, index, line, kind in _lines(ctx):
        box = _box(line, kind)
        if box is None:
            continue
        cx, cy, w, h = box
        if w <= 0 or h <= 0:
            continue  # YOLO-BOX-SIZE-NOT-POSITIVE
        left, right, top, bottom = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
        eps = 1e-6  # six-decimal rounding of cx and w may push an edge box a hair past the border
        problems = []
        if left < -eps or right > 1 + eps:
            problems.append(f"x from {left:.6g} to {right:.6g}")
        if top < -eps or bottom > 1 + eps:
            problems.append(f"y from {top:.6g} to {bottom:.6g}")
        if problems:
            yield (
                to_pointer(["labels", key, index]),
                f"box extends past the image border ({', '.join(problems)}; expected within [0, 1])",
                "trainers clip it, so the object's size and centre change",
            )


@rule("YOLO-LINE-DUPLICATE")
def line_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    first: dict[tuple[str, tuple[Any, ...]], int] = {}
    for key, index, line, _kind in _lines(ctx):
        signature = (key, tuple(line))
        if signature in first:
            yield (
                to_pointer(["labels", key, index]),
                "repeats an earlier line of this file value for value "
                f"({to_pointer(['labels', key, first[signature]])})",
                "ultralytics removes duplicate labels with a warning; other trainers count the object twice",
            )
        else:
            first[signature] = index
