"""Every strict-only error of the `encord` profile is data encord 0.1.211 rejects or loses (differential).

Strict means "the current SDK loads it with no loss". For each error that strict adds to lenient, a row
the SDK itself wrote (``encord_sdk_build``, produced at test time) or an interop case it loads is broken
by construction (a mutant operator, a deleted key), labelspec's strict profile is asked, and the SDK
(``LabelRowV2.from_labels_dict`` + ``to_encord_dict``, judged by ``encord_sdk.sdk_loads_without_loss``) is
asked too: wherever strict reports a strict-only error, the SDK must raise or lose data. A strict-only rule
without a construction here fails ``test_every_strict_only_rule_is_proven``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest

import labelspec
from labelspec import audit
from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants.core import Subject
from labelspec.validator.rules import all_rules

pytestmark = pytest.mark.interop

from encord.exceptions import LabelRowError  # noqa: E402
from encord.objects.bitmask import BitmaskCoordinates  # noqa: E402
from encord.objects.coordinates import BoundingBoxCoordinates, PointCoordinate, PolygonCoordinates  # noqa: E402
from encord.objects.ontology_labels_impl import LabelRowV2  # noqa: E402
from encord_sdk import (  # noqa: E402
    build_label_row,
    make_metadata,
    make_ontology,
    sdk_loads_without_loss,
    sdk_round_trip,
)
from encord_sdk_build import BUILDERS, written_row  # noqa: E402

CASES = Path(__file__).resolve().parent / "encord_cases"
STRICT_ONLY_RULES = sorted(
    spec.id
    for spec in all_rules("encord")
    if spec.severity.get("strict") == "error" and spec.severity.get("lenient") != "error"
)
# Rules broken by their mutant operator on rows the SDK wrote.
BY_MUTANT = (
    "ENC-OBJECT-ANSWER-ORPHAN",
    "ENC-OBJECT-ACTION-ORPHAN",
    "ENC-IMAGE-LABELS-FRAME-KEYED",
    "ENC-ANSWER-SPACE-UNKNOWN",
)
# Rules proven by the dedicated tests below.
BY_HAND = (
    "ENC-FRAME-CLASSIFICATION-UNANSWERED",
    "ENC-CLASSIFICATION-RANGE-MISSING",
    "ENC-FRAME-BEYOND-DURATION",
    "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION",
    "ENC-DYNAMIC-ANSWER-OVERRIDDEN",
)


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


@pytest.fixture(scope="module")
def written() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {kind: written_row(kind) for kind in BUILDERS}


def _errors(document: Any, profile: str, ontology: Any = None) -> set[str]:
    report = labelspec.validate(document, format="encord", profile=profile, ontology=ontology)
    return {f.rule for f in report.files[-1].findings if f.severity == "error"}


def test_every_strict_only_rule_is_proven() -> None:
    assert sorted(BY_MUTANT + BY_HAND) == STRICT_ONLY_RULES


@pytest.mark.parametrize("rule_id", BY_MUTANT)
def test_strict_only_rule_marks_sdk_loss(written: dict[str, Any], rule_id: str) -> None:
    proven = []
    for kind, (row, ontology) in written.items():
        assert sdk_loads_without_loss(row, ontology)[0], kind  # the SDK's own row is the baseline
        subject = Subject("encord", "strict", [row], ontology)
        for number, candidate in enumerate(
            mutants.candidates(RandomDraw(f"{rule_id}-{kind}"), subject, rule_id)
        ):
            if number >= 3:
                break
            broken = candidate.subject.document
            if rule_id not in _errors(broken, "strict", ontology) or rule_id in _errors(broken, "lenient"):
                continue
            loaded, reason = sdk_loads_without_loss(broken[0], ontology)
            assert not loaded, f"{rule_id} on a {kind} row, but encord loads it without loss"
            proven.append((kind, reason))
            break
    assert proven, f"{rule_id}: no SDK-written row has a site for the operator"


def _deletions(
    node: Any, names: set[str], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names:
                yield path, key
            yield from _deletions(value, names, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _deletions(value, names, (*path, index))


def _strict_only_required() -> set[str]:
    lenient = {site.id: site for site in audit.sites("encord", "lenient")}
    names: set[str] = set()
    for site in audit.sites("encord", "strict"):
        if site.keyword == "required":
            before = lenient.get(site.id)
            names |= set(site.value) - set(before.value if before is not None else [])
    return names


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_keys_only_strict_requires_are_read_by_the_sdk(written: dict[str, Any], kind: str) -> None:
    """Delete, one at a time, each key that only strict requires from a row the SDK wrote: wherever strict
    then reports an error that lenient does not, the SDK raises or loses data."""
    row, ontology = written[kind]
    names = _strict_only_required()
    checked = 0
    for path, key in _deletions(row, names):
        broken = copy.deepcopy(row)
        parent = broken
        for token in path:
            parent = parent[token]
        del parent[key]
        strict, lenient = _errors(broken, "strict"), _errors(broken, "lenient")
        if not strict or lenient:
            continue
        loaded, _ = sdk_loads_without_loss(broken, ontology)
        assert not loaded, (
            f"strict requires {'/'.join(map(str, (*path, key)))} but encord loads the row without it"
        )
        checked += 1
    assert checked, f"{kind}: no strict-only key to delete"


def _case(name: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads((CASES / name).read_text(encoding="utf-8"))[0]
    return row


def _placed(row: dict[str, Any]) -> dict[str, Any]:
    """The case row with its classification placed on frame 0 (how encord 0.1.211 writes it)."""
    placed = copy.deepcopy(row)
    for entry in placed["classification_answers"].values():
        entry["range"] = [[0, 0]]
    return placed


def test_frame_classifications_without_range_or_answers_are_lost() -> None:
    ontology = json.loads((CASES / "ontology.json").read_text(encoding="utf-8"))
    row = _case("reject-frame-classification-without-range.json")
    base = _placed(row)
    assert sdk_loads_without_loss(base, ontology)[0] and not _errors([base], "strict")
    # the older platform form: the answer entry has no range
    assert "ENC-CLASSIFICATION-RANGE-MISSING" in _errors([row], "strict") - _errors([row], "lenient")
    assert not sdk_loads_without_loss(row, ontology)[0]
    # the frame lists a classification that classification_answers does not hold
    unanswered = copy.deepcopy(base)
    unanswered["classification_answers"] = {}
    assert "ENC-FRAME-CLASSIFICATION-UNANSWERED" in _errors([unanswered], "strict")
    assert not sdk_loads_without_loss(unanswered, ontology)[0]


def test_a_video_frame_beyond_the_duration_is_refused(written: dict[str, Any]) -> None:
    """With the metadata the SDK derives for a video (number_of_frames = ceil(fps * duration),
    LabelRowV2 from_media_metadata), an object on a frame beyond the duration raises LabelRowError."""
    row, ontology = written["video"]
    unit = next(iter(row["data_units"].values()))
    frames = math.ceil(unit["data_fps"] * unit["data_duration"])
    broken = copy.deepcopy(row)
    labels = next(iter(broken["data_units"].values()))["labels"]
    labels[str(frames)] = labels.pop(next(iter(labels)))
    assert "ENC-FRAME-BEYOND-DURATION" in _errors([broken], "strict") - _errors([broken], "lenient")
    assert not _errors([row], "strict")

    def load(document: dict[str, Any]) -> None:
        metadata = dataclasses.replace(make_metadata(document), number_of_frames=frames)
        LabelRowV2(metadata, Mock(), make_ontology(ontology)).from_labels_dict(document)

    load(row)
    with pytest.raises(LabelRowError):
        load(broken)


def test_an_audio_space_range_beyond_duration_ms_is_refused() -> None:
    spec = next(s for s in all_rules("encord") if s.id == "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION")
    ontology = {
        "objects": [
            {"id": "1", "name": "Speech", "color": "#D33115", "shape": "audio", "featureNodeHash": "objSpk01"}
        ],
        "classifications": [],
    }
    broken, fine = spec.example[0], spec.passing_example[0]
    assert "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION" in _errors([broken], "strict") - _errors(
        [broken], "lenient"
    )
    assert not _errors([fine], "strict")
    assert sdk_loads_without_loss(fine, ontology)[0]
    loaded, reason = sdk_loads_without_loss(broken, ontology)
    assert not loaded and "LabelRowError" in reason


# ------------------------------------------------------------------------- errors in both profiles

# Rules that are errors in BOTH profiles: the SDK must fail on (or lose) what they report, and the lenient
# reason ("no real producer writes it") stands because the SDK can neither write nor load it faithfully.
BOTH_PROFILE_RULES = sorted(
    spec.id
    for spec in all_rules("encord")
    if spec.severity.get("strict") == "error" and spec.severity.get("lenient") == "error"
)
# Broken by their mutant operator on rows the SDK wrote.
BOTH_BY_MUTANT = (
    "ENC-FRAME-OUT-OF-RANGE",
    "ENC-OBJECT-HASH-DUPLICATE-IN-FRAME",
    "ENC-POLYLINE-MIXED-DIMENSIONS",
    "ENC-BITMASK-SIZE-MISMATCH",
    "ENC-RANGE-REVERSED",
    "ENC-DATETIME-INVALID",
    "ENC-OBJECT-FEATURE-UNKNOWN",
    "ENC-CLASSIFICATION-FEATURE-UNKNOWN",
    "ENC-SHAPE-MISMATCH",
    "ENC-ATTRIBUTE-UNKNOWN",
    "ENC-OPTION-UNKNOWN",
    "ENC-ANSWER-TYPE-MISMATCH",
    "ENC-RADIO-ANSWER-COUNT",
)
# Proven by the dedicated tests below.
BOTH_BY_HAND = (
    "JSON-DUPLICATE-KEY",
    "ENC-POLYGON-ODD-VALUES",
    "ENC-IMG-GROUP-SEQUENCE-DUPLICATE",
    "ENC-OBJECT-FEATURE-CHANGES",
    "ENC-BITMASK-RLE-INVALID",
    "ENC-DYNAMIC-ANSWER-STATIC",
)


def test_every_both_profile_rule_is_proven() -> None:
    assert sorted(BOTH_BY_MUTANT + BOTH_BY_HAND) == BOTH_PROFILE_RULES


@pytest.mark.parametrize("rule_id", BOTH_BY_MUTANT)
def test_both_profile_rule_marks_sdk_failure(written: dict[str, Any], rule_id: str) -> None:
    proven = []
    for kind, (row, ontology) in written.items():
        subject = Subject("encord", "strict", [row], ontology)
        for number, candidate in enumerate(
            mutants.candidates(RandomDraw(f"{rule_id}-{kind}"), subject, rule_id)
        ):
            if number >= 3:
                break
            broken = candidate.subject.document
            if not {rule_id} <= _errors(broken, "strict", ontology) & _errors(broken, "lenient", ontology):
                continue
            loaded, reason = sdk_loads_without_loss(broken[0], ontology)
            assert not loaded, f"{rule_id} on a {kind} row, but encord loads it without loss"
            proven.append((kind, reason))
            break
    assert proven, f"{rule_id}: no SDK-written row has a site for the operator"


def test_a_duplicated_key_loses_a_value() -> None:
    """The API client reads JSON with the standard parser, which keeps the last of two equal keys."""
    row, _ = written_row("image")
    text = json.dumps(row)
    first = text.index('"data_title"')
    duplicated = text[:first] + '"data_title": "lost.jpg", ' + text[first:]
    assert "JSON-DUPLICATE-KEY" in _errors(duplicated.encode(), "lenient") & _errors(
        duplicated.encode(), "strict"
    )
    assert json.loads(duplicated)["data_title"] == row["data_title"]  # "lost.jpg" is gone


def test_two_images_of_a_group_with_one_data_sequence_lose_a_data_unit(written: dict[str, Any]) -> None:
    row, ontology = written["img_group"]
    units = list(row["data_units"])
    broken = copy.deepcopy(row)
    broken["data_units"][units[1]]["data_sequence"] = broken["data_units"][units[0]]["data_sequence"]
    assert "ENC-IMG-GROUP-SEQUENCE-DUPLICATE" in _errors([broken], "lenient") & _errors([broken], "strict")
    again, reason = sdk_round_trip(row, ontology)
    assert again is not None and set(again["data_units"]) == set(units), reason
    lost, reason = sdk_round_trip(broken, ontology)
    assert lost is not None, reason
    assert set(lost["data_units"]) < set(units)  # one image of the group is gone


def test_a_second_class_on_a_later_frame_is_lost(written: dict[str, Any]) -> None:
    """One objectHash with another featureHash on a later frame: the SDK keeps the first class everywhere."""
    row, ontology = written["video"]
    labels = next(iter(row["data_units"].values()))["labels"]
    frames_of: dict[str, list[str]] = {}
    for frame, blob in labels.items():
        for obj in blob["objects"]:
            if obj["shape"] == "bounding_box":
                frames_of.setdefault(obj["objectHash"], []).append(frame)
    object_hash, frames = next((h, f) for h, f in frames_of.items() if len(f) > 1)
    ontology = copy.deepcopy(ontology)
    box_class = next(o for o in ontology["objects"] if o["shape"] == "bounding_box")
    other = {**box_class, "id": "99", "name": "other box", "featureNodeHash": "otherBox", "attributes": []}
    ontology["objects"].append(other)
    broken = copy.deepcopy(row)
    later = frames[-1]
    for obj in next(iter(broken["data_units"].values()))["labels"][later]["objects"]:
        if obj["objectHash"] == object_hash:
            obj["featureHash"] = "otherBox"
    assert "ENC-OBJECT-FEATURE-CHANGES" in _errors([broken], "lenient") & _errors([broken], "strict")
    again, reason = sdk_round_trip(broken, ontology)
    assert again is not None, reason
    written_features = {
        obj["featureHash"]
        for obj in next(iter(again["data_units"].values()))["labels"][later]["objects"]
        if obj["objectHash"] == object_hash
    }
    assert written_features == {box_class["featureNodeHash"]}  # the second class is gone


def test_an_undecodable_bitmask_cannot_be_read_by_the_sdk(written: dict[str, Any]) -> None:
    row, ontology = written["image"]
    subject = Subject("encord", "strict", [row], ontology)
    mutant = next(iter(mutants.candidates(RandomDraw("rle-proof"), subject, "ENC-BITMASK-RLE-INVALID")))
    broken = mutant.subject.document[0]
    assert "ENC-BITMASK-RLE-INVALID" in _errors([broken], "lenient") & _errors([broken], "strict")

    def masks(document: dict[str, Any]) -> list[Any]:
        label_row = build_label_row(document, ontology)
        label_row.from_labels_dict(document)
        found = []
        for instance in label_row.get_object_instances():
            for annotation in instance.get_annotations():
                if isinstance(annotation.coordinates, BitmaskCoordinates):
                    found.append(annotation.coordinates)
        return found

    for mask in masks(row):
        mask.to_numpy_array()  # the SDK's own masks decode
    failures = []
    for mask in masks(broken):
        try:
            mask.to_numpy_array()
        except Exception as error:
            failures.append(type(error).__name__)
    assert failures, "encord decodes the broken rleString"


def _dynamic_case(written: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str, dict[str, Any]]:
    """The SDK's video row, its ontology, an object with a dynamic action, and that action."""
    row, ontology = written["video"]
    object_hash, entry = next(iter(row["object_actions"].items()))
    return row, ontology, object_hash, entry["actions"][0]


