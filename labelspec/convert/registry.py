"""The registry of converters: readers (format -> canonical model) and writers (model -> target).

``labelspec convert`` and ``labelspec formats`` read this registry; the documentation renders the
``keeps`` / ``drops`` paragraphs. Entries are *specs* that name their implementation as
``"module:attribute"`` and import it only when used, so listing the converters (``labelspec formats``)
stays cheap.

Protocols:

- a reader is a callable ``read(document, options: ReadOptions, report: ConversionReport) ->
  LabelledDataset``; ``document`` is the parsed source as the validator loads it (JSON for the vendor
  formats and COCO, the parsed form of a folder for YOLO, see ``labelspec.formats.yolo``);
- a writer is an object with ``write(dataset, out, options: WriteOptions, report) -> list[Path]`` and
  ``validate_output(paths) -> Report``. For ``output == "file"`` targets ``out`` is the file to write
  (a writer may add sibling files next to it, e.g. an ontology, and returns every path it wrote); for
  ``output == "folder"`` targets ``out`` is the folder (created by the writer). ``labelspec.convert.api``
  hands the writer a path inside a private staging folder and publishes the result atomically (rename)
  only after ``validate_output`` passed and, under ``--strict``, nothing was lost; writers still write
  each file with ``labelspec.convert.atomic`` and name members with ``labelspec.convert.media
  .safe_member_path``. Every loss goes to the ``ConversionReport``.

To add a writer: implement it in ``labelspec/convert/writers/<name>.py`` and add (or complete) its
:class:`WriterSpec` in :data:`WRITERS` below.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # heavy imports only for the type checker
    from labelspec.convert.model import ConversionReport, LabelledDataset
    from labelspec.validator.report import Report


class ConversionError(Exception):
    """A conversion that must not produce output (invalid input/output, loss under ``--strict``).

    ``exit_code`` follows the CLI convention: 1 invalid input / output or loss under ``--strict``,
    2 unreadable input or bad usage. ``validation`` is the validator's report when one caused it, and
    ``conversion`` the conversion report gathered so far.
    """

    def __init__(
        self,
        message: str,
        exit_code: int = 1,
        *,
        validation: Report | None = None,
        conversion: ConversionReport | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.validation = validation
        self.conversion = conversion


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may need besides the document (all from the ``convert`` command line)."""

    ontology: Any = None  # the parsed Encord ontology document (``--ontology``)
    media_dir: Path | None = None  # where the media files are (``--media-dir``): sizes, bitmaps
    labelset: str | None = None  # Segments: the labelset to read (default: ground-truth, else the only one)
    # vendor readers: only items with one of these statuses (case-insensitive); () = the reader's default
    # (everything but skipped / not-labelled items), ("all",) = every status
    statuses: tuple[str, ...] = ()
    branch: str = "main"  # Encord: the label branch to read; rows of other branches are reported
    offline: bool = False  # never touch the network (--offline): media dir, local files and cache only
    allow_private_network: bool = False  # let export URLs reach loopback/private/link-local addresses
    source_path: Path | None = None  # the input file, to resolve relative media paths
    cache_dir: Path | None = None  # where fetched media (URLs) are cached
    # Reading to look at an export (stats, report, diff) rather than to convert it: media that cannot be
    # had do not stop the reader (YOLO without images keeps normalised coordinates, a Segments bitmap
    # that cannot be had gives empty masks), and the media item says why (``MISSING_MEDIA``).
    inspect: bool = False


@dataclass(frozen=True)
class WriteOptions:
    """What a writer may need besides the dataset."""

    force: bool = False  # overwrite existing files
    media_dir: Path | None = None  # where the source media files are (writers that copy or read pixels)
    layout: str | None = None  # a target's choice of layout, one of LAYOUTS[target] (None: the first)
    id_increment: int = 0  # semantic-png: value = category id + id_increment (as the segments-ai SDK)


