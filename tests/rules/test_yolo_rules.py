"""YOLO rules: line kinds, ranges per kind, names as list or mapping, and file/line locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labelspec
from labelspec.validator.report import Finding
from labelspec.validator.rules.yolo import line_kind
from tests.conftest import examples


def _findings(document: Any, profile: str = "lenient") -> list[Finding]:
    return labelspec.validate(document, format="yolo", profile=profile).files[-1].findings


def _rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule_id]


def _dataset(lines: list[list[Any]], names: Any = ("car", "person"), **extra: Any) -> dict[str, Any]:
    return {
        "names": list(names) if isinstance(names, tuple) else names,
        "names_file": "classes.txt",
        "labels": {"labels/img1.txt": lines},
        **extra,
    }


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([0.5] * 4, "detection"),
        ([0.5] * 5, None),
        ([0.5] * 6, "polygon"),
        ([0.5] * 4 + [0.4, 0.4, 2], "pose"),
        ([0.5] * 8, "oriented box"),  # ultralytics OBB: four corners
        ([0.5] * 9, None),
        ([0.5] * 4 + [0.4, 0.4, 2, 0.6, 0.6, 0], "pose"),  # 2 keypoints: also a polygon's arity
        ([0.5] * 4 + [0.4, 0.4, 0.3, 0.6, 0.6, 0.7], "polygon"),
        ([0.5] * 3, None),
    ],
)
def test_line_kinds(values: list[float], kind: str | None) -> None:
    assert line_kind([0, *values]) == kind


@pytest.mark.parametrize(
    ("kpt_shape", "values", "kind"),
    [
        ((2, 3), [0.5] * 4 + [0.4, 0.4, 2, 0.6, 0.6, 1], "pose"),
        ((2, 2), [0.5] * 4 + [0.4, 0.4, 0.6, 0.6], "pose (x y keypoints)"),  # else an 8-value polygon
        ((2, 3), [0.5] * 4, None),  # a box alone in a pose dataset
        ((17, 3), [0.5] * 4 + [0.4, 0.4, 2] * 16, None),  # one keypoint short
    ],
)
def test_kpt_shape_decides_pose_lines(
    kpt_shape: tuple[int, int], values: list[float], kind: str | None
) -> None:
    assert line_kind([0, *values], kpt_shape) == kind


def test_kpt_shape_from_data_yaml(tmp_path: Path) -> None:
    """data.yaml's kpt_shape is read: x y keypoints are checked as coordinates, other arities fail."""
    (tmp_path / "data.yaml").write_text("names: [person]\nkpt_shape: [2, 2]\n")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2 0.4 0.4 1.5 0.6\n0 0.5 0.5 0.2 0.2\n")
    report = labelspec.validate(tmp_path)
    (file,) = report.files
    found = {(f.rule, f.pointer) for f in file.findings}
    assert ("YOLO-COORD-OUT-OF-RANGE", "/labels/labels~1a.txt/0/7") in found  # keypoint x 1.5
    arity = [f for f in file.findings if f.rule == "YOLO-LINE-ARITY"]
    assert [f.pointer for f in arity] == ["/labels/labels~1a.txt/1"] and "kpt_shape [2, 2]" in arity[
        0
    ].message


def test_names_mapping_with_gaps() -> None:
    document = _dataset(
        [[0, 0.5, 0.5, 0.2, 0.2], [2, 0.5, 0.5, 0.2, 0.2], [5, 0.5, 0.5, 0.2, 0.2]],
        names={"0": "a", "5": "b"},
    )
    (hit,) = _rule(_findings(document), "YOLO-CLASS-OUT-OF-RANGE")
    assert hit.pointer == "/labels/labels~1img1.txt/1/0"
    assert hit.message == "class index 2 has no name (names mapping with indexes 0, 5)"


def test_no_names_no_class_check() -> None:
    segments_sdk = _dataset([[7, 0.5, 0.5, 0.2, 0.2]], names=None, names_file=None)
    assert not _rule(_findings(segments_sdk), "YOLO-CLASS-OUT-OF-RANGE")


