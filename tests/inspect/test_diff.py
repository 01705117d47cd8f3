"""``labelspec diff``: exit codes, edits built by construction and found exactly, and the properties
``diff(x, x)`` is empty and ``diff(x, convert(x))`` is empty when the conversion reports no loss."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from labelspec import generators
from labelspec.convert.api import convert
from labelspec.convert.registry import ConversionError
from labelspec.inspect.diff import diff_sides, load_side
from labelspec.inspect.source import Options
from tests.conftest import CORPUS, examples

COCO: dict[str, Any] = {
    "images": [
        {"id": 1, "width": 100, "height": 80, "file_name": "a.jpg"},
        {"id": 2, "width": 100, "height": 80, "file_name": "b.jpg"},
    ],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 20], "area": 600, "iscrowd": 0,
         "segmentation": []},
        {"id": 11, "image_id": 1, "category_id": 2, "bbox": [50, 40, 20, 20], "area": 200, "iscrowd": 0,
         "segmentation": [[50, 40, 70, 40, 70, 60]]},
        {"id": 12, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0,
         "segmentation": []},
    ],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
}  # fmt: skip

OFFLINE = Options(offline=True)


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120)


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def diff_json(cli: list[str], a: Path, b: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run(cli, "diff", a, b, "--output", "json", "--offline", *extra)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_equal_exports_exit_0(cli: list[str], tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", COCO)
    code, result = diff_json(cli, a, a)
    assert code == 0 and result["equal"]
    assert all(v == 0 for v in result["summary"].values())
    text = run(cli, "diff", a, a)
    assert text.returncode == 0 and "equal" in text.stdout


def test_each_edit_is_found(cli: list[str], tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", COCO)
    edited = copy.deepcopy(COCO)
    del edited["annotations"][2]  # b.jpg's cat: removed
    edited["annotations"][1]["category_id"] = 1  # dog -> cat: class changed
    edited["annotations"][0]["bbox"] = [60, 50, 30, 20]  # moved away: geometry changed (IoU 0)
    edited["images"].append({"id": 3, "width": 10, "height": 10, "file_name": "c.jpg"})
    edited["annotations"].append(
        {"id": 13, "image_id": 2, "category_id": 2, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0,
         "segmentation": []}
    )  # fmt: skip
    b = write(tmp_path / "b.json", edited)
    code, result = diff_json(cli, a, b)
    assert code == 1 and not result["equal"]
    assert result["media_added"] == ["3"]
    assert result["media_removed"] == []
    by_media = {m["media"]: m for m in result["media"]}
    assert [x["id"] for x in by_media["2"]["removed"]] == ["12"]
    assert [x["id"] for x in by_media["2"]["added"]] == ["13"]
    changes = {c["a"]["id"]: c["changes"] for c in by_media["1"]["changed"]}
    assert changes == {"10": ["geometry"], "11": ["class"]}
    assert result["classes"] == {}  # cat 2 and dog 1 on both sides
    assert result["summary"]["labels_changed"] == 2


def test_class_count_deltas(cli: list[str], tmp_path: Path) -> None:
    edited = copy.deepcopy(COCO)
    del edited["annotations"][1]
    code, result = diff_json(cli, write(tmp_path / "a.json", COCO), write(tmp_path / "b.json", edited))
    assert code == 1
    assert result["classes"] == {"dog": {"a": 1, "b": 0, "delta": -1}}


def test_iou_threshold_decides_a_geometry_change(cli: list[str], tmp_path: Path) -> None:
    edited = copy.deepcopy(COCO)
    edited["annotations"][0]["bbox"] = [12, 10, 30, 20]  # IoU 28/32 = 0.875
    a, b = write(tmp_path / "a.json", COCO), write(tmp_path / "b.json", edited)
    assert diff_json(cli, a, b)[0] == 0
    code, result = diff_json(cli, a, b, "--iou", "0.9")
    assert code == 1
    change = result["media"][0]["changed"][0]
    assert change["changes"] == ["geometry"] and abs(change["iou"] - 28 / 32) < 1e-3


def test_labels_without_common_ids_match_by_class_and_iou(tmp_path: Path) -> None:
    edited = copy.deepcopy(COCO)
    for annotation in edited["annotations"]:
        annotation["id"] += 100  # renumbered, same labels
    edited["annotations"][0]["bbox"] = [11, 10, 30, 20]
    a, b = write(tmp_path / "a.json", COCO), write(tmp_path / "b.json", edited)
    side_a, side_b = load_side(str(a), OFFLINE), load_side(str(b), OFFLINE)
    side_b.format = "coco-instance (renumbered)"  # as if another format: media by file, labels by IoU
    result = diff_sides(side_a, side_b, 0.5)
    assert result.equal, result.to_json()


def test_bad_input_exits_2(cli: list[str], tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", COCO)
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    for args in ((a, tmp_path / "missing.json"), (a, broken), (a, a, "--iou", "2")):
        result = run(cli, "diff", *args)
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr


def test_html_output_is_one_offline_page(cli: list[str], tmp_path: Path) -> None:
    edited = copy.deepcopy(COCO)
    del edited["annotations"][0]
    result = run(
        cli, "diff", write(tmp_path / "a.json", COCO), write(tmp_path / "b.json", edited), "--output", "html"
    )
    assert result.returncode == 1
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and 'data-diff="labels_removed">1<' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


def test_conversion_check_on_the_corpus(tmp_path: Path) -> None:
    """diff(release, convert(release)) is empty for the corpus conversions that report no loss."""
    checked = 0
    for source, target, out in (
        (CORPUS / "coco-instance" / "pycocotools_ground_truth.json", "coco-instance", "c.json"),
        (CORPUS / "segments" / "vector-release.json", "segments", "s.json"),
        (CORPUS / "coco-instance" / "export_coco-instance_jane_pets_v1.0.json", "coco-instance", "p.json"),
    ):
        report = convert(source, target, tmp_path / out)
        assert report.lossless
        result = diff_sides(load_side(str(source), OFFLINE), load_side(str(tmp_path / out), OFFLINE))
        assert result.equal, result.to_json()
        checked += 1
    assert checked == 3


def _check_diff_x_x(tmp_path: Path, name: str, document: Any) -> None:
    path = write(tmp_path / name, document)
    result = diff_sides(load_side(str(path), OFFLINE), load_side(str(path), OFFLINE))
    assert result.equal, result.to_json()


def _check_conversion(tmp_path: Path, name: str, document: Any, target: str) -> None:
    source = write(tmp_path / name, document)
    out = tmp_path / f"converted-{name}"
    out.unlink(missing_ok=True)
    try:  # every status, as diff reads them
        report = convert(source, target, out, force=True, statuses=["all"])
    except ConversionError as exc:
        assert exc.exit_code in (1, 2) and not out.exists()  # e.g. nothing convertible: nothing to compare
        return
    result = diff_sides(load_side(str(source), OFFLINE), load_side(str(out), OFFLINE))
    if report.lossless:
        assert result.equal, (report.to_json(), result.to_json())


_BOUNDED = settings(
    max_examples=examples(15, cap=False),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_BOUNDED
@given(generators.coco_instance())
def test_property_coco_diff_with_itself_and_its_conversion_is_empty(tmp_path: Path, document: Any) -> None:
    _check_diff_x_x(tmp_path, "coco.json", document)
    _check_conversion(tmp_path, "coco.json", document, "coco-instance")


@_BOUNDED
@given(generators.segments_release(task_types=["vector", "bboxes", "keypoints"]))
def test_property_segments_diff_with_itself_and_its_conversion_is_empty(
    tmp_path: Path, document: Any
) -> None:
    _check_diff_x_x(tmp_path, "release.json", document)
    _check_conversion(tmp_path, "release.json", document, "segments")


@_BOUNDED
@given(generators.datagym_export(data_types=["image"]))
def test_property_datagym_diff_with_itself_and_its_conversion_is_empty(tmp_path: Path, document: Any) -> None:
    _check_diff_x_x(tmp_path, "export.json", document)
    _check_conversion(tmp_path, "export.json", document, "datagym")


@_BOUNDED
@given(generators.encord_export())
def test_property_encord_diff_with_itself_is_empty(tmp_path: Path, document: Any) -> None:
    _check_diff_x_x(tmp_path, "rows.json", document)
