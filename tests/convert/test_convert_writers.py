"""The writers: mask PNGs, COCO panoptic, and the platform writers (DataGym, Encord, Segments)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import labelspec
from labelspec.codecs.segments_bitmap import read_bitmap
from labelspec.convert.model import (
    Annotation,
    AttributeDefinition,
    Box,
    Category,
    Classification,
    ConversionReport,
    LabelledDataset,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
)
from labelspec.convert.registry import WRITERS, ConversionError, WriteOptions
from labelspec.convert.writers import coco_panoptic, datagym, encord, masks, segments

H, W = 6, 8


def mask_of(array: np.ndarray) -> Mask:
    """A model mask (COCO uncompressed RLE, column-major, 0s first) of a boolean array."""
    flat = np.asarray(array, dtype=bool).T.ravel()
    counts: list[int] = []
    current, run = False, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = bool(value), 0
        run += 1
    counts.append(run)
    return Mask(array.shape[0], array.shape[1], tuple(counts))


def box_array(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    a = np.zeros((H, W), dtype=bool)
    a[r0:r1, c0:c1] = True
    return a


A = box_array(1, 3, 1, 4)
B = box_array(2, 5, 3, 7)


def dataset() -> LabelledDataset:
    return LabelledDataset(
        media=(MediaItem("m1", "img1.jpg", W, H), MediaItem("m2", "sub/img2.jpg", W, H)),
        categories=(
            Category(
                "1", "car", color=(255, 0, 0), attributes=(AttributeDefinition("kind", "select", ("a", "b")),)
            ),
            Category("2", "road", is_thing=False),
            Category("3", "person"),
        ),
        annotations=(
            Annotation("a1", "m1", "1", mask_of(A), attributes={"kind": "a"}),
            Annotation("a2", "m1", "3", mask_of(B)),
            Annotation("a3", "m1", "1", Box(0, 4, 2, 2)),
            Annotation("a4", "m2", "2", Polygon(((0, 0, 5, 0, 5, 5, 0, 5),))),
            Annotation("a5", "m2", "2", Box(6, 0, 2, 2)),
            Annotation("a6", "m2", "3", Point(1, 1)),
        ),
        classifications=(Classification("weather", "sunny", "m1"),),
    )


def run(writer, ds: LabelledDataset, out: Path):
    report = ConversionReport("test", writer.target_id)
    paths = writer.write(ds, out, WriteOptions(), report)
    return paths, report


def test_registry_names_the_part_b_writers() -> None:
    for target in (
        "semantic-png",
        "semantic-png-color",
        "instance-png",
        "instance-png-color",
        "coco-panoptic",
        "datagym",
        "encord",
        "segments",
    ):
        assert WRITERS[target].available(), target
        assert WRITERS[target].load().target_id == target


def test_semantic_png_values_and_classes(tmp_path: Path) -> None:
    paths, report = run(masks.SEMANTIC_PNG, dataset(), tmp_path / "out")
    assert masks.SEMANTIC_PNG.validate_output(paths).valid
    with Image.open(tmp_path / "out" / "img1.png") as image:
        assert image.mode == "L"
        values = np.asarray(image)
    expected = np.zeros((H, W), np.uint8)
    expected[A] = 1
    expected[B] = 3  # later annotation wins
    expected[4:6, 0:2] = 1
    assert (values == expected).all()
    classes = json.loads((tmp_path / "out" / "classes.json").read_text())
    assert [(c["value"], c["name"]) for c in classes["classes"]] == [(1, "car"), (2, "road"), (3, "person")]
    summary = report.summary()
    assert summary[("dropped", "point annotation", "a point has no area to draw in semantic-png")] == 1
    assert (
        summary[
            (
                "approximated",
                "overlapping annotation",
                "pixels covered by later annotations go to the later one",
            )
        ]
        == 1
    )
    assert ("dropped", "classification", "semantic-png has no classifications") in summary
    assert ("dropped", "object attribute", "semantic-png has no place for attributes") in summary
    assert (tmp_path / "out" / "sub" / "img2.png").is_file()


def test_semantic_png_color_uses_the_categories_own_colours(tmp_path: Path) -> None:
    paths, _ = run(masks.SEMANTIC_PNG_COLOR, dataset(), tmp_path / "out")
    assert masks.SEMANTIC_PNG_COLOR.validate_output(paths).valid
    with Image.open(tmp_path / "out" / "img1.png") as image:
        assert image.mode == "RGB"
        rgb = np.asarray(image)
    assert tuple(rgb[1, 1]) == (255, 0, 0)  # car: its own colour
    assert tuple(rgb[3, 4]) == masks.COLORMAP[2]  # person: position 2 of the palette
    assert tuple(rgb[0, 0]) == (0, 0, 0)


def test_instance_png_is_16_bit_with_instance_values(tmp_path: Path) -> None:
    paths, _ = run(masks.INSTANCE_PNG, dataset(), tmp_path / "out")
    assert masks.INSTANCE_PNG.validate_output(paths).valid
    with Image.open(tmp_path / "out" / "img1.png") as image:
        assert image.mode == "I;16"
        values = np.asarray(image)
    assert values.dtype == np.uint16
    assert values[1, 1] == 1 and values[3, 4] == 2 and values[5, 0] == 3
    table = json.loads((tmp_path / "out" / "instances.json").read_text())["images"]
    assert [e["annotation_id"] for e in table["img1.png"]] == ["a1", "a2", "a3"]
    assert table["img1.png"][1]["category"] == "person"


def test_instance_png_color_palette(tmp_path: Path) -> None:
    paths, _ = run(masks.INSTANCE_PNG_COLOR, dataset(), tmp_path / "out")
    with Image.open(tmp_path / "out" / "img1.png") as image:
        rgb = np.asarray(image)
    assert tuple(rgb[1, 1]) == masks.COLORMAP[0]
    assert tuple(rgb[3, 4]) == masks.COLORMAP[1]
    assert masks.INSTANCE_PNG_COLOR.validate_output(paths).valid


@pytest.mark.parametrize(
    "writer",
    [
        masks.SEMANTIC_PNG,
        masks.SEMANTIC_PNG_COLOR,
        masks.INSTANCE_PNG,
        masks.INSTANCE_PNG_COLOR,
        coco_panoptic.WRITER,
    ],
)
def test_outputs_are_byte_identical_across_runs(writer, tmp_path: Path) -> None:
    first, _ = run(writer, dataset(), tmp_path / "one")
    second, _ = run(writer, dataset(), tmp_path / "two")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_more_than_255_classes_is_an_error(tmp_path: Path) -> None:
    ds = LabelledDataset(
        media=(MediaItem("m", "a.jpg", 2, 2),),
        categories=tuple(Category(str(i), f"c{i}") for i in range(256)),
        annotations=(),
    )
    with pytest.raises(ConversionError, match="at most 255"):
        run(masks.SEMANTIC_PNG, ds, tmp_path / "out")
    assert not (tmp_path / "out" / "a.png").exists()


def test_more_than_65535_instances_is_an_error_not_clamping(tmp_path: Path, monkeypatch) -> None:
    assert masks.MAX_INSTANCES == 65535
    monkeypatch.setattr(masks, "MAX_INSTANCES", 2)  # the same check, without drawing 65536 instances
    with pytest.raises(ConversionError, match=r"at most 2 .*never clamps"):
        run(masks.INSTANCE_PNG, dataset(), tmp_path / "out")


def test_unsafe_media_names_stay_inside_the_output(tmp_path: Path) -> None:
    ds = LabelledDataset(
        media=(MediaItem("m", "../../evil.jpg", 2, 2), MediaItem("n", "/abs/evil.jpg", 2, 2)),
        categories=(Category("c", "c"),),
        annotations=(),
    )
    paths, report = run(masks.SEMANTIC_PNG, ds, tmp_path / "out")
    assert all((tmp_path / "out") in p.parents for p in paths)
    assert sorted(p.name for p in paths) == ["classes.json", "evil.png", "evil_2.png"]
    assert any(loss.what == "output file name" for loss in report.losses)


def test_coco_panoptic_validates_and_png_ids_equal_segments_info(tmp_path: Path) -> None:
    out = tmp_path / "pan"
    paths, report = run(coco_panoptic.WRITER, dataset(), out)
    verdict = labelspec.validate(
        out / "panoptic.json", format="coco-panoptic", profile="strict", png_dir=out / "panoptic"
    )
    assert verdict.valid, [f.message for f in verdict.findings]
    assert coco_panoptic.WRITER.validate_output(paths).valid
    document = json.loads((out / "panoptic.json").read_text())
    assert [c["isthing"] for c in document["categories"]] == [1, 0, 1]
    for annotation in document["annotations"]:
        ids = read_bitmap(out / "panoptic" / annotation["file_name"])
        drawn = {int(v): int(c) for v, c in zip(*np.unique(ids, return_counts=True), strict=True) if v}
        listed = {s["id"]: s["area"] for s in annotation["segments_info"]}
        assert drawn == listed
    first = document["annotations"][0]["segments_info"]
    assert first[0]["id"] == coco_panoptic.rgb_to_id((255, 0, 0))  # the category colour
    assert first[2]["id"] != first[0]["id"]  # second car: a jittered colour
    assert first[0]["bbox"] == [1, 1, 3, 2]
    # stuff: the two road instances of img2 are one segment
    second = document["annotations"][1]["segments_info"]
    assert len(second) == 1 and second[0]["area"] == 25 + 4
    assert (
        "approximated",
        "stuff instance",
        "merged into the one segment of stuff category 'road' in this image",
    ) in report.summary()


def test_segment_ids_are_unique_and_nonzero() -> None:
    generator = coco_panoptic.SegmentIds()
    ids = [generator.next((0, 0, 0), 0, n) for n in range(500)]
    assert 0 not in ids and len(set(ids)) == 500


def platform_dataset() -> LabelledDataset:
    base = dataset()
    return LabelledDataset(
        media=base.media,
        categories=base.categories,
        annotations=(
            *base.annotations,
            Annotation("a7", "m2", "1", Polyline(((0, 0), (3, 4.5))), attributes={"kind": "b"}),
            Annotation(
                "a8",
                "m1",
                "1",
                MultiPolygon(
                    (
                        Polygon(((0, 0, 2, 0, 2, 2),)),
                        Polygon(((4, 4, 6, 4, 6, 6), (4.5, 4.6, 5.5, 4.6, 5.5, 5.4))),
                    )
                ),
            ),
        ),
        classifications=(Classification("weather", "sunny", "m1"), Classification("tags", ("x", "y"), "m2")),
    )


def test_datagym_output_validates_strict(tmp_path: Path) -> None:
    paths, report = run(datagym.WRITER, platform_dataset(), tmp_path / "dg.json")
    verdict = datagym.WRITER.validate_output(paths)
    assert verdict.valid, [(f.rule, f.message) for f in verdict.findings]
    document = json.loads(paths[0].read_text())
    names = [c["class_name"] for c in document[0]["label_classes"]]
    assert "car" in names and "kind" in names and "weather" in names
    assert ("dropped", "mask annotation", "DataGym has no mask geometry") in report.summary()


def test_encord_output_validates_strict_with_its_ontology(tmp_path: Path) -> None:
    paths, _ = run(encord.WRITER, platform_dataset(), tmp_path / "enc")
    verdict = labelspec.validate(
        tmp_path / "enc" / "labels.json",
        format="encord",
        profile="strict",
        ontology=tmp_path / "enc" / "ontology.json",
    )
    assert verdict.valid, [(f.rule, f.message) for f in verdict.findings]
    ontology = json.loads((tmp_path / "enc" / "ontology.json").read_text())
    shapes = {o["name"]: o["shape"] for o in ontology["objects"]}
    assert shapes["car"] == "bitmask" and shapes["person"] == "bitmask"
    again, _ = run(encord.WRITER, platform_dataset(), tmp_path / "enc2")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]  # deterministic hashes


def test_segments_bitmap_release_validates_and_bitmaps_hold_annotation_ids(tmp_path: Path) -> None:
    paths, _ = run(segments.WRITER, dataset(), tmp_path / "release.json")
    assert segments.WRITER.validate_output(paths).valid
    release = json.loads(paths[0].read_text())
    assert release["dataset"]["task_type"] == "segmentation-bitmap"
    label = release["dataset"]["samples"][0]["labels"]["ground-truth"]["attributes"]
    ids = read_bitmap(tmp_path / label["segmentation_bitmap"]["url"], require_alpha=True)
    assert {int(v) for v in np.unique(ids)} - {0} == {a["id"] for a in label["annotations"]} == {1, 2, 3}
    assert (ids[A & ~B] == 1).all() and (ids[B] == 2).all()
    assert label["annotations"][0]["attributes"] == {"kind": "a"}


def test_segments_vector_release_validates(tmp_path: Path) -> None:
    ds = platform_dataset()
    vector = LabelledDataset(
        ds.media,
        ds.categories,
        tuple(a for a in ds.annotations if not isinstance(a.geometry, Mask)),
        ds.classifications,
    )
    paths, report = run(segments.WRITER, vector, tmp_path / "release.json")
    verdict = segments.WRITER.validate_output(paths)
    assert verdict.valid, [(f.rule, f.message) for f in verdict.findings]
    release = json.loads(paths[0].read_text())
    assert release["dataset"]["task_type"] == "vector"
    types = [
        a["type"]
        for s in release["dataset"]["samples"]
        for a in s["labels"]["ground-truth"]["attributes"]["annotations"]
    ]
    assert types == ["bbox", "polygon", "polygon", "polygon", "bbox", "point", "polyline"]
    assert ("approximated", "polygon hole", "Segments vector polygons have no holes") in report.summary()
