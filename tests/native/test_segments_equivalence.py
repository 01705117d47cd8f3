"""The native fast path on Segments.ai releases (labelspec/native/segments_rules.c,
validator/native/segments.py): `validate` reports exactly what the reference path reports, on generated
releases of every task type, a mutant of every rule and structural family (both profiles), randomly
perturbed releases and repeated uuids / name stems; ordinary valid releases of every task type are really
certified; a faulty sample alone goes to the reference path; and a catalogued Segments rule with neither
a C twin nor a header decision turns the fast path off (the guard below names the rule).

The reference is the same call with the fast path turned off (LABELSPEC_NATIVE=0).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec import generators
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import build_subject, mutate, operators_for, variants
from labelspec.validator.compiler import PROFILES
from labelspec.validator.native import fastpath, segments
from labelspec.validator.rules import catalogue
from tests.conftest import examples
from tests.native.equivalence import perturbed, same_report, write_document

# Every task type the generators draw, per profile (lenient adds the text task types); the decider models
# them all. TASK_TYPES: those of both profiles.
CASES = [(p, v["task_types"][0]) for p in PROFILES for v in variants("segments", p)]
TASK_TYPES = [v["task_types"][0] for v in variants("segments", "strict")]


def _same(path: Path, profile: str, format: str | None = "segments") -> dict[str, Any]:
    return same_report(path, profile, format)


def _write(folder: Path, document: Any, text: str | None = None) -> Path:
    return write_document(folder / "release.json", document, text)


def _certified(path: Path, profile: str, format: str | None = "segments") -> bool:
    """Whether the native checks alone made the report (no sample went to the reference path)."""
    module = fastpath.native()
    assert module is not None
    seen: list[str] = []
    report = segments.segments_report(
        module, fastpath._segments_checks, str(path), format, profile, None, 0.0, seen.append
    )
    return report is not None and not seen


@pytest.mark.parametrize("rule_id", [spec.id for spec in catalogue("segments")])
def test_every_rule_has_a_twin_or_makes_the_decider_unsure(native: ModuleType, rule_id: str) -> None:
    """Every catalogued Segments rule is mirrored in C or decided on the header by the reference path; any
    other rule turns the fast path off."""
    twins = set(native.segments_rule_ids())
    assert rule_id in twins | segments.HEADER_RULES, (
        f"{rule_id} has no C twin in labelspec/native/segments_rules.c and is not a header rule "
        "(validator/native/segments.py HEADER_RULES)"
    )
    assert rule_id not in segments.unmirrored_rules(native)


def test_a_rule_without_a_twin_turns_the_fast_path_off(
    native: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = build_subject(
        RandomDraw("seg-unknown"), "segments", "lenient", task_types=["vector"], min_items=3
    )
    path = _write(tmp_path, subject.document)
    assert _certified(path, "lenient")
    # a catalogued rule nobody mirrors: the guard names it and the file takes the reference path
    monkeypatch.setattr(segments, "HEADER_RULES", segments.HEADER_RULES - {"SEG-CATEGORY-ID-DUPLICATE"})
    assert segments.unmirrored_rules(native) == ["SEG-CATEGORY-ID-DUPLICATE"]
    assert not _certified(path, "lenient")
    _same(path, "lenient")
    # and a rule id the C decider does not know makes it answer "not sure" for every sample
    config = segments.decider_config(subject.document)
    assert config is not None
    rules = native.SegmentsRules({**config, "rules": [*config["rules"], "SEG-NOT-MIRRORED"]})
    checks = fastpath._segments_checks("lenient", subject.document)
    assert checks is not None
    open_at = native.nested_list_at(str(path), "dataset", "samples")
    result = native.check_file(
        str(path), checks[0], 0, checks[1], rules, None, max_dirty=10**6, list_at=open_at
    )
    assert result["complete"] and len(result["dirty"]) == result["items"] > 0
    with pytest.raises(ValueError):
        native.SegmentsRules({"rules": []})


@pytest.mark.parametrize(("profile", "task_type"), CASES)
def test_generated_releases_are_certified(
    native: ModuleType, profile: str, task_type: str, tmp_path: Path
) -> None:
    certified = 0
    for seed in range(3):
        draw = RandomDraw(f"seg-{task_type}-{seed}-{profile}")
        subject = build_subject(draw, "segments", profile, task_types=[task_type], min_items=3)
        path = _write(tmp_path, subject.document)
        report = _same(path, profile)
        _same(path, profile, format=None)
        if not report["files"][-1]["findings"]:
            # certified by the native checks, not merely equal: the fast path is really taken
            certified += _certified(path, profile) and _certified(path, profile, format=None)
    assert certified, task_type


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    made, missing = 0, []
    kinds = variants("segments", profile)
    for number, operator_id in enumerate(operators_for("segments", profile)):
        mutant = None
        # each operator starts at another task type, so that the mutants spread over all of them
        rotated = kinds[number % len(kinds) :] + kinds[: number % len(kinds)]
        for attempt, knobs in enumerate(rotated * 3):
            draw = RandomDraw(f"seg-mutant-{operator_id}-{profile}-{attempt}")
            mutant = mutate(draw, build_subject(draw, "segments", profile, **knobs), operator_id)
            if mutant is not None:
                break
        if mutant is None:
            missing.append(operator_id)
            continue
        made += 1
        path = _write(tmp_path, mutant.subject.document, mutant.subject.text)
        assert not _certified(path, profile), operator_id
        report = _same(path, profile)
        assert report["files"][-1]["findings"], operator_id
    assert made and not [m for m in missing if not m.startswith("schema.")], missing


def test_samples_with_repeated_uuids_or_stems_go_alone_to_the_reference_path(
    native: ModuleType, tmp_path: Path
) -> None:
    """A uuid (or image name stem) that several samples share: those samples, and the faulty ones, go to the
    reference path; the rules comparing samples see each of them in its place; the others stay certified,
    and the report equals the reference path's."""
    subject = build_subject(RandomDraw("seg-uuid"), "segments", "strict", task_types=["vector"], min_items=8)
    document = subject.document
    samples = document["dataset"]["samples"]
    path = _write(tmp_path, document)
    assert _certified(path, "lenient")
    repeated = copy.deepcopy(document)
    for index in (4, 6):
        repeated["dataset"]["samples"][index]["uuid"] = samples[1]["uuid"]
    # a repeating sample that is not certified for another reason, and a faulty sample of its own
    repeated["dataset"]["samples"][6]["labels"]["not-a-labelset"] = None
    repeated["dataset"]["samples"][2]["labels"]["not-a-labelset"] = None
    path = _write(tmp_path, repeated)
    report, seen = _native_report(path, "lenient")
    assert report is not None and seen[-1].endswith(
        f"2 of {len(samples)} samples not certified, 3 with a repeated uuid or name stem, to the reference "
        "path one by one: 1, 2, 4, 6"
    )
    findings = _same(path, "lenient")["files"][-1]["findings"]
    assert [(f.rule, f.pointer, f.message) for f in report.findings] == [
        (f["rule"], f["pointer"], f["message"]) for f in findings
    ]
    assert [f["pointer"] for f in findings if f["rule"] == "SEG-SAMPLE-UUID-DUPLICATE"] == [
        "/dataset/samples/4/uuid",
        "/dataset/samples/6/uuid",
    ]
    stems = copy.deepcopy(document)
    stems["dataset"]["samples"][3]["name"] = "same.jpg"
    stems["dataset"]["samples"][7]["name"] = "same.png"
    path = _write(tmp_path, stems)
    report, seen = _native_report(path, "lenient")
    assert report is not None and seen[-1].endswith("one by one: 3, 7")
    findings = _same(path, "lenient")["files"][-1]["findings"]
    assert [(f["rule"], f["pointer"]) for f in findings] == [
        ("SEG-SAMPLE-NAME-COLLISION", "/dataset/samples/7/name")
    ]
    assert "samples/3" in findings[0]["message"]