# the --layout choices per target, the default first: YOLO's folder layout; Encord and Segments: videos and
# image sequences written as such ("sequences") or every media item as an image row / sample ("images")
LAYOUTS: dict[str, tuple[str, ...]] = {
    "yolo": ("ultralytics", "darknet"),
    "encord": ("sequences", "images"),
    "segments": ("sequences", "images"),
}


class ReadFunction(Protocol):
    def __call__(self, document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset: ...


class Writer(Protocol):
    target_id: str

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]: ...

    def validate_output(self, paths: Sequence[Path]) -> Report: ...


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class ReaderSpec:
    format_id: str  # the source format id (as in ``labelspec formats`` / the validator)
    target: str  # "module:function"
    keeps: str
    drops: str
    needs: str = ""  # options the reader may need (shown in help and docs)

    def load(self) -> ReadFunction:
        function: ReadFunction = _load(self.target)
        return function

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format_id, "keeps": self.keeps, "drops": self.drops, "needs": self.needs}


@dataclass(frozen=True)
class WriterSpec:
    target_id: str  # the ``--to`` value
    target: str  # "module:attribute" of an object implementing :class:`Writer`
    output: Literal["file", "folder"]
    keeps: str
    drops: str
    validates_as: str | None = None  # the spec format its output is validated against (None: PNG checks)
    needs_sizes: bool = True  # coordinates are fractions of, or rasters of, the image size

    def load(self) -> Writer:
        writer: Writer = _load(self.target)
        return writer

    def available(self) -> bool:
        try:
            self.load()
        except (ImportError, AttributeError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target_id,
            "output": self.output,
            "keeps": self.keeps,
            "drops": self.drops,
            "validates_as": self.validates_as,
        }


_R = "labelspec.convert.readers"
_W = "labelspec.convert.writers"

