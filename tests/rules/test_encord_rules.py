"""Targeted tests of the Encord (ENC-) and Encord-ontology (ENCO-) rules: edge cases, pointers, messages."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec.validator.compiler import load_format_yaml

T = "Tue, 07 Jan 2025 16:12:23 UTC"
DU = "du-1"
ONTOLOGY: dict[str, Any] = next(
    e["example_ontology"] for e in load_format_yaml("encord", "rules.yaml") if "example_ontology" in e
)


def _findings(doc: Any, profile: str = "lenient", ontology: Any = None, fmt: str = "encord") -> list[Any]:
    report = labelspec.validate(doc, format=fmt, profile=profile, ontology=ontology)
    return [f for f in report.files[-1].findings if not f.rule.startswith("schema.")]


def _hits(doc: Any, rule_id: str, **kwargs: Any) -> list[Any]:
    return [f for f in _findings(doc, **kwargs) if f.rule == rule_id]


def _obj(
    object_hash: str = "obj00001", feature: str = "objCar01", shape: str = "bounding_box", **payload: Any
) -> Any:
    obj = {"objectHash": object_hash, "featureHash": feature, "shape": shape, "createdAt": T}
    obj.update(payload or {"boundingBox": {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.25}})
    return obj


def _row(data_type: str = "video", labels: Any = None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "label_hash": "lr-1",
        "branch_name": "main",
        "created_at": "2025-01-07 16:12:23",
        "last_edited_at": None,
        "dataset_hash": "ds-1",
        "dataset_title": "t",
        "data_title": "t",
        "data_hash": DU,
        "data_type": data_type,
        "label_status": "LABELLED",
        "data_units": {
            DU: {
                "data_hash": DU,
                "data_title": "t",
                "data_type": "video/mp4",
                "data_sequence": 0,
                "data_link": "x",
                "width": 640,
                "height": 480,
                "labels": labels if labels is not None else {},
            }
        },
        "object_answers": {},
        "classification_answers": {},
        "object_actions": {},
    }
    row.update(extra)
    return row


def _video(*objects: Any, **extra: Any) -> list[Any]:
    return [_row(labels={"0": {"objects": list(objects), "classifications": []}}, **extra)]


LABELS = f"/0/data_units/{DU}/labels"


# ------------------------------------------------------------------------------------------- cross-references


def test_orphan_answer_pointer_severity_and_exemptions() -> None:
    answers = [{"featureHash": "attCol01", "answers": [{"featureHash": "optRed01"}]}]
    doc = _video(_obj(), object_answers={"k/1": {"objectHash": "gone~1", "classifications": answers}})
    (lenient,) = _hits(doc, "ENC-OBJECT-ANSWER-ORPHAN")
    assert lenient.severity == "warning" and lenient.pointer == "/0/object_answers/k~11"
    assert '"gone~1"' in lenient.message
    assert _hits(doc, "ENC-OBJECT-ANSWER-ORPHAN", profile="strict")[0].severity == "error"
    # an entry without answers: the SDK skips it, but nothing is lost
    empty = _video(_obj(), object_answers={"k/1": {"objectHash": "gone~1", "classifications": []}})
    assert not _hits(empty, "ENC-OBJECT-ANSWER-ORPHAN", profile="strict")
    # audio rows: the entries are the objects themselves
    audio = [
        _row("audio", object_answers={"a1": {"objectHash": "a1", "featureHash": "f", "classifications": []}})
    ]
    assert not _hits(audio, "ENC-OBJECT-ANSWER-ORPHAN")
    # data groups: objects placed through `spaces`
    group = _video(object_answers={"h1": {"objectHash": "h1", "classifications": [], "spaces": {"s": {}}}})
    assert not _hits(group, "ENC-OBJECT-ANSWER-ORPHAN")


def test_object_found_in_a_space_is_no_orphan() -> None:
    space = {"space_type": "video", "number_of_frames": 5, "width": 6, "height": 6}
    space["labels"] = {"4": {"objects": [_obj("sp000001")], "classifications": []}}
    actions = {"sp000001": {"objectHash": "sp000001", "actions": []}}
    doc = [
        _row(
            "group",
            labels={"objects": [], "classifications": []},
            spaces={"v": space},
            object_actions=actions,
        )
    ]
    assert not _hits(doc, "ENC-OBJECT-ACTION-ORPHAN")
    space["number_of_frames"] = 4
    (hit,) = _hits(doc, "ENC-FRAME-OUT-OF-RANGE")
    assert hit.pointer == "/0/spaces/v/labels/4" and "numbered 0 to 3" in hit.message


def test_frame_classification_needs_an_answer_keyed_by_its_hash() -> None:
    cls = {"classificationHash": "c1", "featureHash": "clsWth01", "createdAt": T}
    doc = [_row(labels={"3": {"objects": [], "classifications": [cls]}})]
    (hit,) = _hits(doc, "ENC-FRAME-CLASSIFICATION-UNANSWERED", profile="strict")
    assert hit.pointer == f"{LABELS}/3/classifications/0" and hit.severity == "error"
    doc[0]["classification_answers"] = {
        "c1": {"classificationHash": "c1", "classifications": [], "spaces": {}}
    }
    assert not _hits(doc, "ENC-FRAME-CLASSIFICATION-UNANSWERED")


def test_duplicate_and_reclassified_object_hashes() -> None:
    doc = [
        _row(
            labels={
                "0": {"objects": [_obj(), _obj()], "classifications": []},
                "1": {"objects": [_obj(feature="objOth01")], "classifications": []},
            }
        )
    ]
    (dup,) = _hits(doc, "ENC-OBJECT-HASH-DUPLICATE-IN-FRAME")
    assert dup.pointer == f"{LABELS}/0/objects/1/objectHash" and "objects/0" in dup.message
    (changed,) = _hits(doc, "ENC-OBJECT-FEATURE-CHANGES")
    assert changed.pointer == f"{LABELS}/1/objects/0/featureHash"
    assert '"objOth01"' in changed.message and '"objCar01"' in changed.message


def test_img_group_duplicate_sequence_counts_numeric_strings() -> None:
    row = _row("img_group", labels={"objects": [], "classifications": []}, is_image_sequence=False)
    unit = row["data_units"][DU]
    row["data_units"]["du-2"] = dict(copy.deepcopy(unit), data_hash="du-2", data_sequence="0")
    (hit,) = _hits([row], "ENC-IMG-GROUP-SEQUENCE-DUPLICATE")
    assert hit.pointer == "/0/data_units/du-2/data_sequence" and '"du-1"' in hit.message


# --------------------------------------------------------------------------------------------------- geometry


def test_bounding_box_edges_and_negative_sizes() -> None:
    doc = _video(_obj(boundingBox={"x": 0.8, "y": 0.1, "w": 0.3, "h": 0.1}))
    (hit,) = _hits(doc, "ENC-COORDINATE-OUT-OF-RANGE", profile="strict")
    assert hit.severity == "warning" and hit.pointer.endswith("/objects/0/boundingBox/w")
    assert "x + w = 1.1" in hit.message
    negative = _video(_obj(boundingBox={"x": 0.5, "y": 0.1, "w": 0.2, "h": -0.1}))
    (neg,) = _hits(negative, "ENC-BOX-NEGATIVE-SIZE")
    assert neg.pointer.endswith("/boundingBox/h") and not _hits(negative, "ENC-COORDINATE-OUT-OF-RANGE")


def test_world_units_are_exempt_from_the_range_check() -> None:
    point3d = _obj("p1", "objPnt01", "point", point={"0": {"x": 4.0, "y": -2.0, "z": 1.0}})
    cuboid = _obj(
        "c1",
        "objCub01",
        "cuboid",
        cuboid={"position": [9, 9, 9], "orientation": [0, 0, 0], "size": [1, 1, 1]},
    )
    assert not _hits(_video(point3d, cuboid), "ENC-COORDINATE-OUT-OF-RANGE")
    cloud = {"space_type": "point_cloud", "scene_info": {"stream_id": "l", "event_index": 0, "uri": "u"}}
    cloud["labels"] = {
        "objects": [_obj("p2", "objPnt01", "polyline", polyline=[{"x": 5, "y": 5}])],
        "classifications": [],
    }
    assert not _hits([_row("scene", spaces={"pc": cloud})], "ENC-COORDINATE-OUT-OF-RANGE")
    cuboid_2d = {"front": [0.1, 0.1, 0.3, 0.1, 0.3, 0.3, 0.1, 0.3], "vanishingPoint": {"x": 3.0, "y": -1.0}}
    assert not _hits(
        _video(_obj("c2", "objC2d01", "cuboid_2d", cuboid_2d=cuboid_2d)), "ENC-COORDINATE-OUT-OF-RANGE"
    )


def test_polygon_rings_and_forms() -> None:
    doc = _video(
        _obj("l1", "objLan01", "polygon", polygons=[[[0.1, 0.1, 0.2, 0.2, 0.3, 0.1], [0.1, 0.1, 0.2, 0.2]]])
    )
    (hit,) = _hits(doc, "ENC-POLYGON-DEGENERATE")
    assert hit.pointer.endswith("/polygons/0/1") and "2 point(s)" in hit.message
    assert hit.severity == "warning" and not _hits(doc, "ENC-POLYGON-ODD-VALUES")
    odd = _video(_obj("l1", "objLan01", "polygon", polygons=[[[0.1, 0.1, 0.2, 0.2, 0.3]]]))
    (hit,) = _hits(odd, "ENC-POLYGON-ODD-VALUES")
    assert hit.pointer.endswith("/polygons/0/0") and hit.severity == "error"
    assert not _hits(odd, "ENC-POLYGON-DEGENERATE")
    legacy = {"1": {"x": 0.2, "y": 0.2}, "0": {"x": 0.1, "y": 0.1}, "2": {"x": 0.3, "y": 0.1}}
    same = _video(
        _obj("l1", "objLan01", "polygon", polygon=legacy, polygons=[[[0.1, 0.1, 0.2, 0.2, 0.3, 0.1]]])
    )
    assert not _hits(same, "ENC-POLYGON-FORMS-DIFFER")  # dict vertices are ordered by int(key)


def test_polyline_mixed_dimensions_points_at_the_first_3d_vertex() -> None:
    line = {"0": {"x": 0.1, "y": 0.1}, "1": {"x": 0.2, "y": 0.2, "z": 0.0}}
    (hit,) = _hits(_video(_obj("p1", "objLin01", "polyline", polyline=line)), "ENC-POLYLINE-MIXED-DIMENSIONS")
    assert hit.pointer.endswith("/polyline/1")


def _mask(rle: str, width: int = 6, height: int = 6) -> Any:
    return _obj(
        "m1",
        "objMsk01",
        "bitmask",
        bitmask={"rleString": rle, "top": 0, "left": 0, "width": width, "height": height},
    )


def test_bitmask_decoding_and_size() -> None:
    assert not _hits(_video(_mask("02220N:0F20N", 640, 480)), "ENC-BITMASK-RLE-INVALID")
    (truncated,) = _hits(_video(_mask("02220N:0F20h")), "ENC-BITMASK-RLE-INVALID")
    assert truncated.pointer.endswith("/bitmask/rleString") and "ends inside" in truncated.message
    (too_long,) = _hits(_video(_mask("06", 2, 2)), "ENC-BITMASK-RLE-INVALID")
    assert "covers 6 pixels" in too_long.message
    (size,) = _hits(_video(_mask("02220N:0F20N")), "ENC-BITMASK-SIZE-MISMATCH")
    assert "6x6 but its media is 640x480" in size.message
    unknown = _video(_mask("02220N:0F20N"))
    unknown[0]["data_units"][DU]["width"] = 0  # writer form of PDFs and scenes: size unknown
    assert not _hits(unknown, "ENC-BITMASK-SIZE-MISMATCH")


def test_segmentation_strings_use_the_same_codec() -> None:
    bad = _obj("s1", "objSeg01", "segmentation", segmentation="0P")
    assert _hits(_video(bad), "ENC-BITMASK-RLE-INVALID")


# --------------------------------------------------------------------------------------- ranges, datetimes


def test_reversed_ranges_and_html_spans() -> None:
    span = {
        "start": {"xpath": "/p[1]", "offset": 9},
        "end": {"xpath": "/p[1]", "offset": 2},
    }
    answer = {"objectHash": "t1", "featureHash": "f", "classifications": [], "range": [[0, 4], [8, 3]]}
    answer["range_html"] = [
        span,
        {"start": {"xpath": "/p[1]", "offset": 9}, "end": {"xpath": "/p[2]", "offset": 0}},
    ]
    doc = [_row("plain_text", object_answers={"t1": answer})]
    pointers = sorted(f.pointer for f in _hits(doc, "ENC-RANGE-REVERSED"))
    assert pointers == ["/0/object_answers/t1/range/1", "/0/object_answers/t1/range_html/0"]


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("2023-02-30 11:42:14", True),
        ("2023-02-28 25:00:00", True),
        ("Thu, 31 Apr 2023 09:47:35 GMT", True),
        ("2024-13-01T10:00:00Z", True),
        ("Thu, 07 Sep 2023 09:47:35 GMT", False),
        ("2024-02-29T10:00:00.123+02:00", False),
        ("2024-02-01", False),
    ],
)
def test_datetimes_that_match_the_pattern_must_be_real(value: str, bad: bool) -> None:
    hits = _hits(_video(_obj(createdAt=value)), "ENC-DATETIME-INVALID")
    assert bool(hits) == bad
    if bad:
        assert hits[0].pointer == f"{LABELS}/0/objects/0/createdAt" and value in hits[0].message


# --------------------------------------------------------------------------------------------- with ontology


def _answered(*answers: Any, actions: Any = None) -> list[Any]:
    return _video(
        _obj(),
        object_answers={"obj00001": {"objectHash": "obj00001", "classifications": list(answers)}},
        object_actions={"obj00001": {"objectHash": "obj00001", "actions": actions or []}},
    )


def _answer(feature: str, answers: Any) -> dict[str, Any]:
    return {"name": "n", "value": "n", "featureHash": feature, "answers": answers, "manualAnnotation": True}


RED = [{"name": "Red", "value": "red", "featureHash": "optRed01"}]


def test_ontology_rules_are_skipped_without_an_ontology() -> None:
    doc = _video(_obj(feature="nowhere"))
    assert not _hits(doc, "ENC-OBJECT-FEATURE-UNKNOWN")
    (hit,) = _hits(doc, "ENC-OBJECT-FEATURE-UNKNOWN", ontology=ONTOLOGY)
    assert hit.pointer == f"{LABELS}/0/objects/0/featureHash"


def test_a_hash_of_another_kind_is_named_in_the_hint() -> None:
    (hit,) = _hits(_video(_obj(feature="attCol01")), "ENC-OBJECT-FEATURE-UNKNOWN", ontology=ONTOLOGY)
    assert hit.hint and "attribute" in hit.hint


def test_radio_as_bare_string_and_numeric_as_string() -> None:
    doc = _answered(_answer("attCol01", "Medium"), _answer("attSpd01", "42"))
    hits = _hits(doc, "ENC-ANSWER-TYPE-MISMATCH", ontology=ONTOLOGY)
    assert [h.pointer for h in hits] == [
        "/0/object_answers/obj00001/classifications/0/answers",
        "/0/object_answers/obj00001/classifications/1/answers",
    ]
    assert 'the string "Medium"' in hits[0].message and "a list holding one option" in hits[0].message
    assert 'the string "42"' in hits[1].message and "a number" in hits[1].message
    assert not _hits(_answered(_answer("attSpd01", 4.5)), "ENC-ANSWER-TYPE-MISMATCH", ontology=ONTOLOGY)
    assert _hits(_answered(_answer("attSpd01", True)), "ENC-ANSWER-TYPE-MISMATCH", ontology=ONTOLOGY)


def test_nested_answers_and_required_attributes() -> None:
    shade = _answer("attShd01", "dark")
    blue = [{"name": "Blue", "value": "blue", "featureHash": "optBlu01"}]
    assert not _hits(
        _answered(_answer("attCol01", RED), shade), "ENC-NESTED-ANSWER-UNSELECTED", ontology=ONTOLOGY
    )
    (hit,) = _hits(
        _answered(_answer("attCol01", blue), shade), "ENC-NESTED-ANSWER-UNSELECTED", ontology=ONTOLOGY
    )
    assert hit.pointer == "/0/object_answers/obj00001/classifications/1"
    # Colour is required: missing answer is a warning pointing at the object's first occurrence
    (missing,) = _hits(_answered(), "ENC-REQUIRED-ATTRIBUTE-UNANSWERED", ontology=ONTOLOGY)
    assert missing.pointer == f"{LABELS}/0/objects/0" and '"Colour"' in missing.message
    assert missing.severity == "warning"


def test_dynamic_answers() -> None:
    moving = dict(_answer("attMov01", [{"featureHash": "optYes01"}]), range=[[0, 0]])
    # encord 0.1.211 (the strict target) neither reads nor writes trackHash: an action without it is fine
    for profile in ("lenient", "strict"):
        findings = _findings(_answered(actions=[moving]), profile=profile, ontology=ONTOLOGY)
        assert not [f for f in findings if f.pointer.startswith("/0/object_actions")], findings
    # in object_answers, a dynamic answer without a range raises KeyError; with one (any trackHash) it loads
    bare = {k: v for k, v in moving.items() if k != "range"}
    assert _hits(_answered(_answer("attCol01", RED), bare), "ENC-DYNAMIC-ANSWER-STATIC", ontology=ONTOLOGY)
    for ranged in (moving, dict(moving, trackHash="t1")):
        assert not _hits(
            _answered(_answer("attCol01", RED), ranged), "ENC-DYNAMIC-ANSWER-STATIC", ontology=ONTOLOGY
        )


def test_a_dynamic_answer_in_object_answers_overridden_by_object_actions() -> None:
    yes = dict(_answer("attMov01", [{"featureHash": "optYes01"}]), range=[[0, 0]], trackHash="t1")
    no = dict(_answer("attMov01", [{"featureHash": "optNo001"}]), range=[[0, 3]])
    rule_id = "ENC-DYNAMIC-ANSWER-OVERRIDDEN"
    for profile, severity in (("lenient", "warning"), ("strict", "error")):
        (hit,) = _hits(_answered(yes, actions=[no]), rule_id, ontology=ONTOLOGY, profile=profile)
        assert hit.severity == severity and hit.pointer == "/0/object_answers/obj00001/classifications/0"
    # the same answer on those frames, or other frames: nothing is lost
    assert not _hits(_answered(yes, actions=[dict(no, answers=yes["answers"])]), rule_id, ontology=ONTOLOGY)
    assert not _hits(_answered(yes, actions=[dict(no, range=[[1, 3]])]), rule_id, ontology=ONTOLOGY)
    assert not _hits(_answered(yes), rule_id, ontology=ONTOLOGY)


def test_unknown_options_and_radio_counts_on_frame_classifications() -> None:
    cls = {"classificationHash": "c1", "featureHash": "clsWth01", "createdAt": T}
    options = [{"featureHash": "optSun01"}, {"featureHash": "optNope1"}]
    doc = [_row(labels={"0": {"objects": [], "classifications": [cls]}})]
    # the answer entry has no featureHash: its class comes from the frame classification with the same hash
    doc[0]["classification_answers"] = {
        "c1": {"classificationHash": "c1", "classifications": [_answer("attWth01", options)], "spaces": {}}
    }
    (option,) = _hits(doc, "ENC-OPTION-UNKNOWN", ontology=ONTOLOGY)
    assert option.pointer == "/0/classification_answers/c1/classifications/0/answers/1/featureHash"
    (count,) = _hits(doc, "ENC-RADIO-ANSWER-COUNT", ontology=ONTOLOGY)
    assert "2 options" in count.message


def test_wrapped_ontology_is_accepted() -> None:
    doc = _video(_obj("l1", "objCar01", "polygon", polygons=[[[0.1, 0.1, 0.2, 0.2, 0.3, 0.1]]]))
    (hit,) = _hits(doc, "ENC-SHAPE-MISMATCH", ontology={"title": "x", "structure": ONTOLOGY})
    assert "is a polygon" in hit.message and "drawn as bounding_box" in hit.message


# ------------------------------------------------------------------------------ media bounds, consistency


def _timed_video(*keys: str, fps: Any = 25.0, duration: Any = 2.0) -> list[Any]:
    doc = [_row(labels={key: {"objects": [_obj()], "classifications": []} for key in keys})]
    unit = doc[0]["data_units"][DU]
    unit.update({"data_fps": fps, "data_duration": duration})
    doc[0]["object_answers"] = {"obj00001": {"objectHash": "obj00001", "classifications": []}}
    return doc


def test_video_frames_are_bounded_by_ceil_of_fps_times_duration() -> None:
    (hit,) = _hits(_timed_video("900"), "ENC-FRAME-BEYOND-DURATION", profile="strict")
    assert hit.pointer == f"{LABELS}/900" and hit.severity == "error"
    assert "50 frame(s), numbered 0 to 49" in hit.message
    assert _hits(_timed_video("900"), "ENC-FRAME-BEYOND-DURATION")[0].severity == "warning"
    assert not _hits(_timed_video("49"), "ENC-FRAME-BEYOND-DURATION")
    assert _hits(_timed_video("50"), "ENC-FRAME-BEYOND-DURATION")
    # 29.97 fps for 2.5 s: ceil(74.925) = 75 frames, as the SDK counts them
    assert not _hits(_timed_video("74", fps=29.97, duration=2.5), "ENC-FRAME-BEYOND-DURATION")
    assert _hits(_timed_video("75", fps=29.97, duration=2.5), "ENC-FRAME-BEYOND-DURATION")
    # the documentation's string durations and rows without the keys are not checked
    assert not _hits(_timed_video("900", fps="25", duration="2.0"), "ENC-FRAME-BEYOND-DURATION")
    assert not _hits(_video(_obj()), "ENC-FRAME-BEYOND-DURATION")


def _audio(end: int, duration: Any = 10.0) -> list[Any]:
    unit = {
        "data_hash": DU,
        "data_title": "a.mp3",
        "data_type": "audio/mpeg",
        "data_sequence": 0,
        "data_link": "x",
        "data_duration": duration,
        "labels": {},
    }
    entry = {"objectHash": "a1", "featureHash": "objSpk01", "classifications": [], "createdAt": T}
    entry["range"] = [[0, 1000], [2000, end]]
    return [_row("audio", data_units={DU: unit}, object_answers={"a1": entry})]


def test_audio_ranges_are_bounded_by_the_duration() -> None:
    (hit,) = _hits(_audio(50000), "ENC-AUDIO-RANGE-BEYOND-DURATION", profile="strict")
    # a warning: encord 0.1.211 bounds audio rows by the API's number_of_frames (samples), not data_duration
    assert hit.pointer == "/0/object_answers/a1/range/1" and hit.severity == "warning"
    assert "50000 ms" in hit.message and "10 s" in hit.message
    assert not _hits(_audio(10000), "ENC-AUDIO-RANGE-BEYOND-DURATION")  # the end is inclusive
    assert not _hits(_audio(50000, duration=None), "ENC-AUDIO-RANGE-BEYOND-DURATION")


def test_audio_space_ranges_are_bounded_by_duration_ms() -> None:
    space = {"space_type": "audio", "duration_ms": 4000, "labels": {}, "child_info": {"layout_key": "1"}}
    entry = {
        "objectHash": "g1",
        "featureHash": "objCar01",
        "classifications": [],
        "createdAt": T,
        "range": [],
    }
    entry["spaces"] = {"sp-a": {"type": "frame", "range": [[0, 4001]]}}
    doc = [_row("group", labels={"objects": [], "classifications": []}, spaces={"sp-a": space})]
    doc[0]["object_answers"] = {"g1": entry}
    (hit,) = _hits(doc, "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION", profile="strict")
    assert hit.pointer == "/0/object_answers/g1/spaces/sp-a/range/0" and "LabelRowError" in hit.message
    assert hit.severity == "error" and not _hits(doc, "ENC-AUDIO-RANGE-BEYOND-DURATION")
    entry["spaces"]["sp-a"]["range"] = [[0, 4000]]
    assert not _hits(doc, "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION")


def test_object_frame_must_equal_its_frame_key() -> None:
    doc = _video(_obj(frame=3))
    doc[0]["data_units"][DU]["labels"] = {"900": doc[0]["data_units"][DU]["labels"]["0"]}
    (hit,) = _hits(doc, "ENC-OBJECT-FRAME-MISMATCH", profile="strict")
    assert hit.pointer == f"{LABELS}/900/objects/0/frame" and hit.severity == "warning"
    assert "frame 3" in hit.message and "frame key 900" in hit.message
    doc[0]["data_units"][DU]["labels"]["900"]["objects"][0]["frame"] = "900"  # read with int(), as keys are
    assert not _hits(doc, "ENC-OBJECT-FRAME-MISMATCH")


def test_confidence_is_a_score_in_the_unit_interval() -> None:
    hits = _hits(_video(_obj(confidence=7)), "ENC-CONFIDENCE-OUT-OF-RANGE", profile="strict")
    assert [(h.pointer, h.severity) for h in hits] == [(f"{LABELS}/0/objects/0/confidence", "warning")]
    assert _hits(_video(_obj(confidence=-0.1)), "ENC-CONFIDENCE-OUT-OF-RANGE")
    for fine in (0, 0.35, 1, "1", None):  # strings and null are the schema's business, not this rule's
        assert not _hits(_video(_obj(confidence=fine)), "ENC-CONFIDENCE-OUT-OF-RANGE"), fine
    answers = {"c1": {"classificationHash": "c1", "classifications": [], "spaces": {}, "confidence": 1.5}}
    (hit,) = _hits(_video(classification_answers=answers), "ENC-CONFIDENCE-OUT-OF-RANGE")
    assert hit.pointer == "/0/classification_answers/c1/confidence"


def _group(layout: str = "1", placed_on: str = "sp-video", data_type: str = "group") -> list[Any]:
    children = [{"data_hash": "child-1", "name": "surgery_1", "label_hash": None, "layout_key": layout}]
    unit = {
        "data_hash": DU,
        "data_title": "g",
        "data_type": "application/vnd.encord.data.group",
        "data_sequence": 0,
        "labels": {},
        "metadata": {"children": children},
    }
    space = {
        "space_type": "video",
        "child_info": {"layout_key": "1", "file_name": "surgery_1"},
        "number_of_frames": 10,
        "width": 640,
        "height": 480,
        "labels": {"0": {"objects": [_obj("g1")], "classifications": []}},
    }
    entry = {
        "objectHash": "g1",
        "featureHash": "objCar01",
        "classifications": [],
        "createdAt": T,
        "range": [],
    }
    entry["spaces"] = {placed_on: {"type": "frame", "range": [[0, 0]]}}
    return [_row(data_type, data_units={DU: unit}, object_answers={"g1": entry}, spaces={"sp-video": space})]


def test_answers_placed_on_a_missing_space() -> None:
    (hit,) = _hits(_group(placed_on="sp-gone"), "ENC-ANSWER-SPACE-UNKNOWN", profile="strict")
    assert hit.pointer == "/0/object_answers/g1/spaces/sp-gone" and hit.severity == "error"
    assert _hits(_group(placed_on="sp-gone"), "ENC-ANSWER-SPACE-UNKNOWN")[0].severity == "warning"
    assert not _hits(_group(), "ENC-ANSWER-SPACE-UNKNOWN")
    # event-based scenes build their spaces from the answers
    assert not _hits(_group(placed_on="sp-gone", data_type="scene"), "ENC-ANSWER-SPACE-UNKNOWN")


def test_group_children_need_a_space_for_their_layout_key() -> None:
    (hit,) = _hits(_group(layout="7"), "ENC-GROUP-CHILD-LAYOUT-UNMATCHED", profile="strict")
    assert hit.pointer == f"/0/data_units/{DU}/metadata/children/0/layout_key" and hit.severity == "warning"
    assert not _hits(_group(), "ENC-GROUP-CHILD-LAYOUT-UNMATCHED")
    older = _group(layout="7")
    del older[0]["spaces"], older[0]["object_answers"]["g1"]["spaces"]
    assert not _hits(older, "ENC-GROUP-CHILD-LAYOUT-UNMATCHED")  # rows without spaces are not checked


def test_polylines_need_two_points() -> None:
    one = _obj("l1", "objLan01", "polyline", polyline={"0": {"x": 0.1, "y": 0.1}})
    (hit,) = _hits(_video(one), "ENC-POLYLINE-DEGENERATE", profile="strict")
    assert hit.pointer == f"{LABELS}/0/objects/0/polyline" and "1 point(s)" in hit.message
    assert _hits(_video(_obj("l1", "objLan01", "polyline", polyline=[])), "ENC-POLYLINE-DEGENERATE")
    two = _obj("l1", "objLan01", "polyline", polyline=[{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.3}])
    assert not _hits(_video(two), "ENC-POLYLINE-DEGENERATE")


def test_cuboid_sizes_must_be_positive() -> None:
    def cuboid(size: list[Any]) -> Any:
        payload = {"position": [1, 2, 0.5], "orientation": [0, 0, 1.57], "size": size}
        return _row("scene", labels={"0": {"objects": [_obj("c1", "objBox01", "cuboid", cuboid=payload)]}})

    hits = _hits([cuboid([4.2, 0, -1])], "ENC-CUBOID-SIZE-NOT-POSITIVE", profile="strict")
    assert [h.pointer for h in hits] == [
        f"{LABELS}/0/objects/0/cuboid/size/1",
        f"{LABELS}/0/objects/0/cuboid/size/2",
    ]
    assert "size y = 0" in hits[0].message
    assert not _hits([cuboid([4.2, 1.8, 1.5])], "ENC-CUBOID-SIZE-NOT-POSITIVE")


SKELETON_ONTOLOGY: dict[str, Any] = {
    "objects": [
        {"id": "1", "name": "Person", "color": "#D33115", "shape": "skeleton", "featureNodeHash": "objPer01"}
    ],
    "classifications": [],
    "skeleton_templates": [
        {
            "template": {
                "name": "Person",
                "width": 0.2,
                "height": 0.4,
                "skeleton": {
                    "0": {"x": 0.5, "y": 0.1, "name": "head", "featureHash": "ptHead01"},
                    "1": {"x": 0.5, "y": 0.5, "name": "hip", "feature_hash": "ptHip001"},
                },
                "skeleton_edges": {"0": {"1": {"color": "#000000"}}},
            }
        }
    ],
}


def _skeleton(*hashes: str) -> list[Any]:
    points = {str(i): {"x": 0.1, "y": 0.2, "name": f"p{i}", "featureHash": h} for i, h in enumerate(hashes)}
    return _video(_obj("s1", "objPer01", "skeleton", name="Person", skeleton=points))


def test_skeleton_instances_follow_their_template() -> None:
    """The template has no feature_node_hash here: it is linked to the class by name."""
    rule_id = "ENC-SKELETON-TEMPLATE-MISMATCH"
    assert not _hits(_skeleton("ptHead01", "ptHip001"), rule_id, ontology=SKELETON_ONTOLOGY)
    (count,) = _hits(_skeleton("ptHead01"), rule_id, profile="strict", ontology=SKELETON_ONTOLOGY)
    assert count.pointer == f"{LABELS}/0/objects/0/skeleton" and count.severity == "warning"
    assert "1 point(s) but its template 'Person' has 2" in count.message
    (point,) = _hits(_skeleton("ptHead01", "ptKnee01"), rule_id, ontology=SKELETON_ONTOLOGY)
    assert point.pointer == f"{LABELS}/0/objects/0/skeleton/1/featureHash"
    assert not _hits(_skeleton("ptHead01"), rule_id)  # needs the ontology


def test_root_and_last_edited_by_are_declared_and_accepted() -> None:
    doc = _video(_obj(), last_edited_by="annotator@example.com", root={"file_name": "stack"})
    doc[0]["object_answers"] = {"obj00001": {"objectHash": "obj00001", "classifications": []}}
    assert not _findings(doc, profile="strict")
    properties = labelspec.validator.compiler.compiled_schema_view("encord", "strict")["definitions"][
        "label_row"
    ]["properties"]
    assert "last_edited_by" in properties and "root" in properties
    assert "Label Editor" in properties["last_edited_by"]["description"]


# -------------------------------------------------------------------------------------------- encord-ontology


def _duplicates(onto: Any, profile: str = "strict") -> list[Any]:
    return _hits(onto, "ENCO-FEATURE-NODE-HASH-DUPLICATE", fmt="encord-ontology", profile=profile)


def test_equal_hashes_in_different_lookup_scopes_never_collide() -> None:
    """Attributes and options of different owners may share hashes: the SDK resolves answers within their
    object or classification (the old rule rejected this ontology)."""
    onto = copy.deepcopy(ONTOLOGY)
    onto["classifications"][0]["attributes"][0]["options"][1]["featureNodeHash"] = "attCol01"
    onto["objects"].append(copy.deepcopy(onto["objects"][0]))
    onto["objects"][-1]["featureNodeHash"] = "objBus01"
    assert not _duplicates(onto)
    # an option may also repeat its own attribute's hash: attribute lookups find the attribute first,
    # option lookups search below the attribute
    onto["objects"][0]["attributes"][1]["options"][0]["featureNodeHash"] = "attPrt01"
    assert not _duplicates(onto)


@pytest.mark.parametrize(
    ("where", "pointer", "first"),
    [
        # two object classes: the lookup returns the first
        (("objects", 2, "featureNodeHash"), "/objects/2/featureNodeHash", "/objects/0"),
        # a classification named like an object class: found as an object, the type check fails
        (("classifications", 0, "featureNodeHash"), "/classifications/0/featureNodeHash", "/objects/0"),
    ],
)
def test_top_level_hashes_are_looked_up_in_the_whole_ontology(
    where: tuple[Any, ...], pointer: str, first: str
) -> None:
    onto = copy.deepcopy(ONTOLOGY)
    onto["objects"].append(copy.deepcopy(onto["objects"][0]))
    onto["objects"][2]["featureNodeHash"] = "objBus01"
    for n, attribute in enumerate(onto["objects"][2]["attributes"]):
        attribute["featureNodeHash"] = f"attBus{n}"
    node = onto
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "objCar01"
    (hit,) = _duplicates(onto)
    assert hit.pointer == pointer and first in hit.message and hit.severity == "error"
    assert _duplicates(onto, profile="lenient")[0].severity == "warning"


def test_a_class_hash_shadowed_by_an_attribute_of_an_earlier_class() -> None:
    onto = copy.deepcopy(ONTOLOGY)
    onto["classifications"][0]["featureNodeHash"] = "attSpd01"  # an attribute of the object class
    (hit,) = _duplicates(onto)
    assert hit.pointer == "/classifications/0/featureNodeHash"
    assert "/objects/0/attributes/2" in hit.message and "raises an error" in hit.message
    # the other way round nothing collides: the class is found before the later attribute
    onto = copy.deepcopy(ONTOLOGY)
    onto["classifications"][0]["attributes"][0]["featureNodeHash"] = "objCar01"
    assert not _duplicates(onto)


def test_attributes_collide_within_their_owner_and_options_within_their_attribute() -> None:
    onto = copy.deepcopy(ONTOLOGY)
    attributes = onto["objects"][0]["attributes"]
    attributes[2]["featureNodeHash"] = "attShd01"  # Speed named like Shade, nested under Red
    attributes[0]["options"][1]["featureNodeHash"] = "optRed01"  # Blue named like its sibling Red
    attributes[1]["options"][1]["featureNodeHash"] = "attCol01"  # Door named like an attribute elsewhere
    hits = _duplicates(onto)
    assert [h.pointer for h in hits] == [
        "/objects/0/attributes/0/options/1/featureNodeHash",
        "/objects/0/attributes/2/featureNodeHash",
    ]
    assert "/objects/0/attributes/0/options/0" in hits[0].message
    assert "/objects/0/attributes/0/options/0/options/0" in hits[1].message


def test_sdk_built_ontology_with_shared_attribute_hashes_is_valid() -> None:
    """Built at test time with the SDK's builders (two classes whose attributes and options carry the same
    hashes, as in the SDK's all-types ontology): from_dict loads it, and both profiles accept it."""
    pytest.importorskip("encord")
    from encord.objects import ChecklistAttribute, RadioAttribute, Shape, TextAttribute
    from encord.objects.ontology_structure import OntologyStructure

    structure = OntologyStructure()
    for name, shape in (("Car", Shape.BOUNDING_BOX), ("Lane", Shape.POLYLINE)):
        obj = structure.add_object(name=name, shape=shape)
        radio = obj.add_attribute(RadioAttribute, "Colour", feature_node_hash="sharedR1")
        red = radio.add_option("Red", feature_node_hash="sharedO1")
        red.add_nested_attribute(TextAttribute, "Shade", feature_node_hash="sharedT1")
        checklist = obj.add_attribute(ChecklistAttribute, "Parts", feature_node_hash="sharedC1")
        checklist.add_option("Wheel", feature_node_hash="sharedO2")
    document = structure.to_dict()
    loaded = OntologyStructure.from_dict(document)
    lane = loaded.objects[1]
    assert lane.get_child_by_hash("sharedR1").uid == lane.attributes[0].uid  # resolved within its object
    for profile in ("lenient", "strict"):
        assert not _duplicates(document, profile=profile)
        report = labelspec.validate(document, format="encord-ontology", profile=profile)
        assert report.valid and not report.findings
    # the same builders refuse a duplicate among siblings
    with pytest.raises(ValueError):
        structure.objects[0].add_attribute(TextAttribute, "Again", feature_node_hash="sharedR1")


