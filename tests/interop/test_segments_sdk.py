"""labelspec's strict profile of `segments` agrees with the segments-ai SDK (offline).

For every release document of the set below, the strict profile must accept exactly the documents that
segments-ai 1.33.0 loads without failing. ``segments.typing.Release`` and ``Dataset`` describe API objects,
not release files (schemas/segments/notes.md#s11), so the SDK verdict is built as the notes prescribe: the SDK
sub-models chosen per ``dataset.task_type`` (TaskType, TaskAttributes, Labelset, LabelStatus, the
sample-attributes model and the label-attributes model of the task type) inside the thin envelope that
``SegmentsDataset`` needs (§1 "What SegmentsDataset requires"). Nothing touches the network.

The set is the segments corpus plus targeted variants, each of which flips one fact the SDK is known to
care about (or known to ignore).

"Loads" means loads without silent loss, as the strict profile promises: a document whose references do
not resolve (an undeclared category or labelset, a dangling link, duplicate ids, label frames that do not
pair with the sample's frames, ...) passes every SDK model but is then lost or misattributed by
SegmentsDataset and the SDK exports; ``_check_no_loss`` below spells those facts out, each with the SDK
behaviour behind it.

Deliberately left out of the set, because labelspec is stricter than pydantic's lax mode there: numeric
strings where the SDK wants an int or float (pydantic converts "3" to 3), strings such as "true" for booleans,
and colour channels outside 0..255 (SEG-D08). The strict profile rejects those as malformed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import labelspec

pytestmark = pytest.mark.interop

typing_ = pytest.importorskip("segments.typing")
pydantic = pytest.importorskip("pydantic")

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "segments"
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "segments" / "examples"

_IMAGE = typing_.ImageSampleAttributes
_IMAGE_SEQUENCE = typing_.ImageSequenceSampleAttributes
_POINTCLOUD = typing_.PointcloudSampleAttributes
_POINTCLOUD_SEQUENCE = typing_.PointcloudSequenceSampleAttributes

# task type -> (sample-attributes model, label-attributes model), notes §2, §3, §5.
MODELS: dict[str, tuple[Any, Any]] = {
    "segmentation-bitmap": (_IMAGE, typing_.ImageSegmentationLabelAttributes),
    "segmentation-bitmap-highres": (_IMAGE, typing_.ImageSegmentationLabelAttributes),
    "vector": (_IMAGE, typing_.ImageVectorLabelAttributes),
    "bboxes": (_IMAGE, typing_.ImageVectorLabelAttributes),
    "keypoints": (_IMAGE, typing_.ImageVectorLabelAttributes),
    "image-segmentation-sequence": (_IMAGE_SEQUENCE, typing_.ImageSequenceSegmentationLabelAttributes),
    "image-vector-sequence": (_IMAGE_SEQUENCE, typing_.ImageSequenceVectorLabelAttributes),
    "pointcloud-cuboid": (_POINTCLOUD, typing_.PointcloudCuboidLabelAttributes),
    "pointcloud-vector": (_POINTCLOUD, typing_.PointcloudVectorLabelAttributes),
    "pointcloud-segmentation": (_POINTCLOUD, typing_.PointcloudSegmentationLabelAttributes),
    "pointcloud-cuboid-sequence": (_POINTCLOUD_SEQUENCE, typing_.PointcloudSequenceCuboidLabelAttributes),
    "pointcloud-vector-sequence": (_POINTCLOUD_SEQUENCE, typing_.PointcloudSequenceVectorLabelAttributes),
    "pointcloud-segmentation-sequence": (
        _POINTCLOUD_SEQUENCE,
        typing_.PointcloudSequenceSegmentationLabelAttributes,
    ),
    "multisensor-sequence": (typing_.MultiSensorSampleAttributes, typing_.MultiSensorLabelAttributes),
}
IMAGE_TASK_TYPES = {"segmentation-bitmap", "segmentation-bitmap-highres", "vector", "bboxes", "keypoints"}


class Rejected(Exception):
    """The SDK (or the envelope SegmentsDataset needs) does not accept the document."""


def _need(condition: bool, why: str) -> None:
    if not condition:
        raise Rejected(why)


def _model(model: Any, value: Any) -> None:
    try:
        pydantic.TypeAdapter(model).validate_python(value)
    except pydantic.ValidationError as exc:
        raise Rejected(str(exc)) from exc


def _check_sdk(release: Any) -> None:
    _need(isinstance(release, dict), "a release is an object")
    _need(isinstance(release.get("name"), str), "release.name")
    dataset = release.get("dataset")
    _need(isinstance(dataset, dict), "release.dataset")
    for key in ("name", "owner"):
        _need(isinstance(dataset.get(key), str), f"dataset.{key}")
    _need("task_type" in dataset, "dataset.task_type")
    _model(typing_.TaskType, dataset["task_type"])
    task_type = dataset["task_type"]
    _need("task_attributes" in dataset, "dataset.task_attributes")
    _model(typing_.TaskAttributes, dataset["task_attributes"])
    _need(dataset["task_attributes"].get("categories") is not None, "task_attributes.categories")
    _need(isinstance(dataset.get("labelsets"), list), "dataset.labelsets")
    for labelset in dataset["labelsets"]:
        _model(typing_.Labelset, labelset)
    samples = dataset.get("samples")
    _need(isinstance(samples, list), "dataset.samples is a list")
    sample_model, label_model = MODELS.get(task_type, (None, None))
    for sample in samples:
        _need(isinstance(sample, dict), "a sample is an object")
        for key in ("uuid", "name"):
            _need(isinstance(sample.get(key), str), f"sample.{key}")
        _need(isinstance(sample.get("metadata"), dict), "sample.metadata")
        _need(isinstance(sample.get("labels"), dict), "sample.labels")
        _need("attributes" in sample, "sample.attributes")
        if sample_model is not None:
            _model(sample_model, sample["attributes"])
        if task_type in IMAGE_TASK_TYPES:
            _need(isinstance(sample["attributes"]["image"].get("url"), str), "attributes.image.url")
        for label in sample["labels"].values():
            if label is None:
                continue  # an unlabelled sample: SegmentsDataset counts it as UNLABELED
            _need(isinstance(label, dict), "a label is an object or null")
            _need("label_status" in label and "attributes" in label, "label_status and attributes")
            _model(typing_.LabelStatus, label["label_status"])
            if label_model is not None:
                _model(label_model, label["attributes"])


# ---------------------------------------------------------------- silent loss on the SDK side
#
# The SDK models check each part of the file on its own; they never look across the document. A release
# whose references do not resolve still loads, but the SDK (SegmentsDataset and its exports) then crashes
# later or silently drops or misattributes data. Those documents count as "not loaded without loss" here,
# which is what the strict profile promises; labelspec reports them through its error-severity semantic
# rules (schemas/segments/rules.yaml). Each fact below is written from the SDK's behaviour (notes
# sections cited), independently of labelspec's implementation. Label bitmaps in this set are remote
# (never fetched), so the bitmap rules are covered by tests/rules/test_segments_rules.py instead.

_SHAPE_POINTS = {"bbox": (2, 2), "point": (1, 1), "polyline": (2, None), "polygon": (3, None)}


def _walk(node: Any) -> Any:
    """Every dict inside a label payload."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _check_payload(payload: Any, categories: set[Any], sample_attributes: Any, task_type: str) -> set[Any]:
    """Check one label payload; returns the object and track ids links may refer to."""
    sample_attributes = sample_attributes if isinstance(sample_attributes, dict) else {}
    ids: set[Any] = set()
    if task_type == "multisensor-sequence":
        # one label per sensor of the sample, in the sample's order (notes §3, §5)
        sensors, sample_sensors = payload.get("sensors") or [], sample_attributes.get("sensors") or []
        _need(len(sensors) == len(sample_sensors), "one label per sensor")
        for label_sensor, sample_sensor in zip(sensors, sample_sensors, strict=True):
            _need(
                (label_sensor.get("name"), label_sensor.get("task_type"))
                == (sample_sensor.get("name"), sample_sensor.get("task_type")),
                "sensors in the sample's order",
            )
            if isinstance(label_sensor.get("attributes"), dict):
                kind, attributes = label_sensor["task_type"], sample_sensor.get("attributes")
                ids |= _check_payload(label_sensor["attributes"], categories, attributes, kind)
        links: list[Any] = payload.get("links") or []
    else:
        ids = _check_objects(payload, categories, task_type.startswith("pointcloud"))
        links = [link for node in _walk(payload) for link in node.get("links") or []]
        if isinstance(payload.get("frames"), list) and isinstance(sample_attributes.get("frames"), list):
            # label frames pair with the sample's frames by position (notes §5)
            _need(len(payload["frames"]) == len(sample_attributes["frames"]), "one label frame per frame")
    for link in links:
        # a dangling link is dropped by whoever resolves it
        _need(link.get("from_id") in ids and link.get("to_id") in ids, "links join existing objects")
    return ids


