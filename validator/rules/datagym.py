"""Semantic rules of the DataGym.ai project export (``DG-…``): classes used vs. classes declared, payloads
that fit their class, answers that fit their classification, segmentation URLs that fit the labels.

One walk over the document collects every geometry entry and every classification value (with its JSON
path); it is memoised per validation run, so each rule is a pass over those lists. The walk is iterative
and reads defensively: the document may be any JSON value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, cross_item, rule

GEOMETRY_TYPES = frozenset({"point", "line", "polygon", "rectangle", "image_segmentation"})
CLASSIFICATION_TYPES = frozenset({"select", "checklist", "freetext", "radio"})
SINGLE_ANSWER_TYPES = frozenset({"select", "freetext", "radio"})
PAYLOAD_KEYS = ("point", "line", "polygon", "rectangle", "image_segmentation", "geometry")

Path = list[str | int]


@dataclass
class _Geometry:
    """One geometry entry: under ``labels`` (root) or ``nested_geometries`` (nested)."""

    path: Path
    key: str  # the class key it is listed under
    entry: dict[str, Any]
    task: int
    nested: bool
    payload_key: str | None = None  # the one payload key of the entry, None when there is not exactly one
    kind: str | None = None  # the geometry kind: the payload key, or for `geometry` the class's type


@dataclass
class _Classification:
    """One classification value (an array) with the class key it is listed under (in map ``parent``)."""

    parent: Path
    key: str
    value: list[Any]

    @property
    def path(self) -> Path:
        return [*self.parent, self.key]


@dataclass
class _Walk:
    # class_name -> the set of its declared types (geometry_type or classification_type values)
    classes: dict[str, set[str]] = field(default_factory=dict)
    # (index in label_classes, class_name, type)
    class_entries: list[tuple[int, str, str]] = field(default_factory=list)
    tasks: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    geometries: list[_Geometry] = field(default_factory=list)
    classifications: list[_Classification] = field(default_factory=list)


def _walk(ctx: RuleContext) -> _Walk:
    """The walk over the context's document, made once per document."""
    return ctx.memo(_walk_document)


def _walk_document(ctx: RuleContext) -> _Walk:
    return _build(ctx.document)


def _build(document: Any) -> _Walk:
    walk = _Walk()
    if not isinstance(document, list) or not document:
        return walk
    head = document[0]
    if isinstance(head, dict) and isinstance(head.get("label_classes"), list):
        for index, label_class in enumerate(head["label_classes"]):
            if not isinstance(label_class, dict) or not isinstance(label_class.get("class_name"), str):
                continue
            kind = label_class.get("geometry_type", label_class.get("classification_type"))
            if isinstance(kind, str):
                walk.classes.setdefault(label_class["class_name"], set()).add(kind)
                walk.class_entries.append((index, label_class["class_name"], kind))
    for task_index in range(1, len(document)):
        task = document[task_index]
        if not isinstance(task, dict):
            continue
        walk.tasks.append((task_index, task))
        _collect_classifications(
            walk, [task_index, "global_classifications"], task.get("global_classifications")
        )
        labels = task.get("labels")
        if isinstance(labels, dict):
            _collect_geometries(walk, [task_index, "labels"], labels, task_index, nested=False)
    return walk


def _collect_geometries(walk: _Walk, base: Path, groups: dict[str, Any], task: int, nested: bool) -> None:
    for key, entries in groups.items():
        if not isinstance(entries, list):
            continue
        for number, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            path = [*base, key, number]
            geometry = _Geometry(path, key, entry, task, nested, _payload_key(entry))
            geometry.kind = _effective_type(geometry, walk.classes)
            walk.geometries.append(geometry)
            _collect_classifications(walk, [*path, "classifications"], entry.get("classifications"))
            children = entry.get("nested_geometries")
            if not nested and isinstance(children, dict):
                _collect_geometries(walk, [*path, "nested_geometries"], children, task, nested=True)


def _collect_classifications(walk: _Walk, base: Path, values: Any) -> None:
    """Every classification value of a map, children included (iteratively: depth is unbounded)."""
    if not isinstance(values, dict) or not values:
        return
    found = walk.classifications
    stack: list[tuple[Path, dict[Any, Any]]] = [(base, values)]
    while stack:
        path, mapping = stack.pop()
        for key, value in mapping.items():
            if not isinstance(value, list):
                continue
            found.append(_Classification(path, key, value))
            if len(value) > 1:  # children follow the answers; a one-element value has none
                for position, item in enumerate(value):
                    if isinstance(item, dict) and item:
                        stack.append(([*path, key, position], item))


