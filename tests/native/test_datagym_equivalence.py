"""The native fast path on DataGym exports (labelspec/native/datagym_rules.c): `validate` reports exactly what
the reference path reports, on generated exports, a mutant of every rule and structural family, randomly
edited corpus documents and repeated media ids; ordinary valid exports are really certified; and a catalogued
DataGym rule without a C twin makes the decider answer "not sure" (the guard below names the rule).

The reference is the same call with the fast path turned off (LABELSPEC_NATIVE=0).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelspec import generators
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import build_subject, variants
from labelspec.validator.api import validate
from labelspec.validator.compiler import PROFILES
from labelspec.validator.native import datagym_rules, fastpath
from labelspec.validator.rules import catalogue
from tests.json_strategies import mutated_documents
from tests.native.equivalence import every_mutant, perturbed, reference_report, same_report, write_document


def _same(path: Path, profile: str) -> dict[str, Any]:
    return same_report(path, profile, "datagym")


def _write(folder: Path, document: Any, text: str | None = None) -> Path:
    return write_document(folder / "export.json", document, text)


@pytest.mark.parametrize("rule_id", [spec.id for spec in catalogue("datagym")])
def test_every_rule_has_a_twin(native: ModuleType, rule_id: str) -> None:
    """Every catalogued DataGym rule is mirrored in C (a rule without a twin would make the decider answer
    "not sure" for every task: correct, but the fast path would be lost)."""
    assert rule_id in native.datagym_rule_ids(), (
        f"{rule_id} has no C twin in labelspec/native/datagym_rules.c"
    )


def test_an_unknown_rule_makes_every_task_unsure(native: ModuleType, tmp_path: Path) -> None:
    subject = build_subject(
        RandomDraw("unknown-rule"), "datagym", "lenient", data_types=["image"], min_items=2
    )
    path = _write(tmp_path, subject.document)
    program = fastpath._program("datagym", "lenient")
    assert program is not None and program.head >= 0
    config = datagym_rules.decider_config("lenient")

    def certified(rules: Any) -> bool:
        result = native.check_file(
            str(path),
            program.schema,
            program.root,
            program.items,
            rules,
            None,
            max_dirty=10**6,
            head=program.head,
        )
        return bool(result["complete"] and not result["dirty"])

    assert certified(native.DataGymRules(config))
    assert not certified(native.DataGymRules({"rules": [*config["rules"], "DG-NOT-MIRRORED"]}))
    with pytest.raises(ValueError):
        native.DataGymRules({"rules": "DG-LABEL-CLASS-UNDECLARED"})


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_exports_are_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    for seed in range(3):
        for knobs in ({"data_types": ["image"], "min_items": 3}, {"data_types": ["video"], "min_items": 2}):
            subject = build_subject(RandomDraw(f"dg-{seed}-{profile}"), "datagym", profile, **knobs)
            path = _write(tmp_path, subject.document)
            report = _same(path, profile)
            assert report["files"][-1]["findings"] == []
            # certified by the native checks, not merely equal: the fast path is really taken
            assert fastpath.uncertified_items(path, "datagym", profile) == []
            assert fastpath.uncertified_items(path, None, profile) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_mutants_are_never_certified(native: ModuleType, profile: str, tmp_path: Path) -> None:
    rectangles = {"data_types": ["image"], "min_items": 2, "shapes": ["rectangle"]}
    # a shapes knob allows a class kind without forcing an object of it: a few seeds per variant
    knob_sets = [*variants("datagym", profile), rectangles] * 6
    for operator_id, mutant in every_mutant("datagym", profile, "dg-mutant", knob_sets):
        path = _write(tmp_path, mutant.subject.document, mutant.subject.text)
        # never certified: some items go to the reference path, or the whole file does (None)
        assert fastpath.uncertified_items(path, "datagym", profile) != [], operator_id
        report = _same(path, profile)
        assert report["files"][-1]["findings"], operator_id


def test_repeated_media_ids_send_the_file_to_the_reference_path(native: ModuleType, tmp_path: Path) -> None:
    # built as strict: the current export form (lenient also draws pre-2021 media-id names and legacy
    # `geometry` payloads, which the decider leaves to the reference path); validated as lenient
    subject = build_subject(RandomDraw("dg-media"), "datagym", "strict", data_types=["image"], min_items=3)
    document = subject.document
    tasks = [task for task in document[1:] if isinstance(task.get("internal_media_ID"), str)]
    assert len(tasks) >= 2
    tasks[-1]["internal_media_ID"] = tasks[0]["internal_media_ID"]
    path = _write(tmp_path, document)
    assert fastpath.uncertified_items(path, "datagym", "lenient") is None
    report = _same(path, "lenient")
    assert [f["rule"] for f in report["files"][-1]["findings"]] == ["DG-MEDIA-ID-DUPLICATE"]
    # the repeat is seen even when the repeating task is not certified for another reason (its structure):
    # item-by-item validation of the uncertified tasks alone could not compare it with the clean ones
    tasks[-1]["status"] = 5
    path = _write(tmp_path, document)
    assert fastpath.uncertified_items(path, "datagym", "lenient") is None
    report = _same(path, "lenient")
    assert "DG-MEDIA-ID-DUPLICATE" in [f["rule"] for f in report["files"][-1]["findings"]]


def test_faulty_tasks_go_to_the_reference_path_with_their_context(native: ModuleType, tmp_path: Path) -> None:
    """One task of many has a finding: only it is re-validated, with element 0 (the label classes) as its
    context, and the finding's pointer names its place in the whole export."""
    # the current export form (see above), so that every other task is certified
    subject = build_subject(RandomDraw("dg-one"), "datagym", "strict", data_types=["image"], min_items=6)
    document = subject.document
    document[-1].setdefault("global_classifications", {})["not-a-class"] = ["x"]
    path = _write(tmp_path, document)
    assert fastpath.uncertified_items(path, "datagym", "lenient") == [len(document) - 1]
    report = _same(path, "lenient")
    pointers = [f["pointer"] for f in report["files"][-1]["findings"]]
    assert pointers == [f"/{len(document) - 1}/global_classifications/not-a-class"]


@given(generators.datagym_export(max_items=4), st.sampled_from(PROFILES))
def test_generated_documents_report_as_the_reference(native: ModuleType, document: Any, profile: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _same(_write(Path(folder), document), profile)


@given(mutated_documents(frozenset({"datagym"})), st.sampled_from(PROFILES))
def test_randomly_edited_exports_report_as_the_reference(
    native: ModuleType, case: tuple[str, Any], profile: str
) -> None:
    _format, document = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_text(json.dumps(document))
        fast = validate(path, profile=profile).to_json()
        assert fast == reference_report(path, profile=profile)


def _base_exports() -> list[Any]:
    exports = []
    for number, knobs in enumerate(variants("datagym")):
        exports.append(
            build_subject(RandomDraw(f"dg-perturb-{number}"), "datagym", "lenient", **knobs).document
        )
    return exports


BASE_EXPORTS = _base_exports()


@given(st.randoms(use_true_random=False), st.sampled_from(PROFILES))
def test_perturbed_exports_report_as_the_reference(native: ModuleType, rng: Any, profile: str) -> None:
    document = perturbed(rng, rng.choice(BASE_EXPORTS))
    with tempfile.TemporaryDirectory() as folder:
        _same(_write(Path(folder), document), profile)