def _check_objects(payload: Any, categories: set[Any], three_d: bool) -> set[Any]:
    ids: set[Any] = set()
    for node in _walk(payload):
        annotations = node.get("annotations")
        if isinstance(annotations, list):
            frame_ids = [a.get("id") for a in annotations if isinstance(a, dict)]
            # Ids are the objects' identity (bitmap pixels, point_annotations, links): exports cannot
            # tell two objects with one id apart (notes §5, §9.1).
            _need(len(frame_ids) == len(set(frame_ids)), "annotation ids are unique per label / frame")
            ids.update(frame_ids)
            ids.update(a.get("track_id") for a in annotations if isinstance(a, dict))
            if isinstance(node.get("point_annotations"), list):
                # a point of an unknown instance has no category (notes §5)
                _need(set(node["point_annotations"]) <= set(frame_ids) | {0}, "point_annotations ids")
        if "category_id" in node:
            # SegmentsDataset.categories, which every export writes, has no such class (notes §9)
            _need(node["category_id"] in categories, "category_id declared")
        if isinstance(node.get("type"), str) and isinstance(node.get("points"), list):
            # exports read bbox = points[0..1], point = points[0], vertices as v[0], v[1] (notes §9)
            low, high = _SHAPE_POINTS.get(node["type"], (0, None))
            count = len(node["points"])
            _need(count >= low and (high is None or count <= high), "shape point count")
            _need(all(len(v) == (3 if three_d else 2) for v in node["points"]), "vertex dimension")
    return ids


