"""The native fast path end to end: `validate` reports exactly what the reference path reports, the fast
path certifies ordinary valid exports (so it is really used), and it never certifies a file with a finding.

Files are written to disk and validated by path, as `labelspec validate` does; the reference is the same
call with the fast path turned off (LABELSPEC_NATIVE=0).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.encord import DATA_TYPES
from labelspec.generators.fixtures.mutants import build_subject, mutate, operators_for
from labelspec.validator.api import validate
from labelspec.validator.compiler import PROFILES
from labelspec.validator.native import fastpath
from tests.conftest import CORPUS
from tests.json_strategies import mutated_documents
from tests.native.equivalence import reference_report


@pytest.fixture(scope="session")
def reference() -> Any:
    return reference_report


def _write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_bytes(orjson.dumps(document))
    return path


def _same(reference: Any, path: Path, profile: str, ontology: Path | None = None) -> dict[str, Any]:
    fast = validate(path, format="encord", profile=profile, ontology=ontology).to_json()
    assert fast == reference(path, format="encord", profile=profile, ontology=ontology)
    result: dict[str, Any] = fast
    return result


@pytest.mark.parametrize("profile", PROFILES)
def test_corpus_reports_are_the_reference_reports(
    native: ModuleType, reference: Any, profile: str, tmp_path: Path
) -> None:
    index = yaml.safe_load((CORPUS / "encord" / "index.yaml").read_text())
    for entry in index:
        path = CORPUS / "encord" / entry["file"]
        if path.suffix != ".json":
            continue
        document = json.loads(path.read_text())
        rows = document if isinstance(document, list) else [document]
        listed = _write(tmp_path, "rows.json", rows)  # the corpus holds single rows too
        _same(reference, listed, profile)
        ontology = entry.get("ontology")
        if ontology:
            _same(reference, listed, profile, CORPUS / "encord" / ontology)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_generated_exports_are_certified(
    native: ModuleType, reference: Any, profile: str, data_type: str, tmp_path: Path
) -> None:
    for seed in range(2):
        subject = build_subject(RandomDraw(f"{data_type}-{seed}"), "encord", profile, data_types=[data_type])
        rows = _write(tmp_path, "export.json", subject.document)
        ontology = _write(tmp_path, "ontology.json", subject.ontology)
        report = _same(reference, rows, profile, ontology)
        assert report["files"][-1]["findings"] == []
        # certified by the native checks, not merely equal: the fast path is really taken
        assert fastpath.uncertified_items(rows, "encord", profile, subject.ontology) == []
        assert fastpath.uncertified_items(rows, None, profile, subject.ontology) == []
        assert fastpath.uncertified_items(rows, "encord", profile, None) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(
    native: ModuleType, reference: Any, profile: str, tmp_path: Path
) -> None:
    operators = operators_for("encord", profile)
    made, missing = 0, []
    for number, operator_id in enumerate(operators):
        mutant = None
        for attempt in range(3 * len(DATA_TYPES)):  # operators need particular data (a range, a bitmask...)
            draw = RandomDraw(f"mutant-{operator_id}-{profile}-{attempt}")
            data_type = DATA_TYPES[(number + attempt) % len(DATA_TYPES)]
            kinds = [data_type] if attempt < len(DATA_TYPES) else [data_type, "video"]
            # (rings only in the newer form are rare; the third round draws every shape again)
            shapes = ["polygon"] if attempt % 3 == 2 and attempt < 2 * len(DATA_TYPES) else None
            subject = build_subject(draw, "encord", profile, data_types=kinds, shapes=shapes)
            mutant = mutate(draw, subject, operator_id)
            if mutant is not None:
                break
        if mutant is None:
            missing.append(operator_id)
            continue
        made += 1
        rows = tmp_path / "mutant.json"
        text = mutant.subject.text
        rows.write_bytes(text.encode() if text is not None else orjson.dumps(mutant.subject.document))
        ontology = _write(tmp_path, "ontology.json", mutant.subject.ontology)
        # never certified: either some items go to the reference path or the whole file does
        assert fastpath.uncertified_items(rows, "encord", profile, mutant.subject.ontology) != [], operator_id
        report = _same(reference, rows, profile, ontology)
        assert report["files"][-1]["findings"], operator_id
    # every rule's operator made a mutant; some structural families have nothing to act on in Encord (three
    # of them nowhere: const and maxLength only sit in conditions/alternatives, exclusiveMinimum is unused)
    assert made >= len(operators) - 9 and not [m for m in missing if not m.startswith("schema.")], missing


# The Encord rules added by issue 12 (C twins in encord_rules.c / encord_ontology.c).
ISSUE_12_RULES = (
    "ENC-FRAME-BEYOND-DURATION",
    "ENC-AUDIO-RANGE-BEYOND-DURATION",
    "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION",
    "ENC-ANSWER-SPACE-UNKNOWN",
    "ENC-OBJECT-FRAME-MISMATCH",
    "ENC-CONFIDENCE-OUT-OF-RANGE",
    "ENC-GROUP-CHILD-LAYOUT-UNMATCHED",
    "ENC-POLYLINE-DEGENERATE",
    "ENC-CUBOID-SIZE-NOT-POSITIVE",
    "ENC-SKELETON-TEMPLATE-MISMATCH",
    "ENC-CLASSIFICATION-RANGE-MISSING",
)


def _mutant_of(rule_id: str, profile: str) -> tuple[Any, Any] | None:
    """(rows, ontology) of a generated export broken by the rule's operator, or None when none is made."""
    for attempt in range(3 * len(DATA_TYPES)):
        draw = RandomDraw(f"issue12-{rule_id}-{profile}-{attempt}")
        kinds = [DATA_TYPES[attempt % len(DATA_TYPES)]]
        subject = build_subject(draw, "encord", profile, data_types=kinds)
        mutant = mutate(draw, subject, rule_id)
        if mutant is not None:
            return mutant.subject.document, mutant.subject.ontology
    return None


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("rule_id", ISSUE_12_RULES)
def test_issue_12_rules_report_the_same_on_both_paths(
    native: ModuleType, reference: Any, rule_id: str, profile: str, tmp_path: Path
) -> None:
    """A mutant of each rule gives the same report on the fast path as on the reference path, and that
    report names the rule."""
    made = _mutant_of(rule_id, profile)
    assert made is not None, f"{rule_id}: no mutant made"
    rows, ontology = made
    path = _write(tmp_path, "rows.json", rows)
    ontology_path = _write(tmp_path, "ontology.json", ontology) if ontology is not None else None
    report = _same(reference, path, profile, ontology_path)
    assert rule_id in {f["rule"] for f in report["files"][-1]["findings"]}
    assert fastpath.uncertified_items(path, "encord", profile, ontology) != []


