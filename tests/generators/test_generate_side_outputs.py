"""``labelspec generate`` options for what the Python strategies alone reached before: COCO results files
(``--results``) and the 2020 Segments release layout (``--layout 2020``).

Results files are judged by pycocotools (``COCO.loadRes`` against the ground truth written beside them,
which must derive a positive area and a box inside the image for every result) and by the schema's
``results_file`` definition under both profiles; the folder the generator wrote validates with exit 0,
the results files listed as skipped. 2020-layout releases are valid under lenient only, are mutated by
``--invalid`` / ``--rule`` like any release, and ``--with-media`` writes the images their samples name.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pycocotools.coco import COCO

import labelspec
from labelspec.generators.fixtures import coco
from labelspec.generators.fixtures.mutants import severity_of
from labelspec.validator.structural import structural_findings
from tests.interop.test_generated_coco_results import check_loaded


def _generate(cli: list[str], out: Path, *arguments: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*cli, "generate", *arguments, "--out", str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    files: list[dict[str, Any]] = json.loads((out / "manifest.json").read_text())["files"]
    return files


def _validate_folder(cli: list[str], folder: Path, profile: str) -> dict[str, Any]:
    done = subprocess.run(
        [*cli, "validate", str(folder), "--profile", profile, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _load_results(ground_truth: Path, results: Path) -> tuple[COCO, COCO]:
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(ground_truth))
        return truth, truth.loadRes(str(results))


@pytest.mark.parametrize("profile", ["lenient", "strict"])
@pytest.mark.parametrize("kind", coco.RESULT_KINDS)
def test_results_files_load_in_pycocotools(cli: list[str], tmp_path: Path, kind: str, profile: str) -> None:
    entries = _generate(
        cli, tmp_path, "coco-instance", "--results", kind, "--profile", profile, "--count", "4"
    )
    report = _validate_folder(cli, tmp_path, profile)
    assert {Path(f["path"]).name for f in report["files"]} == {e["path"] for e in entries}
    assert all(not [x for x in f["findings"] if x["severity"] == "error"] for f in report["files"])
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    for entry in entries:
        assert entry["results"] == entry["path"].replace(".json", ".results.json")
        assert "results file" in skipped[entry["results"]]
        results = json.loads((tmp_path / entry["results"]).read_text())
        assert results and all(kind in r for r in results)
        for schema_profile in ("lenient", "strict"):
            assert structural_findings(results, "coco-instance", schema_profile, "results_file") == []
        truth, detections = _load_results(tmp_path / entry["path"], tmp_path / entry["results"])
        check_loaded(truth, detections, results)
        assert all(ann["category_id"] in truth.cats for ann in detections.anns.values())


def test_results_leave_the_ground_truth_as_without_them(cli: list[str], tmp_path: Path) -> None:
    """The results file is drawn after its ground truth: the same seed writes the same ground truth."""
    plain = _generate(cli, tmp_path / "plain", "coco-instance", "--count", "3", "--seed", "5")
    with_results = _generate(
        cli, tmp_path / "res", "coco-instance", "--count", "3", "--seed", "5", "--results", "bbox"
    )
    for a, b in zip(plain, with_results, strict=True):
        assert (tmp_path / "plain" / a["path"]).read_bytes() == (tmp_path / "res" / b["path"]).read_bytes()


def _check_mutants(folder: Path, entries: list[dict[str, Any]], format_id: str) -> None:
    for entry in entries:
        report = labelspec.validate(folder / entry["path"], format=format_id, profile=entry["profile"])
        found = report.files[-1].findings
        errors = {f.rule for f in found if f.severity == "error"}
        expected = {r for r in entry["expect"] if severity_of(r, format_id, entry["profile"]) == "error"}
        assert errors == expected, (entry, sorted(errors))
        assert (entry["operator"], entry["pointer"]) in {(f.rule, f.pointer) for f in found}, entry


def test_invalid_with_results_breaks_the_ground_truth_only(cli: list[str], tmp_path: Path) -> None:
    entries = _generate(cli, tmp_path, "coco-instance", "--invalid", "--results", "bbox", "--count", "12")
    _check_mutants(tmp_path, entries, "coco-instance")
    assert len({e["operator"] for e in entries}) >= 10  # operators cycle (one without a site: the next)
    for entry in entries:
        results = json.loads((tmp_path / entry["results"]).read_text())
        assert structural_findings(results, "coco-instance", "strict", "results_file") == []
    folder = tmp_path / "rule"
    entries = _generate(
        cli,
        folder,
        "coco-instance",
        "--invalid",
        "--rule",
        "COCO-AREA-NOT-POSITIVE",
        "--results",
        "keypoints",
        "--count",
        "3",
    )
    _check_mutants(folder, entries, "coco-instance")
    assert [e["operator"] for e in entries] == ["COCO-AREA-NOT-POSITIVE"] * 3
    for entry in entries:
        assert all("keypoints" in r for r in json.loads((folder / entry["results"]).read_text()))


def test_layout_2020_releases(cli: list[str], tmp_path: Path) -> None:
    entries = _generate(cli, tmp_path, "segments", "--layout", "2020", "--count", "4", "--with-media")
    assert _validate_folder(cli, tmp_path, "lenient")["files"]
    for entry in entries:
        release = json.loads((tmp_path / entry["path"]).read_text())
        assert "dataset" not in release and release["tasks"] and release["samples"]
        assert all(s["data_type"] == "IMAGE" for s in release["samples"])
        for profile, wanted in (("lenient", []), ("strict", [("", "schema.required")])):
            found = labelspec.validate(tmp_path / entry["path"], profile=profile).files[0].findings
            assert [(f.pointer, f.rule) for f in found if f.severity == "error"] == wanted, profile
        named = {s["attributes"]["image"]["url"].rsplit("/", 1)[-1] for s in release["samples"]}
        written = {p.name for p in (tmp_path / entry["media_dir"]).iterdir()}
        assert named <= written, "the images the samples name"
    bboxes = _generate(cli, tmp_path / "bboxes", "segments", "--layout", "2020", "--task-type", "bboxes")
    for entry in bboxes:
        release = json.loads((tmp_path / "bboxes" / entry["path"]).read_text())
        assert {t["task_type"] for t in release["tasks"]} == {"bboxes"}


def test_invalid_layout_2020_mutants_report_their_rule(cli: list[str], tmp_path: Path) -> None:
    entries = _generate(
        cli, tmp_path, "segments", "--layout", "2020", "--invalid", "--count", "16", "--seed", "2"
    )
    _check_mutants(tmp_path, entries, "segments")
    for entry in entries:
        assert "dataset" not in json.loads((tmp_path / entry["path"]).read_text()), "still the 2020 layout"
    operators = {e["operator"] for e in entries}
    assert any(o.startswith("SEG-") for o in operators) and any(o.startswith("schema.") for o in operators)
    folder = tmp_path / "rule"
    entries = _generate(
        cli,
        folder,
        "segments",
        "--layout",
        "2020",
        "--invalid",
        "--rule",
        "SEG-CATEGORY-UNDECLARED",
        "--count",
        "2",
    )
    _check_mutants(folder, entries, "segments")
    assert [e["operator"] for e in entries] == ["SEG-CATEGORY-UNDECLARED"] * 2
