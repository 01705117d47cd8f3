"""The public strategies of labelspec.generators: every example is valid under its profile, and coherent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import labelspec
from labelspec import generators
from labelspec.codecs.encord_bitmask import decode_mask
from labelspec.generators.fixtures import encord, segments, yolo
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.engine import validate_document
from tests.conftest import examples

PROFILES = ("lenient", "strict")


def few(limit: int) -> settings:
    """At most ``limit`` examples (fewer when the active hypothesis profile asks for fewer)."""
    return settings(
        max_examples=examples(limit),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def errors(document: Any, format_id: str, profile: str, **extra: Any) -> list[str]:
    report = labelspec.validate(document, format=format_id, profile=profile, **extra)
    return [
        f"{f.pointer} {f.rule} {f.message}" for r in report.files for f in r.findings if f.severity == "error"
    ]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    ("format_id", "make"),
    [
        ("datagym", generators.datagym_export),
        ("segments", generators.segments_release),
        ("coco-instance", generators.coco_instance),
        ("coco-panoptic", generators.coco_panoptic),
        ("yolo", generators.yolo_dataset),
        ("encord-ontology", generators.encord_ontology),
    ],
)
def test_examples_are_valid(format_id: str, make: Any, profile: str) -> None:
    @few(12)
    @given(make(profile=profile))
    def check(document: Any) -> None:
        assert errors(document, format_id, profile) == []

    check()


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("data_type", encord.DATA_TYPES)
def test_encord_rows_are_valid_with_their_ontology(data_type: str, profile: str) -> None:
    @few(4)
    @given(generators.encord_export_with_ontology(profile=profile, data_types=[data_type], max_items=1))
    def check(example: tuple[list[Any], dict[str, Any]]) -> None:
        rows, ontology = example
        assert rows and all(row["data_type"] == data_type for row in rows)
        assert errors(rows, "encord", profile, ontology=ontology) == []

    check()


def _all_required(node: Any) -> Any:
    """``node`` with every attribute (top-level, nested under an option, dynamic) marked ``required``."""
    if isinstance(node, list):
        return [_all_required(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _all_required(value) for key, value in node.items()}
    if "type" in node and "featureNodeHash" in node:
        out["required"] = True
    return out


@pytest.mark.parametrize(
    ("profile", "data_type"),
    [("strict", t) for t in encord.DATA_TYPES]
    + [("lenient", t) for t in encord.DATA_TYPES + encord.LENIENT_ONLY_DATA_TYPES],
)
def test_encord_rows_have_no_findings_with_their_ontology(profile: str, data_type: str) -> None:
    """Seeded exports are clean (no warning either), required attributes included: with the drawn
    ontology and with every attribute of it marked required. Strict exports are clean under both profiles,
    lenient ones (which draw older platform forms) under lenient."""
    checked = {"strict": PROFILES, "lenient": ("lenient",)}[profile]
    for seed in range(8):
        draw = RandomDraw(f"clean/{data_type}/{profile}/{seed}")
        ontology = encord.build_ontology(draw, profile=profile)
        for variant in (ontology, _all_required(ontology)):
            rows, used = encord.build_export(draw, variant, profile=profile, data_types=[data_type])
            assert used is variant
            for validation_profile in checked:
                report = validate_document(
                    rows, format="encord", ontology=variant, profile=validation_profile
                )
                found = [f"{f.pointer} {f.rule} {f.message}" for f in report.findings]
                assert found == [], (seed, validation_profile, found)


@pytest.mark.parametrize("task_type", segments.TASK_TYPES + segments.LENIENT_ONLY_TASK_TYPES)
def test_segments_task_types(task_type: str) -> None:
    profile = "lenient" if task_type in segments.LENIENT_ONLY_TASK_TYPES else "strict"

    @few(4)
    @given(generators.segments_release(profile=profile, task_types=[task_type]))
    def check(release: dict[str, Any]) -> None:
        assert release["dataset"]["task_type"] == task_type
        assert errors(release, "segments", profile) == []

    check()


def test_encord_bitmasks_are_real_masks_of_the_frame_size() -> None:
    @few(10)
    @given(generators.encord_export_with_ontology(data_types=["image"], shapes=["bitmask"], max_size=64))
    def check(example: tuple[list[Any], dict[str, Any]]) -> None:
        for row in example[0]:
            for unit in row["data_units"].values():
                for obj in unit["labels"]["objects"]:
                    mask = obj["bitmask"]
                    assert (mask["width"], mask["height"]) == (unit["width"], unit["height"])
                    assert decode_mask(mask["rleString"], mask["height"], mask["width"]).any()

    check()


def test_coco_rle_and_areas_agree_with_pycocotools() -> None:
    mask_utils = pytest.importorskip("pycocotools.mask")

    @few(10)
    @given(generators.coco_instance(shapes=["rle", "crowd"], max_size=48, profile="strict"))
    def check(document: dict[str, Any]) -> None:
        sizes = {image["id"]: (image["height"], image["width"]) for image in document["images"]}
        for annotation in document["annotations"]:
            rle = annotation["segmentation"]
            assert tuple(rle["size"]) == sizes[annotation["image_id"]]
            if isinstance(rle["counts"], list):
                rle = mask_utils.frPyObjects(rle, *rle["size"])
            decoded = mask_utils.decode(rle)
            assert int(decoded.sum()) == annotation["area"]
            assert [int(v) for v in mask_utils.toBbox(rle)] == annotation["bbox"]

    check()


def test_yolo_files_parse_back_to_the_drawn_form() -> None:
    @few(10)
    @given(generators.yolo_dataset())
    def check(document: dict[str, Any]) -> None:
        assert yolo.parse_files(yolo.dataset_files(document)) == document

    check()


def test_panoptic_pngs_agree_with_segments_info() -> None:
    @few(8)
    @given(generators.coco_panoptic(with_pngs=True, profile="strict"))
    def check(example: tuple[dict[str, Any], dict[str, Any]]) -> None:
        document, pngs = example
        for annotation in document["annotations"]:
            rgb = pngs[annotation["file_name"]].astype(np.uint32)
            ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
            assert set(np.unique(ids)) - {0} == {s["id"] for s in annotation["segments_info"]}
            for segment in annotation["segments_info"]:
                assert int((ids == segment["id"]).sum()) == segment["area"]

    check()


def test_seeded_drawing_is_deterministic() -> None:
    first = encord.build_export(RandomDraw("same"), data_types=["video", "img_group"])
    second = encord.build_export(RandomDraw("same"), data_types=["video", "img_group"])
    assert first == second
    assert first != encord.build_export(RandomDraw("other"), data_types=["video", "img_group"])


@few(8)
@given(generators.segments_release(layout="2020", min_items=2))
def test_segments_2020_layout_is_lenient_only_and_keeps_its_labels(release: dict[str, Any]) -> None:
    """A 2020 release: lenient-valid, strict-invalid only for the missing `dataset` wrapper (the current SDK
    reads release["dataset"]); every sample labelled in each task of the top-level list."""
    assert errors(release, "segments", "lenient") == []
    assert errors(release, "segments", "strict") == [
        ' schema.required required property "dataset" is missing'
    ]
    assert "dataset" not in release and release["tasks"]
    names = {task["name"] for task in release["tasks"]}
    for sample in release["samples"]:
        assert sample["data_type"] == "IMAGE" and set(sample["labels"]) == names
        for label in sample["labels"].values():
            assert label is None or label["label_type"] in segments.LAYOUT_2020_TASK_TYPES