def test_a_faulty_sample_goes_to_the_reference_path_with_the_header(
    native: ModuleType, tmp_path: Path
) -> None:
    """One sample of many has a finding: only it is re-validated, with the header as its context, and the
    finding's pointer names its place in the whole release."""
    subject = build_subject(RandomDraw("seg-one"), "segments", "strict", task_types=["vector"], min_items=6)
    document = subject.document
    last = len(document["dataset"]["samples"]) - 1
    document["dataset"]["samples"][last]["labels"]["not-declared"] = None
    path = _write(tmp_path, document)
    report = _same(path, "lenient")
    pointers = [f["pointer"] for f in report["files"][-1]["findings"]]
    assert pointers == [f"/dataset/samples/{last}/labels/not-declared"]


def _native_report(path: Path, profile: str, png_dir: Path | None = None) -> tuple[Any, list[str]]:
    """The native report of a release with every sample left to the reference path allowed (max_dirty 1.0,
    as `validate` runs it) and what the debug hook was told."""
    module = fastpath.native()
    assert module is not None
    seen: list[str] = []
    report = segments.segments_report(
        module, fastpath._segments_checks, str(path), "segments", profile, None, 1.0, seen.append, png_dir
    )
    return report, seen


def _clean_release(task_type: str, profile: str, tmp_path: Path) -> Any:
    """A generated release of ``task_type`` with at least 6 samples and no finding."""
    for seed in range(20):
        draw = RandomDraw(f"seg-clean-{task_type}-{profile}-{seed}")
        document = build_subject(draw, "segments", profile, task_types=[task_type], min_items=6).document
        if not _same(_write(tmp_path, document), profile)["files"][-1]["findings"]:
            return document
    raise AssertionError(f"no clean generated {task_type} release")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_one_faulty_sample_leaves_the_others_to_the_native_checks(
    native: ModuleType, profile: str, task_type: str, tmp_path: Path
) -> None:
    """A release of any task type with one faulty sample: only that sample goes to the reference path (the
    debug hook names it), the report is native, and it equals the reference path's."""
    document = _clean_release(task_type, profile, tmp_path)
    samples = document["dataset"]["samples"]
    faulty = len(samples) // 2
    samples[faulty]["labels"]["not-declared"] = None  # SEG-LABELSET-UNDECLARED (labelsets are declared)
    path = _write(tmp_path, document)
    report, seen = _native_report(path, profile)
    assert report is not None, seen
    assert seen and seen[-1].endswith(
        f"1 of {len(samples)} samples not certified, to the reference path one by one: {faulty}"
    )
    expected = _same(path, profile)["files"][-1]["findings"]
    assert [(f.rule, f.pointer, f.message) for f in report.findings] == [
        (f["rule"], f["pointer"], f["message"]) for f in expected
    ]
    assert f"/dataset/samples/{faulty}/labels/not-declared" in [f.pointer for f in report.findings]