def test_ontology_as_the_api_returns_it() -> None:
    """The API's {..., "editor": structure} is detected, validated at /editor, and usable as --ontology."""
    onto = copy.deepcopy(ONTOLOGY)
    onto["objects"][0]["attributes"][0]["options"][1]["featureNodeHash"] = "optRed01"
    response = {
        "ontology_hash": "5e0ca2c6-5d8f-4f6b-9d7e-2a1b0c3d4e5f",
        "title": "Cars",
        "description": "",
        "editor": onto,
        "created_at": "2025-01-07 16:12:23",
        "last_edited_at": "2025-01-07 16:12:23",
    }
    report = labelspec.validate(response, profile="strict")
    assert report.files[0].format == "encord-ontology"
    (hit,) = [f for f in report.files[0].findings]
    assert hit.pointer == "/editor/objects/0/attributes/0/options/1/featureNodeHash"
    del onto["objects"][0]["attributes"][0]["name"]
    pointers = {f.pointer for f in labelspec.validate(response, profile="strict").files[0].findings}
    assert "/editor/objects/0/attributes/0" in pointers
    # as the ontology of label rows
    doc = _video(_obj(feature="nowhere"))
    (unknown,) = _hits(doc, "ENC-OBJECT-FEATURE-UNKNOWN", ontology=response)
    assert unknown.pointer == f"{LABELS}/0/objects/0/featureHash"