def _types_text(types: set[str]) -> str:
    return " and ".join(sorted(types))


def _payload_key(entry: dict[str, Any]) -> str | None:
    keys = [key for key in PAYLOAD_KEYS if key in entry]
    return keys[0] if len(keys) == 1 else None


def _effective_type(geometry: _Geometry, classes: dict[str, set[str]]) -> str | None:
    """The geometry kind of an entry: its payload key, or for a legacy `geometry` key its class's type."""
    key = geometry.payload_key
    if key is None:
        return None
    if key != "geometry":
        return key
    declared = classes.get(geometry.key, set()) & GEOMETRY_TYPES
    return next(iter(declared)) if len(declared) == 1 else None


def _is_coordinate(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------- classes


@rule("DG-LABEL-CLASS-UNDECLARED")
def label_class_undeclared(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    seen: set[str] = set()
    for geometry in walk.geometries:
        if geometry.key in walk.classes:
            continue
        pointer = to_pointer(geometry.path[:-1])
        if pointer in seen:
            continue
        seen.add(pointer)
        where = "nested_geometries" if geometry.nested else "labels"
        yield (
            pointer,
            f"{where} key {geometry.key!r} is not a class_name of label_classes",
            "every class used in a task is listed in element 0's label_classes",
        )


@rule("DG-LABEL-CLASS-NOT-GEOMETRY")
def label_class_not_geometry(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    seen: set[str] = set()
    for geometry in walk.geometries:
        types = walk.classes.get(geometry.key)
        if not types or types & GEOMETRY_TYPES:
            continue
        pointer = to_pointer(geometry.path[:-1])
        if pointer in seen:
            continue
        seen.add(pointer)
        yield (
            pointer,
            f"class {geometry.key!r} holds geometries but is declared as {_types_text(types)}, not as a "
            "point, line, polygon, rectangle or image_segmentation class",
        )


@rule("DG-CLASSIFICATION-CLASS-UNDECLARED")
def classification_class_undeclared(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    for classification in walk.classifications:
        if classification.key not in walk.classes:
            yield (
                to_pointer(classification.path),
                f"classification key {classification.key!r} is not a class_name of label_classes",
                "every class used in a task is listed in element 0's label_classes",
            )


@rule("DG-CLASSIFICATION-CLASS-NOT-CLASSIFICATION")
def classification_class_not_classification(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    for classification in walk.classifications:
        types = walk.classes.get(classification.key)
        if types and not types & CLASSIFICATION_TYPES:
            yield (
                to_pointer(classification.path),
                f"class {classification.key!r} holds answers but is declared as {_types_text(types)}, not as "
                "a select, checklist or freetext class",
            )


@rule("DG-LABEL-CLASS-DUPLICATE-TYPES")
def label_class_duplicate_types(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    first: dict[str, tuple[int, str]] = {}
    for index, name, kind in walk.class_entries:
        if name not in first:
            first[name] = (index, kind)
        elif first[name][1] != kind:
            yield (
                to_pointer([0, "label_classes", index]),
                f"class_name {name!r} is declared as {kind} here and as {first[name][1]} at "
                f"/0/label_classes/{first[name][0]}",
                "the same key under two root entries is legal, but readers that key classes by name keep one "
                "of the two types",
            )


@rule("DG-PAYLOAD-KEY-MISMATCH")
def payload_key_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    for geometry in walk.geometries:
        declared = walk.classes.get(geometry.key, set()) & GEOMETRY_TYPES
        key = geometry.payload_key
        if not declared or key is None:
            continue
        if key != "geometry":
            if key not in declared:
                yield (
                    to_pointer([*geometry.path, key]),
                    f"payload key {key!r}, but class {geometry.key!r} is a {_types_text(declared)} class "
                    f"(expected the payload under {_types_text(declared)!r})",
                )
            continue
        payload = geometry.entry["geometry"]
        if not isinstance(payload, list) or not payload:
            continue
        rings = all(isinstance(item, list) for item in payload)
        boxes = all(isinstance(item, dict) and "w" in item and "h" in item for item in payload)
        shape = "image_segmentation" if rings else "rectangle" if boxes else "point"
        fits = {
            "image_segmentation": {"image_segmentation"},
            "rectangle": {"rectangle"},
            "point": {"point", "line", "polygon"},
        }[shape]
        if not declared & fits:
            described = {
                "image_segmentation": "a list of rings",
                "rectangle": "a box {x, y, w, h}",
                "point": "a list of points",
            }[shape]
            yield (
                to_pointer([*geometry.path, "geometry"]),
                f"the geometry payload is {described}, which does not fit class {geometry.key!r} "
                f"({_types_text(declared)})",
            )


# ---------------------------------------------------------------------------------------------- shapes


def _too_few_points(ctx: RuleContext, kind: str, minimum: int) -> Iterator[Hit]:
    """Geometries of ``kind`` with fewer than ``minimum`` points (the backend still exports them)."""
    for geometry in _walk(ctx).geometries:
        if geometry.kind != kind:
            continue
        key = geometry.payload_key or kind
        payload = geometry.entry.get(key)
        if isinstance(payload, list) and len(payload) < minimum:
            yield (
                to_pointer([*geometry.path, key]),
                f"{kind} has {len(payload)} point{'s' if len(payload) != 1 else ''}; a {kind} needs at "
                f"least {minimum}",
                "the editor saves it as invalid and the export still writes it",
            )


@rule("DG-POLYGON-TOO-FEW-POINTS")
def polygon_too_few_points(ctx: RuleContext) -> Iterator[Hit]:
    yield from _too_few_points(ctx, "polygon", 3)


@rule("DG-LINE-TOO-FEW-POINTS")
def line_too_few_points(ctx: RuleContext) -> Iterator[Hit]:
    yield from _too_few_points(ctx, "line", 2)


@rule("DG-RECTANGLE-EMPTY")
def rectangle_empty(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    for geometry in walk.geometries:
        if geometry.kind != "rectangle":
            continue
        key = geometry.payload_key or "rectangle"
        payload = geometry.entry.get(key)
        if not isinstance(payload, list):
            continue
        for number, box in enumerate(payload):
            if not isinstance(box, dict):
                continue
            w, h = box.get("w"), box.get("h")
            if _is_coordinate(w) and _is_coordinate(h) and (w == 0 or h == 0):
                yield (
                    to_pointer([*geometry.path, key, number]),
                    f"rectangle has size {w}x{h}; a box needs a positive width and height",
                )


def _ring_length(ring: list[Any]) -> int:
    """Vertices of a ring, not counting a closing vertex that repeats the first."""
    if len(ring) > 1 and ring[0] == ring[-1]:
        return len(ring) - 1
    return len(ring)


def _segmentation_payloads(walk: _Walk) -> Iterator[tuple[Path, list[Any]]]:
    for geometry in walk.geometries:
        if geometry.kind != "image_segmentation":
            continue
        key = geometry.payload_key or "image_segmentation"
        payload = geometry.entry.get(key)
        if isinstance(payload, list):
            yield [*geometry.path, key], payload


@rule("DG-SEGMENTATION-RING-TOO-FEW-POINTS")
def segmentation_ring_too_few_points(ctx: RuleContext) -> Iterator[Hit]:
    for path, rings in _segmentation_payloads(_walk(ctx)):
        for number, ring in enumerate(rings):
            if isinstance(ring, list) and _ring_length(ring) < 3:
                role = "outer ring" if number == 0 else f"hole {number}"
                yield (
                    to_pointer([*path, number]),
                    f"{role} has {_ring_length(ring)} distinct vertices; a ring needs at least 3",
                    "the bitmap export fills nothing for it",
                )


def _bounds(ring: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(ring, list):
        return None
    xs: list[float] = []
    ys: list[float] = []
    for point in ring:
        if isinstance(point, dict) and _is_coordinate(point.get("x")) and _is_coordinate(point.get("y")):
            xs.append(point["x"])
            ys.append(point["y"])
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


@rule("DG-SEGMENTATION-HOLE-OUTSIDE-OUTER")
def segmentation_hole_outside_outer(ctx: RuleContext) -> Iterator[Hit]:
    for path, rings in _segmentation_payloads(_walk(ctx)):
        outer = _bounds(rings[0]) if rings else None
        if outer is None:
            continue
        for number in range(1, len(rings)):
            hole = _bounds(rings[number])
            if hole is None:
                continue
            if hole[0] < outer[0] or hole[1] < outer[1] or hole[2] > outer[2] or hole[3] > outer[3]:
                yield (
                    to_pointer([*path, number]),
                    f"hole {number} spans x {hole[0]}..{hole[2]}, y {hole[1]}..{hole[3]}, outside the outer "
                    f"ring 0 (x {outer[0]}..{outer[2]}, y {outer[1]}..{outer[3]})",
                    "ring 0 is the outer boundary and every further ring a hole in it; are the rings in the "
                    "wrong order?",
                )


# ---------------------------------------------------------------------------------------------- answers


@rule("DG-ANSWER-MULTIPLE-FOR-SINGLE-CHOICE")
def answer_multiple_for_single_choice(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    for classification in walk.classifications:
        types = walk.classes.get(classification.key)
        if not types or not types <= SINGLE_ANSWER_TYPES:
            continue
        answers = [item for item in classification.value if isinstance(item, str)]
        if len(answers) > 1:
            yield (
                to_pointer(classification.path),
                f"{len(answers)} answers for {_types_text(types)} class {classification.key!r}; only a "
                "checklist holds more than one",
                "the label import keeps exactly one answer of a select or freetext",
            )


@rule("DG-ANSWER-NULL-MIXED")
def answer_null_mixed(ctx: RuleContext) -> Iterator[Hit]:
    for classification in _walk(ctx).classifications:
        value = classification.value
        if any(item is None for item in value) and any(isinstance(item, str) for item in value):
            yield (
                to_pointer(classification.path),
                f"class {classification.key!r} has null together with answers; null stands alone for "
                "'unanswered'",
            )


@rule("DG-ANSWER-AFTER-CHILD")
def answer_after_child(ctx: RuleContext) -> Iterator[Hit]:
    for classification in _walk(ctx).classifications:
        child_seen = False
        for position, item in enumerate(classification.value):
            if isinstance(item, dict):
                child_seen = True
            elif child_seen and isinstance(item, str):
                yield (
                    to_pointer([*classification.path, position]),
                    f"answer {item!r} follows a nested child classification; answers come first, then the "
                    "children",
                )
                break


# ---------------------------------------------------------------------------------------------- tasks


def _media_id(task: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("internal_media_ID", "internal_image_ID"):
        value = task.get(key)
        if isinstance(value, str):
            return key, value
    return None


@rule("DG-MEDIA-ID-DUPLICATE")
def media_id_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    first: dict[str, int] = {}
    for index, task in _walk(ctx).tasks:
        found = _media_id(task)
        if found is None:
            continue
        key, value = found
        if value in first:
            yield (
                to_pointer([index, key]),
                f"{key} {value!r} is already the media of task /{first[value]}; each task is one media file",
                "the label import and readers keyed by media id keep only one of the two tasks",
            )
        else:
            first[value] = index


def _segmentation_keys(walk: _Walk) -> dict[int, set[str]]:
    """Per task index: the label keys holding at least one image segmentation value."""
    keys: dict[int, set[str]] = {}
    for geometry in walk.geometries:
        if not geometry.nested and geometry.kind == "image_segmentation":
            keys.setdefault(geometry.task, set()).add(geometry.key)
    return keys


def _url_key(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. a malformed IPv6 host
        path = url
    return unquote_plus(path.rstrip("/").rsplit("/", 1)[-1])


@rule("DG-SEGMENTATIONS-WITHOUT-VALUES")
def segmentations_without_values(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    keys = _segmentation_keys(walk)
    for index, task in walk.tasks:
        urls = task.get("segmentations")
        if isinstance(urls, list) and urls and index not in keys:
            yield (
                to_pointer([index, "segmentations"]),
                f"{len(urls)} segmentation URL{'s' if len(urls) != 1 else ''} but the task's labels hold no "
                "image_segmentation value",
                "the backend writes segmentations only for tasks with a valid image segmentation",
            )


@rule("DG-SEGMENTATION-URL-KEY-UNKNOWN")
def segmentation_url_key_unknown(ctx: RuleContext) -> Iterator[Hit]:
    walk = _walk(ctx)
    keys = _segmentation_keys(walk)
    for index, task in walk.tasks:
        urls = task.get("segmentations")
        if not isinstance(urls, list) or index not in keys:
            continue  # no segmentation value at all: DG-SEGMENTATIONS-WITHOUT-VALUES
        for number, url in enumerate(urls):
            if not isinstance(url, str):
                continue
            key = _url_key(url)
            if key not in keys[index]:
                yield (
                    to_pointer([index, "segmentations", number]),
                    f"the URL names class {key!r}, but the task's image segmentations are under "
                    f"{', '.join(repr(k) for k in sorted(keys[index]))}",
                    "URLs end in the URL-encoded key of an image_segmentation class of the task",
                )


def _media_ids(task: Any) -> Any:
    """What DG-MEDIA-ID-DUPLICATE reads of a task (item-by-item validation runs it over these)."""
    if not isinstance(task, dict):
        return None
    return {key: task[key] for key in ("internal_media_ID", "internal_image_ID") if key in task}


cross_item("datagym", ["DG-MEDIA-ID-DUPLICATE"], _media_ids)