def _other_option(ontology: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    chosen = {a["featureHash"] for a in action["answers"]}
    attribute = next(
        a
        for o in ontology["objects"]
        for a in o.get("attributes", [])
        if a["featureNodeHash"] == action["featureHash"]
    )
    option = next(o for o in attribute["options"] if o["featureNodeHash"] not in chosen)
    return {"name": option["label"], "value": option["value"], "featureHash": option["featureNodeHash"]}


def test_a_dynamic_answer_in_object_answers_needs_a_range(written: dict[str, Any]) -> None:
    """encord 0.1.211 `ObjectInstance._set_answer_from_dict` reads a dynamic answer's range by key, never its
    trackHash: without a range it raises KeyError (both profiles refuse it); with one, with or without a
    trackHash, it reads the answer onto those frames and writes it to object_actions (nothing is lost)."""
    row, ontology, object_hash, action = _dynamic_case(written)
    for moved in ({**action, "trackHash": "t1"}, dict(action)):
        broken = copy.deepcopy(row)
        del broken["object_actions"][object_hash]
        broken["object_answers"][object_hash]["classifications"].append(copy.deepcopy(moved))
        assert not _errors([broken], "strict", ontology)
        again, reason = sdk_round_trip(broken, ontology)
        assert again is not None, reason
        (written_action,) = again["object_actions"][object_hash]["actions"]
        assert written_action["answers"] == action["answers"] and written_action["range"] == action["range"]
        assert sdk_loads_without_loss(broken, ontology)[0]
        without = copy.deepcopy(broken)
        without["object_answers"][object_hash]["classifications"][-1].pop("range")
        assert "ENC-DYNAMIC-ANSWER-STATIC" in _errors([without], "lenient", ontology) & _errors(
            [without], "strict", ontology
        )
        again, reason = sdk_round_trip(without, ontology)
        assert again is None and "KeyError" in reason, reason


def test_a_dynamic_answer_overridden_by_object_actions_is_lost(written: dict[str, Any]) -> None:
    """The SDK reads object_answers' dynamic answers first and object_actions after them: on a frame where
    both answer the attribute differently, object_actions wins and the other is gone from its output."""
    row, ontology, object_hash, action = _dynamic_case(written)
    broken = copy.deepcopy(row)
    other = {**copy.deepcopy(action), "answers": [_other_option(ontology, action)], "trackHash": "t1"}
    broken["object_answers"][object_hash]["classifications"].append(other)
    rule_id = "ENC-DYNAMIC-ANSWER-OVERRIDDEN"
    assert rule_id in _errors([broken], "strict", ontology) - _errors([broken], "lenient", ontology)
    again, reason = sdk_round_trip(broken, ontology)
    assert again is not None, reason
    written_answers = [
        a["featureHash"]
        for entry in (
            again["object_actions"][object_hash]["actions"],
            again["object_answers"][object_hash]["classifications"],
        )
        for answer in entry
        for a in (answer["answers"] if isinstance(answer["answers"], list) else [])
    ]
    assert other["answers"][0]["featureHash"] not in written_answers  # the object_answers answer is lost
    loaded, reason = sdk_loads_without_loss(broken, ontology)
    assert not loaded and "dropped" in reason, reason
    assert action["answers"][0]["featureHash"] in written_answers
    # the same answer as object_actions on those frames: nothing lost, nothing reported
    same = copy.deepcopy(row)
    same["object_answers"][object_hash]["classifications"].append(
        {**copy.deepcopy(action), "trackHash": "t1"}
    )
    assert rule_id not in _errors([same], "lenient", ontology) | _errors([same], "strict", ontology)
    assert sdk_loads_without_loss(same, ontology)[0]


# ------------------------------------------------------------- what the audit relaxed, proven too


IDENTIFIERS = ("label_hash", "dataset_hash", "dataset_title", "data_title", "data_hash")


@pytest.mark.parametrize("kind", ["image", "video", "audio"])
def test_identifier_and_title_types_are_carried_unchanged(written: dict[str, Any], kind: str) -> None:
    """encord 0.1.211 reads the row's hashes and titles by key and writes them back as they are, whatever
    their type: nothing is lost, so a wrong type is a warning in both profiles (the keys stay required)."""
    row, ontology = written[kind]
    unit_key = next(iter(row["data_units"]))
    for where, key in [((), k) for k in IDENTIFIERS] + [(("data_units", unit_key), "data_title")]:
        broken = copy.deepcopy(row)
        parent = broken
        for token in where:
            parent = parent[token]
        parent[key] = 123
        again, reason = sdk_round_trip(broken, ontology)
        assert again is not None, reason
        written_parent = again
        for token in where:
            written_parent = written_parent[token]
        assert written_parent[key] == 123 and sdk_loads_without_loss(broken, ontology)[0]
        for profile in ("lenient", "strict"):
            report = labelspec.validate([broken], format="encord", profile=profile)
            findings = report.files[-1].findings
            assert report.valid and any(f.severity == "warning" and f.rule == "schema.type" for f in findings)
        del parent[key]
        assert _errors([broken], "strict")  # still required


def test_what_the_sdk_builds_itself_is_only_a_warning(written: dict[str, Any]) -> None:
    """encord 0.1.211 builds a box with a negative width and a two-point polygon without a check, writes them
    and loads them back unchanged: both are warnings (ENC-BOX-NEGATIVE-SIZE, ENC-POLYGON-DEGENERATE)."""
    box = BoundingBoxCoordinates(height=0.1, width=-0.2, top_left_x=0.5, top_left_y=0.5).to_dict()
    polygon = PolygonCoordinates(values=[PointCoordinate(0.1, 0.1), PointCoordinate(0.4, 0.2)]).to_dict()
    row, ontology = written["video"]
    broken = copy.deepcopy(row)
    objects = [
        o for blob in next(iter(broken["data_units"].values()))["labels"].values() for o in blob["objects"]
    ]
    next(o for o in objects if o["shape"] == "bounding_box")["boundingBox"] = box
    ring = next(o for o in objects if o["shape"] == "polygon")
    ring["polygon"] = polygon
    ring["polygons"] = [[[v for i in sorted(polygon, key=int) for v in (polygon[i]["x"], polygon[i]["y"])]]]
    assert sdk_loads_without_loss(broken, ontology)[0]
    for profile in ("lenient", "strict"):
        report = labelspec.validate([broken], format="encord", profile=profile)
        warned = {f.rule for f in report.files[-1].findings if f.severity == "warning"}
        assert report.valid and {"ENC-BOX-NEGATIVE-SIZE", "ENC-POLYGON-DEGENERATE"} <= warned


def test_exported_at_is_never_parsed(written: dict[str, Any]) -> None:
    """A not-real date in export_history[*].exported_at loads: ENC-DATETIME-INVALID does not check it, while
    the same value in created_at makes the SDK raise."""
    row, ontology = written["image"]
    history = copy.deepcopy(row)
    history["export_history"] = [
        {"export_hash": "e1", "exported_at": "2023-02-30 10:00:00", "user_email": "a@example.com"}
    ]
    assert sdk_loads_without_loss(history, ontology)[0]
    assert not _errors([history], "lenient") and not _errors([history], "strict")
    created = copy.deepcopy(row)
    created["created_at"] = "2023-02-30 10:00:00"
    assert "ENC-DATETIME-INVALID" in _errors([created], "lenient") & _errors([created], "strict")
    loaded, reason = sdk_loads_without_loss(created, ontology)
    assert not loaded and "ParserError" in reason


def test_an_odd_polygon_ring_is_refused(written: dict[str, Any]) -> None:
    row, ontology = written["image"]
    broken = copy.deepcopy(row)
    ring_object = next(
        o for o in next(iter(broken["data_units"].values()))["labels"]["objects"] if o["shape"] == "polygon"
    )
    ring_object.pop("polygon", None)  # the SDK writes both forms; the ring alone is what is read
    ring_object["polygons"][0][0] = ring_object["polygons"][0][0][:5]
    assert "ENC-POLYGON-ODD-VALUES" in _errors([broken], "lenient") & _errors([broken], "strict")
    loaded, reason = sdk_loads_without_loss(broken, ontology)
    assert not loaded and "IndexError" in reason


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        node = node[token]
    return node


@pytest.mark.parametrize("kind", ["image", "video", "audio", "plain_text"])
def test_manual_annotation_and_confidence_are_carried_unchanged(written: dict[str, Any], kind: str) -> None:
    """encord 0.1.211 reads manualAnnotation and confidence of objects and classification instances with
    .get and writes them back as they are, whatever their type: a wrong type is a warning in both profiles.
    (Attribute answers' manualAnnotation is read by key and rewritten: still an error.)"""
    row, ontology = written[kind]
    wrong = {"manualAnnotation": "yes", "confidence": "high"}
    sites = [
        path
        for path, _ in _leaves(row)
        if path[-1] in wrong and "classifications" not in path and "actions" not in path
    ]
    assert sites, f"{kind}: the SDK wrote no manualAnnotation/confidence outside attribute answers"
    for path in sites:
        broken = copy.deepcopy(row)
        _at(broken, path[:-1])[path[-1]] = wrong[path[-1]]
        again, reason = sdk_round_trip(broken, ontology)
        assert again is not None, reason
        assert _at(again, path) == wrong[path[-1]], f"{'/'.join(map(str, path))} is not written back"
        for profile in ("lenient", "strict"):
            report = labelspec.validate([broken], format="encord", profile=profile)
            assert report.valid, [(f.rule, f.pointer) for f in report.files[-1].findings]


# ------------------------------------------------- wrong JSON types: carried (a warning) or computed with


def _wrong_types(value: Any) -> list[Any]:
    """Values of another JSON type than ``value``: its text for a number, a number for a string, ..., null."""
    if isinstance(value, bool):
        return ["true", None]
    if isinstance(value, (int, float)):
        return [str(value), None]
    if isinstance(value, str):
        return [123, None]
    return []


def _pointer(path: tuple[Any, ...]) -> str:
    return "/0/" + "/".join(str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(node)
    if path:
        _at(copied, path[:-1])[path[-1]] = value
    return copied


@pytest.mark.parametrize("kind", ["audio", "image", "video"])
def test_kept_metadata_types_are_carried_unchanged(written: dict[str, Any], kind: str) -> None:
    """encord 0.1.211 reads branch_name, data_link and the audio_* keys into the label row's properties of the
    same names, never computes with them and writes them back unchanged: a wrong JSON type is a warning."""
    row, ontology = written[kind]
    unit_key = next(iter(row["data_units"]))
    keys = [("branch_name",), ("data_units", unit_key, "data_link")]
    keys += [("data_units", unit_key, k) for k in row["data_units"][unit_key] if k.startswith("audio_")]
    for path in keys:
        for wrong in _wrong_types(_at(row, path)):
            broken = _replaced(row, path, wrong)
            again, reason = sdk_round_trip(broken, ontology)
            assert again is not None, reason
            assert _at(again, path) == wrong and _replaced(again, path, 0) == _replaced(
                sdk_round_trip(row, ontology)[0], path, 0
            ), f"{'/'.join(map(str, path))} = {wrong!r} is not carried unchanged"
            for profile in ("lenient", "strict"):
                report = labelspec.validate([broken], format="encord", profile=profile)
                assert report.valid, (path, wrong, [(f.rule, f.pointer) for f in report.files[-1].findings])


def _saved_with_metadata_of(right: dict[str, Any], row: dict[str, Any], ontology: dict[str, Any]) -> Any:
    """``to_encord_dict`` of ``row`` loaded with the API metadata of ``right`` (as the API hands it out)."""
    label_row = LabelRowV2(make_metadata(right), Mock(), make_ontology(ontology))
    label_row.from_labels_dict(row)
    return json.loads(json.dumps(label_row.to_encord_dict(), default=str))


def _space_rows(written: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], str, str]]:
    """(row, ontology, space id, key): the SDK's data group with its video space, the same as a PDF space,
    and the audio-space example of ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION (none is written offline)."""
    row, ontology = written["group"]
    space = next(k for k, v in row["spaces"].items() if v["space_type"] == "video")
    yield row, ontology, space, "number_of_frames"
    pdf = copy.deepcopy(row)
    info = pdf["spaces"][space]
    info.update(space_type="pdf", number_of_pages=info.pop("number_of_frames"))
    del info["width"], info["height"]
    yield pdf, ontology, space, "number_of_pages"
    spec = next(s for s in all_rules("encord") if s.id == "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION")
    audio = spec.passing_example[0]
    speech = {
        "id": "1",
        "name": "Speech",
        "color": "#D33115",
        "shape": "audio",
        "featureNodeHash": "objSpk01",
    }
    space = next(k for k, v in audio["spaces"].items() if v["space_type"] == "audio")
    yield audio, {"objects": [speech], "classifications": []}, space, "duration_ms"