def test_dynamic_nested_attribute() -> None:
    onto = copy.deepcopy(ONTOLOGY)
    onto["objects"][0]["attributes"][0]["options"][0]["options"][0]["dynamic"] = True
    (hit,) = _hits(onto, "ENCO-DYNAMIC-NOT-TOP-LEVEL", fmt="encord-ontology")
    assert hit.pointer == "/objects/0/attributes/0/options/0/options/0/dynamic"


# ----------------------------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "doc",
    [
        [None, 1, "x", {}],
        [
            {
                "data_type": "video",
                "data_units": {"a": {"labels": {"0": {"objects": [None, {"shape": "polygon"}]}}}},
            }
        ],
        [
            {
                "data_type": "image",
                "data_units": {"a": {"labels": {"objects": [{"bitmask": 3, "shape": "bitmask"}]}}},
            }
        ],
        [
            {
                "data_type": "video",
                "spaces": {"s": {"space_type": "medical_stack", "frames": 3, "labels": {"9": 1}}},
            }
        ],
        [{"object_answers": {"x": {"classifications": [{"featureHash": 1, "answers": {"a": 1}}]}}}],
        [
            _row(
                created_at="Mon, 99 Foo 2024 00:00:00 GMT",
                object_actions={"z": {"actions": [{"range": [[1]]}]}},
            )
        ],
    ],
)
def test_odd_documents_never_raise(doc: Any) -> None:
    for profile in ("lenient", "strict"):
        labelspec.validate(doc, format="encord", profile=profile, ontology=ONTOLOGY)
        labelspec.validate(
            doc, format="encord", profile=profile, ontology={"objects": 1, "classifications": [1]}
        )