def _check_no_loss(release: Any) -> None:
    dataset = release["dataset"]
    category_ids = [c.get("id") for c in dataset["task_attributes"]["categories"]]
    # two classes on one id: the exports write both and COCO readers keep one (notes §9.1, §9.2)
    _need(len(category_ids) == len(set(category_ids)), "category ids unique")
    labelsets = {labelset["name"] for labelset in dataset["labelsets"]}
    uuids = [sample["uuid"] for sample in dataset["samples"]]
    # labels are uploaded and fetched by sample uuid (client.add_label): one overwrites the other
    _need(len(uuids) == len(set(uuids)), "sample uuids unique")
    for sample in dataset["samples"]:
        # SegmentsDataset(labelset=...) refuses an undeclared labelset (ValueError), so its labels are
        # unreachable; with filter_by (the documented usage) a missing key raises KeyError (notes §1, §8).
        _need(set(sample["labels"]) == labelsets, "labels keyed by exactly the declared labelsets")
        for label in sample["labels"].values():
            if label is not None:
                task_type = dataset["task_type"]
                _check_payload(label["attributes"], set(category_ids), sample["attributes"], task_type)


def sdk_accepts(release: Any) -> bool:
    try:
        _check_sdk(release)
        _check_no_loss(release)
    except Rejected:
        return False
    return True


def strict_accepts(release: Any) -> bool:
    report = labelspec.validate(release, format="segments", profile="strict")
    return all(file.valid for file in report.files)