def test_space_media_facts_in_the_row_are_never_read(written: dict[str, Any]) -> None:
    """encord 0.1.211 builds every space from the API metadata (`_initiate_spaces(metadata.spaces)`),
    reads only the labels of the row's space entries and writes the metadata's number_of_frames /
    duration_ms / number_of_pages: whatever the row says there, the row is saved as with the right value.
    So their type and range are warnings (x-severity), never errors."""
    for row, ontology, space, key in _space_rows(written):
        baseline = _saved_with_metadata_of(row, row, ontology)
        right = row["spaces"][space][key]
        assert baseline["spaces"][space][key] == right and not _errors([row], "strict")
        for wrong in (str(right), None, right + 0.5, -1, True):
            broken = _replaced(row, ("spaces", space, key), wrong)
            assert _saved_with_metadata_of(row, broken, ontology) == baseline, (key, wrong)
            for profile in ("lenient", "strict"):
                report = labelspec.validate([broken], format="encord", profile=profile)
                schema = [
                    (f.rule, f.severity) for f in report.files[-1].findings if f.rule.startswith("schema.")
                ]
                assert schema and {severity for _, severity in schema} == {"warning"}, (key, wrong, schema)
                if wrong != -1:  # -1 also fails the frame / range bound rules, which read the row's value
                    assert report.valid, (
                        key,
                        wrong,
                        [(f.rule, f.pointer) for f in report.files[-1].findings],
                    )