def test_cli_takes_the_api_ontology_as_ontology(cli: list[str], tmp_path: Path) -> None:
    """`validate rows.json --ontology response.json` (the API response saved to a file): the ontology file
    is reported valid and the rows are checked against its structure."""
    response = {"ontology_hash": "o-1", "title": "Cars", "description": "", "editor": ONTOLOGY}
    ontology = tmp_path / "ontology.json"
    ontology.write_text(json.dumps(response), encoding="utf-8")
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(_video(_obj(feature="nowhere"))), encoding="utf-8")
    result = subprocess.run(
        [*cli, "validate", str(rows), "--ontology", str(ontology), "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["ontology.json"]["format"] == "encord-ontology" and not files["ontology.json"]["findings"]
    assert [f["rule"] for f in files["rows.json"]["findings"]] == ["ENC-OBJECT-FEATURE-UNKNOWN"]


# Real datetimes that Python 3.10's datetime.fromisoformat refuses (it reads only 3 or 6 fraction digits and
# +HH:MM offsets) and 3.11 accepts: the verdict may not depend on the interpreter.
@pytest.mark.parametrize(
    "value",
    [
        "2024-02-29T10:00:00.1Z",
        "2024-02-29T10:00:00.1234+02:00",
        "2024-02-29T10:00:00.123456789Z",
        "2024-02-29T10:00+0200",
        "2024-02-29T10:00:00-05",
        "2023-09-07 09:47:35.1",
    ],
)
def test_datetime_verdict_is_the_same_on_every_python(value: str) -> None:
    assert not _hits(_video(_obj(createdAt=value)), "ENC-DATETIME-INVALID")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2023-02-29T10:00:00Z", "day 29 is out of range for Feb 2023 (01-28)"),
        ("2024-02-29T24:00Z", "hour 24 is out of range (00-23)"),
        ("2024-02-29T10:00:00+24:00", "UTC offset +24:00 is not within a day"),
        ("0000-01-01", "year 0000 is out of range (0001-9999)"),
        ("Thu, 31 Apr 2023 09:47:35 GMT", "day 31 is out of range for Apr 2023 (01-30)"),
        ("2023-09-07T09:47:35Z\n", "a line break follows it"),
    ],
)
def test_datetime_errors_say_which_field(value: str, reason: str) -> None:
    (hit,) = _hits(_video(_obj(createdAt=value)), "ENC-DATETIME-INVALID")
    assert f"({reason})" in hit.message


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the oracle is Python 3.11's datetime.fromisoformat")
def test_datetime_grammar_equals_python_311_fromisoformat() -> None:
    """Independent oracle for the ISO forms: 3.11's fromisoformat (the grammar the rule was written
    against), on random strings of the datetime pattern."""
    from datetime import datetime

    from labelspec.validator.rules import encord_rows as encord_rules
    from tests.native.test_encord_decider import random_datetime

    rng = random.Random(13)
    checked = 0
    for _ in range(20_000):
        text = random_datetime(rng)
        if not encord_rules.DATETIME_PATTERN.match(text) or text.endswith("\n") or text[3:5] == ", ":
            continue
        space_form = len(text) > 10 and text[10] == " "
        try:
            datetime.fromisoformat(text[:19] if space_form else text.replace("Z", "+00:00"))
            oracle = True
        except ValueError:
            oracle = False
        assert (encord_rules.datetime_error(text) is None) == oracle, text
        checked += 1
    assert checked > 5_000


