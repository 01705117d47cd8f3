"""The canonical model of labelled media that every conversion goes through.

Readers turn a vendor or interchange document into a :class:`LabelledDataset`; writers turn one into a
document of the target format. Everything is a frozen dataclass, so a reader's output cannot be changed
behind a writer's back, and two datasets compare equal when they hold the same labels.

Conventions (writers and readers rely on them):

- Coordinates are **pixels** of the media item, origin top-left, x to the right, y down. Readers of
  normalised formats (Encord, YOLO) multiply by the item's width/height; writers divide again.
- Masks are :class:`Mask` in **COCO run-length order** (column-major, counts start with a run of 0s),
  so pycocotools can decode them directly; codecs for other orders live in ``labelspec.codecs``.
- Ids are strings in the model (vendors use hashes, UUIDs and integers); writers map them to the
  target's id space and report the mapping when it is not the identity.
- Anything a reader cannot represent, and anything a writer cannot express, is reported through a
  :class:`ConversionReport`, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

AttributeValue = str | int | float | bool | None | tuple[str, ...]
MediaKind = Literal["image", "frame", "slice"]
# what a group of media items is: the frames of a video or of an image sequence, the images of an image group
# (no order in time), the slices of a volume, the pages of a document
GroupKind = Literal["video", "image_sequence", "image_group", "volume", "document"]
AttributeKind = Literal["select", "multiselect", "text", "number", "checkbox"]
# where an item is in its labelling workflow (the vendors' statuses map to these: labelspec.convert.statuses)
LabelStatus = Literal[
    "unlabelled",
    "prelabelled",
    "labelling",
    "labelled",
    "reviewing",
    "reviewed",
    "reviewed_twice",
    "verified",
    "rejected",
    "skipped",
]

# Media attributes set only by readers in inspect mode (``ReadOptions.inspect``), never by a conversion:
MISSING_MEDIA = "labelspec:missing"  # why the pixels (the image, a Segments bitmap) could not be had
NORMALISED = "labelspec:normalised"  # True: coordinates are fractions of an image size nobody knows


@dataclass(frozen=True)
class AttributeDefinition:
    """A property that objects (or media items) of a category can carry."""

    name: str
    kind: AttributeKind
    options: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Category:
    """A class of objects. ``id`` is the category's id in the model (the source's id when it has one)."""

    id: str
    name: str
    supercategory: str | None = None
    color: tuple[int, int, int] | None = None
    attributes: tuple[AttributeDefinition, ...] = ()
    is_thing: bool = True  # COCO panoptic: things have instances, stuff does not
    keypoint_names: tuple[str, ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()  # 0-based pairs of keypoint indexes
    source_id: Any = None  # the id exactly as the source wrote it (int, str, featureHash, ...)


@dataclass(frozen=True, slots=True)
class MediaItem:
    """An image, a frame of a video or image sequence, or a slice of a volume."""

    id: str
    file_name: str
    width: int | None = None
    height: int | None = None
    kind: MediaKind = "image"
    url: str | None = None  # where the pixels are (URL or path), when the export says
    sequence_id: str | None = None  # the MediaGroup (video / sequence / group / volume) this item belongs to
    frame_index: int | None = None  # its frame / slice / page number in that group (None in an image group)
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    # the source's labelling status (of the item's row / task / sample label; None: the source has none)
    status: LabelStatus | None = None


@dataclass(frozen=True, slots=True)
class MediaGroup:
    """What the items whose ``sequence_id`` is ``id`` form together, as far as the source says.

    Readers add one per video, image sequence, image group, volume or document they read, so that a
    writer can write the group as such (an Encord video row, an image sequence) instead of loose images.
    ``frame_count`` is the length of the whole media (a video has frames nobody labelled, which have no
    item); ``fps`` and ``duration`` (seconds) only when the source gives them.
    """

    id: str
    kind: GroupKind
    name: str  # the video file / sequence / group title
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: float | None = None
    frame_count: int | None = None
    url: str | None = None  # where the video is (URL or path), when the export says


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box: top-left corner and size, in pixels."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class RotatedBox:
    """A box rotated by ``theta`` degrees (clockwise, about its centre); x, y is the unrotated top-left."""

    x: float
    y: float
    w: float
    h: float
    theta: float


@dataclass(frozen=True, slots=True)
class Polygon:
    """One polygon: ring 0 is the outer boundary, later rings are holes; rings are flat [x0, y0, x1, ...]."""

    rings: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class MultiPolygon:
    """Several polygons forming one object (e.g. an occluded car seen in two parts)."""

    polygons: tuple[Polygon, ...]


@dataclass(frozen=True, slots=True)
class Polyline:
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Keypoint:
    x: float
    y: float
    visibility: Literal["visible", "occluded", "invisible"] = "visible"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Keypoints:
    """A skeleton instance; point order follows the category's ``keypoint_names`` when it has them."""

    points: tuple[Keypoint, ...]


