"""DataGym rules: where they point, what they say, and the tricky cases (duplicates, legacy keys, URLs)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import labelspec
from labelspec.validator.report import Finding
from tests.conftest import examples

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "datagym"


def _findings(document: Any, profile: str = "lenient") -> list[Finding]:
    return labelspec.validate(document, format="datagym", profile=profile).files[-1].findings


def _rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule_id]


def _export(classes: list[dict[str, str]], **task: Any) -> list[Any]:
    base: dict[str, Any] = {
        "internal_media_ID": "m1",
        "external_media_ID": "a.jpg",
        "labeler": None,
        "status": "completed",
        "global_classifications": {},
        "labels": {},
    }
    base.update(task)
    return [{"label_classes": classes}, base]


def _entry(**payload: Any) -> dict[str, Any]:
    return {**payload, "classifications": {}, "nested_geometries": {}}


POLYGON = [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 4}]


def test_undeclared_keys_are_reported_once_per_list_with_their_place() -> None:
    document = _export(
        [{"class_name": "car", "geometry_type": "polygon"}],
        labels={
            "truck": [_entry(polygon=POLYGON), _entry(polygon=POLYGON)],
            "car": [
                {
                    "polygon": POLYGON,
                    "classifications": {"colour": ["red", {"shade": ["dark"]}]},
                    "nested_geometries": {"wheel": [{"point": [{"x": 2, "y": 2}], "classifications": {}}]},
                }
            ],
        },
    )
    findings = _findings(document)
    labels = _rule(findings, "DG-LABEL-CLASS-UNDECLARED")
    assert [f.pointer for f in labels] == ["/1/labels/car/0/nested_geometries/wheel", "/1/labels/truck"]
    assert "nested_geometries key 'wheel'" in labels[0].message
    answers = _rule(findings, "DG-CLASSIFICATION-CLASS-UNDECLARED")
    assert [f.pointer for f in answers] == [
        "/1/labels/car/0/classifications/colour",
        "/1/labels/car/0/classifications/colour/1/shade",
    ]


def test_keys_with_slash_and_tilde_are_escaped() -> None:
    document = _export([], global_classifications={"a/b~c": [None]})
    (hit,) = _rule(_findings(document), "DG-CLASSIFICATION-CLASS-UNDECLARED")
    assert hit.pointer == "/1/global_classifications/a~1b~0c"


def test_duplicate_class_names_accept_any_declared_type() -> None:
    classes = [
        {"class_name": "car", "geometry_type": "polygon"},
        {"class_name": "car", "geometry_type": "rectangle"},
        {"class_name": "size", "classification_type": "select"},
        {"class_name": "size", "classification_type": "checklist"},
    ]
    document = _export(
        classes,
        labels={"car": [_entry(rectangle=[{"x": 1, "y": 1, "w": 2, "h": 2}])]},
        global_classifications={"size": ["big", "small"]},
    )
    findings = _findings(document)
    assert not _rule(findings, "DG-PAYLOAD-KEY-MISMATCH")
    assert not _rule(findings, "DG-ANSWER-MULTIPLE-FOR-SINGLE-CHOICE")  # may be the checklist
    duplicates = _rule(findings, "DG-LABEL-CLASS-DUPLICATE-TYPES")
    assert [f.pointer for f in duplicates] == ["/0/label_classes/1", "/0/label_classes/3"]


def test_legacy_geometry_key_is_checked_by_shape() -> None:
    rings = [[{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 4}]]
    wrong = _export(
        [{"class_name": "car", "geometry_type": "polygon"}], labels={"car": [_entry(geometry=rings)]}
    )
    (hit,) = _rule(_findings(wrong), "DG-PAYLOAD-KEY-MISMATCH")
    assert hit.pointer == "/1/labels/car/0/geometry" and "a list of rings" in hit.message
    right = _export(
        [{"class_name": "car", "geometry_type": "polygon"}], labels={"car": [_entry(geometry=POLYGON)]}
    )
    assert not _rule(_findings(right), "DG-PAYLOAD-KEY-MISMATCH")
    # the legacy key also gets the shape checks of the class's type
    short = _export(
        [{"class_name": "car", "geometry_type": "polygon"}], labels={"car": [_entry(geometry=POLYGON[:2])]}
    )
    (few,) = _rule(_findings(short), "DG-POLYGON-TOO-FEW-POINTS")
    assert few.pointer == "/1/labels/car/0/geometry" and few.severity == "warning"


def test_image_segmentation_class_with_polygon_payload() -> None:
    document = _export(
        [{"class_name": "road", "classification_type": "image_segmentation"}],
        labels={"road": [_entry(polygon=POLYGON)]},
    )
    (hit,) = _rule(_findings(document), "DG-PAYLOAD-KEY-MISMATCH")
    assert "payload key 'polygon'" in hit.message and "image_segmentation" in hit.message


def test_closed_rings_count_distinct_vertices() -> None:
    closed_triangle = [{"x": 0, "y": 0}, {"x": 9, "y": 0}, {"x": 9, "y": 9}, {"x": 0, "y": 0}]
    classes = [{"class_name": "road", "classification_type": "image_segmentation"}]
    ok = _export(classes, labels={"road": [_entry(image_segmentation=[closed_triangle])]})
    assert not _rule(_findings(ok), "DG-SEGMENTATION-RING-TOO-FEW-POINTS")
    degenerate = _export(
        classes,
        labels={
            "road": [
                _entry(image_segmentation=[closed_triangle, [*closed_triangle[1:3], closed_triangle[1]]])
            ]
        },
    )
    (hit,) = _rule(_findings(degenerate), "DG-SEGMENTATION-RING-TOO-FEW-POINTS")
    assert hit.pointer == "/1/labels/road/0/image_segmentation/1" and hit.message.startswith("hole 1 has 2")
    empty = _export(classes, labels={"road": [_entry(image_segmentation=[])]})  # an imported segmentation
    assert not [f for f in _findings(empty) if f.rule.startswith("DG-SEGMENTATION")]


def test_segmentation_urls_decode_the_key() -> None:
    classes = [{"class_name": "side walk", "classification_type": "image_segmentation"}]
    ring = [{"x": 0, "y": 0}, {"x": 9, "y": 0}, {"x": 9, "y": 9}]
    urls = [
        "http://localhost:8080/api/v1/export/bitmap/t1/side+walk",
        "http://localhost:8080/api/v1/export/bitmap/t1/side%20walk/",
        "http://localhost:8080/api/v1/export/bitmap/t1/road",
        "http://[broken/export/bitmap/t1/x",
    ]
    document = _export(classes, segmentations=urls, labels={"side walk": [_entry(image_segmentation=[ring])]})
    hits = _rule(_findings(document), "DG-SEGMENTATION-URL-KEY-UNKNOWN")
    assert [f.pointer for f in hits] == ["/1/segmentations/2", "/1/segmentations/3"]
    assert "names class 'road'" in hits[0].message and "'side walk'" in hits[0].message


def test_answer_rules_point_at_the_value() -> None:
    classes = [
        {"class_name": "weather", "classification_type": "radio"},
        {"class_name": "conditions", "classification_type": "checklist"},
        {"class_name": "severity", "classification_type": "select"},
    ]
    document = _export(
        classes,
        global_classifications={
            "weather": ["sunny", "rain"],
            "conditions": ["wet", {"severity": ["low"]}, "icy"],
        },
    )
    findings = _findings(document)
    (multiple,) = _rule(findings, "DG-ANSWER-MULTIPLE-FOR-SINGLE-CHOICE")
    assert multiple.pointer == "/1/global_classifications/weather"
    assert multiple.message == "2 answers for radio class 'weather'; only a checklist holds more than one"
    (after,) = _rule(findings, "DG-ANSWER-AFTER-CHILD")
    assert after.pointer == "/1/global_classifications/conditions/2"


def test_media_ids_old_and_new_names() -> None:
    task = {
        "external_image_ID": "a.jpg",
        "labeler": None,
        "status": "completed",
        "global_classifications": {},
    }
    document: list[Any] = [
        {"label_classes": []},
        {"internal_image_ID": "m1", **task, "labels": {}},
        {"internal_image_ID": "m1", **task, "labels": {}},
    ]
    (hit,) = _rule(_findings(document), "DG-MEDIA-ID-DUPLICATE")
    assert hit.pointer == "/2/internal_image_ID" and "task /1" in hit.message


def test_corpus_image_project_only_warns() -> None:
    document = json.loads((CORPUS / "image-project.json").read_text())
    findings = [f for f in _findings(document, "strict") if f.rule.startswith("DG-")]
    assert [(f.rule, f.severity, f.pointer) for f in findings] == [
        ("DG-POLYGON-TOO-FEW-POINTS", "warning", "/2/labels/car/0/polygon")
    ]


# ---------------------------------------------------------------------------------------------- robustness

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
SEED = json.loads((CORPUS / "image-project.json").read_text())


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_places(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_places(value, (*path, index)))
    return out


PLACES = _places(SEED)[1:]


@settings(max_examples=examples(40, cap=False), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PLACES), json_values), min_size=1, max_size=3))
def test_mutated_exports_never_break_a_rule(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = copy.deepcopy(SEED)
    for path, value in mutations:
        node = document
        try:
            for token in path[:-1]:
                node = node[token]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    for profile in ("lenient", "strict"):
        assert not [f for f in _findings(document, profile) if f.rule.startswith("internal.")]