def test_cli_certified_and_faulty_files(native: ModuleType, cli: list[str], tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("cli"), "encord", "lenient", data_types=["video"])
    rows = _write(tmp_path, "export.json", subject.document)
    ontology = _write(tmp_path, "ontology.json", subject.ontology)
    bad_rows = [*subject.document[:-1], {**subject.document[-1], "created_at": "2022-02-30 10:00:00"}]
    bad = _write(tmp_path, "faulty.json", bad_rows)
    env = {**os.environ, "LABELSPEC_NATIVE_DEBUG": "1"}
    run = subprocess.run(
        [*cli, "validate", "--ontology", str(ontology), str(rows)], capture_output=True, env=env
    )
    assert run.returncode == 0 and b"not certified" not in run.stderr
    outputs = []
    for native_on in ("1", "0"):
        run = subprocess.run(
            [*cli, "validate", "--output", "json", "--ontology", str(ontology), str(bad)],
            capture_output=True,
            env={**env, "LABELSPEC_NATIVE": native_on},
        )
        assert run.returncode == 1
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1]
    assert any(f["rule"] == "ENC-DATETIME-INVALID" for f in outputs[0]["files"][-1]["findings"])


def test_turned_off_or_unusable_inputs_take_the_reference_path(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("off"), "encord", "lenient", data_types=["video"])
    rows = _write(tmp_path, "export.json", subject.document)
    assert fastpath.uncertified_items(rows, None, "lenient") == []
    gz = tmp_path / "export.json.gz"
    gz.write_bytes(b"")
    assert fastpath.uncertified_items(gz, None, "lenient") is None
    assert fastpath.uncertified_items(tmp_path, None, "lenient") is None  # a folder
    assert fastpath.uncertified_items(tmp_path / "missing.json", None, "lenient") is None
    single = _write(tmp_path, "row.json", subject.document[0])  # a lone row: not the list form
    assert fastpath.uncertified_items(single, None, "lenient") is None
    coco = _write(tmp_path, "coco.json", {"images": [], "annotations": [], "categories": []})
    assert fastpath.uncertified_items(coco, None, "lenient") is None