@pytest.mark.parametrize("task_type", ["segmentation-bitmap", "image-segmentation-sequence"])
def test_a_local_bitmap_sample_goes_alone_with_the_png_dir(
    native: ModuleType, task_type: str, tmp_path: Path
) -> None:
    """A bitmap release whose one sample names a local (here undecodable) bitmap relative to --png-dir:
    that sample alone is decoded by the reference path, with the png_dir, and the report equals the
    reference path's (with and without the png_dir)."""
    document = _clean_release(task_type, "lenient", tmp_path)
    samples = document["dataset"]["samples"]
    label = next(iter(samples[1]["labels"].values()))
    holders = label["attributes"].get("frames") or [label["attributes"]]
    holders[0]["segmentation_bitmap"] = {"url": "masks/broken.png"}
    pngs = tmp_path / "pngs"
    (pngs / "masks").mkdir(parents=True)
    (pngs / "masks" / "broken.png").write_bytes(b"not a png")
    path = _write(tmp_path, document)
    report, seen = _native_report(path, "lenient", pngs)
    assert report is not None and seen[-1].endswith(
        f"1 of {len(samples)} samples not certified, to the reference path one by one: 1"
    )
    assert [f.rule for f in report.findings] == ["SEG-BITMAP-UNREADABLE"]
    fast = same_report(path, "lenient", "segments", png_dir=pngs)
    assert fast["files"][-1]["findings"][0]["rule"] == "SEG-BITMAP-UNREADABLE"
    _same(path, "lenient")  # without the png_dir the path names no file: no finding either way