def _exported(rows: list[dict[str, Any]], ontology: dict[str, Any]) -> Any:
    from encord.objects.ontology_structure import OntologyStructure
    from encord.utilities.coco.exporter import CocoExporter

    exported = CocoExporter(rows, OntologyStructure.from_dict(ontology)).export()
    return json.loads(json.dumps(exported, default=str))


GEOMETRY_KEYS = ("boundingBox", "rotatableBoundingBox", "point", "polygons")


@pytest.mark.parametrize("kind", ["image", "video"])
def test_coordinates_of_a_wrong_type_break_the_sdk_coco_exporter(written: dict[str, Any], kind: str) -> None:
    """encord 0.1.211 writes back a coordinate given as a string or null unchanged, but its own COCO exporter
    (`encord.utilities.coco.exporter.CocoExporter`, `get_bounding_box` & co.: value * image width) computes
    with it: it raises or exports another geometry. So coordinates of a wrong type stay strict errors."""
    row, ontology = written[kind]
    baseline, reason = sdk_round_trip(row, ontology)
    assert baseline is not None, reason
    expected = _exported([baseline], ontology)
    assert expected["annotations"], "the exporter wrote no annotation: the test would prove nothing"
    checked: set[str] = set()
    for path, value in _leaves(row):
        if not set(GEOMETRY_KEYS) & {str(token) for token in path} or not isinstance(value, (int, float)):
            continue
        shape = next(str(token) for token in path if str(token) in GEOMETRY_KEYS)
        if shape in checked:
            continue
        for wrong in _wrong_types(value):
            broken = _replaced(row, path, wrong)
            assert "schema.type" in _errors([broken], "strict"), path
            again, reason = sdk_round_trip(broken, ontology)
            assert again is not None and _at(again, path) == wrong, reason  # carried verbatim by the loader
            try:
                outcome = _exported([again], ontology)
            except (TypeError, ValueError):
                continue  # the exporter computes with the value and raises
            assert outcome != expected, f"{shape} {wrong!r}: the exporter output is unchanged"
        checked.add(shape)
    assert checked == set(GEOMETRY_KEYS)


