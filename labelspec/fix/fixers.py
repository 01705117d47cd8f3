"""The repairs themselves: one function per catalogued fix, editing the document in place.

A fixer gets the document and one finding its fix repairs, changes the document at (or next to) the
finding's pointer, and returns what it changed as ``(pointer, description)`` pairs; an empty list when
the finding is not one it can repair mechanically (the engine then reports it as left over). A fixer edits
only inside the item the finding is in (the element of the outermost list on the way to its pointer): the
engine copies that item before the fix, to put it back if the pass is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labelspec.validator.report import Finding, to_pointer

Change = tuple[str, str]
Fixer = Callable[[Any, Finding], list[Change]]
FIXERS: dict[str, Fixer] = {}


def fixer(fix_id: str) -> Callable[[Fixer], Fixer]:
    def register(function: Fixer) -> Fixer:
        FIXERS[fix_id] = function
        return function

    return register


def tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def resolve(document: Any, path: list[str]) -> Any:
    node = document
    for token in path:
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise LookupError(token)
    return node


def _node(document: Any, pointer: str) -> Any:
    try:
        return resolve(document, tokens(pointer))
    except LookupError:
        return None


def _parent(document: Any, pointer: str) -> tuple[Any, str] | None:
    path = tokens(pointer)
    if not path:
        return None
    try:
        return resolve(document, path[:-1]), path[-1]
    except LookupError:
        return None


def _add_missing(key: str, value: Any) -> Fixer:
    """A fixer adding ``key: value`` to the object at the finding's pointer when the key is absent."""

    def add(document: Any, finding: Finding) -> list[Change]:
        node = _node(document, finding.pointer)
        if not isinstance(node, dict) or key in node:
            return []
        node[key] = value() if callable(value) else value
        return [(to_pointer([*tokens(finding.pointer), key]), f"added {key}: {node[key]!r}")]

    return add


def _drop_member(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None or not isinstance(found[0], dict) or found[1] not in found[0]:
        return []
    del found[0][found[1]]
    return [(finding.pointer, "removed the entry")]


# -------------------------------------------------------------------------------------------- Encord

FIXERS["ENC-FIX-BRANCH-NAME"] = _add_missing("branch_name", "main")
FIXERS["ENC-OBJECT-ANSWER-ORPHAN"] = _drop_member
FIXERS["ENC-OBJECT-ACTION-ORPHAN"] = _drop_member


@fixer("ENC-IMAGE-LABELS-FRAME-KEYED")
def unkey_image_labels(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None:
        return []
    labels, frame = found
    if not isinstance(labels, dict) or not isinstance(labels.get(frame), dict):
        return []
    blob = labels[frame]
    if (
        any(labels.get(k) for k in ("objects", "classifications"))
        or len([k for k in labels if k not in ("objects", "classifications")]) > 1
    ):
        return []  # labels both at the root and under a frame key: merging is not mechanical
    labels.clear()
    labels.update(blob)
    return [(finding.pointer.rsplit("/", 1)[0], f'moved the labels under "{frame}" to the labels root')]


def _flat_ring(polygons: Any) -> list[float] | None:
    if not (isinstance(polygons, list) and polygons and isinstance(polygons[0], list) and polygons[0]):
        return None
    ring = polygons[0][0]
    if not isinstance(ring, list) or len(ring) % 2 or not all(isinstance(v, int | float) for v in ring):
        return None
    return [float(v) for v in ring]


@fixer("ENC-POLYGON-FORMS-DIFFER")
def legacy_polygon_from_polygons(document: Any, finding: Finding) -> list[Change]:
    path = tokens(finding.pointer)
    for cut in range(len(path), -1, -1):  # the object holding both forms: at the pointer or above it
        try:
            obj = resolve(document, path[:cut])
        except LookupError:
            continue
        if isinstance(obj, dict) and "polygons" in obj and "polygon" in obj:
            ring = _flat_ring(obj["polygons"])
            if ring is None:
                return []
            # The form the SDK writes (encord 0.1.190, objects/coordinates.PolygonCoordinates.to_dict).
            obj["polygon"] = {str(n): {"x": ring[2 * n], "y": ring[2 * n + 1]} for n in range(len(ring) // 2)}
            where = to_pointer([*path[:cut], "polygon"])
            return [(where, "rewrote the legacy polygon as ring 0 of polygons[0], which the SDK keeps")]
    return []


@fixer("ENC-FIX-NULL-STRING")
def null_string(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None or not isinstance(found[0], dict) or found[0].get(found[1]) != "null":
        return []
    found[0][found[1]] = None
    return [(finding.pointer, 'the string "null" -> null')]


# ---------------------------------------------------------------------------------------------- COCO

_CROWD = {"0": 0, "false": 0, "no": 0, "1": 1, "true": 1, "yes": 1}


@fixer("COCO-FIX-ISCROWD")
def iscrowd_number(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None or not isinstance(found[0], dict):
        return []
    annotation, key = found
    value = annotation.get(key)
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, str) and value.strip().lower() in _CROWD:
        number = _CROWD[value.strip().lower()]
    elif isinstance(value, float) and value in (0.0, 1.0):
        number = int(value)
    else:
        return []
    annotation[key] = number
    return [(finding.pointer, f"iscrowd {value!r} -> {number}")]


@fixer("COCO-NUM-KEYPOINTS-MISMATCH")
def recount_keypoints(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None or not isinstance(found[0], dict):
        return []
    annotation = found[0]
    keypoints = annotation.get("keypoints")
    if not isinstance(keypoints, list) or len(keypoints) % 3:
        return []
    flags = keypoints[2::3]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in flags):
        return []
    before = annotation.get("num_keypoints")
    annotation["num_keypoints"] = sum(1 for v in flags if v > 0)
    return [(finding.pointer, f"num_keypoints {before} -> {annotation['num_keypoints']} (visibility > 0)")]


def mask_area(document: Any, annotation: dict[str, Any]) -> float | None:
    """The annotation's area computed from its segmentation (pycocotools), None without a usable one."""
    from pycocotools import mask as masks

    segmentation = annotation.get("segmentation")
    image = next(
        (
            i
            for i in document.get("images", [])
            if isinstance(i, dict) and i.get("id") == annotation.get("image_id")
        ),
        None,
    )
    try:
        if isinstance(segmentation, dict):
            rle = segmentation
            if isinstance(rle.get("counts"), list):
                rle = masks.frPyObjects(rle, *rle["size"])
            return float(masks.area(rle))
        if isinstance(segmentation, list) and segmentation and image is not None:
            # Polygons: the area of the rasterised mask, as the COCO tooling computes it.
            rles = masks.frPyObjects(segmentation, int(image["height"]), int(image["width"]))
            return float(masks.area(masks.merge(rles)))
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return None


@fixer("COCO-AREA-NOT-POSITIVE")
def recompute_area(document: Any, finding: Finding) -> list[Change]:
    found = _parent(document, finding.pointer)
    if found is None or not isinstance(found[0], dict):
        return []
    annotation = found[0]
    area = mask_area(document, annotation)
    if not area or area <= 0:
        return []
    before = annotation.get("area")
    annotation["area"] = area
    return [(finding.pointer, f"area {before} -> {area} (pixel count of the segmentation)")]


# ------------------------------------------------------------------------------------------ Segments

FIXERS["SEG-FIX-PCD-TYPE"] = _add_missing("type", "pcd")
FIXERS["SEG-FIX-POINT-ANNOTATIONS"] = _add_missing("point_annotations", list)
FIXERS["SEG-FIX-SAMPLE-METADATA"] = _add_missing("metadata", dict)
