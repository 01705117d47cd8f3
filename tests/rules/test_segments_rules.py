"""Segments semantic rules (validator/rules/segments.py) and the bitmap codec: edge cases, pointers, messages.

The catalogue test (tests/test_rule_catalogue.py) runs every rule's failing and passing example; these
tests pin what the examples cannot: exact pointers (escaped labelset names), message wording, where ids
are scoped (label, frame, sensor), local bitmaps (file:, relative paths, data:), and robustness.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import labelspec
from labelspec.codecs.segments_bitmap import (
    BitmapFormatError,
    ids_to_rgba,
    read_bitmap,
    read_bitmap_bytes,
    rgba_to_ids,
)
from labelspec.validator.rules import RuleContext, semantic_findings
from labelspec.validator.rules.segments import local_asset

GT = "/dataset/samples/0/labels/ground-truth"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "segments"


def release(
    task_type: str,
    samples: list[dict[str, Any]],
    categories: list[dict[str, Any]] | None = None,
    labelsets: tuple[str, ...] = ("ground-truth",),
    **task_attributes: Any,
) -> dict[str, Any]:
    return {
        "name": "v1",
        "description": "",
        "dataset": {
            "name": "d",
            "owner": "o",
            "task_type": task_type,
            "task_attributes": {
                "categories": categories if categories is not None else [{"id": 1, "name": "car"}],
                **task_attributes,
            },
            "labelsets": [{"name": name, "description": ""} for name in labelsets],
            "samples": samples,
        },
    }


def image_sample(
    attributes: dict[str, Any] | None, name: str = "a.jpg", uuid: str = "s1", **more: Any
) -> Any:
    labels = {
        "ground-truth": None if attributes is None else {"label_status": "LABELED", "attributes": attributes}
    }
    image = more.pop("image", "https://example.com/a.jpg")
    return {
        "uuid": uuid,
        "name": name,
        "attributes": {"image": {"url": image}},
        "metadata": {},
        "labels": labels,
    }


def sequence_sample(frames: int, label_frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uuid": "s1",
        "name": "drive",
        "attributes": {"frames": [{"image": {"url": f"https://example.com/{i}.jpg"}} for i in range(frames)]},
        "metadata": {},
        "labels": {"ground-truth": {"label_status": "LABELED", "attributes": {"frames": label_frames}}},
    }


def box(aid: int, category: int = 1, **more: Any) -> dict[str, Any]:
    return {"id": aid, "category_id": category, "type": "bbox", "points": [[1, 2], [5, 4]], **more}


def findings(document: Any, rule: str | None = None, profile: str = "lenient", **options: Any) -> list[Any]:
    report = labelspec.validate(document, format="segments", profile=profile, **options)
    return [f for f in report.findings if rule is None or f.rule == rule]


def semantic(document: Any, profile: str = "lenient", **options: Any) -> list[tuple[str, str]]:
    return [
        (f.rule, f.pointer)
        for f in findings(document, profile=profile, **options)
        if f.rule.startswith("SEG-")
    ]


def png_bytes(array: Any, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array), mode).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# ---------------------------------------------------------------- codec


def test_codec_round_trip_uses_all_three_channels() -> None:
    ids = np.array([[0, 1, 255], [256, 65535, 65536], [300, 70000, 0xFFFFFF]], dtype=np.uint32)
    rgba = ids_to_rgba(ids)
    assert rgba.dtype == np.uint8 and rgba.shape == (3, 3, 4)
    assert rgba[2, 0].tolist() == [44, 1, 0, 255]  # 300 = 44 + 256·1
    assert rgba[1, 2].tolist() == [0, 0, 1, 255]  # 65536 = 65536·1
    assert (rgba[:, :, 3] == 255).all()
    assert rgba_to_ids(rgba).dtype == np.uint32
    assert (rgba_to_ids(rgba) == ids).all()


def test_codec_ignores_alpha_and_accepts_rgb_arrays() -> None:
    rgba = ids_to_rgba(np.array([[7, 513]]))
    rgba[:, :, 3] = 0
    assert rgba_to_ids(rgba).tolist() == [[7, 513]]
    assert rgba_to_ids(rgba[:, :, :3]).tolist() == [[7, 513]]


@pytest.mark.parametrize("bad", [np.zeros((2, 2)), np.zeros((2, 2, 2)), np.zeros(4)])
def test_rgba_to_ids_refuses_other_shapes(bad: Any) -> None:
    with pytest.raises(ValueError):
        rgba_to_ids(bad)


def test_ids_to_rgba_refuses_unrepresentable_ids() -> None:
    with pytest.raises(ValueError):
        ids_to_rgba(np.array([[0x1000000]]))
    with pytest.raises(ValueError):
        ids_to_rgba(np.array([[-1]]))


def test_read_bitmap_file_and_bytes(tmp_path: Path) -> None:
    ids = np.array([[0, 1], [2, 70000]])
    path = tmp_path / "label.png"
    path.write_bytes(png_bytes(ids_to_rgba(ids), "RGBA"))
    assert read_bitmap(path).tolist() == ids.tolist()
    assert read_bitmap_bytes(path.read_bytes(), require_alpha=True).tolist() == ids.tolist()
    rgb = png_bytes(ids_to_rgba(ids)[:, :, :3], "RGB")
    assert read_bitmap_bytes(rgb).tolist() == ids.tolist()
    with pytest.raises(BitmapFormatError, match="mode 'RGB'"):
        read_bitmap_bytes(rgb, require_alpha=True)
    with pytest.raises(BitmapFormatError, match="mode 'L'"):
        read_bitmap_bytes(png_bytes(np.zeros((2, 2), np.uint8), "L"))
    with pytest.raises(BitmapFormatError):
        read_bitmap_bytes(b"not a png")
    with pytest.raises(FileNotFoundError):
        read_bitmap(tmp_path / "missing.png")


# ---------------------------------------------------------------- local assets (never the network)


def test_local_asset_never_resolves_remote_urls(tmp_path: Path) -> None:
    for url in (
        "https://example.com/a.png",
        "http://x/a.png",
        "s3://bucket/a.png",
        "gs://b/a.png",
        "",
        None,
        3,
    ):
        assert local_asset(url, tmp_path) is None
    assert local_asset("file://otherhost/tmp/a.png") is None


def test_local_asset_resolves_data_file_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "dir with space" / "a.png"
    path.parent.mkdir()
    path.write_bytes(b"x")
    assert local_asset(path.as_uri()) == path
    assert local_asset(str(path)) == path
    assert local_asset("dir with space/a.png", tmp_path) == path
    assert local_asset("dir with space/b.png", tmp_path) is None
    assert local_asset(str(tmp_path)) is None  # a directory is no asset
    assert local_asset("data:image/png;base64," + base64.b64encode(b"png").decode()) == b"png"
    assert local_asset("data:image/png;base64,!!!") is None
    assert local_asset("data:image/png,raw") is None


# ---------------------------------------------------------------- categories and labelsets


def test_category_undeclared_message_and_pointer() -> None:
    document = release("vector", [image_sample({"annotations": [box(1), box(2, category=7)]})])
    [hit] = findings(document, "SEG-CATEGORY-UNDECLARED")
    assert hit.pointer == f"{GT}/attributes/annotations/1/category_id"
    assert hit.message == "category_id 7 is not declared in task_attributes.categories (declared: 1)"
    assert hit.severity == "error"


def test_category_id_zero_is_a_category() -> None:
    document = release(
        "vector", [image_sample({"annotations": [box(1, category=0)]})], [{"id": 0, "name": "bg"}]
    )
    assert semantic(document) == []


def test_category_with_unusable_id_does_not_cascade() -> None:
    categories = [{"id": "one", "name": "car"}, {"id": 2, "name": "bus"}]
    document = release("vector", [image_sample({"annotations": [box(1, category=1)]})], categories)
    rules = {f.rule for f in findings(document)}
    assert "schema.type" in rules and "SEG-CATEGORY-UNDECLARED" not in rules


def test_category_references_in_task_attributes() -> None:
    categories = [{"id": 1, "name": "car", "link_category_restrictions": [1, 4]}]
    document = release(
        "pointcloud-cuboid",
        [],
        categories,
        warning_rules=[{"name": "cuboid-dimension-limits", "categories": [5]}],
    )
    assert semantic(document) == [
        (
            "SEG-CATEGORY-REFERENCE-UNDECLARED",
            "/dataset/task_attributes/categories/0/link_category_restrictions/1",
        ),
        ("SEG-CATEGORY-REFERENCE-UNDECLARED", "/dataset/task_attributes/warning_rules/0/categories/0"),
    ]


def test_labelset_names_are_escaped_in_pointers() -> None:
    sample = image_sample(None)
    sample["labels"]["a/b~c"] = {
        "label_status": "LABELED",
        "attributes": {"annotations": [box(1, category=9)]},
    }
    document = release("vector", [sample])
    assert semantic(document) == [
        ("SEG-LABELSET-UNDECLARED", "/dataset/samples/0/labels/a~1b~0c"),
        ("SEG-CATEGORY-UNDECLARED", "/dataset/samples/0/labels/a~1b~0c/attributes/annotations/0/category_id"),
    ]


def test_labelset_missing_is_a_warning_in_lenient_and_an_error_in_strict() -> None:
    sample = image_sample(None)
    del sample["labels"]["ground-truth"]
    sample["labels"]["predictions"] = None
    document = release("vector", [sample], labelsets=("ground-truth", "predictions"))
    [lenient] = findings(document, "SEG-LABELSET-MISSING")
    [strict] = findings(document, "SEG-LABELSET-MISSING", profile="strict")
    assert (lenient.severity, strict.severity) == ("warning", "error")
    assert lenient.pointer == "/dataset/samples/0/labels"
    assert "'ground-truth'" in lenient.message and "predictions" not in lenient.message
    assert lenient.hint and "KeyError" in lenient.hint


def test_legacy_2020_release_uses_each_tasks_categories() -> None:
    document = json.loads((CORPUS / "legacy-2020-release.json").read_text())
    assert [f for f in findings(document) if f.severity == "error"] == []
    task_name = document["tasks"][0]["name"]
    document["samples"][0]["labels"]["nope"] = None
    assert ("SEG-LABELSET-UNDECLARED", "/samples/0/labels/nope") in semantic(document)
    assert task_name


# ---------------------------------------------------------------- samples


def test_duplicate_uuid_and_stem_collision() -> None:
    samples = [
        image_sample(None, "x/a.jpg"),
        image_sample(None, "x/a.JPG", uuid="s2"),
        image_sample(None, "b", "s1"),
    ]
    assert semantic(release("bboxes", samples)) == [
        ("SEG-SAMPLE-NAME-COLLISION", "/dataset/samples/1/name"),
        ("SEG-SAMPLE-UUID-DUPLICATE", "/dataset/samples/2/uuid"),
    ]
    [hit] = findings(release("bboxes", samples), "SEG-SAMPLE-NAME-COLLISION")
    assert hit.message.startswith("sample name 'x/a.JPG' has the same stem 'x/a' as samples/0 ('x/a.jpg')")


def test_stem_collision_only_for_cached_image_task_types() -> None:
    samples = [sequence_sample(1, [{"annotations": []}]), sequence_sample(1, [{"annotations": []}])]
    samples[1]["uuid"] = "s2"
    assert semantic(release("image-vector-sequence", samples)) == []


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("shape", "points", "message"),
    [
        ("bbox", [[1, 2]], "a bbox has exactly 2 points, this one has 1"),
        ("point", [[1, 2], [3, 4]], "a point has exactly 1 point, this one has 2"),
        ("polyline", [[1, 2]], "a polyline has at least 2 points, this one has 1"),
        ("polygon", [[1, 2], [3, 4]], "a polygon has at least 3 points, this one has 2"),
        ("point", [], "a point has exactly 1 point, this one has 0"),
    ],
)
def test_shape_point_counts(shape: str, points: list[Any], message: str) -> None:
    document = release("vector", [image_sample({"annotations": [box(1, type=shape, points=points)]})])
    [hit] = findings(document, "SEG-SHAPE-POINT-COUNT")
    assert (hit.pointer, hit.message) == (f"{GT}/attributes/annotations/0/points", message)


def test_vertex_dimension_2d_and_3d() -> None:
    image = release("vector", [image_sample({"annotations": [box(1, points=[[1, 2], [3, 4, 5]])]})])
    [hit] = findings(image, "SEG-SHAPE-VERTEX-DIMENSION")
    assert hit.pointer == f"{GT}/attributes/annotations/0/points/1"
    cloud = {"pcd": {"url": "https://example.com/a.pcd", "type": "pcd"}}
    polyline = {"id": 1, "category_id": 1, "type": "polyline", "points": [[0, 0, 0], [1, 1]]}
    sample = {"uuid": "s", "name": "p", "attributes": cloud, "metadata": {}, "labels": {}}
    sample["labels"]["ground-truth"] = {"label_status": "LABELED", "attributes": {"annotations": [polyline]}}
    [hit] = findings(release("pointcloud-vector", [sample]), "SEG-SHAPE-VERTEX-DIMENSION")
    assert hit.message == "a vertex of a 3D polyline has 3 coordinates (x, y, z), this one has 2"


def test_shapes_allowed_per_task_type() -> None:
    point = box(1, type="point", points=[[1, 1]])
    assert semantic(release("keypoints", [image_sample({"annotations": [point]})])) == []
    assert semantic(release("vector", [image_sample({"annotations": [point]})])) == []
    [hit] = findings(release("keypoints", [image_sample({"annotations": [box(1)]})]), "SEG-SHAPE-NOT-ALLOWED")
    assert hit.message == "a keypoints dataset has only point annotations, not 'bbox'"


# ---------------------------------------------------------------- attributes

CAR = {
    "id": 1,
    "name": "car",
    "attributes": [
        {"name": "color", "input_type": "select", "values": ["red", "blue"]},
        {"name": "tags", "input_type": "multiselect", "values": ["a", "b"]},
        {"name": "speed", "input_type": "number", "min": "0", "max": 120.5, "step": ""},
        {"name": "occluded", "input_type": "checkbox", "is_mandatory": True},
        {"name": "note", "input_type": "text"},
        {"name": "heading", "input_type": "quaternion"},
    ],
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"color": "red", "tags": ["a"], "speed": 120.5, "occluded": False, "note": "", "heading": [1]},
            None,
        ),
        ({"occluded": True, "color": None, "tags": [], "speed": 0}, None),
        ({"occluded": True, "color": "green"}, "'green' is not one of its values ('red', 'blue')"),
        ({"occluded": True, "tags": ["a", "c", "d"]}, "'c', 'd' are not among its values ('a', 'b')"),
        ({"occluded": True, "tags": "a"}, "a multiselect value is a list of strings, not 'a'"),
        ({"occluded": True, "speed": -1}, "-1 is below its min 0"),
        ({"occluded": True, "speed": 121}, "121 is above its max 120.5"),
        ({"occluded": True, "speed": "3"}, "a number value is a number, not '3'"),
        ({"occluded": True, "speed": True}, "a number value is a number, not True"),
        ({"occluded": "false"}, "a checkbox value is true or false, not 'false'"),
        ({"occluded": True, "note": 3}, "a text value is a string, not 3"),
    ],
)
def test_attribute_values(values: dict[str, Any], expected: str | None) -> None:
    document = release("vector", [image_sample({"annotations": [box(1, attributes=values)]})], [CAR])
    hits = findings(document, "SEG-ATTRIBUTE-VALUE-INVALID")
    if expected is None:
        assert hits == []
    else:
        [hit] = hits
        assert hit.message.endswith(expected) and hit.message.startswith("attribute ")
        assert "category 1 ('car')" in hit.message
        assert hit.severity == "warning"


def test_mandatory_attributes_only_in_submitted_labels() -> None:
    document = release(
        "vector", [image_sample({"annotations": [box(1, attributes={"color": "red"})]})], [CAR]
    )
    [hit] = findings(document, "SEG-ATTRIBUTE-MANDATORY-MISSING")
    assert hit.pointer == f"{GT}/attributes/annotations/0/attributes"
    assert "'occluded'" in hit.message
    document["dataset"]["samples"][0]["labels"]["ground-truth"]["label_status"] = "PRELABELED"
    assert findings(document, "SEG-ATTRIBUTE-MANDATORY-MISSING") == []


def test_image_attributes_checked_against_their_definitions() -> None:
    definitions = [{"name": "weather", "input_type": "select", "values": ["sunny", "rain"]}]
    attributes = {"annotations": [], "image_attributes": {"weather": "snow", "time/of~day": "noon"}}
    document = release("vector", [image_sample(attributes)], image_attributes=definitions)
    assert semantic(document) == [
        ("SEG-ATTRIBUTE-UNDECLARED", f"{GT}/attributes/image_attributes/time~1of~0day"),
        ("SEG-ATTRIBUTE-VALUE-INVALID", f"{GT}/attributes/image_attributes/weather"),
    ]


# ---------------------------------------------------------------- sequences and tracks


def test_ids_repeat_across_frames_but_not_within_one() -> None:
    point = {"type": "point", "points": [[1, 1]], "category_id": 1}
    frames = [
        {"annotations": [{"id": 1, "track_id": 1, **point}, {"id": 2, "track_id": 2, **point}]},
        {"annotations": [{"id": 1, "track_id": 1, **point}, {"id": 1, "track_id": 3, **point}]},
    ]
    document = release("image-vector-sequence", [sequence_sample(2, frames)])
    [hit] = findings(document, "SEG-ANNOTATION-ID-DUPLICATE")
    assert hit.pointer == f"{GT}/attributes/frames/1/annotations/1/id"
    assert (
        hit.message
        == f"annotation id 1 is already used by {GT}/attributes/frames/1/annotations/0 in the same frame"
    )


def test_frame_count_and_track_consistency() -> None:
    point = {"type": "point", "points": [[1, 1]]}
    frames = [
        {"annotations": [{"id": 1, "track_id": 5, "category_id": 1, **point}]},
        {"annotations": [{"id": 1, "track_id": 5, "category_id": 2, **point}]},
    ]
    categories = [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}]
    document = release("image-vector-sequence", [sequence_sample(3, frames)], categories)
    assert semantic(document) == [
        ("SEG-FRAME-COUNT-MISMATCH", f"{GT}/attributes/frames"),
        ("SEG-TRACK-CATEGORY-CHANGED", f"{GT}/attributes/frames/1/annotations/0/category_id"),
    ]
    [hit] = findings(document, "SEG-FRAME-COUNT-MISMATCH")
    assert hit.message.startswith(
        "the label has 2 frames but the sample has 3 (/dataset/samples/0/attributes/frames)"
    )


def test_track_id_outside_sequences() -> None:
    document = release("bboxes", [image_sample({"annotations": [box(1, track_id=1), box(2, track_id=3)]})])
    assert semantic(document) == [("SEG-TRACK-ID-MISMATCH", f"{GT}/attributes/annotations/1/track_id")]


def test_sequence_links_refer_to_tracks() -> None:
    cuboid = {"type": "cuboid", "position": {"x": 0, "y": 0, "z": 0}, "dimensions": {"x": 1, "y": 1, "z": 1}}
    frames = [{"annotations": [{"id": 1, "track_id": 1, "category_id": 1, "yaw": 0, **cuboid}]}]
    sample = {
        "uuid": "s1",
        "name": "scene",
        "attributes": {"frames": [{"pcd": {"url": "https://example.com/0.pcd", "type": "pcd"}}]},
        "metadata": {},
        "labels": {"ground-truth": {"label_status": "LABELED", "attributes": {"frames": frames}}},
    }
    sample["labels"]["ground-truth"]["attributes"]["links"] = [
        {"from_id": 1, "to_id": 1},
        {"from_id": 1, "to_id": 4},
    ]
    [hit] = findings(release("pointcloud-cuboid-sequence", [sample]), "SEG-LINK-OBJECT-UNKNOWN")
    assert hit.pointer == f"{GT}/attributes/links/1/to_id"
    assert hit.message == "to_id 4 is not the id of an object of this label (ids: 1)"


def test_link_attributes_use_the_source_categorys_definitions() -> None:
    document = json.loads((CORPUS / "pointcloud-cuboid-release.json").read_text())
    links = document["dataset"]["samples"][0]["labels"]["ground-truth"]["attributes"]["links"]
    links[0]["attributes"] = {"relation": "pushing", "gap": "x"}
    rules = semantic(document)
    assert ("SEG-ATTRIBUTE-VALUE-INVALID", f"{GT}/attributes/links/0/attributes/relation") in rules
    assert ("SEG-ATTRIBUTE-VALUE-INVALID", f"{GT}/attributes/links/0/attributes/gap") in rules


# ---------------------------------------------------------------- multi-sensor


def test_multisensor_sensor_mismatch_and_cross_sensor_links() -> None:
    document = json.loads((CORPUS / "multisensor-sequence-release.json").read_text())
    attributes = document["dataset"]["samples"][0]["labels"]["ground-truth"]["attributes"]
    assert [f for f in findings(document) if f.severity == "error"] == []
    attributes["links"] = [{"from_id": 1, "to_id": 1}]
    assert findings(document, "SEG-LINK-OBJECT-UNKNOWN") == []
    attributes["sensors"][0], attributes["sensors"][1] = attributes["sensors"][1], attributes["sensors"][0]
    hits = findings(document, "SEG-SENSOR-MISMATCH")
    assert [h.pointer for h in hits] == [f"{GT}/attributes/sensors/0/name", f"{GT}/attributes/sensors/1/name"]
    assert hits[0].message == (
        "label sensor 0 is 'camera-front' but sample sensor 0 is 'lidar' ('camera-front' is sample sensor 1)"
    )
    # checked against the matching sample sensor all the same: the 2D sensor keeps 2D vertices
    assert findings(document, "SEG-SHAPE-VERTEX-DIMENSION") == []


# ---------------------------------------------------------------- point clouds


def test_point_annotations_against_annotation_ids() -> None:
    cloud = {"pcd": {"url": "https://example.com/a.pcd", "type": "pcd"}}
    attributes = {"annotations": [{"id": 1, "category_id": 1}, {"id": 2, "category_id": 1}]}
    attributes["point_annotations"] = [0, 1, 9, 9, 1, 8]
    sample = {"uuid": "s", "name": "p", "attributes": cloud, "metadata": {}}
    sample["labels"] = {"ground-truth": {"label_status": "LABELED", "attributes": attributes}}
    document = release("pointcloud-segmentation", [sample])
    assert semantic(document) == [
        ("SEG-ANNOTATION-WITHOUT-POINTS", f"{GT}/attributes/annotations/1"),
        ("SEG-POINT-ANNOTATION-UNKNOWN", f"{GT}/attributes/point_annotations/2"),
        ("SEG-POINT-ANNOTATION-UNKNOWN", f"{GT}/attributes/point_annotations/5"),
    ]
    [first, _] = findings(document, "SEG-POINT-ANNOTATION-UNKNOWN")
    assert (
        first.message
        == "point 2 belongs to instance 9, which is not an annotation id of this label (ids: 1, 2)"
    )
    attributes["point_annotations"] = [0, [1], {"a": 1}, "x", None, True, 1.0, 2]
    assert findings(document, "SEG-POINT-ANNOTATION-UNKNOWN") == []


# ---------------------------------------------------------------- bitmaps


def bitmap_release(
    bitmap_url: str, annotation_ids: list[int], image_url: str = "https://example.com/a.jpg"
) -> Any:
    annotations = [{"id": i, "category_id": 1} for i in annotation_ids]
    attributes = {"annotations": annotations, "segmentation_bitmap": {"url": bitmap_url}}
    return release("segmentation-bitmap", [image_sample(attributes, image=image_url)])


def test_bitmap_from_a_file_url(tmp_path: Path) -> None:
    path = tmp_path / "label.png"
    path.write_bytes(png_bytes(ids_to_rgba(np.array([[0, 1], [300, 300]])), "RGBA"))
    document = bitmap_release(path.as_uri(), [1, 2])
    assert semantic(document) == [
        ("SEG-ANNOTATION-NOT-IN-BITMAP", f"{GT}/attributes/annotations/1/id"),
        ("SEG-BITMAP-ID-UNANNOTATED", f"{GT}/attributes/segmentation_bitmap/url"),
    ]
    [hit] = findings(document, "SEG-BITMAP-ID-UNANNOTATED")
    assert hit.message == (
        "the bitmap has pixels with instance id 300 but no annotation with that id (annotation ids: 1, 2)"
    )


def test_bitmap_relative_path_resolves_against_png_dir(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.png").write_bytes(png_bytes(ids_to_rgba(np.array([[0, 3]])), "RGBA"))
    (tmp_path / "img.png").write_bytes(png_bytes(np.zeros((2, 2, 3), np.uint8), "RGB"))
    document = bitmap_release("labels/a.png", [3], image_url="img.png")
    assert semantic(document, png_dir=tmp_path) == [
        ("SEG-BITMAP-SIZE-MISMATCH", f"{GT}/attributes/segmentation_bitmap/url")
    ]
    [hit] = findings(document, "SEG-BITMAP-SIZE-MISMATCH", png_dir=tmp_path)
    assert hit.message == "the label bitmap is 2x1 pixels but the image is 2x2"
    # without png_dir the relative paths resolve against the working directory, where they do not exist
    assert semantic(document) == []


def test_remote_and_unreadable_bitmaps() -> None:
    assert semantic(bitmap_release("https://example.com/label.png", [1])) == []
    assert semantic(bitmap_release("s3://bucket/label.png", [1])) == []
    [hit] = findings(bitmap_release(data_url(b"garbage"), [1]), "SEG-BITMAP-UNREADABLE")
    assert hit.message.startswith("the label bitmap cannot be decoded: not a readable image")
    gray = data_url(png_bytes(np.zeros((2, 2), np.uint16)))
    [hit] = findings(bitmap_release(gray, [1]), "SEG-BITMAP-UNREADABLE")
    assert "RGBA" in hit.message


def test_image_segmentation_sequence_frames_have_their_own_bitmaps() -> None:
    one = data_url(png_bytes(ids_to_rgba(np.array([[1]])), "RGBA"))
    two = data_url(png_bytes(ids_to_rgba(np.array([[2]])), "RGBA"))
    frames = [
        {"annotations": [{"id": 1, "category_id": 1, "track_id": 1}], "segmentation_bitmap": {"url": one}},
        {"annotations": [{"id": 1, "category_id": 1, "track_id": 1}], "segmentation_bitmap": {"url": two}},
    ]
    document = release("image-segmentation-sequence", [sequence_sample(2, frames)])
    assert semantic(document) == [
        ("SEG-ANNOTATION-NOT-IN-BITMAP", f"{GT}/attributes/frames/1/annotations/0/id"),
        ("SEG-BITMAP-ID-UNANNOTATED", f"{GT}/attributes/frames/1/segmentation_bitmap/url"),
    ]


# ---------------------------------------------------------------- robustness and speed


def test_results_are_not_reused_across_validations() -> None:
    document = release("vector", [image_sample({"annotations": [box(1)]})])
    assert semantic(document) == []
    document["dataset"]["samples"][0]["labels"]["ground-truth"]["attributes"]["annotations"][0][
        "category_id"
    ] = 4
    assert semantic(document) == [("SEG-CATEGORY-UNDECLARED", f"{GT}/attributes/annotations/0/category_id")]


@pytest.mark.parametrize(
    "document",
    [
        {"dataset": {"task_type": "vector", "samples": [None, 1, {"labels": {"x": {"attributes": []}}}]}},
        {
            "dataset": {
                "task_type": "multisensor-sequence",
                "samples": [{"labels": {"a": {"attributes": {"sensors": [1, {}]}}}}],
            }
        },
        {
            "dataset": {
                "task_attributes": {"categories": [None, {"id": True}], "warning_rules": [3]},
                "labelsets": 3,
            }
        },
        {"tasks": [None, {"name": 3}], "samples": {"a": 1}},
        {
            "dataset": {
                "task_type": "image-segmentation-sequence",
                "samples": [
                    {
                        "labels": {
                            "g": {
                                "attributes": {"frames": [{"segmentation_bitmap": {"url": "data:;base64,"}}]}
                            }
                        }
                    }
                ],
            }
        },
    ],
)
def test_malformed_documents_do_not_break_the_rules(document: Any) -> None:
    for profile in ("lenient", "strict"):
        for finding in findings(document, profile=profile):
            assert not finding.rule.startswith("internal.")


def test_a_large_clean_release_has_no_findings() -> None:
    """Speed is measured by benchmarks/run.py; this checks that shared tables across many samples stay
    correct (no finding leaks from one sample's lookups into another's)."""
    categories = [
        {"id": i, "name": f"c{i}", "attributes": [{"name": "color", "input_type": "select", "values": ["r"]}]}
        for i in range(10)
    ]
    annotations = [box(k + 1, category=k, attributes={"color": "r"}) for k in range(3)]
    samples = [
        image_sample({"annotations": copy.deepcopy(annotations)}, f"s{i}.jpg", f"u{i}") for i in range(5000)
    ]
    document = release("vector", samples, categories)
    assert semantic_findings(RuleContext(document, "segments", "lenient")) == []