# ---------------------------------------------------------------- the document set


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _corpus() -> dict[str, Any]:
    index = yaml.safe_load((CORPUS / "index.yaml").read_text(encoding="utf-8"))
    return {f"corpus/{entry['file']}": _load(CORPUS / entry["file"]) for entry in index}


_DELETE = object()


def _edit(base: str, *changes: tuple[str, Any]) -> Callable[[dict[str, Any]], Any]:
    """A variant of corpus file ``base``: each change sets (or deletes) the value at a JSON pointer."""

    def build(corpus: dict[str, Any]) -> Any:
        document = copy.deepcopy(corpus[f"corpus/{base}"])
        for pointer, value in changes:
            *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
            node = document
            for token in parents:
                node = node[int(token)] if isinstance(node, list) else node[token]
            key: Any = int(last) if isinstance(node, list) else last
            if value is _DELETE:
                del node[key]
            else:
                node[key] = value
        return document

    return build


BITMAP = "segmentation-bitmap-release.json"
CUBOID = "pointcloud-cuboid-release.json"
CUBOID_SEQ = "pointcloud-cuboid-sequence-release.json"
MULTI = "multisensor-sequence-release.json"
VECTOR = "vector-release.json"
SEQUENCE = "image-vector-sequence-release.json"
PC_SEGMENTATION = "pointcloud-segmentation-release.json"
S0 = "/dataset/samples/0"
GT = f"{S0}/labels/ground-truth"
CATEGORY = "/dataset/task_attributes/categories/1"
CAMERA = f"{S0}/attributes/images/0"
FIRST_CUBOID = f"{GT}/attributes/annotations/0"

VARIANTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    # envelope (SegmentsDataset)
    "no-release-name": _edit(BITMAP, ("/name", _DELETE)),
    "no-owner": _edit(BITMAP, ("/dataset/owner", _DELETE)),
    "owner-object": _edit(BITMAP, ("/dataset/owner", {"username": "segments-demo"})),
    "no-labelsets": _edit(BITMAP, ("/dataset/labelsets", _DELETE)),
    "labelset-without-description": _edit(BITMAP, ("/dataset/labelsets/0/description", _DELETE)),
    "no-categories": _edit(BITMAP, ("/dataset/task_attributes/categories", _DELETE)),
    "empty-categories": _edit(BITMAP, ("/dataset/task_attributes/categories", [])),
    "sample-without-uuid": _edit(BITMAP, (f"{S0}/uuid", _DELETE)),
    "sample-without-metadata": _edit(BITMAP, (f"{S0}/metadata", _DELETE)),
    "image-without-url": _edit(BITMAP, (f"{S0}/attributes/image", {"signed_url": "https://x/y.jpg"})),
    "bitmap-url-null": _edit(BITMAP, (f"{GT}/attributes/segmentation_bitmap/url", None)),
    "label-without-status": _edit(BITMAP, (f"{GT}/label_status", _DELETE)),
    "label-attributes-null": _edit(BITMAP, (f"{GT}/attributes", None)),
    "empty-task-type": _edit(BITMAP, ("/dataset/task_type", "")),
    "task-type-bbox": _edit(BITMAP, ("/dataset/task_type", "bbox")),
    # categories and attribute definitions
    "color-rgba": _edit(BITMAP, (f"{CATEGORY}/color", [1, 2, 3, 4])),
    "color-integral-floats": _edit(BITMAP, (f"{CATEGORY}/color", [216.0, 82.0, 24.0])),
    "color-fractional": _edit(BITMAP, (f"{CATEGORY}/color", [216.5, 82, 24])),
    "color-two-channels": _edit(BITMAP, (f"{CATEGORY}/color", [216, 82])),
    "category-id-string": _edit(BITMAP, (f"{CATEGORY}/id", "one")),
    "category-custom-key": _edit(BITMAP, (f"{CATEGORY}/lock_dimensions", True)),
    "select-without-values": _edit(BITMAP, (f"{CATEGORY}/attributes/1/values", _DELETE)),
    "number-bound-garbage": _edit(BITMAP, (f"{CATEGORY}/attributes/4/min", "low")),
    "unknown-input-type": _edit(BITMAP, (f"{CATEGORY}/attributes/0/input_type", "slider")),
    "link-attribute-vector3": _edit(
        CUBOID,
        ("/dataset/task_attributes/categories/0/link_attributes/0", {"name": "v", "input_type": "vector3"}),
    ),
    "unknown-warning-rule": _edit(CUBOID, ("/dataset/task_attributes/warning_rules/0/name", "overlap")),
    # labels
    "status-unknown": _edit(BITMAP, (f"{GT}/label_status", "DONE")),
    "documented-track-id": _edit(BITMAP, (f"{GT}/attributes/annotations/0/track_id", 1)),
    "attribute-value-object": _edit(BITMAP, (f"{GT}/attributes/annotations/0/attributes", {"v": {"x": 1}})),
    "attribute-value-list": _edit(
        BITMAP, (f"{GT}/attributes/annotations/0/attributes", {"tags": ["a", "b"]})
    ),
    "vector-links-documented": _edit(VECTOR, (f"{GT}/attributes/links", [{"from_id": 1, "to_id": 2}])),
    "vector-unknown-shape": _edit(VECTOR, (f"{GT}/attributes/annotations/0/type", "circle")),
    "vector-points-flat": _edit(VECTOR, (f"{GT}/attributes/annotations/0/points", [1, 2, 3, 4])),
    "cuboid-without-yaw": _edit(CUBOID, (f"{FIRST_CUBOID}/yaw", _DELETE)),
    "velocity-without-relative": _edit(CUBOID, (f"{FIRST_CUBOID}/velocity", {"absolute": 3.2})),
    "cuboid-type-bbox": _edit(CUBOID, (f"{FIRST_CUBOID}/type", "bbox")),
    "sequence-annotation-without-track": _edit(
        CUBOID_SEQ, (f"{GT}/attributes/frames/0/annotations/0/track_id", _DELETE)
    ),
    "sequence-frame-without-annotations": _edit(
        CUBOID_SEQ, (f"{GT}/attributes/frames/1/annotations", _DELETE)
    ),
    "link-without-to-id": _edit(CUBOID_SEQ, (f"{GT}/attributes/links/0/to_id", _DELETE)),
    "sensor-label-mismatch": _edit(MULTI, (f"{GT}/attributes/sensors/1/attributes", {"frames": [{}]})),
    # samples
    "pcd-without-type": _edit(CUBOID, (f"{S0}/attributes/pcd/type", _DELETE)),
    "pcd-unknown-type": _edit(CUBOID, (f"{S0}/attributes/pcd/type", "xyz")),
    "camera-without-row-col": _edit(CUBOID, (f"{CAMERA}/row", _DELETE), (f"{CAMERA}/col", _DELETE)),
    "camera-bad-convention": _edit(CUBOID, (f"{CAMERA}/camera_convention", "Unity")),
    "distortion-missing-coefficient": _edit(
        CUBOID, (f"{S0}/attributes/images/1/distortion/coefficients/p1", _DELETE)
    ),
    "distortion-unknown-model": _edit(CUBOID, (f"{CAMERA}/distortion/model", "mei")),
    "ego-pose-partial": _edit(CUBOID, (f"{S0}/attributes/ego_pose/heading", _DELETE)),
    "images-null": _edit(CUBOID, (f"{S0}/attributes/images", None)),
    "ortho-scale-zero": _edit(CUBOID_SEQ, (f"{S0}/attributes/ortho_images/0/height_map/scale", 0)),
    "ortho-missing-corner": _edit(CUBOID_SEQ, (f"{S0}/attributes/ortho_images/0/corners/top_left", _DELETE)),
    "sensors-as-dict": _edit(MULTI, (f"{S0}/attributes/sensors", {"lidar": {}})),
    "sensor-sample-mismatch": _edit(
        MULTI, (f"{S0}/attributes/sensors/1/task_type", "pointcloud-cuboid-sequence")
    ),
    # references across the document (semantic rules): the SDK loads these, then loses data
    "category-undeclared": _edit(BITMAP, (f"{GT}/attributes/annotations/0/category_id", 99)),
    "category-id-duplicate": _edit(BITMAP, (f"{CATEGORY}/id", 0)),
    "labelset-undeclared": _edit(BITMAP, (f"{S0}/labels/other", None)),
    "labelset-missing": _edit(BITMAP, (f"{S0}/labels/predictions", _DELETE)),
    "annotation-id-duplicate": _edit(BITMAP, (f"{GT}/attributes/annotations/1/id", 1)),
    "sample-uuid-duplicate": _edit(
        BITMAP, ("/dataset/samples/1/uuid", "5e6d0000-0000-4000-8000-000000005ccd")
    ),
    "bbox-three-points": _edit(VECTOR, (f"{GT}/attributes/annotations/0/points", [[1, 2], [5, 4], [9, 9]])),
    "point-two-points": _edit(VECTOR, (f"{GT}/attributes/annotations/3/points", [[1, 2], [5, 4]])),
    "image-vertex-3d": _edit(VECTOR, (f"{GT}/attributes/annotations/2/points/0", [10, 10, 0])),
    "frame-count-mismatch": _edit(SEQUENCE, (f"{GT}/attributes/frames/2", _DELETE)),
    "sensor-renamed": _edit(MULTI, (f"{GT}/attributes/sensors/0/name", "lidar-top")),
    "link-dangling": _edit(CUBOID, (f"{GT}/attributes/links/0/to_id", 9)),
    "point-annotation-unknown": _edit(PC_SEGMENTATION, (f"{GT}/attributes/point_annotations/0", 7)),
    # ...and facts the SDK keeps unchanged (warnings only): strict accepts, like the SDK
    "attribute-value-not-in-select": _edit(
        BITMAP, (f"{GT}/attributes/annotations/0/attributes", {"color": "purple", "occluded": True})
    ),
    "track-changes-category": _edit(SEQUENCE, (f"{GT}/attributes/frames/1/annotations/0/category_id", 2)),
    "sample-name-stem-collision": _edit(BITMAP, ("/dataset/samples/1/name", "garden-patch-1.png")),
}