def test_convert_reads_the_api_ontology_as_the_structure(tmp_path: Path) -> None:
    """`convert --ontology response.json` names categories as the bare structure does."""
    from labelspec.convert.api import convert

    doc = _video(_obj(), object_answers={"obj00001": {"objectHash": "obj00001", "classifications": []}})
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(doc), encoding="utf-8")
    outputs = []
    for name, ontology in (("bare", ONTOLOGY), ("api", {"title": "Cars", "editor": ONTOLOGY})):
        source = tmp_path / f"{name}-ontology.json"
        source.write_text(json.dumps(ontology), encoding="utf-8")
        out = tmp_path / f"{name}-coco.json"
        convert(rows, "coco-instance", out, ontology=source)
        outputs.append(json.loads(out.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    assert "Car" in {category["name"] for category in outputs[1]["categories"]}


def _classified(data_type: str = "image", listed: bool = True, **entry_extra: Any) -> list[Any]:
    """A row whose frame (or image) lists classification c1, answered in classification_answers."""
    entry = {"classificationHash": "c1", "featureHash": "clsWea01", "classifications": [], **entry_extra}
    on_frame = (
        [{"classificationHash": "c1", "featureHash": entry["featureHash"], "createdAt": T}] if listed else []
    )
    blob = {"objects": [], "classifications": on_frame}
    labels = blob if data_type in ("image", "img_group") else {"0": blob}
    return [_row(data_type, labels=labels, classification_answers={"c1": entry})]


def test_a_classification_without_range_or_space_is_dropped_by_the_sdk() -> None:
    rule = "ENC-CLASSIFICATION-RANGE-MISSING"
    (hit,) = _hits(_classified(), rule, profile="strict")
    assert (hit.pointer, hit.severity) == ("/0/classification_answers/c1", "error")
    assert _hits(_classified(), rule)[0].severity == "warning"  # rows written before encord 0.1.211
    for data_type in ("video", "img_group", "dicom", "nifti", "pdf"):
        assert _hits(
            _classified(data_type, range=[], spaces={"root": {"type": "frame", "range": [[0, 0]]}}), rule
        )
    # placed: a frame range, or frame ranges under a space of its own
    assert not _hits(_classified(range=[[0, 0]]), rule)
    assert not _hits(_classified("video", spaces={"sp-1": {"type": "frame", "range": [[0, 0]]}}), rule)
    # an entry no frame lists and without a range is how the SDK writes a global classification
    assert not _hits(_classified(listed=False, range=[]), rule)
    # range-based media, rows with a root space and continuous scenes keep classifications without frames
    assert not _hits(_classified("audio"), rule) and not _hits(_classified("plain_text"), rule)
    rooted = _classified("image")
    rooted[0]["spaces"] = {"root": {"space_type": "image", "labels": {}}}
    assert not _hits(rooted, rule)
    continuous = _classified("scene")
    continuous[0]["scene"] = {"isContinuous": True}
    assert not _hits(continuous, rule) and _hits(_classified("scene"), rule)
    # not read at all without a featureHash: other rules and the schema speak for it
    assert not _hits(_classified(featureHash=""), rule)


def test_a_global_classification_needs_no_range() -> None:
    rule = "ENC-CLASSIFICATION-RANGE-MISSING"
    ontology = copy.deepcopy(ONTOLOGY)
    feature = ontology["classifications"][0]["featureNodeHash"]
    doc = _classified(featureHash=feature)
    assert _hits(doc, rule, ontology=ontology)
    ontology = copy.deepcopy(ontology)  # a new object: the rules index each ontology once
    ontology["classifications"][0]["level"] = "global"
    assert not _hits(doc, rule, ontology=ontology)
    assert _hits(doc, rule)  # without the ontology the level is unknown: reported