# Edits where exact Python semantics are not modelled in C (the sample is "not sure"), or easy to get wrong:
# each release must report as the reference path.
def _points(values: list[Any]) -> Any:
    def edit(attributes: dict[str, Any]) -> None:
        attributes["annotations"] = [{"id": 0, "category_id": 1}, {"id": 1, "category_id": 1}]
        attributes["point_annotations"] = values

    return edit


POINT_EDITS = {
    "true-before-one": _points([0, True, 1]),  # set() keeps True: instance 1 owns no point
    "one-before-true": _points([0, 1, True]),
    "integral-float": _points([0, 1.0]),
    "false-before-zero": _points([False, 0, 1]),
    "only-zero": _points([0, 0]),
    "unknown-id": _points([0, 1, 7]),
    "strings-and-lists": _points(["1", [1], None, 0, 1]),
    "not-a-list": _points({"0": 1}),
}


@pytest.mark.parametrize("edit", sorted(POINT_EDITS))
@pytest.mark.parametrize("task_type", ["pointcloud-segmentation", "pointcloud-segmentation-sequence"])
def test_point_annotation_edits_report_as_the_reference(
    native: ModuleType, task_type: str, edit: str, tmp_path: Path
) -> None:
    document = _clean_release(task_type, "lenient", tmp_path)
    label = next(iter(document["dataset"]["samples"][0]["labels"].values()))
    for holder in label["attributes"].get("frames") or [label["attributes"]]:
        POINT_EDITS[edit](holder)
    _same(_write(tmp_path, document), "lenient")


def _sensors(edit: Any) -> Any:
    def apply(sample: dict[str, Any]) -> None:
        edit(sample["attributes"]["sensors"], next(iter(sample["labels"].values()))["attributes"]["sensors"])

    return apply


SENSOR_EDITS = {
    "renamed": _sensors(lambda ss, ls: ls[0].update(name="other")),
    "name-null-both": _sensors(lambda ss, ls: (ss[0].update(name=None), ls[0].pop("name"))),
    "name-number": _sensors(lambda ss, ls: (ss[0].update(name=1), ls[0].update(name=1.0))),
    "task-type-changed": _sensors(lambda ss, ls: ls[0].update(task_type="image-vector-sequence")),
    "swapped": _sensors(lambda ss, ls: ls.reverse()),
    "one-label-sensor-less": _sensors(lambda ss, ls: ls.pop()),
    "one-sample-sensor-less": _sensors(lambda ss, ls: ss.pop()),
    "nested-multisensor": _sensors(
        lambda ss, ls: (
            ss[0].update(task_type="multisensor-sequence"),
            ls[0].update(task_type="multisensor-sequence"),
        )
    ),
    "sample-sensors-not-a-list": _sensors(lambda ss, ls: ss.clear() or ss.append("x")),
}


@pytest.mark.parametrize("edit", sorted(SENSOR_EDITS))
def test_sensor_edits_report_as_the_reference(native: ModuleType, edit: str, tmp_path: Path) -> None:
    document = _clean_release("multisensor-sequence", "lenient", tmp_path)
    SENSOR_EDITS[edit](document["dataset"]["samples"][0])
    _same(_write(tmp_path, document), "lenient")