def _documents() -> dict[str, Any]:
    corpus = _corpus()
    documents = dict(corpus)
    for name, build in VARIANTS.items():
        documents[f"variant/{name}"] = build(corpus)
    documents["example/release-structure.json"] = _load(EXAMPLES / "release-structure.json")
    return documents


DOCUMENTS = _documents()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_strict_accepts_exactly_what_the_sdk_loads(name: str) -> None:
    document = DOCUMENTS[name]
    sdk = sdk_accepts(document)
    report = labelspec.validate(document, format="segments", profile="strict")
    detail = "\n".join(f"  {f.pointer} {f.rule} {f.message}" for file in report.files for f in file.findings)
    verdict = all(file.valid for file in report.files)
    assert verdict == sdk, (
        f"SDK {'accepts' if sdk else 'rejects'}, strict {'accepts' if verdict else 'rejects'}\n{detail}"
    )


def test_the_set_has_both_verdicts_for_every_task_type_family() -> None:
    """The agreement would be vacuous if the SDK accepted (or rejected) everything."""
    verdicts = [sdk_accepts(document) for document in DOCUMENTS.values()]
    assert sum(verdicts) >= 15
    assert len(verdicts) - sum(verdicts) >= 25
    task_types = {
        document["dataset"]["task_type"]
        for document in DOCUMENTS.values()
        if isinstance(document.get("dataset"), dict) and sdk_accepts(document)
    }
    assert task_types >= set(MODELS)


def test_lenient_accepts_everything_the_sdk_loads() -> None:
    for name, document in DOCUMENTS.items():
        if sdk_accepts(document):
            report = labelspec.validate(document, format="segments", profile="lenient")
            assert all(file.valid for file in report.files), name
