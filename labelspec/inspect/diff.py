"""``labelspec diff A B``: what changed between two exports, of one format or of two, in the model.

- **Media** are matched by id when both exports are of the same format (ids are then the same ids),
  else by file name and frame index (a conversion renames ids, never files).
- **Labels** of matched media are matched by id when both exports are of the same format, and the rest
  by class and geometry: greedily, the most alike pairs of the same class first, when their similarity
  (:func:`labelspec.inspect.geometry.similarity`, the IoU for regions) reaches ``--iou``.
- A matched pair is **changed** when its class, its attributes, or its geometry (similarity below
  ``--iou``; only possible for pairs matched by id) differ. Classifications (whole-item labels) are
  compared as (name, value) pairs.

Both exports are read into the model (chunk by chunk, keeping only the labels); the result is equal
(exit 0) when nothing was added, removed or changed.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from labelspec.convert.model import Annotation, AttributeValue, Classification, MediaItem
from labelspec.inspect.geometry import similarity
from labelspec.inspect.source import InspectError, Options, iter_documents
from labelspec.inspect.stats import geometry_kind

__all__ = [
    "DiffInputError",
    "DiffResult",
    "Side",
    "diff_paths",
    "diff_sides",
    "load_side",
    "write_html",
    "write_text",
]


class DiffInputError(Exception):
    """An input of ``diff`` that cannot be read (exit code 2)."""


@dataclass
class Side:
    """One export in the model, indexed for comparing: media by key, labels by media."""

    path: str
    format: str | None
    media: dict[str, MediaItem] = field(default_factory=dict)
    labels: dict[str, list[Annotation]] = field(default_factory=dict)
    classifications: dict[str, list[Classification]] = field(default_factory=dict)
    class_names: dict[str, str] = field(default_factory=dict)

    def class_of(self, annotation: Annotation) -> str:
        return self.class_names.get(annotation.category_id, annotation.category_id)


def _media_key(item: MediaItem, by_id: bool) -> str:
    if by_id:
        return item.id
    return item.file_name if item.frame_index is None else f"{item.file_name}#{item.frame_index}"


def load_side(path: str, options: Options, other_format: str | None = None) -> Side:
    """An export read whole into a :class:`Side` (one document: zips must hold exactly one)."""
    try:
        documents = list(iter_documents(path, options))
    except InspectError as exc:
        raise DiffInputError(f"{path}: {exc}") from None
    if len(documents) != 1:
        raise DiffInputError(f"{path} holds {len(documents)} documents; diff compares one with one")
    document = documents[0]
    if document.error:
        raise DiffInputError(f"{path}: {document.error}")
    side = Side(document.name, document.format)
    for chunk in document.chunks:
        if chunk.error:
            raise DiffInputError(f"{path}: item {chunk.item}: {chunk.error}")
        dataset = chunk.dataset
        for category in dataset.categories:
            side.class_names.setdefault(category.id, category.name)
        for item in dataset.media:
            side.media[item.id] = item
        for annotation in dataset.annotations:
            side.labels.setdefault(annotation.media_id, []).append(annotation)
        for classification in dataset.classifications:
            side.classifications.setdefault(classification.media_id or "", []).append(classification)
    return side


def _label(side: Side, annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "class": side.class_of(annotation),
        "geometry": geometry_kind(annotation.geometry),
    }


def _value(value: AttributeValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class MediaDiff:
    key: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    classifications_added: list[dict[str, Any]] = field(default_factory=list)
    classifications_removed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.classifications_added
            or self.classifications_removed
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "media": self.key,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "classifications_added": self.classifications_added,
            "classifications_removed": self.classifications_removed,
        }


@dataclass
class DiffResult:
    a: Side
    b: Side
    iou: float
    media_added: list[str] = field(default_factory=list)
    media_removed: list[str] = field(default_factory=list)
    media: list[MediaDiff] = field(default_factory=list)
    class_counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not (self.media_added or self.media_removed or self.media)

    def summary(self) -> dict[str, int]:
        return {
            "media_added": len(self.media_added),
            "media_removed": len(self.media_removed),
            "labels_added": sum(len(m.added) for m in self.media),
            "labels_removed": sum(len(m.removed) for m in self.media),
            "labels_changed": sum(len(m.changed) for m in self.media),
            "classifications_added": sum(len(m.classifications_added) for m in self.media),
            "classifications_removed": sum(len(m.classifications_removed) for m in self.media),
        }

    def to_json(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            labels = sum(len(v) for v in s.labels.values())
            return {"path": s.path, "format": s.format, "media": len(s.media), "labels": labels}

        return {
            "equal": self.equal,
            "iou": self.iou,
            "a": side(self.a),
            "b": side(self.b),
            "summary": self.summary(),
            "media_added": self.media_added,
            "media_removed": self.media_removed,
            "media": [m.to_json() for m in self.media],
            "classes": {
                name: {"a": a, "b": b, "delta": b - a}
                for name, (a, b) in sorted(self.class_counts.items())
                if a != b
            },
        }


def _attributes(annotation: Annotation) -> dict[str, Any]:
    return {k: _value(v) for k, v in sorted(annotation.attributes.items())}


def _compare(
    a: Side, b: Side, left: Annotation, right: Annotation, size: Any, iou: float
) -> dict[str, Any] | None:
    changes: list[str] = []
    if a.class_of(left) != b.class_of(right):
        changes.append("class")
    if _attributes(left) != _attributes(right):
        changes.append("attributes")
    alike = similarity(left.geometry, right.geometry, size)
    if alike < iou:
        changes.append("geometry")
    if not changes:
        return None
    entry: dict[str, Any] = {"a": _label(a, left), "b": _label(b, right), "changes": changes}
    entry["iou"] = round(alike, 4)
    if "attributes" in changes:
        entry["attributes"] = {"a": _attributes(left), "b": _attributes(right)}
    return entry


def _media_diff(
    a: Side, b: Side, key: str, item_a: MediaItem, item_b: MediaItem, by_id: bool, iou: float
) -> MediaDiff:
    result = MediaDiff(key)
    left = list(a.labels.get(item_a.id, []))
    right = list(b.labels.get(item_b.id, []))
    size = (item_a.width, item_a.height) if item_a.width and item_a.height else None
    pairs: list[tuple[Annotation, Annotation]] = []
    if by_id:
        index = {annotation.id: annotation for annotation in right}
        for annotation in list(left):
            match = index.pop(annotation.id, None)
            if match is not None:
                pairs.append((annotation, match))
                left.remove(annotation)
                right.remove(match)
    # class + IoU: the most alike pairs first, each label in one pair at most
    candidates = []
    for i, first in enumerate(left):
        for j, second in enumerate(right):
            if a.class_of(first) == b.class_of(second):
                alike = similarity(first.geometry, second.geometry, size)
                if alike >= iou:
                    candidates.append((-alike, i, j))
    used_left: set[int] = set()
    used_right: set[int] = set()
    for _, i, j in sorted(candidates):
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            pairs.append((left[i], right[j]))
    for first, second in pairs:
        changed = _compare(a, b, first, second, size, iou)
        if changed is not None:
            result.changed.append(changed)
    result.removed = [_label(a, x) for i, x in enumerate(left) if i not in used_left]
    result.added = [_label(b, x) for j, x in enumerate(right) if j not in used_right]
    before = Counter((c.name, repr(c.value), c.frames) for c in a.classifications.get(item_a.id, []))
    after = Counter((c.name, repr(c.value), c.frames) for c in b.classifications.get(item_b.id, []))
    values = {(c.name, repr(c.value), c.frames): c.value for side in (a, b) for c in side.classifications.get(
        item_a.id if side is a else item_b.id, [])}  # fmt: skip
    result.classifications_removed = [
        {"name": k[0], "value": _value(values[k])} for k in sorted((before - after).elements())
    ]
    result.classifications_added = [
        {"name": k[0], "value": _value(values[k])} for k in sorted((after - before).elements())
    ]
    return result


def diff_sides(a: Side, b: Side, iou: float = 0.5) -> DiffResult:
    """Compare two loaded exports (see the module documentation)."""
    by_id = a.format == b.format
    media_a = {_media_key(item, by_id): item for item in a.media.values()}
    media_b = {_media_key(item, by_id): item for item in b.media.values()}
    result = DiffResult(a, b, iou)
    result.media_removed = sorted(set(media_a) - set(media_b))
    result.media_added = sorted(set(media_b) - set(media_a))
    for key in sorted(set(media_a) & set(media_b)):
        change = _media_diff(a, b, key, media_a[key], media_b[key], by_id, iou)
        if not change.empty:
            result.media.append(change)
    counts_a = Counter(a.class_of(x) for labels in a.labels.values() for x in labels)
    counts_b = Counter(b.class_of(x) for labels in b.labels.values() for x in labels)
    result.class_counts = {name: (counts_a[name], counts_b[name]) for name in set(counts_a) | set(counts_b)}
    global_a = Counter((c.name, repr(c.value)) for c in a.classifications.get("", []))
    global_b = Counter((c.name, repr(c.value)) for c in b.classifications.get("", []))
    if global_a != global_b:
        whole = MediaDiff("(whole export)")
        whole.classifications_removed = [
            {"name": n, "value": v} for n, v in sorted((global_a - global_b).elements())
        ]
        whole.classifications_added = [
            {"name": n, "value": v} for n, v in sorted((global_b - global_a).elements())
        ]
        result.media.append(whole)
    return result


def diff_paths(
    path_a: str, path_b: str, options_a: Options, options_b: Options, iou: float = 0.5
) -> DiffResult:
    return diff_sides(load_side(path_a, options_a), load_side(path_b, options_b), iou)


def _describe(label: dict[str, Any]) -> str:
    return f"{label['class']} {label['geometry']} ({label['id']})"


def write_text(result: DiffResult, out: TextIO) -> None:
    summary = result.summary()
    out.write(f"A: {result.a.path} ({result.a.format})\nB: {result.b.path} ({result.b.format})\n")
    for key in result.media_removed:
        out.write(f"- media {key}\n")
    for key in result.media_added:
        out.write(f"+ media {key}\n")
    for media in result.media:
        out.write(f"~ media {media.key}\n")
        for label in media.removed:
            out.write(f"    - {_describe(label)}\n")
        for label in media.added:
            out.write(f"    + {_describe(label)}\n")
        for change in media.changed:
            out.write(
                f"    ~ {_describe(change['a'])} -> {_describe(change['b'])}: {', '.join(change['changes'])}"
                f" (IoU {change['iou']:g})\n"
            )
        for entry in media.classifications_removed:
            out.write(f"    - classification {entry['name']} = {entry['value']!r}\n")
        for entry in media.classifications_added:
            out.write(f"    + classification {entry['name']} = {entry['value']!r}\n")
    for name, counts in result.to_json()["classes"].items():
        out.write(f"class {name}: {counts['a']} -> {counts['b']} ({counts['delta']:+d})\n")
    if result.equal:
        out.write("equal: no media, label or classification added, removed or changed\n")
    else:
        out.write(
            "different: "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary.items() if v)
            + f" (IoU threshold {result.iou:g})\n"
        )


def write_html(result: DiffResult, out: TextIO) -> None:
    """The diff as one self-contained HTML page (no scripts, no external resources)."""
    from labelspec.inspect.page import page

    esc = html.escape
    rows: list[str] = []

    def row(kind: str, key: str, what: str, label: str = "") -> None:
        rows.append(f'<tr class="{kind}"><td>{esc(key)}</td><td>{what}</td><td>{esc(label)}</td></tr>')

    for key in result.media_removed:
        row("removed", key, "media removed")
    for key in result.media_added:
        row("added", key, "media added")
    for media in result.media:
        for label in media.removed:
            row("removed", media.key, "label removed", _describe(label))
        for label in media.added:
            row("added", media.key, "label added", _describe(label))
        for change in media.changed:
            what = f"{_describe(change['a'])} → {_describe(change['b'])}: {', '.join(change['changes'])}"
            row("changed", media.key, "label changed", what)
        for entry in media.classifications_removed:
            row("removed", media.key, "classification removed", f"{entry['name']} = {entry['value']!r}")
        for entry in media.classifications_added:
            row("added", media.key, "classification added", f"{entry['name']} = {entry['value']!r}")
    classes = "".join(
        f"<tr><td>{esc(name)}</td><td>{c['a']}</td><td>{c['b']}</td><td>{c['delta']:+d}</td></tr>"
        for name, c in result.to_json()["classes"].items()
    )
    summary = "".join(
        f'<li><span data-diff="{k}">{v}</span> {esc(k.replace("_", " "))}</li>'
        for k, v in result.summary().items()
    )
    verdict = "equal" if result.equal else "different"
    body = (
        f"<h1>diff: {verdict}</h1>"
        f"<p>A: <code>{esc(result.a.path)}</code> ({esc(str(result.a.format))})<br>"
        f"B: <code>{esc(result.b.path)}</code> ({esc(str(result.b.format))}); "
        f"IoU threshold {result.iou:g}</p><ul>{summary}</ul>"
    )
    if rows:
        head = "<tr><th>media</th><th>what</th><th>label</th></tr>"
        body += f"<h2>Changes</h2><table>{head}{''.join(rows)}</table>"
    if classes:
        head = "<tr><th>class</th><th>A</th><th>B</th><th>delta</th></tr>"
        body += f"<h2>Class counts</h2><table>{head}{classes}</table>"
    out.write(page(f"labelspec diff: {verdict}", body))