def test_pose_visibility_is_not_a_coordinate() -> None:
    pose = _dataset([[1, 0.5, 0.5, 0.2, 0.2, 0.45, 0.48, 2, 0.55, 0.5, 1]])
    findings = _findings(pose)
    assert not _rule(findings, "YOLO-COORD-OUT-OF-RANGE") and not _rule(findings, "YOLO-LINE-ARITY")
    off = _dataset([[1, 0.5, 0.5, 0.2, 0.2, 1.45, 0.48, 2]])
    (hit,) = _rule(_findings(off), "YOLO-COORD-OUT-OF-RANGE")
    assert hit.pointer == "/labels/labels~1img1.txt/0/5"


def test_polygon_lines_have_no_box_checks() -> None:
    polygon = _dataset([[0, 0.1, 0.1, 0.2, 0.1, 0.2, 0.0]])  # a zero "height" would be y of a vertex
    findings = _findings(polygon)
    assert not _rule(findings, "YOLO-BOX-SIZE-NOT-POSITIVE") and not _rule(findings, "YOLO-BOX-OUTSIDE-IMAGE")


def test_severities_per_profile() -> None:
    document = _dataset([[0, 1.03125, 0.5, 0.1875, 0.333333]])
    for profile, severity in (("lenient", "warning"), ("strict", "error")):
        (hit,) = _rule(_findings(document, profile), "YOLO-COORD-OUT-OF-RANGE")
        assert hit.severity == severity
        (outside,) = _rule(_findings(document, profile), "YOLO-BOX-OUTSIDE-IMAGE")
        assert outside.severity == "warning" and "x from 0.9375 to 1.125" in outside.message


def test_rounded_edge_boxes_are_inside() -> None:
    # a box from x = 1/3 to 1, written with six decimals: cx + w/2 = 0.666667 + 0.3333335 = 1.0000005
    document = _dataset([[0, 0.666667, 0.5, 0.666667, 0.3]])
    assert not _rule(_findings(document), "YOLO-BOX-OUTSIDE-IMAGE")


def test_duplicates_point_at_the_repeat_and_name_the_first() -> None:
    line = [0, 0.5, 0.5, 0.2, 0.3]
    document = _dataset([line, [1, 0.5, 0.5, 0.2, 0.3], list(line)])
    (hit,) = _rule(_findings(document), "YOLO-LINE-DUPLICATE")
    assert hit.pointer == "/labels/labels~1img1.txt/2" and "/labels/labels~1img1.txt/0" in hit.message
    other_file = {"names": ["car"], "labels": {"a.txt": [line], "b.txt": [line]}}
    assert not _rule(_findings(other_file), "YOLO-LINE-DUPLICATE")


def test_nc_mismatch() -> None:
    (hit,) = _rule(_findings(_dataset([], names=["a", "b"], nc=3)), "YOLO-NC-NAMES-MISMATCH")
    assert hit.pointer == "/nc" and hit.message.startswith("nc is 3 but 2 class names are given")


def test_text_dataset_findings_carry_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("car\nperson\n")
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "img1.txt").write_text("0 0.5 0.5 0.2 0.3\n\n3 0.5 0.5 0.2 0.3\n0 0.5 0.5 0.2 0.3\n")
    findings = labelspec.validate(tmp_path, format="yolo").files[0].findings
    (out_of_range,) = _rule(findings, "YOLO-CLASS-OUT-OF-RANGE")
    assert out_of_range.message.endswith("[labels/img1.txt line 3, field 1]")
    (duplicate,) = _rule(findings, "YOLO-LINE-DUPLICATE")
    assert duplicate.message.endswith("[labels/img1.txt line 4]")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=7) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=examples(50, cap=False), deadline=None)
@given(json_values, st.lists(st.lists(st.integers(-2, 3) | st.floats(), max_size=9), max_size=4), json_values)
def test_odd_datasets_never_break_a_rule(names: Any, lines: list[list[Any]], nc: Any) -> None:
    document = {"names": names, "nc": nc, "labels": {"a.txt": lines, "b.txt": names}}
    for profile in ("lenient", "strict"):
        assert not [f for f in _findings(document, profile) if f.rule.startswith("internal.")]