def test_cuboid_coordinates_of_a_wrong_type_break_the_sdk_interpolation(written: dict[str, Any]) -> None:
    """A cuboid value given as a string or null is written back unchanged, but the SDK's own interpolation
    (`encord.objects.interpolation.interpolate`, linear mode: `_lerp_triple` / `_slerp_orientation`) computes
    with it and raises TypeError."""
    from encord.objects.common import Shape
    from encord.objects.coordinates import CuboidCoordinates
    from encord.objects.interpolation import interpolate

    row, ontology = written["scene"]

    def cuboids(document: dict[str, Any]) -> list[Any]:
        label_row = build_label_row(document, ontology)
        label_row.from_labels_dict(document)
        return [
            annotation.coordinates
            for instance in label_row.get_object_instances()
            for annotation in instance.get_annotations()
            if isinstance(annotation.coordinates, CuboidCoordinates)
        ]

    for cuboid in cuboids(row):
        interpolate("linear", Shape.CUBOID, cuboid, cuboid, 0.5)  # the SDK's own cuboids interpolate
    sites = [path for path, _ in _leaves(row) if "cuboid" in path]
    assert {path[-2] for path in sites} == {"position", "orientation", "size"}
    for path in sites:
        for wrong in _wrong_types(_at(row, path)):
            broken = _replaced(row, path, wrong)
            assert "schema.type" in _errors([broken], "strict"), path
            again, reason = sdk_round_trip(broken, ontology)
            assert again is not None and _at(again, path) == wrong, reason
            with pytest.raises(TypeError):
                for cuboid in cuboids(broken):
                    interpolate("linear", Shape.CUBOID, cuboid, cuboid, 0.5)


