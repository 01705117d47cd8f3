"""``labelspec fix --to-strict``: lenient-valid exports the vendor SDKs reject load once repaired.

Valid strict exports (the project's generators) get the faults lenient tolerates and the fixes repair
(by the project's mutant operators and tree edits); the SDKs are the judges: Encord ``LabelRowV2`` offline
with no loss (``encord_sdk.sdk_loads_without_loss``) and the segments-ai typing models
(``test_segments_sdk._check_sdk``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants.core import Subject, clone, edit, walk, without

pytestmark = pytest.mark.interop

pytest.importorskip("encord")
pytest.importorskip("segments.typing")

from encord_sdk import sdk_loads_without_loss  # noqa: E402  (needs the SDK)
from test_segments_sdk import Rejected, _check_sdk  # noqa: E402  (needs the SDK)


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


def fix_to_strict(
    cli: list[str], tmp_path: Path, document: Any, ontology: Any = None
) -> tuple[Any, str, int]:
    source = tmp_path / "export.json"
    source.write_text(json.dumps(document))
    args = [*cli, "fix", str(source), "--to-strict", "-o", str(tmp_path / "strict.json")]
    if ontology is not None:
        (tmp_path / "ontology.json").write_text(json.dumps(ontology))
        args += ["--ontology", str(tmp_path / "ontology.json")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    fixed = (
        json.loads((tmp_path / "strict.json").read_text()) if (tmp_path / "strict.json").exists() else None
    )
    return fixed, result.stdout, result.returncode


def _lenient_faults(seed: str, data_type: str) -> tuple[Subject, Subject]:
    """A strict-valid Encord export, and the same with lenient-only faults the strict SDK rejects or loses."""
    knobs = {"data_types": [data_type], "min_items": 2, "max_items": 2}
    original = mutants.build_subject(RandomDraw(seed), "encord", "strict", **knobs)
    lenient = Subject("encord", "lenient", clone(original.document), ontology=original.ontology)
    faulty = edit(lenient, (0,), without("branch_name"))
    for path, value in walk(faulty.document):  # older exports: no spaces, the documentation's "null"
        if len(path) == 3 and path[1] == "classification_answers" and isinstance(value, dict):
            value.pop("spaces", None)
        if (
            isinstance(value, dict)
            and "multiframe_frame_number" in value
            and value["multiframe_frame_number"] is None
        ):
            value["multiframe_frame_number"] = "null"
    for rule_id in ("ENC-OBJECT-ANSWER-ORPHAN", "ENC-IMAGE-LABELS-FRAME-KEYED", "ENC-POLYGON-FORMS-DIFFER"):
        mutant = mutants.mutate(RandomDraw(f"{seed}/{rule_id}"), faulty, rule_id)
        if mutant is not None:
            faulty = mutant.subject
    return original, faulty


@pytest.mark.parametrize("data_type", ["image", "video", "img_group", "dicom"])
def test_encord_rows_fixed_to_strict_load_in_the_sdk(cli: list[str], tmp_path: Path, data_type: str) -> None:
    original, faulty = _lenient_faults(f"to-strict/{data_type}", data_type)
    assert all(sdk_loads_without_loss(row, original.ontology)[0] for row in original.document)
    assert not sdk_loads_without_loss(faulty.document[0], faulty.ontology)[0]  # no branch_name: KeyError
    fixed, report, code = fix_to_strict(cli, tmp_path, faulty.document, faulty.ontology)
    assert code == 0, report
    assert "ENC-FIX-BRANCH-NAME" in report
    for row in fixed:
        loaded, reason = sdk_loads_without_loss(row, faulty.ontology)
        assert loaded, reason


def test_an_encord_zip_fixed_to_strict_loads_member_by_member(cli: list[str], tmp_path: Path) -> None:
    """A zip of exports (as the platform's bulk export downloads them): every member repaired loads."""
    faulty = {t: _lenient_faults(f"to-strict/zip/{t}", t)[1] for t in ("image", "video")}
    source = tmp_path / "export.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        for data_type, subject in faulty.items():
            archive.writestr(f"{data_type}/rows.json", json.dumps(subject.document))
        archive.writestr("README.txt", "exported rows\n")
    out = tmp_path / "strict.zip"
    command = [*cli, "fix", str(source), "--to-strict", "-o", str(out)]  # each member has its own ontology
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    with zipfile.ZipFile(out) as archive:
        assert archive.read("README.txt") == b"exported rows\n"
        for data_type, subject in faulty.items():
            assert not sdk_loads_without_loss(subject.document[0], subject.ontology)[0]
            for row in json.loads(archive.read(f"{data_type}/rows.json")):
                loaded, reason = sdk_loads_without_loss(row, subject.ontology)
                assert loaded, (data_type, reason)


def test_a_single_encord_row_is_repaired_in_place_and_loads(cli: list[str], tmp_path: Path) -> None:
    """A lone label row (an object) is an encord document: it is repaired as it is, not wrapped."""
    original = mutants.build_subject(RandomDraw("to-strict/single"), "encord", "strict", data_types=["video"])
    row = clone(original.document[0])
    del row["branch_name"]
    fixed, report, code = fix_to_strict(cli, tmp_path, row, original.ontology)
    assert code == 0, report
    assert isinstance(fixed, dict) and fixed["branch_name"] == "main"
    assert sdk_loads_without_loss(fixed, original.ontology)[0]


def test_what_cannot_be_repaired_is_named(cli: list[str], tmp_path: Path) -> None:
    original = mutants.build_subject(
        RandomDraw("to-strict/left"), "encord", "strict", data_types=["image"], min_items=2
    )
    rows = clone(original.document)
    del rows[0]["data_hash"]  # older API rows (lenient); the data item's identity cannot be invented
    del rows[0]["branch_name"]
    _, report, code = fix_to_strict(cli, tmp_path, rows, original.ontology)
    assert code == 1
    assert "ENC-FIX-BRANCH-NAME" in report
    assert "1 finding(s) cannot be repaired for the strict profile" in report
    assert "/0  error  schema.required" in report and '"data_hash"' in report


def _release(task_type: str) -> dict[str, Any]:
    subject = mutants.build_subject(
        RandomDraw(f"to-strict/{task_type}"), "segments", "strict", task_types=[task_type]
    )
    return clone(subject.document)


def test_segments_releases_fixed_to_strict_load_in_the_sdk_models(cli: list[str], tmp_path: Path) -> None:
    release = _release("pointcloud-cuboid")
    _check_sdk(release)
    for _, value in walk(release):
        if isinstance(value, dict) and isinstance(value.get("pcd"), dict):
            value["pcd"].pop("type", None)  # a 2022 point-cloud sample
    release["dataset"]["samples"][0].pop("metadata")  # the documentation's sample
    with pytest.raises(Rejected):
        _check_sdk(release)
    fixed, report, code = fix_to_strict(cli, tmp_path, release)
    assert code == 0, report
    assert "SEG-FIX-PCD-TYPE" in report and "SEG-FIX-SAMPLE-METADATA" in report
    _check_sdk(fixed)


def test_segments_sequence_frames_fixed_to_strict_load(cli: list[str], tmp_path: Path) -> None:
    release = _release("pointcloud-segmentation-sequence")
    frames = [
        v for _, v in walk(release) if isinstance(v, dict) and "point_annotations" in v and "annotations" in v
    ]
    last = frames[-1]
    last["annotations"] = []  # an unlabelled trailing frame of a 2022 payload: no point_annotations
    del last["point_annotations"]
    with pytest.raises(Rejected):
        _check_sdk(release)
    fixed, report, code = fix_to_strict(cli, tmp_path, release)
    assert code == 0, report
    assert "SEG-FIX-POINT-ANNOTATIONS" in report
    _check_sdk(fixed)