@dataclass(frozen=True, slots=True)
class Mask:
    """A binary mask as COCO uncompressed RLE: ``counts`` in column-major order, first run of 0s."""

    height: int
    width: int
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Cuboid:
    """A 3-D box in world units: centre, size (length, width, height) and rotation (roll, pitch, yaw)."""

    position: tuple[float, float, float]
    dimensions: tuple[float, float, float]
    rotation: tuple[float, float, float]


Geometry = Box | RotatedBox | Polygon | MultiPolygon | Polyline | Point | Keypoints | Mask | Cuboid


@dataclass(frozen=True, slots=True)
class Annotation:
    """One labelled object on one media item."""

    id: str
    media_id: str
    category_id: str
    geometry: Geometry
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    track_id: str | None = None  # the same object across frames
    confidence: float | None = None
    is_crowd: bool = False
    source_id: Any = None  # the id exactly as the source wrote it (a Segments instance id, a COCO id, ...)


@dataclass(frozen=True)
class Classification:
    """A whole-item (or whole-sequence when ``media_id`` is None) label: a name and its answer."""

    name: str
    value: AttributeValue
    media_id: str | None = None
    frames: tuple[int, ...] = ()  # for sequences: the frames it holds on; () means all


@dataclass(frozen=True)
class LabelledDataset:
    """Everything a conversion carries from source to target."""

    media: tuple[MediaItem, ...]
    categories: tuple[Category, ...]
    annotations: tuple[Annotation, ...]
    classifications: tuple[Classification, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)
    groups: tuple[MediaGroup, ...] = ()  # the videos, sequences and groups the media items belong to

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    def group(self, group_id: str) -> MediaGroup | None:
        for group in self.groups:
            if group.id == group_id:
                return group
        return None

    def annotations_of(self, media_id: str) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if a.media_id == media_id)

    def media_by_group(self) -> tuple[list[MediaItem | str], dict[str, list[MediaItem]]]:
        """The media in dataset order with each group's items replaced by its id (where its first item
        stands), and each group's items in dataset order."""
        order: list[MediaItem | str] = []
        members: dict[str, list[MediaItem]] = {}
        for item in self.media:
            if item.sequence_id is None:
                order.append(item)
                continue
            if item.sequence_id not in members:
                members[item.sequence_id] = []
                order.append(item.sequence_id)
            members[item.sequence_id].append(item)
        return order, members


LossKind = Literal["dropped", "approximated"]


class Loss(NamedTuple):
    """One thing a conversion could not carry over exactly (a named tuple: a conversion of a large dataset
    can report one per object)."""

    kind: LossKind
    what: str  # e.g. "polyline annotation", "object attribute", "classification"
    reason: str
    where: str = ""  # a JSON Pointer into the source, or a media item id


@dataclass
class ConversionReport:
    """Every loss of a conversion, with counts; ``--strict`` turns any loss into an error."""

    source_format: str
    target_format: str
    losses: list[Loss] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # e.g. {"media": 10, "annotations": 120}
    # id mappings a writer applied when it could not keep the source ids, e.g.
    # {"category_id": {"<model id>": 1, ...}}; not a loss, but a consumer needs them
    mappings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def drop(self, what: str, reason: str, where: str = "") -> None:
        self.losses.append(Loss("dropped", what, reason, where))

    def approximate(self, what: str, reason: str, where: str = "") -> None:
        self.losses.append(Loss("approximated", what, reason, where))

    @property
    def lossless(self) -> bool:
        return not self.losses

    def summary(self) -> dict[tuple[str, str, str], int]:
        """Losses grouped by (kind, what, reason) with their counts."""
        grouped: dict[tuple[str, str, str], int] = {}
        for loss in self.losses:
            key = (loss.kind, loss.what, loss.reason)
            grouped[key] = grouped.get(key, 0) + 1
        return grouped

    def to_json(self) -> dict[str, Any]:
        return {
            "source_format": self.source_format,
            "target_format": self.target_format,
            "lossless": self.lossless,
            "counts": dict(self.counts),
            "mappings": {name: dict(mapping) for name, mapping in self.mappings.items()},
            "summary": [
                {"kind": kind, "what": what, "reason": reason, "count": count}
                for (kind, what, reason), count in sorted(self.summary().items())
            ],
            "losses": [
                {"kind": loss.kind, "what": loss.what, "reason": loss.reason, "where": loss.where}
                for loss in self.losses
            ],
        }