def test_an_image_group_frame_size_is_checked_against_its_bitmasks(written: dict[str, Any]) -> None:
    """An image group's data-unit width/height are the frame size (`_parse_image_group_frame_level_data`):
    `to_encord_dict` compares them with every bitmask on that image and raises ValueError for a string."""
    row, ontology = written["img_group"]
    units = [
        key
        for key, unit in row["data_units"].items()
        if any(o["shape"] == "bitmask" for o in unit["labels"].get("objects", []))
    ]
    assert units, "the SDK wrote no bitmask on an image of the group"
    for key in ("width", "height"):
        for wrong in [str(row["data_units"][units[0]][key])]:  # null / missing: the test below
            broken = _replaced(row, ("data_units", units[0], key), wrong)
            assert "schema.type" in _errors([broken], "strict")
            again, reason = sdk_round_trip(broken, ontology)
            assert again is None and "Bitmask dimensions" in reason, reason


def test_an_image_group_bitmask_needs_the_frame_size(written: dict[str, Any]) -> None:
    """A null or missing width/height is valid for an image of a group (older rows; the SDK reads them with
    ``payload.get(key, 0)``), but on an image with a bitmask `to_encord_dict` raises ValueError: strict only
    reports it there, and an image without a bitmask keeps loading."""
    row, ontology = written["img_group"]
    masked = [
        key
        for key, unit in row["data_units"].items()
        if any(o["shape"] == "bitmask" for o in unit["labels"].get("objects", []))
    ]
    plain = [key for key in row["data_units"] if key not in masked]
    assert masked and plain, "the SDK wrote no image with a bitmask, or none without"
    cases = [(row, masked[0], True), (row, plain[0], False)]
    _assert_the_frame_size_is_needed_with_a_bitmask(cases, ontology, lambda key: "Bitmask dimensions")


