"""Every format: what `labelspec validate` reports with all its accelerations on equals the reference path's
report, on generated documents and on a mutant of every rule and structural family (property tests).

The reference path: python-jsonschema for the structure and the Python rules on the parsed document
(``LABELSPEC_NATIVE=0`` and the jsonschema-rs pre-check turned off). The accelerations each format has:

============== =========================================================================================
format         accelerations (and the tests that hold them to the reference path besides this module)
============== =========================================================================================
encord         native C path: schema program, row and ontology deciders
               (tests/native/test_native_equivalence.py, test_encord_decider.py,
               test_encord_ontology_decider.py); streaming; jsonschema-rs pre-check
datagym        native C path: schema program and task decider (tests/native/test_datagym_equivalence.py);
               streaming; jsonschema-rs pre-check
coco-instance  native C pass and vectorised cross-element rules (tests/native/test_coco_decider.py);
               jsonschema-rs pre-check
segments       native C path: the samples streamed through the schema program and the sample decider, the
               header judged by the reference path (tests/native/test_segments_equivalence.py); sequences,
               multi-sensor and point-cloud segmentation releases decline it; item-by-item streaming
               (tests/scale/test_streaming.py); jsonschema-rs pre-check (tests/test_structural_equivalence.py)
coco-panoptic  NO native fast path: the jsonschema-rs pre-check (the PNG rules read decoded images)
encord-ontology NO native fast path of its own (one small document; its rules run in C only as the
               ontology decider of Encord rows): the jsonschema-rs pre-check
yolo           NO native fast path (text label files, parsed in Python): the jsonschema-rs pre-check of
               the parsed dataset
============== =========================================================================================

:data:`ACCELERATIONS` states the same per format; a format added to the project fails
:func:`test_every_format_says_what_accelerates_it` until it is listed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import Subject, build_subject, mutate, operators_for, variants
from labelspec.validator import structural
from labelspec.validator.api import validate
from labelspec.validator.compiler import PROFILES, list_formats
from labelspec.validator.native import fastpath
from tests.conftest import examples

ACCELERATIONS = {
    "encord": ("native", "streaming", "jsonschema-rs"),
    "datagym": ("native", "streaming", "jsonschema-rs"),
    "coco-instance": ("native", "jsonschema-rs"),
    "segments": ("native", "streaming", "jsonschema-rs"),
    "coco-panoptic": ("jsonschema-rs",),
    "encord-ontology": ("jsonschema-rs",),
    "yolo": ("jsonschema-rs",),
}


def test_every_format_says_what_accelerates_it() -> None:
    assert sorted(ACCELERATIONS) == sorted(list_formats())
    for format_id, kinds in ACCELERATIONS.items():
        native = format_id in fastpath.DECIDED or format_id in ("coco-instance", "segments")
        assert ("native" in kinds) == native, format_id


@contextmanager
def _reference_path() -> Iterator[None]:
    """Everything but the reference path turned off: no native checks, no jsonschema-rs pre-check."""
    before = os.environ.get("LABELSPEC_NATIVE")
    os.environ["LABELSPEC_NATIVE"] = "0"
    fastpath.native.cache_clear()
    fast_checker, item_validators = structural._fast_checker, structural._item_validators
    structural._fast_checker = lambda *args: None  # type: ignore[assignment]
    structural._item_validators = lambda *args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        structural._fast_checker, structural._item_validators = fast_checker, item_validators
        if before is None:
            del os.environ["LABELSPEC_NATIVE"]
        else:
            os.environ["LABELSPEC_NATIVE"] = before
        fastpath.native.cache_clear()


def _written(subject: Subject, folder: Path) -> tuple[Any, dict[str, Any]]:
    """The subject as a user holds it (files; a YOLO dataset as its parsed document, which is what its
    label files give), and the keyword arguments of `validate` for it."""
    options: dict[str, Any] = {"format": subject.format, "profile": subject.profile}
    if subject.format == "yolo":
        return subject.document, options
    path = folder / "export.json"
    path.write_bytes(subject.text.encode() if subject.text is not None else orjson.dumps(subject.document))
    if subject.ontology is not None:
        ontology = folder / "ontology.json"
        ontology.write_bytes(orjson.dumps(subject.ontology))
        options["ontology"] = ontology
    if subject.pngs is not None:
        pngs = folder / "pngs"
        pngs.mkdir()
        for name, data in subject.pngs.items():
            (pngs / name).write_bytes(data)
        options["png_dir"] = pngs
    return path, options


def _same(subject: Subject) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path, options = _written(subject, Path(folder))
        fast = validate(path, **options).to_json()
        if "streaming" in ACCELERATIONS[subject.format] and isinstance(path, Path):
            assert validate(path, stream=True, **options).to_json() == fast
        with _reference_path():
            reference = validate(path, **options).to_json()
    assert fast == reference, subject.format
    result: dict[str, Any] = fast
    return result


def _knobs(format_id: str) -> list[dict[str, Any]]:
    return variants(format_id) or [{}]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(ACCELERATIONS)),
    st.sampled_from(PROFILES),
    st.integers(0, 2**32),
    st.integers(0, 50),
)
def test_generated_documents_report_as_the_reference(
    format_id: str, profile: str, seed: int, variant: int
) -> None:
    knobs = _knobs(format_id)
    subject = build_subject(RandomDraw(seed), format_id, profile, **knobs[variant % len(knobs)])
    _same(subject)


@settings(
    deadline=None,
    max_examples=examples(15),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.sampled_from(sorted(ACCELERATIONS)),
    st.sampled_from(PROFILES),
    st.integers(0, 2**32),
    st.integers(0, 10**4),
)
def test_mutants_report_as_the_reference(format_id: str, profile: str, seed: int, pick: int) -> None:
    operators = operators_for(format_id, profile)
    operator_id = operators[pick % len(operators)]
    for attempt, knobs in enumerate(_knobs(format_id)):
        draw = RandomDraw(f"{seed}-{attempt}")
        mutant = mutate(draw, build_subject(draw, format_id, profile, **knobs), operator_id)
        if mutant is not None:
            report = _same(mutant.subject)
            assert report["files"][-1]["findings"] or mutant.subject.format == "yolo", operator_id
            return


WITHOUT_NATIVE = sorted(format_id for format_id, kinds in ACCELERATIONS.items() if "native" not in kinds)


@pytest.mark.parametrize("format_id", WITHOUT_NATIVE)
def test_a_mutant_of_every_operator_reports_as_the_reference(format_id: str) -> None:
    """Deterministically, every operator of the format once (lenient), where the variants have a site (the
    formats with a native path have this test in tests/native, with both profiles)."""
    for operator_id in operators_for(format_id, "lenient"):
        for attempt, knobs in enumerate(_knobs(format_id)):
            draw = RandomDraw(f"every-{format_id}-{operator_id}-{attempt}")
            mutant = mutate(draw, build_subject(draw, format_id, "lenient", **knobs), operator_id)
            if mutant is not None:
                _same(mutant.subject)
                break