def test_a_header_key_after_the_samples_is_seen(native: ModuleType, tmp_path: Path) -> None:
    """The decider is built from the header before the samples; keys written after them (here the
    categories) must give the same tables, else the reference path judges the file."""
    subject = build_subject(RandomDraw("seg-order"), "segments", "strict", task_types=["vector"], min_items=3)
    dataset = subject.document["dataset"]
    attributes = dataset.pop("task_attributes")
    dataset["task_attributes"] = attributes  # now after "samples"
    path = _write(tmp_path, subject.document)
    assert not _certified(path, "lenient")
    _same(path, "lenient")
    attributes["categories"] = []  # every annotation's category is now undeclared
    path = _write(tmp_path, subject.document)
    _same(path, "lenient")


@settings(max_examples=examples(40))
@given(generators.segments_release(max_items=4), st.sampled_from(PROFILES))
def test_generated_documents_report_as_the_reference(native: ModuleType, document: Any, profile: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _same(_write(Path(folder), document), profile, format=None)


@settings(max_examples=examples(40))
@given(generators.segments_release(task_types=TASK_TYPES, max_items=4), st.sampled_from(PROFILES))
def test_generated_releases_of_every_task_type_report_as_the_reference(
    native: ModuleType, document: Any, profile: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _same(_write(Path(folder), document), profile)


OPERATORS = sorted({(o, p) for p in PROFILES for o in operators_for("segments", p)})


@settings(max_examples=examples(60))
@given(st.sampled_from(OPERATORS), st.sampled_from(TASK_TYPES), st.integers(0, 2**32))
def test_mutants_report_as_the_reference(
    native: ModuleType, case: tuple[str, str], task_type: str, seed: int
) -> None:
    """A mutant of a random operator on a release of a random task type (where the operator finds a site)."""
    operator_id, profile = case
    draw = RandomDraw(f"seg-hyp-{seed}")
    subject = build_subject(draw, "segments", profile, task_types=[task_type], min_items=2)
    mutant = mutate(draw, subject, operator_id)
    if mutant is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), mutant.subject.document, mutant.subject.text)
        assert _same(path, profile)["files"][-1]["findings"], operator_id


def _base_releases() -> list[Any]:
    return [
        build_subject(
            RandomDraw(f"seg-perturb-{task_type}"), "segments", "lenient", task_types=[task_type], min_items=3
        ).document
        for task_type in TASK_TYPES
    ]


BASE_RELEASES = _base_releases()


@given(st.randoms(use_true_random=False), st.sampled_from(PROFILES))
def test_perturbed_releases_report_as_the_reference(native: ModuleType, rng: Any, profile: str) -> None:
    document = perturbed(rng, rng.choice(BASE_RELEASES))
    with tempfile.TemporaryDirectory() as folder:
        _same(_write(Path(folder), document), profile)


def test_progress_is_reported_while_the_samples_are_read(native: ModuleType, tmp_path: Path) -> None:
    """The CLI's progress bar moves on one large release: check_file reports byte offsets from inside the
    nested samples list, in order, up to the last sample."""
    subject = build_subject(
        RandomDraw("seg-progress"), "segments", "strict", task_types=["vector"], min_items=5
    )
    path = _write(tmp_path, subject.document)
    checks = fastpath._segments_checks("lenient", subject.document)
    assert checks is not None
    open_at = native.nested_list_at(str(path), "dataset", "samples")
    seen: list[int] = []
    result = native.check_file(
        str(path),
        checks[0],
        0,
        checks[1],
        checks[2],
        None,
        list_at=open_at,
        progress=seen.append,
        progress_step=1,
    )
    assert result["complete"] and not result["dirty"]
    assert len(seen) == result["items"] >= 5 and seen == sorted(seen)
    assert open_at < seen[0] and seen[-1] <= result["close"]