_DELETED = object()


@pytest.mark.parametrize("kind", ["image", "video"])
def test_an_image_or_video_bitmask_needs_the_frame_size(written: dict[str, Any], kind: str) -> None:
    """An image or video row whose labels hold a bitmask cannot be saved by `to_encord_dict` without the data
    unit's width/height (LabelRowError "Width [Height] is expected but not set"): strict reports it; lenient,
    and a row without bitmasks (which the SDK saves), stay clean."""
    row, ontology = written[kind]
    (unit,) = row["data_units"]
    frames = _label_frames(row["data_units"][unit]["labels"])
    assert any(o["shape"] == "bitmask" for frame in frames for o in frame.get("objects", [])), kind
    plain = copy.deepcopy(row)
    for frame in _label_frames(plain["data_units"][unit]["labels"]):
        frame["objects"] = [o for o in frame.get("objects", []) if o["shape"] != "bitmask"]
    kept = {
        o["objectHash"]
        for frame in _label_frames(plain["data_units"][unit]["labels"])
        for o in frame["objects"]
    }
    plain["object_answers"] = {h: a for h, a in plain["object_answers"].items() if h in kept}
    assert sdk_round_trip(plain, ontology)[0] is not None
    cases = [(row, unit, True), (plain, unit, False)]
    _assert_the_frame_size_is_needed_with_a_bitmask(
        cases, ontology, lambda key: f"{key.capitalize()} is expected but not set"
    )


