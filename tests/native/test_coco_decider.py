"""The COCO instance fast path (labelspec/native/coco.c + validator/native_coco.py): `validate` reports
exactly what the reference path reports, generated files are really certified, no mutant is certified, and
every catalogued rule has a native twin or makes the decider answer "not sure".

Files are written to disk and validated by path, as `labelspec validate` does; the reference is the same
call with the fast path turned off (LABELSPEC_NATIVE=0). Edited documents come from hypothesis: numbers
next to the limits the cross-element rules compare (box edges, RLE sizes, keypoint counts), ints and
floats, ids that collide.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import build_subject
from labelspec.validator.compiler import PROFILES
from labelspec.validator.native import coco as native_coco
from labelspec.validator.native import fastpath
from labelspec.validator.rules import catalogue
from tests.json_strategies import mutated_documents
from tests.native.equivalence import (
    edited_file_agrees,
    every_mutant,
    native_certified,
    odd_files_are_not_certified,
    same_report,
    write_document,
)

FORMAT = "coco-instance"


def _same(path: Path, profile: str, format: str | None = FORMAT) -> dict[str, Any]:
    return same_report(path, profile, format)


def _certified(path: Path, profile: str, format: str | None = FORMAT) -> bool:
    return native_certified(path, profile, format)


# ---------------------------------------------------------------------------------------------- guard


@pytest.mark.parametrize("rule_id", [spec.id for spec in catalogue(FORMAT)])
def test_every_rule_has_a_twin_or_makes_the_decider_unsure(native: ModuleType, rule_id: str) -> None:
    """A catalogued rule is mirrored in C (coco_rule_ids), in the column checks (VECTORISED) or by the
    parser (a repeated key); a rule added without either is reported here by name, and makes every file
    "not sure" (next test) until its twin exists."""
    assert rule_id not in native_coco.unmirrored_rules(native), f"{rule_id} has no native twin"


def test_a_rule_without_a_twin_makes_every_file_not_sure(
    native: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = build_subject(RandomDraw("guard"), FORMAT, "lenient", min_items=2, shapes=["polygon"])
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(subject.document))
    assert _certified(path, "lenient")
    monkeypatch.delitem(native_coco.VECTORISED, "COCO-BBOX-OUTSIDE-IMAGE")
    fastpath._coco_plan.cache_clear()
    try:
        assert native_coco.unmirrored_rules(native) == ["COCO-BBOX-OUTSIDE-IMAGE"]
        assert not _certified(path, "lenient")
        assert _same(path, "lenient")["files"][0]["findings"] == []
    finally:
        fastpath._coco_plan.cache_clear()


def test_the_c_twins_are_catalogued_rules(native: ModuleType) -> None:
    known = {spec.id for spec in catalogue(FORMAT)}
    assert set(native.coco_rule_ids()) <= known
    assert set(native_coco.VECTORISED) <= known
    assert not set(native.coco_rule_ids()) & set(native_coco.VECTORISED)


# ---------------------------------------------------------------------------------------------- generated


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_files_are_certified_when_clean(native: ModuleType, profile: str, tmp_path: Path) -> None:
    """Generated files are certified exactly when the reference finds nothing (the generator also writes
    what warnings flag, e.g. compressed RLE with iscrowd 0): the fast path is really taken."""
    certified = 0
    shapes = [None, ["polygon"], ["polygon", "crowd"], ["rle"], ["keypoints", "polygon"]]
    for number in range(12):
        knobs = {"min_items": 2, "shapes": shapes[number % len(shapes)]}
        subject = build_subject(RandomDraw(f"coco-{profile}-{number}"), FORMAT, profile, **knobs)
        path = tmp_path / "coco.json"
        path.write_bytes(orjson.dumps(subject.document))
        clean = _same(path, profile)["files"][0]["findings"] == []
        _same(path, profile, format=None)
        assert _certified(path, profile) == clean, (number, knobs)
        assert _certified(path, profile, format=None) == clean, (number, knobs)
        certified += clean
    assert certified >= 6


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    for operator_id, mutant in every_mutant(FORMAT, profile, "coco-mutant"):
        path = write_document(tmp_path / "mutant.json", mutant.subject.document, mutant.subject.text)
        assert not _certified(path, profile), operator_id
        assert not _certified(path, profile, format=None), operator_id
        assert _same(path, profile)["files"][0]["findings"], operator_id


# ---------------------------------------------------------------------------------------------- edits

_numbers = st.one_of(
    st.integers(-3, 12),
    st.sampled_from([0.0, -0.0, 0.5, 7.999999999999999, 8.0, 8.000000000000002, 2**52, 2**52 + 1, 2**53 + 1]),
    st.floats(-2, 12, allow_nan=False, allow_infinity=False),
)
_sizes = st.one_of(st.integers(0, 10), st.none(), st.just(8.0), st.just(2**40))


@st.composite
def coco_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Small COCO instance documents whose numbers sit near what the cross-element rules compare."""
    images = [
        {
            "id": draw(st.sampled_from([1, 2, 3, 2.0])),
            "file_name": "a.jpg",
            "height": draw(_sizes),
            "width": draw(_sizes),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    categories = []
    for _ in range(draw(st.integers(0, 3))):
        category: dict[str, Any] = {"id": draw(st.sampled_from([1, 2, 5, 1.0])), "name": "car"}
        names = draw(st.sampled_from([None, [], ["a"], ["a", "b"], "a"]))
        if names is not None:
            category["keypoints"] = names
        categories.append(category)
    annotations = []
    for _ in range(draw(st.integers(0, 4))):
        annotation: dict[str, Any] = {
            "image_id": draw(st.sampled_from([1, 2, 3, 4, 1.0])),
            "category_id": draw(st.sampled_from([1, 2, 5, 9])),
        }
        if draw(st.booleans()):
            annotation["id"] = draw(st.sampled_from([1, 2, 3, 1.0]))
        if draw(st.booleans()):
            annotation["bbox"] = [draw(_numbers) for _ in range(4)]
        if draw(st.booleans()):
            annotation["area"] = draw(_numbers)
        crowd = draw(st.sampled_from([None, 0, 1, True, False, 1.0]))
        if crowd is not None:
            annotation["iscrowd"] = crowd
        shape = draw(st.sampled_from(["none", "polygon", "rle-list", "rle-string", "keypoints"]))
        if shape == "polygon":
            annotation["segmentation"] = [[draw(_numbers) for _ in range(draw(st.integers(0, 9)))]]
        elif shape.startswith("rle"):
            height, width = draw(st.integers(0, 10)), draw(st.integers(0, 10))
            counts: Any = [draw(st.integers(0, 60)) for _ in range(draw(st.integers(0, 4)))]
            if shape == "rle-string":
                counts = draw(st.sampled_from(["", "0", "a0", "52", "Ub0", "o", "p", "06", "1a"]))
            annotation["segmentation"] = {"size": [height, width], "counts": counts}
        elif shape == "keypoints":
            length = draw(st.sampled_from([0, 3, 4, 6]))
            annotation["keypoints"] = [draw(st.sampled_from([0, 1, 2, 0.5])) for _ in range(length)]
            if draw(st.booleans()):
                annotation["num_keypoints"] = draw(st.integers(0, 2))
        annotations.append(annotation)
    document: dict[str, Any] = {"images": images, "annotations": annotations, "categories": categories}
    if draw(st.booleans()):
        document = {"info": {"year": 2024}, **document}
    return document


_edge = st.one_of(st.integers(0, 6), st.sampled_from([0.0, 5.0, 5.000000000000001, 2.5, -0.0, -0.01]))
_corner = st.sampled_from([0, 0.0, -0.0, 1, 2.5, 4.999999999999999, -0.01])


@st.composite
def nearly_clean_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly clean documents (unique ids, known references) whose boxes, masks and keypoints sit on or
    just past their image's and category's limits: the column checks decide them."""
    sides = st.sampled_from([5, 10, 10, 10, None, 0])
    images = [
        {"id": number, "file_name": "a.jpg", "height": draw(sides), "width": draw(sides)}
        for number in range(1, draw(st.integers(1, 3)) + 1)
    ]
    names = st.sampled_from([None, None, None, [], ["a"], ["a", "b"]])
    categories = [{"id": number, "name": "car", "keypoints": draw(names)} for number in (1, 5)]
    for category in categories:
        if category["keypoints"] is None:
            del category["keypoints"]
    annotations = []
    for number in range(draw(st.integers(1, 4))):
        annotation: dict[str, Any] = {
            "id": draw(st.sampled_from([number] * 6 + [0])),
            "image_id": draw(st.sampled_from([i["id"] for i in images] * 6 + [9])),
            "category_id": draw(st.sampled_from([1, 5] * 6 + [2])),
            "bbox": [draw(_corner), draw(_corner), draw(_edge), draw(_edge)],
            "iscrowd": 0,
        }
        if draw(st.booleans()):
            height, width = draw(st.sampled_from([(10, 10), (5, 10), (10, 5), (5, 5), (0, 3)]))
            counts = draw(st.sampled_from([[height * width]] * 3 + [[1, height * width - 1], [0, 2]]))
            annotation["segmentation"] = {"size": [height, width], "counts": counts}
            annotation["iscrowd"] = 1
        if draw(st.integers(0, 3)) == 0:
            annotation["keypoints"] = [1, 1, 2] * draw(st.integers(0, 2)) + [1] * draw(
                st.sampled_from([0, 0, 1])
            )
        annotations.append(annotation)
    return {"images": images, "annotations": annotations, "categories": categories}


@given(st.one_of(coco_documents(), nearly_clean_documents()), st.sampled_from(PROFILES))
def test_edited_documents_report_as_the_reference(native: ModuleType, document: Any, profile: str) -> None:
    edited_file_agrees(document, profile, FORMAT, _certified, exact=False)


@given(mutated_documents(frozenset({FORMAT})), st.sampled_from(PROFILES))
def test_randomly_edited_corpus_files_report_as_the_reference(
    native: ModuleType, case: tuple[str, Any], profile: str
) -> None:
    _format, document = case
    edited_file_agrees(document, profile, FORMAT, _certified, exact=True)


# ---------------------------------------------------------------------------------------------- files


def test_other_formats_and_odd_files_are_not_certified(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("odd"), FORMAT, "lenient", min_items=2)
    odd_files_are_not_certified(tmp_path, orjson.dumps(subject.document), FORMAT, _certified)
    panoptic = build_subject(RandomDraw("panoptic"), "coco-panoptic", "lenient", min_items=2)
    path = tmp_path / "panoptic.json"
    path.write_bytes(orjson.dumps(panoptic.document))
    assert not _certified(path, "lenient")  # not as a COCO instance file (the panoptic plan: its own test)
    _same(path, "lenient")


def test_pretty_printed_and_reordered_files_are_certified(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("pretty"), FORMAT, "strict", min_items=3, shapes=["polygon", "crowd"])
    document = subject.document
    reordered = {key: document[key] for key in reversed(list(document))}
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(reordered, option=orjson.OPT_INDENT_2))
    assert _certified(path, "strict", format=None)
    assert _same(path, "strict", format=None)["files"][0]["findings"] == []
