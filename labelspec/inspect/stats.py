"""``labelspec stats``: what is in an export, counted over the canonical model one chunk at a time.

Memory is bounded by the number of distinct values (classes, statuses, image sizes, labels-per-media
counts), never by the number of labels: every distribution is kept as a counter or a fixed histogram.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from labelspec.convert.model import (
    MISSING_MEDIA,
    NORMALISED,
    AttributeValue,
    Box,
    Category,
    Geometry,
    LabelledDataset,
    MediaItem,
    RotatedBox,
)
from labelspec.inspect.source import Chunk, Document

__all__ = ["BOX_BINS", "FileStats", "geometry_kind", "median_of", "write_text"]

# Box sizes: sqrt(box area / image area), in 10 bins over [0, 1].
BOX_BINS = 10


def geometry_kind(geometry: Geometry) -> str:
    """The name a person uses for a geometry type (``box``, ``rotated box``, ``polygon`` ...)."""
    names = {
        "Box": "box",
        "RotatedBox": "rotated box",
        "Polygon": "polygon",
        "MultiPolygon": "polygon",
        "Polyline": "polyline",
        "Point": "point",
        "Keypoints": "skeleton",
        "Mask": "mask",
        "Cuboid": "cuboid",
    }
    return names.get(type(geometry).__name__, type(geometry).__name__.lower())


def median_of(counts: Counter[int]) -> float | None:
    """The median of the multiset ``counts`` (value -> how often)."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(n: int) -> int:
        seen = 0
        for value, times in ordered:
            seen += times
            if n < seen:
                return value
        return ordered[-1][0]

    return (nth((total - 1) // 2) + nth(total // 2)) / 2


def _answer_text(value: AttributeValue) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    if value is None:
        return "(null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _relative_size(geometry: Geometry, media: MediaItem | None) -> float | None:
    """sqrt(box area / image area) for boxes and rotated boxes on media of known size."""
    if not isinstance(geometry, (Box, RotatedBox)) or media is None:
        return None
    if media.attributes.get(NORMALISED):
        area = 1.0
    elif media.width and media.height:
        area = float(media.width * media.height)
    else:
        return None
    return float(min(1.0, max(0.0, abs(geometry.w * geometry.h) / area) ** 0.5))


@dataclass
class FileStats:
    """The counts of one document, filled by :meth:`add` chunk by chunk."""

    path: str
    format: str | None
    error: str | None = None
    media: int = 0
    labels: int = 0
    classifications: int = 0
    unreadable_items: int = 0
    categories: dict[str, Category] = field(default_factory=dict)
    class_labels: Counter[str] = field(default_factory=Counter)
    class_media: Counter[str] = field(default_factory=Counter)
    per_media: Counter[int] = field(default_factory=Counter)
    geometries: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    data_types: Counter[str] = field(default_factory=Counter)
    labelsets: Counter[str] = field(default_factory=Counter)
    attributes: dict[str, Counter[str]] = field(default_factory=dict)
    image_sizes: Counter[str] = field(default_factory=Counter)
    missing_media: int = 0
    box_bins: list[int] = field(default_factory=lambda: [0] * BOX_BINS)
    boxes_unsized: int = 0

    def class_name(self, category_id: str) -> str:
        category = self.categories.get(category_id)
        return category.name if category is not None else category_id

    def add(self, chunk: Chunk, document: Document) -> None:
        if chunk.error is not None:
            self.unreadable_items += 1
            return
        dataset = chunk.dataset
        for category in dataset.categories:
            self.categories.setdefault(category.id, category)
        self._facets(chunk, document)
        self.add_dataset(dataset)

    def add_dataset(self, dataset: LabelledDataset) -> None:
        by_media: dict[str, list[Any]] = {item.id: [] for item in dataset.media}
        for annotation in dataset.annotations:
            by_media.setdefault(annotation.media_id, []).append(annotation)
        items = {item.id: item for item in dataset.media}
        self.media += len(by_media)
        self.classifications += len(dataset.classifications)
        for classification in dataset.classifications:
            counter = self.attributes.setdefault(classification.name, Counter())
            counter[_answer_text(classification.value)] += 1
        for media_id, own in by_media.items():
            item = items.get(media_id)
            self.per_media[len(own)] += 1
            if item is not None:
                if item.width and item.height:
                    self.image_sizes[f"{item.width}x{item.height}"] += 1
                else:
                    self.image_sizes["unknown"] += 1
                self.missing_media += MISSING_MEDIA in item.attributes
            for name in {self.class_name(a.category_id) for a in own}:
                self.class_media[name] += 1
            for annotation in own:
                self.labels += 1
                self.class_labels[self.class_name(annotation.category_id)] += 1
                self.geometries[geometry_kind(annotation.geometry)] += 1
                for key, value in annotation.attributes.items():
                    self.attributes.setdefault(key, Counter())[_answer_text(value)] += 1
                if isinstance(annotation.geometry, (Box, RotatedBox)):
                    size = _relative_size(annotation.geometry, item)
                    if size is None:
                        self.boxes_unsized += 1
                    else:
                        self.box_bins[min(BOX_BINS - 1, int(size * BOX_BINS))] += 1

    def _facets(self, chunk: Chunk, document: Document) -> None:
        """Statuses, data types and labelsets: in the source's JSON, not in the model."""
        raw = chunk.raw
        if not isinstance(raw, dict):
            return
        if document.format == "encord":
            self.statuses[str(raw.get("label_status", "(none)"))] += 1
            self.data_types[str(raw.get("data_type", "(none)"))] += 1
        elif document.format == "datagym":
            self.statuses[str(raw.get("status", "(none)"))] += 1
            self.data_types["image"] += 1
        elif document.format == "segments":
            labels = raw.get("labels")
            header = document.header if isinstance(document.header, dict) else {}
            dataset = header.get("dataset")
            task_type = dataset.get("task_type", "(none)") if isinstance(dataset, dict) else "(none)"
            self.data_types[str(task_type)] += 1
            for labelset, label in (labels or {}).items() if isinstance(labels, dict) else ():
                self.labelsets[str(labelset)] += 1
                status = label.get("label_status") if isinstance(label, dict) else None
                self.statuses[str(status or "UNLABELED")] += 1

    def to_json(self) -> dict[str, Any]:
        names = {c.name for c in self.categories.values()} | set(self.class_labels)
        classes = {
            name: {"labels": self.class_labels.get(name, 0), "media": self.class_media.get(name, 0)}
            for name in sorted(names)
        }
        boxes = sum(self.box_bins)
        return {
            "path": self.path,
            "format": self.format,
            **({"error": self.error} if self.error else {}),
            "media": self.media,
            "labels": self.labels,
            "classifications": self.classifications,
            "classes": classes,
            "labels_per_media": {
                "min": min(self.per_media) if self.per_media else None,
                "median": median_of(self.per_media),
                "max": max(self.per_media) if self.per_media else None,
                "histogram": {str(k): v for k, v in sorted(self.per_media.items())},
            },
            "geometries": dict(sorted(self.geometries.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "data_types": dict(sorted(self.data_types.items())),
            "labelsets": dict(sorted(self.labelsets.items())),
            "attributes": {k: dict(sorted(v.items())) for k, v in sorted(self.attributes.items())},
            "image_sizes": dict(sorted(self.image_sizes.items())),
            "media_missing": self.missing_media,
            "unreadable_items": self.unreadable_items,
            "box_sizes": {
                "boxes": boxes + self.boxes_unsized,
                "unsized": self.boxes_unsized,
                "bins": [round(k / BOX_BINS, 3) for k in range(BOX_BINS + 1)],
                "counts": list(self.box_bins),
            },
        }


def collect(document: Document) -> FileStats:
    """The stats of one document, reading it chunk by chunk."""
    stats = FileStats(document.name, document.format, document.error)
    for chunk in document.chunks:
        stats.add(chunk, document)
    return stats


def _top(counter: dict[str, int], limit: int = 12) -> str:
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
    more = f", … ({len(counter)} in all)" if len(counter) > limit else ""
    return (shown + more) or "-"


def write_text(files: list[dict[str, Any]], out: TextIO) -> None:
    for entry in files:
        if entry.get("error") and not entry["media"]:
            out.write(f"{entry['path']}: UNREADABLE ({entry['error']})\n")
            continue
        per = entry["labels_per_media"]
        out.write(f"{entry['path']}: {entry['format']}, {entry['media']} media, {entry['labels']} labels\n")
        if entry.get("error"):
            out.write(f"  error: {entry['error']}\n")
        width = max((len(name) for name in entry["classes"]), default=5)
        if entry["classes"]:
            out.write(f"  {'class':<{width}}  labels   media\n")
        for name, counts in sorted(entry["classes"].items(), key=lambda kv: (-kv[1]["labels"], kv[0])):
            out.write(f"  {name:<{width}}  {counts['labels']:>6}  {counts['media']:>6}\n")
        if per["min"] is not None:
            out.write(f"  labels per media: min {per['min']}, median {per['median']:g}, max {per['max']}\n")
        for title, key in (
            ("geometries", "geometries"),
            ("statuses", "statuses"),
            ("data types", "data_types"),
            ("labelsets", "labelsets"),
            ("image sizes", "image_sizes"),
        ):
            if entry[key]:
                out.write(f"  {title}: {_top(entry[key])}\n")
        for name, answers in entry["attributes"].items():
            out.write(f"  attribute {name}: {_top(answers, 6)}\n")
        boxes = entry["box_sizes"]
        if boxes["boxes"]:
            sized = boxes["boxes"] - boxes["unsized"]
            bins = ", ".join(f"<{boxes['bins'][i + 1]:g}: {c}" for i, c in enumerate(boxes["counts"]) if c)
            out.write(
                f"  box sizes (sqrt of the image share), {sized} of {boxes['boxes']} boxes: {bins or '-'}\n"
            )
        if entry["media_missing"]:
            out.write(f"  media whose pixels could not be had: {entry['media_missing']}\n")
        if entry["unreadable_items"]:
            out.write(f"  items that could not be read: {entry['unreadable_items']}\n")


def gather(paths: list[str], options: Any) -> list[FileStats]:
    """The stats of every document of every input path; unreadable ones carry their ``error``."""
    from labelspec.inspect.source import InspectError, iter_documents

    files: list[FileStats] = []
    for path in paths:
        try:
            for document in iter_documents(path, options):
                files.append(collect(document))
        except InspectError as exc:
            files.append(FileStats(str(path), options.format, str(exc)))
    return files
