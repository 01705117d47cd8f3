"""COCO instance and panoptic rules: the RLE decoder, pointers and messages, and the PNG-folder rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pycocotools import mask as mask_utils

import labelspec
from labelspec.validator.report import Finding
from labelspec.validator.rules.coco import decode_compressed_counts
from tests.conftest import examples

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _findings(
    document: Any, fmt: str, profile: str = "lenient", png_dir: Path | None = None
) -> list[Finding]:
    report = labelspec.validate(document, format=fmt, profile=profile, png_dir=png_dir)
    return report.files[-1].findings


def _rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule_id]


def _instance(**annotation: Any) -> dict[str, Any]:
    base = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0}
    base.update(annotation)
    return {
        "images": [{"id": 1, "width": 8, "height": 6, "file_name": "a.jpg"}],
        "annotations": [base],
        "categories": [{"id": 1, "name": "car"}],
    }


# ---------------------------------------------------------------------------------------------- RLE


def _runs(mask: np.ndarray) -> list[int]:
    """Run lengths of a binary mask in column-major order, starting with a run of 0s."""
    flat = mask.flatten(order="F")
    runs: list[int] = []
    current, length = 0, 0
    for value in flat.tolist():
        if value == current:
            length += 1
        else:
            runs.append(length)
            current, length = value, 1
    runs.append(length)
    return runs


@settings(max_examples=examples(60, cap=False), deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_decoder_agrees_with_pycocotools(height: int, width: int, data: st.DataObject) -> None:
    bits = data.draw(st.lists(st.booleans(), min_size=height * width, max_size=height * width))
    mask = np.asfortranarray(np.array(bits, dtype=np.uint8).reshape(height, width))
    encoded = mask_utils.encode(mask)["counts"].decode("ascii")
    decoded = decode_compressed_counts(encoded)
    assert decoded == _runs(mask)
    assert sum(decoded) == height * width


def test_decoder_reads_large_runs() -> None:
    mask = np.zeros((480, 640), dtype=np.uint8, order="F")
    mask[100:300, 200:500] = 1
    encoded = mask_utils.encode(mask)["counts"].decode("ascii")
    assert decode_compressed_counts(encoded) == _runs(mask)


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        ("=24000a~", "outside '0'..'o'"),
        ("=2400 0", "outside '0'..'o'"),
        ("=24000aP", "ends inside run"),  # 'P' = 32: the 'more' bit is set on the last character
        ("0@", "negative length"),  # second run: group 16, the sign bit and no more groups
    ],
)
def test_decoder_reports_why(counts: str, reason: str) -> None:
    result = decode_compressed_counts(counts)
    assert isinstance(result, str) and reason in result


def test_undecodable_counts_are_not_also_a_pixel_total_finding() -> None:
    document = _instance(iscrowd=1, segmentation={"size": [6, 8], "counts": "=24000a~"})
    findings = _findings(document, "coco-instance")
    hit = _rule(findings, "COCO-RLE-COUNTS-UNDECODABLE")
    assert [f.pointer for f in hit] == ["/annotations/0/segmentation/counts"]
    assert not _rule(findings, "COCO-RLE-PIXEL-TOTAL")


def test_pixel_total_for_compressed_and_uncompressed_counts() -> None:
    short = _instance(
        iscrowd=1, segmentation={"size": [6, 8], "counts": "=24000"}
    )  # runs 13,2,4,2,4,2: 27 of 48 pixels
    hit = _rule(_findings(short, "coco-instance"), "COCO-RLE-PIXEL-TOTAL")
    assert (
        len(hit) == 1 and "compressed RLE runs cover 27 pixels" in hit[0].message and "48" in hit[0].message
    )
    long = _instance(iscrowd=1, segmentation={"size": [6, 8], "counts": [40, 10]})
    hit = _rule(_findings(long, "coco-instance"), "COCO-RLE-PIXEL-TOTAL")
    assert len(hit) == 1 and "uncompressed RLE runs cover 50 pixels" in hit[0].message


def test_rle_size_is_height_then_width() -> None:
    swapped = _instance(iscrowd=1, segmentation={"size": [8, 6], "counts": [48]})
    hit = _rule(_findings(swapped, "coco-instance"), "COCO-RLE-SIZE-MISMATCH")
    assert [f.pointer for f in hit] == ["/annotations/0/segmentation/size"]
    assert "expected [6, 8]" in hit[0].message
    unknown_size = copy.deepcopy(swapped)
    unknown_size["images"][0].update(width=None, height=None)  # Segments.ai, images not loaded
    assert not _rule(_findings(unknown_size, "coco-instance"), "COCO-RLE-SIZE-MISMATCH")


# ---------------------------------------------------------------------------------------------- ids


def test_unknown_ids_name_the_known_ones() -> None:
    document = _instance(image_id=12, category_id=5)
    document["images"] += [{"id": i, "width": 8, "height": 6, "file_name": f"{i}.jpg"} for i in range(2, 11)]
    findings = _findings(document, "coco-instance")
    (image,) = _rule(findings, "COCO-IMAGE-ID-UNKNOWN")
    assert image.pointer == "/annotations/0/image_id"
    assert image.message == "image_id 12 names no image (known ids: 1-10)"
    (category,) = _rule(findings, "COCO-CATEGORY-ID-UNKNOWN")
    assert category.message == "category_id 5 names no category (known ids: 1)"


def test_duplicate_ids_point_at_the_repeat() -> None:
    document = _instance()
    document["annotations"] *= 3
    hit = _rule(_findings(document, "coco-instance"), "COCO-ANNOTATION-ID-DUPLICATE")
    assert [f.pointer for f in hit] == ["/annotations/1/id", "/annotations/2/id"]
    assert "first at /annotations/0" in hit[0].message


def test_boolean_ids_are_left_to_the_schema() -> None:
    document = _instance(image_id=True)
    assert not _rule(_findings(document, "coco-instance"), "COCO-IMAGE-ID-UNKNOWN")


# ---------------------------------------------------------------------------------------------- geometry


def test_negative_bbox_severity_per_profile() -> None:
    document = _instance(bbox=[5.5, 4.0, -3.25, -2.0])
    for profile, severity in (("lenient", "warning"), ("strict", "error")):
        hit = _rule(_findings(document, "coco-instance", profile), "COCO-BBOX-NEGATIVE-SIZE")
        assert [f.severity for f in hit] == [severity]
    # a reversed box is reported once, not also as leaving the image
    assert not _rule(_findings(document, "coco-instance"), "COCO-BBOX-OUTSIDE-IMAGE")


def test_bbox_touching_the_border_is_inside() -> None:
    assert not _rule(_findings(_instance(bbox=[0, 0, 8, 6]), "coco-instance"), "COCO-BBOX-OUTSIDE-IMAGE")
    hit = _rule(_findings(_instance(bbox=[-1, 0, 10, 6]), "coco-instance"), "COCO-BBOX-OUTSIDE-IMAGE")
    assert len(hit) == 1 and "left of or above" in hit[0].message and "past the width 8" in hit[0].message


def test_keypoints_without_names_need_triplets() -> None:
    segments_point = _instance(keypoints=[6.5, 1.0, 1])  # what the Segments.ai SDK writes (COCO-D04)
    assert not _rule(_findings(segments_point, "coco-instance"), "COCO-KEYPOINTS-LENGTH")
    pair = _instance(keypoints=[6.5, 1.0])
    hit = _rule(_findings(pair, "coco-instance"), "COCO-KEYPOINTS-LENGTH")
    assert len(hit) == 1 and "not a multiple of 3" in hit[0].message


def test_iscrowd_pairing() -> None:
    polygon = [[1, 1, 3, 1, 3, 3, 1, 3]]
    crowd_polygon = _instance(iscrowd=1, segmentation=polygon)
    assert _rule(_findings(crowd_polygon, "coco-instance"), "COCO-ISCROWD-POLYGONS")
    assert not _rule(
        _findings(_instance(iscrowd=0, segmentation=polygon), "coco-instance"), "COCO-ISCROWD-POLYGONS"
    )
    box_only = _instance(iscrowd=1, segmentation=[])  # an empty list is no polygon
    assert not _rule(_findings(box_only, "coco-instance"), "COCO-ISCROWD-POLYGONS")


# ---------------------------------------------------------------------------------------------- panoptic


def _panoptic(segments: list[dict[str, Any]], file_name: str = "a.png") -> dict[str, Any]:
    return {
        "images": [{"id": 1, "width": 8, "height": 6, "file_name": "a.jpg"}],
        "annotations": [{"image_id": 1, "file_name": file_name, "segments_info": segments}],
        "categories": [
            {"id": 1, "name": "car", "isthing": 1},
            {"id": 2, "name": "road", "isthing": 0},
        ],
    }


def _write_png(path: Path, ids: np.ndarray) -> None:
    rgb = np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


@pytest.fixture
def png_dir(tmp_path: Path) -> Path:
    ids = np.zeros((6, 8), dtype=np.uint32)
    ids[1:3, 1:4] = 255  # 6 pixels, car
    ids[4:6, :] = 16711680  # 16 pixels, road
    _write_png(tmp_path / "a.png", ids)
    Image.fromarray(np.zeros((6, 8), dtype=np.uint8), "L").save(tmp_path / "grey.png")
    _write_png(tmp_path / "small.png", np.zeros((3, 4), dtype=np.uint32))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return tmp_path


CAR = {"id": 255, "category_id": 1, "area": 6, "bbox": [1, 1, 3, 2], "iscrowd": 0}
ROAD = {"id": 16711680, "category_id": 2, "area": 16, "bbox": [0, 4, 8, 2], "iscrowd": 0}
PNG_RULES = (
    "COCO-PANOPTIC-PNG-MISSING",
    "COCO-PANOPTIC-PNG-FORMAT",
    "COCO-PANOPTIC-PNG-SIZE",
    "COCO-PANOPTIC-PNG-SEGMENTS-MISMATCH",
    "COCO-PANOPTIC-PNG-AREA",
)


def test_consistent_png_passes(png_dir: Path) -> None:
    findings = _findings(_panoptic([CAR, ROAD]), "coco-panoptic", "lenient", png_dir)
    assert not findings, findings


def test_png_rules_are_skipped_without_a_folder() -> None:
    findings = _findings(_panoptic([CAR], file_name="nowhere.png"), "coco-panoptic")
    assert not [f for f in findings if f.rule in PNG_RULES]


@pytest.mark.parametrize(
    ("file_name", "rule_id", "words"),
    [
        ("missing.png", "COCO-PANOPTIC-PNG-MISSING", "not in the PNG folder"),
        ("../a.png", "COCO-PANOPTIC-PNG-MISSING", "outside the PNG folder"),
        ("/etc/passwd", "COCO-PANOPTIC-PNG-MISSING", "outside the PNG folder"),
        ("grey.png", "COCO-PANOPTIC-PNG-FORMAT", "mode L"),
        ("broken.png", "COCO-PANOPTIC-PNG-FORMAT", "does not decode"),
        ("small.png", "COCO-PANOPTIC-PNG-SIZE", "the PNG is 4x3 but image 1 is 8x6"),
    ],
)
def test_png_file_problems(png_dir: Path, file_name: str, rule_id: str, words: str) -> None:
    findings = _findings(_panoptic([], file_name=file_name), "coco-panoptic", png_dir=png_dir)
    hit = _rule(findings, rule_id)
    assert len(hit) == 1 and hit[0].pointer == "/annotations/0/file_name", findings
    assert words in hit[0].message
    assert hit[0].severity == "error"
    others = [f for f in findings if f.rule in PNG_RULES and f.rule != rule_id]
    assert not others, others


def test_png_and_segments_disagree(png_dir: Path) -> None:
    extra = {"id": 65280, "category_id": 1, "area": 6, "bbox": [1, 1, 3, 2], "iscrowd": 0}
    findings = _findings(_panoptic([extra, ROAD]), "coco-panoptic", png_dir=png_dir)
    hit = _rule(findings, "COCO-PANOPTIC-PNG-SEGMENTS-MISMATCH")
    messages = sorted(f.message for f in hit)
    assert messages == [
        "ids drawn in the PNG but not listed in segments_info: 255",
        "ids listed in segments_info but absent from the PNG: 65280",
    ]
    assert {f.pointer for f in hit} == {"/annotations/0/segments_info"}


def test_png_area_warning_and_duplicate_sum(png_dir: Path) -> None:
    wrong = dict(CAR, area=9)
    (hit,) = _rule(
        _findings(_panoptic([wrong, ROAD]), "coco-panoptic", png_dir=png_dir), "COCO-PANOPTIC-PNG-AREA"
    )
    assert hit.severity == "warning" and hit.pointer == "/annotations/0/segments_info/0/area"
    assert hit.message == "segment 255 has area 9 but 6 pixels of its colour in the PNG"
    # Two stuff instances sharing one id (Segments.ai, COCOP-D02): areas add up to the pixel count.
    halves = [dict(ROAD, area=8, bbox=[0, 4, 4, 2]), dict(ROAD, area=8, bbox=[4, 4, 4, 2])]
    findings = _findings(_panoptic([CAR, *halves]), "coco-panoptic", png_dir=png_dir)
    assert not _rule(findings, "COCO-PANOPTIC-PNG-AREA")
    (duplicate,) = _rule(findings, "COCO-PANOPTIC-SEGMENT-ID-DUPLICATE")
    assert duplicate.severity == "warning" and duplicate.pointer == "/annotations/0/segments_info/2/id"


def test_png_dir_through_the_cli(png_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from labelspec.cli import main

    path = tmp_path / "panoptic.json"
    path.write_text(json.dumps(_panoptic([CAR], file_name="a.png")))
    code = main(
        ["validate", str(path), "--format", "coco-panoptic", "--png-dir", str(png_dir), "--output", "json"]
    )
    output = json.loads(capsys.readouterr().out)
    rules = {f["rule"] for f in output["files"][0]["findings"]}
    assert code == 1 and "COCO-PANOPTIC-PNG-SEGMENTS-MISMATCH" in rules


def test_segment_id_conflict_is_an_error_in_both_profiles() -> None:
    conflict = [CAR, dict(ROAD, id=255)]
    for profile in ("lenient", "strict"):
        hit = _rule(
            _findings(_panoptic(conflict), "coco-panoptic", profile), "COCO-PANOPTIC-SEGMENT-ID-CONFLICT"
        )
        assert [f.severity for f in hit] == ["error"]
        assert "category 2" in hit[0].message and "category 1" in hit[0].message
        assert not _rule(
            _findings(_panoptic(conflict), "coco-panoptic", profile), "COCO-PANOPTIC-SEGMENT-ID-DUPLICATE"
        )


# ---------------------------------------------------------------------------------------------- robustness

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
SEEDS = [
    json.loads(path.read_text())
    for fmt in ("coco-instance", "coco-panoptic")
    for path in sorted((CORPUS / fmt).glob("*.json"))
]
SECTIONS = ("images", "annotations", "categories")


@settings(max_examples=examples(60, cap=False), deadline=None)
@given(
    st.sampled_from(SEEDS), st.sampled_from(SECTIONS), st.integers(0, 5), st.text(max_size=12), json_values
)
def test_mutated_coco_never_breaks_a_rule(
    tmp_path_factory: pytest.TempPathFactory, seed: Any, section: str, index: int, key: str, value: Any
) -> None:
    document = copy.deepcopy(seed)
    items = document.get(section) if isinstance(document, dict) else None
    if isinstance(items, list) and items:
        item = items[index % len(items)]
        if isinstance(item, dict):
            item[key if key else "segmentation"] = value
    png_dir = tmp_path_factory.getbasetemp()
    for fmt in ("coco-instance", "coco-panoptic"):
        for profile in ("lenient", "strict"):
            findings = _findings(document, fmt, profile, png_dir)
            assert not [f for f in findings if f.rule.startswith("internal.")]


@settings(max_examples=examples(300, cap=False), deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=40, max_codepoint=115), max_size=30))
def test_fast_decoder_agrees_with_the_plain_one(counts: str) -> None:
    from labelspec.validator.rules.coco import decode_counts_slowly

    assert decode_compressed_counts(counts) == decode_counts_slowly(counts)


def test_huge_runs_fall_back_to_exact_integers() -> None:
    from labelspec.validator.rules.coco import decode_counts_slowly

    long_run = "o" * 14 + "?"  # one run of 15 groups: 75 bits, more than numpy's int64
    assert decode_compressed_counts(long_run) == decode_counts_slowly(long_run)
    document = _instance(iscrowd=1, segmentation={"size": [6, 8], "counts": long_run})
    (hit,) = _rule(_findings(document, "coco-instance"), "COCO-RLE-PIXEL-TOTAL")
    assert "but size [6, 8] has 48" in hit.message
