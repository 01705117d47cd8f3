"""The COCO panoptic fast path (labelspec/native/coco.c lcoco_panoptic_annotation + validator/native/coco.py
VECTORISED_PANOPTIC): `validate` reports exactly what the reference path reports, generated files are
really certified, no mutant is, and every catalogued rule has a native twin or makes the decider answer
"not sure" (the PNG rules: whenever a PNG folder is given).

Files are written to disk and validated by path, as `labelspec validate` does; the reference is the same
call with the fast path turned off (LABELSPEC_NATIVE=0). Edited documents come from hypothesis: segment ids
that repeat, areas at 0, boxes on and past their image's edges, float and boolean numbers.
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

FORMAT = "coco-panoptic"


def _same(path: Path, profile: str, format: str | None = FORMAT, **kwargs: Any) -> dict[str, Any]:
    return same_report(path, profile, format, **kwargs)


def _certified(path: Path, profile: str, format: str | None = FORMAT, png_dir: Path | None = None) -> bool:
    return native_certified(path, profile, format, png_dir)


def _write(path: Path, document: Any) -> Path:
    return write_document(path, document)


# ---------------------------------------------------------------------------------------------- guard


@pytest.mark.parametrize("rule_id", [spec.id for spec in catalogue(FORMAT)])
def test_every_rule_has_a_twin_or_makes_the_decider_unsure(native: ModuleType, rule_id: str) -> None:
    """A catalogued rule is mirrored in C (coco_panoptic_rule_ids), in the column checks
    (VECTORISED_PANOPTIC) or by the parser (a repeated key), or it reads the PNG folder (then a plan given
    one is "not sure": next tests); a rule added without any of these is reported here by name."""
    assert rule_id not in native_coco.unmirrored_rules(native, FORMAT), f"{rule_id} has no native twin"


def test_a_png_folder_makes_every_file_not_sure(native: ModuleType, tmp_path: Path) -> None:
    """The PNG rules (needs: [png_dir]) have no twin: with a folder the reference path judges the file, and
    the PNG rules' findings appear (the PNGs are missing here)."""
    assert native_coco.png_rules(FORMAT)  # the catalogue has them
    subject = build_subject(RandomDraw("png-guard"), FORMAT, "lenient", min_items=2)
    path = _write(tmp_path / "panoptic.json", subject.document)
    assert _certified(path, "lenient")
    assert _certified(path, "lenient", format=None)
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    assert not _certified(path, "lenient", png_dir=pngs)
    assert not _certified(path, "lenient", format=None, png_dir=pngs)
    report = _same(path, "lenient", png_dir=pngs)
    assert {f["rule"] for f in report["files"][0]["findings"]} == {"COCO-PANOPTIC-PNG-MISSING"}