READERS: dict[str, ReaderSpec] = {
    spec.format_id: spec
    for spec in (
        ReaderSpec(
            "datagym",
            f"{_R}.datagym:read",
            keeps="Geometry and image-segmentation label classes become categories (id = class name); per "
            "image task: rectangles as boxes, polygons, lines as polylines, points, image segmentations as "
            "polygons with holes; nested geometries as annotations with a 'parent' attribute; a geometry's "
            "classifications as its attributes (nested answers as 'parent/child'); global classifications "
            "as image classifications; the image name (external_media_ID).",
            drops="Video-project tasks (the export carries no labels for them); skipped and reviewed_skip "
            "tasks unless --status says otherwise (counted); task metadata (status, "
            "labeler, segmentation bitmap URLs); null rectangles/points and geometries with too few points "
            "(reported). Image sizes are not in DataGym exports: they come from the media file headers "
            "under --media-dir, else targets that need them stop with an error saying so.",
            needs="--media-dir (image sizes), --status",
        ),
        ReaderSpec(
            "segments",
            f"{_R}.segments:read",
            keeps="task_attributes categories (ids, names, colours, attributes); the chosen labelset "
            "(--labelset, default ground-truth) and statuses (--status); image vector labels (bbox, "
            "polygon, polyline, point) in pixels; bitmap labels as one mask per annotation id (bitmap "
            "ids R + 256 G + 65536 B); object and image attributes; image-sequence frames as frame items "
            "with tracks; point-cloud cuboids.",
            drops="Samples without a label in the labelset (reported) or filtered out by --status (counted); "
            "point-cloud vector and segmentation and legacy text tasks (reported per sample); the "
            "point-cloud sensors of multi-sensor samples (their camera sensors are read as image "
            "sequences <sample>/<sensor>); SKIPPED samples unless --status says otherwise (counted); "
            "zero-pixel bitmap instances and bitmap ids "
            "without an annotation (reported); label "
            "metadata (created_by, score, links). Bitmap PNGs: --media-dir (file = the URL's basename), "
            "local paths, or fetched over HTTP(S) into the cache.",
            needs="--labelset, --status, --media-dir (bitmaps, sizes)",
        ),
        ReaderSpec(
            "encord",
            f"{_R}.encord:read",
            keeps="With the ontology (--ontology): objects' featureHash as categories with their names, "
            "colours and attributes; boxes, rotatable boxes, polygons (with holes / multipolygons), "
            "polylines, points, skeletons as keypoints, bitmasks (exact RLE codec) and cuboids, in pixels "
            "of the data unit; object answers as attributes; classifications; video and image-sequence "
            "frames as frame items with frame_index; PDF pages as frame items named "
            "<stem>_page<NNNN>.png (sizes "
            "from the rendered pages under --media-dir); data groups' image, video, image-sequence and "
            "medical spaces (sized by the space); objectHash as track id, annotation ids unique per data "
            "unit (<objectHash>@<data unit> in image groups and sequences, @<frame> in videos).",
            drops="Rows without images (audio, plain text/HTML, scenes; reported per row), data-group spaces "
            "other than image/video/image-sequence/medical ones (reported); rows of other label branches "
            "(--branch, default main; reported); a second row of the same data on the branch (reported: "
            "the first is read); NOT_LABELLED rows unless --status says otherwise (counted); "
            "cuboid_2d and point-cloud segmentation objects (reported); object metadata (createdBy, "
            "timestamps, reviews, manualAnnotation). Without --ontology the category names and colours "
            "come from the rows (reported as approximated).",
            needs="--ontology (category names), --media-dir (sizes when the export lacks them), --branch, "
            "--status",
        ),
        ReaderSpec(
            "coco-instance",
            f"{_R}.coco:read",
            keeps="Images (file name, size), categories (ids, names, supercategories, keypoint names, "
            "skeletons), annotations: boxes, polygons (one or several, as multipolygon), RLE masks "
            "(compressed and uncompressed), iscrowd, keypoints with visibility, score as confidence.",
            drops="info / licenses blocks (kept in the dataset info, not in the model's annotations); an "
            "annotation's own bbox and area when it has a segmentation (recomputed by writers).",
        ),
        ReaderSpec(
            "yolo",
            f"{_R}.yolo:read",
            keeps="Class names as categories with ids '0'..'n-1'; every detection line as a pixel box; "
            "ultralytics segmentation lines as polygons; pose lines as box + keypoints.",
            drops="Nothing of the labels; image sizes are not in YOLO datasets: they come from the media "
            "file headers under --media-dir (image = label file stem), else the conversion stops with an "
            "error saying so.",
            needs="--media-dir (image sizes)",
        ),
    )
}