def _video_export(rows: int, seed: str) -> list[Any]:
    document: list[Any] = []
    draw = RandomDraw(seed)
    while len(document) < rows:
        document += build_subject(draw, "encord", "lenient", data_types=["video"]).document
    return document[:rows]


@pytest.mark.parametrize("jobs", [2, 3])
def test_parts_over_processes_find_the_same_items(
    native: ModuleType, jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "SPLIT_BYTES", 0)
    rows = _video_export(30, "parts")
    faulty = {3, 14, 15, 29}
    for index in faulty:
        rows[index] = {**rows[index], "created_at": "2022-02-30 10:00:00"}
    path = _write(tmp_path, "export.json", rows)
    assert fastpath.uncertified_items(path, "encord", "lenient", jobs=jobs) == sorted(faulty)
    assert fastpath.uncertified_items(path, None, "lenient", jobs=1) == sorted(faulty)
    assert fastpath.native_report(path, None, "lenient", jobs=jobs) == fastpath.native_report(
        path, None, "lenient"
    )


def test_a_split_guessed_inside_a_string_is_caught(
    native: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "SPLIT_BYTES", 0)
    rows = _video_export(9, "joints")
    # the middle row holds objects that look like rows (label_hash first), wherever the split falls
    rows[4] = {**rows[4], "export_notes": [{"label_hash": str(i)} for i in range(40_000)]}
    path = _write(tmp_path, "export.json", rows)
    middle = path.stat().st_size // 2
    assert path.read_bytes().find(b'},{"label_hash"', middle) - middle < 32  # the guess lands in that row
    assert fastpath.uncertified_items(path, None, "lenient", jobs=2) == fastpath.uncertified_items(
        path, None, "lenient", jobs=1
    )


def test_cli_jobs_reports_equal(native: ModuleType, cli: list[str], tmp_path: Path) -> None:
    rows = _video_export(12, "cli-jobs")
    rows[7] = {**rows[7], "last_edited_at": "2021-13-01 00:00:00"}
    path = _write(tmp_path, "export.json", rows)
    outputs = []
    for jobs, native_on in (("1", "1"), ("2", "1"), ("2", "0")):
        run = subprocess.run(
            [*cli, "validate", "--output", "json", "--jobs", jobs, str(path)],
            capture_output=True,
            env={**os.environ, "LABELSPEC_NATIVE": native_on, "LABELSPEC_NATIVE_SPLIT_BYTES": "0"},
        )
        assert run.returncode == 1, run.stderr
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1] == outputs[2]


@given(mutated_documents(frozenset({"encord"})), st.sampled_from(PROFILES))
def test_randomly_edited_exports_report_as_the_reference(
    native: ModuleType, reference: Any, case: tuple[str, Any], profile: str
) -> None:
    _format, document = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_text(json.dumps(document if isinstance(document, list) else [document]))
        fast = validate(path, profile=profile).to_json()
        assert fast == reference(path, profile=profile)