def _assert_the_frame_size_is_needed_with_a_bitmask(
    cases: list[tuple[dict[str, Any], str, bool]], ontology: dict[str, Any], refusal: Callable[[str], str]
) -> None:
    """Each (row, data unit key, the unit carries a bitmask) with the unit's width or height null or deleted:
    valid under lenient; with a bitmask a strict error, and the SDK refuses to save it (``refusal(key)`` in
    its reason); without one, strict is clean and the SDK saves it."""
    for key in ("width", "height"):
        for document, unit, masked in cases:
            for wrong in (None, _DELETED):
                broken = copy.deepcopy(document)
                if wrong is _DELETED:
                    del broken["data_units"][unit][key]
                else:
                    broken["data_units"][unit][key] = wrong
                assert not _errors([broken], "lenient")
                again, reason = sdk_round_trip(broken, ontology)
                if masked:
                    assert {"schema.type", "schema.required"} & _errors([broken], "strict")
                    assert again is None and refusal(key) in reason, reason
                else:
                    assert not _errors([broken], "strict")
                    assert again is not None, reason


def _label_frames(labels: dict[str, Any]) -> list[dict[str, Any]]:
    """The {objects, classifications} blobs of a data unit's labels: the labels themselves for an image, one
    per frame key for a video."""
    return [labels] if "objects" in labels else list(labels.values())


def test_the_data_unit_type_tells_html_from_plain_text(written: dict[str, Any]) -> None:
    """A data unit's data_type is the file type the SDK tells HTML from plain text by: an HTML row whose data
    unit type is a number or null is not written back as it was."""
    row, ontology = written["html"]
    unit = next(iter(row["data_units"]))
    baseline, reason = sdk_round_trip(row, ontology)
    assert baseline is not None, reason
    for wrong in _wrong_types(row["data_units"][unit]["data_type"]):
        broken = _replaced(row, ("data_units", unit, "data_type"), wrong)
        assert "schema.type" in _errors([broken], "strict")
        again, _ = sdk_round_trip(broken, ontology)
        assert again is None or _replaced(again, ("data_units", unit, "data_type"), 0) != _replaced(
            baseline, ("data_units", unit, "data_type"), 0
        ), f"data_type {wrong!r}: the HTML row is written back unchanged"


# Leaves of SDK-written rows whose wrong JSON type strict reports as an error although the SDK's loader
# writes it back unchanged (nothing else of the row changes): each needs a test of SDK code computing with it.
_EXPORTER = "test_coordinates_of_a_wrong_type_break_the_sdk_coco_exporter"
COMPUTED_WITH = {
    r"/(boundingBox|rotatableBoundingBox)/(x|y|w|h|theta)$": _EXPORTER,
    r"/point/\d+/(x|y)$": _EXPORTER,
    r"/polygons/\d+/\d+/\d+$": _EXPORTER,
    r"/cuboid/(position|orientation|size)/\d+$": (
        "test_cuboid_coordinates_of_a_wrong_type_break_the_sdk_interpolation"
    ),
    r"^/0/data_units/[^/]+/(width|height)$": "test_an_image_group_frame_size_is_checked_against_its_bitmasks",
    r"^/0/data_units/[^/]+/data_type$": "test_the_data_unit_type_tells_html_from_plain_text",
}


_KEYED = {"data_units", "object_answers", "classification_answers", "object_actions", "spaces", "labels"}


def _site(path: tuple[Any, ...]) -> tuple[str, ...]:
    """``path`` with list indices, frame numbers and the hashes that key maps replaced: its schema site."""
    site: list[str] = []
    for before, token in zip((None, *path), path, strict=False):
        if isinstance(token, int) or str(token).isdigit():
            site.append("N")
        elif before in _KEYED and before != "labels":
            site.append("*")
        else:
            site.append(str(token))
    return tuple(site)


def test_every_computed_with_site_names_a_proof() -> None:
    assert set(COMPUTED_WITH.values()) <= {name for name in globals() if name.startswith("test_")}


@pytest.mark.parametrize("kind", ["audio", "group", "image", "img_group", "plain_text", "scene", "video"])
def test_every_wrong_type_the_sdk_carries_is_a_warning_or_proven(written: dict[str, Any], kind: str) -> None:
    """Give every leaf of an SDK-written row a value of another JSON type. Where strict reports an error at
    that leaf and the SDK writes it back unchanged, nothing else changed, the leaf must be one the SDK's own
    code computes with (COMPUTED_WITH, each proven above); otherwise it should be an x-severity warning."""
    import re

    row, ontology = written[kind]
    baseline, reason = sdk_round_trip(row, ontology)
    assert baseline is not None, reason
    unproven = set()
    seen: set[tuple[str, ...]] = set()
    for path, value in _leaves(row):
        site = _site(path)
        if site in seen:  # one leaf per schema site keeps the test fast (video rows repeat every site)
            continue
        seen.add(site)
        for wrong in _wrong_types(value):
            broken = _replaced(row, path, wrong)
            report = labelspec.validate([broken], format="encord", profile="strict")
            here = _pointer(path)
            if not any(f.severity == "error" and f.pointer == here for f in report.files[-1].findings):
                continue
            try:
                again, _ = sdk_round_trip(broken, ontology)
            except RuntimeError:  # the harness cannot stand in for the API's metadata
                continue
            if again is None:
                continue
            try:
                kept = _at(again, path)
            except (KeyError, IndexError, TypeError):
                continue
            if type(kept) is not type(wrong) or kept != wrong:
                continue
            if _replaced(again, path, 0) != _replaced(baseline, path, 0):
                continue
            if not any(re.search(pattern, here) for pattern in COMPUTED_WITH):
                unproven.add(re.sub(r"/\d+(?=/|$)", "/N", here))
    assert not unproven, f"strict errors the SDK carries verbatim, with no proof: {sorted(unproven)}"