def test_a_rule_without_a_twin_makes_every_file_not_sure(
    native: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = build_subject(RandomDraw("guard"), FORMAT, "lenient", min_items=2)
    path = _write(tmp_path / "panoptic.json", subject.document)
    assert _certified(path, "lenient")
    monkeypatch.delitem(native_coco.VECTORISED_PANOPTIC, "COCO-PANOPTIC-BBOX-OUTSIDE-IMAGE")
    fastpath._coco_plan.cache_clear()
    try:
        assert native_coco.unmirrored_rules(native, FORMAT) == ["COCO-PANOPTIC-BBOX-OUTSIDE-IMAGE"]
        assert not _certified(path, "lenient")
        assert not _certified(path, "lenient", format=None)
        assert _same(path, "lenient")["files"][0]["findings"] == []
    finally:
        fastpath._coco_plan.cache_clear()


def test_the_c_twins_are_catalogued_rules(native: ModuleType) -> None:
    known = {spec.id for spec in catalogue(FORMAT)}
    assert set(native.coco_panoptic_rule_ids()) <= known
    assert set(native_coco.VECTORISED_PANOPTIC) <= known
    assert not set(native.coco_panoptic_rule_ids()) & set(native_coco.VECTORISED_PANOPTIC)


# ---------------------------------------------------------------------------------------------- generated


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_files_are_certified_when_clean(native: ModuleType, profile: str, tmp_path: Path) -> None:
    """Generated files are certified exactly when the reference finds nothing: the fast path is taken."""
    certified = 0
    for number in range(10):
        knobs = {"min_items": 1 + number % 4}
        subject = build_subject(RandomDraw(f"panoptic-{profile}-{number}"), FORMAT, profile, **knobs)
        path = _write(tmp_path / "panoptic.json", subject.document)
        clean = _same(path, profile)["files"][0]["findings"] == []
        _same(path, profile, format=None)
        assert _certified(path, profile) == clean, number
        assert _certified(path, profile, format=None) == clean, number
        certified += clean
    assert certified >= 6


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    for operator_id, mutant in every_mutant(FORMAT, profile, "panoptic-mutant"):
        path = write_document(tmp_path / "mutant.json", mutant.subject.document, mutant.subject.text)
        pngs = None
        if operator_id in native_coco.png_rules(FORMAT):  # a fault of the PNGs: it fires with their folder
            pngs = tmp_path / f"pngs-{operator_id}"
            pngs.mkdir()
            for name, data in (mutant.subject.pngs or {}).items():
                (pngs / name).write_bytes(data)
        assert not _certified(path, profile, png_dir=pngs), operator_id
        assert not _certified(path, profile, format=None, png_dir=pngs), operator_id
        assert _same(path, profile, png_dir=pngs)["files"][0]["findings"], operator_id
        _same(path, profile, format=None, png_dir=pngs)


# ---------------------------------------------------------------------------------------------- edits

_ids = st.sampled_from([1, 2, 3, 2.0, True])
_numbers = st.one_of(
    st.integers(-2, 12),
    st.sampled_from([0.0, -0.0, 0.5, 7.999999999999999, 8.0, 8.000000000000002, 2**52, 2**52 + 1, True]),
    st.floats(-2, 12, allow_nan=False, allow_infinity=False),
)
_sides = st.sampled_from([8, 8, 10, None, 0, 8.0, 2**40])


@st.composite
def panoptic_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Small COCO panoptic documents whose ids, areas and boxes sit near what the rules compare."""
    images = [
        {"id": draw(_ids), "file_name": "a.jpg", "height": draw(_sides), "width": draw(_sides)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    categories = [
        {"id": draw(_ids), "name": "car", "isthing": draw(st.sampled_from([0, 1]))}
        for _ in range(draw(st.integers(0, 3)))
    ]
    annotations = []
    for number in range(draw(st.integers(0, 3))):
        segments = []
        for _ in range(draw(st.integers(0, 4))):
            segment: dict[str, Any] = {}
            if draw(st.integers(0, 5)):
                segment["id"] = draw(st.sampled_from([255, 256, 65536, 255, 7.0, False]))
            if draw(st.integers(0, 5)):
                segment["category_id"] = draw(_ids)
            if draw(st.booleans()):
                segment["area"] = draw(_numbers)
            if draw(st.booleans()):
                length = draw(st.sampled_from([4, 4, 4, 3, 5]))
                segment["bbox"] = [draw(_numbers) for _ in range(length)]
            if draw(st.booleans()):
                segment["iscrowd"] = draw(st.sampled_from([0, 1]))
            segments.append(segment)
        annotation: dict[str, Any] = {"file_name": f"{number}.png", "segments_info": segments}
        if draw(st.integers(0, 6)):
            annotation["image_id"] = draw(_ids)
        annotations.append(annotation)
    document: dict[str, Any] = {"images": images, "annotations": annotations, "categories": categories}
    if draw(st.booleans()):
        document = {"info": {"year": 2024}, **document}
    return document


_edge = st.one_of(st.integers(0, 10), st.sampled_from([0.0, 8.0, 8.000000000000002, 2.5, -0.0, -0.01, -1]))


@st.composite
def nearly_clean_panoptic_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly clean documents (unique ids, known references) whose segment boxes sit on or just past their
    image's edges: the column checks decide them."""
    images = [
        {"id": number, "file_name": f"{number}.jpg", "height": draw(st.sampled_from([8, 10])), "width": 10}
        for number in range(1, draw(st.integers(1, 3)) + 1)
    ]
    categories = [{"id": number, "name": f"c{number}", "isthing": number % 2} for number in (1, 5)]
    annotations = []
    for image in images:
        if not draw(st.integers(0, 4)):
            continue
        segments = [
            {
                "id": draw(st.sampled_from([number + 1] * 8 + [1])),
                "category_id": draw(st.sampled_from([1, 5] * 6 + [2])),
                "area": draw(st.sampled_from([1, 1, 1, 4.5, 0])),
                "bbox": [draw(_edge), draw(_edge), draw(_edge), draw(_edge)],
                "iscrowd": 0,
            }
            for number in range(draw(st.integers(0, 3)))
        ]
        image_id = draw(st.sampled_from([image["id"]] * 8 + [9, 1]))
        annotations.append({"image_id": image_id, "file_name": f"{image_id}.png", "segments_info": segments})
    return {"images": images, "annotations": annotations, "categories": categories}


@given(st.one_of(panoptic_documents(), nearly_clean_panoptic_documents()), st.sampled_from(PROFILES))
def test_edited_documents_report_as_the_reference(native: ModuleType, document: Any, profile: str) -> None:
    edited_file_agrees(document, profile, FORMAT, _certified, exact=False)


@given(mutated_documents(frozenset({FORMAT})), st.sampled_from(PROFILES))
def test_randomly_edited_corpus_files_report_as_the_reference(
    native: ModuleType, case: tuple[str, Any], profile: str
) -> None:
    _format, document = case
    edited_file_agrees(document, profile, FORMAT, _certified, exact=True)


# ---------------------------------------------------------------------------------------------- files


def test_odd_files_are_not_certified(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("odd"), FORMAT, "lenient", min_items=2)
    odd_files_are_not_certified(tmp_path, orjson.dumps(subject.document), FORMAT, _certified)
    instance = build_subject(RandomDraw("instance"), "coco-instance", "lenient", min_items=2)
    path = _write(tmp_path / "instance.json", instance.document)
    assert not _certified(path, "lenient")  # an instance file is not a panoptic one
    _same(path, "lenient")


def test_a_mixed_file_is_not_certified(native: ModuleType, tmp_path: Path) -> None:
    """Panoptic annotations first, then an instance one: neither plan certifies it."""
    subject = build_subject(RandomDraw("mixed"), FORMAT, "lenient", min_items=2)
    document = subject.document
    image_id = document["images"][0]["id"]
    document["annotations"].append({"id": 1, "image_id": image_id, "category_id": 1, "bbox": [0, 0, 1, 1]})
    path = _write(tmp_path / "mixed.json", document)
    assert not _certified(path, "lenient")
    assert not _certified(path, "lenient", format=None)
    _same(path, "lenient", format=None)


def test_pretty_printed_and_reordered_files_are_certified(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("pretty"), FORMAT, "strict", min_items=3)
    document = subject.document
    reordered = {key: document[key] for key in reversed(list(document))}
    path = tmp_path / "panoptic.json"
    path.write_bytes(orjson.dumps(reordered, option=orjson.OPT_INDENT_2))
    assert _certified(path, "strict", format=None)
    assert _same(path, "strict", format=None)["files"][0]["findings"] == []