def test_damaged_cache_entries_are_rebuilt(
    native: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelspec.validator import compiler

    cache = tmp_path / "cache"
    monkeypatch.setenv("LABELSPEC_CACHE_DIR", str(cache))
    # the cache serves programs that are not shipped with the package (validator/native/shipped.py)
    monkeypatch.setattr(fastpath.shipped, "load", lambda format_id, profile: None)
    rows = _write(tmp_path, "export.json", _video_export(3, "cache"))

    def fresh_report() -> dict[str, Any]:
        for cached in (fastpath._program, compiler.load_yaml, compiler._compiled):
            cached.cache_clear()
        return validate(rows, profile="lenient").to_json()  # type: ignore[no-any-return]

    first = fresh_report()
    entries = sorted([*cache.glob("*.pickle"), *cache.glob("*.marshal")])
    assert any(e.name.startswith("program-encord-") for e in entries)
    for entry in entries:
        entry.write_bytes(b"\x80\x05damaged")
    assert fresh_report() == first
    program = next(cache.glob("program-encord-*.pickle"))
    assert program.read_bytes() != b"\x80\x05damaged"  # compiled again and rewritten


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", ["image", "video"])
def test_an_image_or_video_bitmask_without_frame_size_reports_the_same_on_both_paths(
    native: ModuleType, reference: Any, profile: str, kind: str, tmp_path: Path
) -> None:
    """A null or missing width/height of an image or video row with a bitmask: a strict error at the data unit
    (the SDK cannot save it), nothing under lenient or without a bitmask; both paths report the same."""
    for size in [(None, 6), (6, ...), (6, 6)]:
        for masked in (True, False):
            row = _image_group(*size, masked=masked)[0]
            unit = row["data_units"]["du-0"]
            row.update(data_type=kind, data_units={"du-0": unit})
            if kind == "video":
                unit.update(data_type="video/mp4", data_fps=25.0, data_duration=2.0)
                unit["labels"] = {"0": unit["labels"]}
            path = _write(tmp_path, f"{kind}-{size}-{masked}.json", [row])
            report = _same(reference, path, profile)
            found = {
                (f["rule"], f["pointer"])
                for f in report["files"][-1]["findings"]
                if f["severity"] == "error" and f["pointer"].startswith("/0/data_units/du-0")
            }
            expected = _frame_size_errors(size) if masked and profile == "strict" else set()
            assert found == expected, (kind, size, masked, profile, found)


def _frame_size_errors(size: tuple[Any, Any]) -> set[tuple[str, str]]:
    """The strict errors of data unit du-0 that carries a bitmask, its (width, height) given as ``size``
    (None: null, ...: missing)."""
    expected: set[tuple[str, str]] = set()
    for key, value in zip(("width", "height"), size, strict=True):
        if value is ...:
            expected.add(("schema.required", "/0/data_units/du-0"))
        elif value is None:
            expected.add(("schema.type", f"/0/data_units/du-0/{key}"))
    return expected


def _image_group(width: Any, height: Any, masked: bool) -> list[Any]:
    """A two-image group; the first image's size is ``width`` x ``height`` (None: null, ... : missing) and it
    carries a 6x6 bitmask when ``masked``."""
    mask = {"rleString": "02220N:0F20N", "top": 0, "left": 0, "width": 6, "height": 6}
    obj = {"objectHash": "msk00001", "featureHash": "objMsk01", "shape": "bitmask", "name": "Car"}
    obj.update(createdAt="Tue, 07 Jan 2025 16:12:23 UTC", confidence=1, manualAnnotation=True, bitmask=mask)
    units: dict[str, Any] = {}
    for number, size in enumerate([(width, height), (6, 6)]):
        unit: dict[str, Any] = {"data_hash": f"du-{number}", "data_title": f"{number}.png"}
        unit.update(
            data_type="image/png", data_sequence=number, data_link=f"https://example.com/{number}.png"
        )
        sizes = zip(("width", "height"), size, strict=True)
        unit.update({key: value for key, value in sizes if value is not ...})
        unit["labels"] = {"objects": [obj] if masked and number == 0 else [], "classifications": []}
        units[unit["data_hash"]] = unit
    answers = {"msk00001": {"objectHash": "msk00001", "classifications": []}} if masked else {}
    row = {"label_hash": "lr-1", "branch_name": "main", "created_at": "2025-01-07 16:12:23"}
    row.update(last_edited_at="2025-01-07 16:12:23", dataset_hash="ds-1", dataset_title="Group")
    row.update(data_title="group", data_hash="dg-1", data_type="img_group", label_status="LABELLED")
    row.update(data_units=units, object_answers=answers, classification_answers={}, object_actions={})
    return [row]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("size", [(None, 6), (6, ...), (None, None), (..., ...)], ids=str)
def test_an_image_group_bitmask_without_frame_size_reports_the_same_on_both_paths(
    native: ModuleType, reference: Any, profile: str, size: tuple[Any, Any], tmp_path: Path
) -> None:
    """A null or missing width/height of an image with a bitmask: a strict error (the SDK cannot save it),
    valid under lenient and without a bitmask; the fast path reports exactly what the reference path does."""
    for masked in (True, False):
        path = _write(tmp_path, f"group-{masked}.json", _image_group(*size, masked=masked))
        report = _same(reference, path, profile)
        findings = report["files"][-1]["findings"]
        errors = {(f["rule"], f["pointer"]) for f in findings if f["severity"] == "error"}
        expected: set[tuple[str, str]] = set()
        if masked and profile == "strict":
            expected = _frame_size_errors(size)
            assert fastpath.uncertified_items(path, "encord", profile, None) != []
        assert errors == expected, (masked, profile)