WRITERS: dict[str, WriterSpec] = {
    spec.target_id: spec
    for spec in (
        WriterSpec(
            "coco-instance",
            f"{_W}.coco_instance:WRITER",
            "file",
            keeps="Images with width/height; categories with integer ids (the source's when they are unique "
            "integers, else 1..N in model order, mapping reported); boxes; polygons and multipolygons as "
            "polygon segmentations; masks and polygons with holes as compressed RLE; area from the mask "
            "or polygon pixels; iscrowd; keypoints as flat triplets (visibility 0/1/2), keypoint names "
            "and skeletons; confidence as score. Always writes area, iscrowd and segmentation, never "
            "negative sizes (unlike the Segments SDK's exporter).",
            drops="Polylines and cuboids, and point-cloud items (no COCO equivalent); rotated boxes become "
            "their 4-corner polygon and polygons with holes RLE (approximated); points and skeletons without "
            "a region are written as keypoints of a keypoint category (a point: keypoints ['point']; a "
            "skeleton: its point names), with an empty segmentation and at least 1 pixel of area, reported "
            "because strict COCO needs a region; boxes past the image border are kept and reported; "
            "attributes, track ids and "
            "classifications (no place in COCO).",
            validates_as="coco-instance",
        ),
        WriterSpec(
            "yolo",
            f"{_W}.yolo:WRITER",
            "folder",
            keeps="--layout ultralytics (default): data.yaml (train/val = images/, nc, names) and "
            "labels/<image stem>.txt per image; --layout darknet: obj.names, obj.data, train.txt and "
            "obj_train_data/<image stem>.txt. Lines 'class cx cy w h' (normalised, 6 decimals); class "
            "index = "
            "the 0-based position of the category in the names (categories in model order; the mapping is in "
            "the conversion report's mappings.class_index).",
            drops="Polygons, masks, keypoints and rotated boxes become their bounding boxes, boxes are "
            "clipped to the image (approximated); points, polylines, cuboids, point-cloud items and the "
            "keypoints of an object that also has a region are dropped; attributes, tracks and "
            "classifications have no place in YOLO.",
            validates_as="yolo",
        ),
        # Part B writers (labelspec/convert/writers/{coco_panoptic,masks,datagym,encord,segments}.py).
        WriterSpec(
            "coco-panoptic",
            f"{_W}.coco_panoptic:WRITER",
            "folder",
            keeps="panoptic.json + panoptic/<stem>.png per image (segment id = R + 256 G + 65536 B, "
            "deterministic: the category colour, then a seeded +-30 jitter); thing categories one "
            "segment per instance, stuff categories one segment per image; masks exact, polygons and "
            "boxes rasterised; segments_info area, bbox and iscrowd from the mask.",
            drops="Overlaps (the later annotation wins; approximated), stuff instances merged into one "
            "segment (approximated); points, polylines, keypoints, cuboids, attributes, tracks, "
            "classifications (reported).",
            validates_as="coco-panoptic",
        ),
        WriterSpec(
            "semantic-png",
            f"{_W}.masks:SEMANTIC_PNG",
            "folder",
            keeps="One 8-bit grayscale PNG per image (alias: semantic): pixel = category id + "
            "--id-increment (default 0), as the segments-ai SDK writes it, when the source's category ids "
            "are unique integers, else the 1-based position in the category list + the increment; 0 = "
            "background; classes.json records the mapping. Masks exact, polygons and rotated boxes "
            "rasterised (approximated).",
            drops="Instance identity; overlaps (later wins); points, polylines, keypoints, cuboids, "
            "attributes, classifications (reported). A value outside 1..255 is an error naming the "
            "--id-increment that fits.",
        ),
        WriterSpec(
            "semantic-png-color",
            f"{_W}.masks:SEMANTIC_PNG_COLOR",
            "folder",
            keeps="One RGB PNG per image (alias: semantic-color): pixel = the category's colour, else a "
            "fixed 36-colour palette by "
            "position (not the segments SDK's shifted lookup); classes.json records the mapping.",
            drops="Instance identity; overlaps (later wins); points, polylines, keypoints, cuboids, "
            "attributes, classifications (reported).",
        ),
        WriterSpec(
            "instance-png",
            f"{_W}.masks:INSTANCE_PNG",
            "folder",
            keeps="One 16-bit grayscale PNG per image (alias: instance): pixel = the annotation id as the "
            "source wrote it (Segments instance ids, as the SDK's export; COCO ids) when those are unique "
            "integers 1..65535 on the image, else 1..N in annotation order; 0 = background; "
            "instances.json maps each value to its annotation and category.",
            drops="Overlaps (later wins); points, polylines, keypoints, cuboids (reported). More than 65535 "
            "instances in one image is an error, never clamped (unlike the segments SDK).",
        ),
        WriterSpec(
            "instance-png-color",
            f"{_W}.masks:INSTANCE_PNG_COLOR",
            "folder",
            keeps="One RGB PNG per image (alias: instance-color): a fixed palette colour per instance "
            "value (no mod-256 "
            "truncation, unlike the segments SDK); instances.json maps numbers to annotations.",
            drops="Categories in the pixels (kept in instances.json); overlaps (later wins); points, "
            "polylines, keypoints, cuboids (reported).",
        ),
        WriterSpec(
            "datagym",
            f"{_W}.datagym:WRITER",
            "file",
            keeps="One geometry label class per category and geometry type; image tasks with rectangles, "
            "polygons, lines and points; polygons with holes and multipolygons as image_segmentation rings; "
            "attributes and classifications as classification classes. Coordinates rounded to whole pixels "
            "(approximated).",
            drops="Masks (no contour tracing), keypoints, cuboids (reported); segmentation URLs (no DataGym "
            "server behind them); sequences: a DataGym export holds no video labels (a video task is a "
            "header whose labels are served by task_export_url), so frames are image tasks and track ids "
            "are dropped (reported); statuses other than completed, skipped, reviewed become the nearest "
            "(reported).",
            validates_as="datagym",
            needs_sizes=False,
        ),
        WriterSpec(
            "encord",
            f"{_W}.encord:WRITER",
            "folder",
            keeps="labels.json + ontology.json built from the categories (deterministic featureNodeHash). "
            "--layout sequences (default): a video as a video row (one data unit, labels keyed by frame, "
            "data_fps/data_duration when known), an image sequence as an img_group row with "
            "is_image_sequence true (one data unit per frame, data_sequence = frame number: how Encord "
            "exports image sequences), an image group as an img_group row, other items as image rows; one "
            "objectHash per track on every frame, attributes that change along a track as dynamic answers "
            "(object_actions with frame ranges). --layout images: one image row per media item. Boxes, "
            "rotated boxes, polygons, polylines and points normalised to the image; masks as bitmasks "
            "(exact Encord RLE codec); attributes and classifications; label_status from the source's "
            "status (annotation_task_status RETURNED for a rejected label).",
            drops="Keypoints (a skeleton needs a template) and cuboids (reported); volume slices and PDF "
            "pages, and with --layout images every frame and group member, are written as image rows "
            "(reported).",
            validates_as="encord",
        ),
        WriterSpec(
            "segments",
            f"{_W}.segments:WRITER",
            "file",
            keeps="A release file: a vector task (bbox, polygon, polyline, point) or, when the dataset has "
            "masks, a segmentation-bitmap task with RGBA bitmaps (id = R + 256 G + 65536 B) beside the "
            "release; categories with colours and attributes; each item's label status (LABELED when the "
            "source has none). --layout sequences (default): when the dataset has a video or image "
            "sequence, an image-vector-sequence (image-segmentation-sequence with masks) release, one "
            "sample per video / sequence with its frames in order and one annotation id = track_id per "
            "track on every frame. --layout images: image samples.",
            drops="What the chosen task type cannot express (e.g. masks in a vector task, keypoints, "
            "cuboids; reported); in a sequence release, loose images become one-frame sequences and frame "
            "numbers become positions (reported); with --layout images, frames are image samples and "
            "track ids are dropped (reported).",
            validates_as="segments",
            needs_sizes=False,
        ),
    )
}


def reader(format_id: str) -> ReaderSpec:
    try:
        return READERS[format_id]
    except KeyError:
        raise ConversionError(
            f"no reader for format {format_id!r}; readers: {', '.join(sorted(READERS))}", 2
        ) from None


# the segments-ai SDK's export_dataset format names (segments-ai 1.33.0, segments.typing.ExportFormat)
ALIASES: dict[str, str] = {
    "semantic": "semantic-png",
    "semantic-color": "semantic-png-color",
    "instance": "instance-png",
    "instance-color": "instance-png-color",
}


def writer(target_id: str) -> WriterSpec:
    try:
        return WRITERS[ALIASES.get(target_id, target_id)]
    except KeyError:
        raise ConversionError(
            f"no writer for target {target_id!r}; targets: {', '.join(sorted(WRITERS))}", 2
        ) from None


def converters_json() -> dict[str, list[dict[str, Any]]]:
    """The registry as JSON (for ``labelspec formats --output json`` and the docs)."""
    return {
        "readers": [spec.to_json() for spec in READERS.values()],
        "writers": [spec.to_json() for spec in WRITERS.values()],
    }
