"""``labelspec generate --invalid``: cycling through every operator covers every catalogued rule, ``--rule``
targets one, and each written mutant validates with exactly its declared rules at its declared pointer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec import format_ids
from labelspec.generators.fixtures import mutants
from labelspec.validator.rules import all_rules

GENERATED = format_ids.IDS


def _severity(rule_id: str, format_id: str, profile: str) -> str:
    return mutants.severity_of(rule_id, format_id, profile)


def _run(cli: list[str], out: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, "generate", *arguments, "--out", str(out)], capture_output=True, text=True)


def _check_entries(folder: Path, format_id: str) -> list[dict[str, Any]]:
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if format_id == "coco-panoptic":
            assert "png_dir" in entry and (folder / entry["png_dir"]).is_dir(), entry
        report = labelspec.validate(
            folder / entry["path"],
            format=format_id,
            profile=entry["profile"],
            ontology=folder / entry["ontology"] if "ontology" in entry else None,
            png_dir=folder / entry["png_dir"] if "png_dir" in entry else None,
        )
        if "ontology" in entry and not entry["operator"].startswith(("ENCO-", "schema.")):
            assert not [f for f in report.files[0].findings if f.severity == "error"], entry
        found = report.files[-1].findings
        errors = {f.rule for f in found if f.severity == "error"}
        expected = {r for r in entry["expect"] if _severity(r, format_id, entry["profile"]) == "error"}
        assert errors == expected, (entry, sorted(errors))
        assert set(entry["expect"]) <= {f.rule for f in found}, entry
        # One convention: a YOLO label file is named by its path in the dataset folder, in the manifest
        # and in the report alike.
        assert (entry["operator"], entry["pointer"]) in {(f.rule, f.pointer) for f in found}, entry
    return list(manifest["files"])


@pytest.mark.parametrize("format_id", GENERATED)
def test_every_catalogued_rule_has_an_operator_or_a_reason(format_id: str) -> None:
    for spec in all_rules(format_id):
        if spec.id in mutants.UNREACHABLE:
            assert mutants.UNREACHABLE[spec.id].strip(), f"{spec.id}: say why no edit reaches it"
            assert spec.id not in mutants.SEMANTIC_OPERATORS, f"{spec.id} has an operator after all"
        elif not (format_id == "yolo" and spec.id == "JSON-DUPLICATE-KEY"):  # YOLO is text, not JSON
            assert spec.id in mutants.SEMANTIC_OPERATORS, f"{spec.id}: no mutant operator and no reason"


@pytest.mark.parametrize(
    ("format_id", "profile"), [(f, "lenient") for f in GENERATED] + [("encord", "strict")]
)
def test_count_of_operators_covers_every_catalogued_rule(
    cli: list[str], tmp_path: Path, format_id: str, profile: str
) -> None:
    operators = mutants.operators_for(format_id, profile)
    count = str(len(operators))
    result = _run(
        cli, tmp_path, format_id, "--invalid", "--count", count, "--profile", profile, "--seed", "3"
    )
    assert result.returncode == 0, result.stderr
    entries = _check_entries(tmp_path, format_id)
    used = {entry["operator"] for entry in entries}
    wanted = {r for r in operators if not r.startswith("schema.")} - set(mutants.UNREACHABLE)
    assert wanted <= used, f"rules never broken: {sorted(wanted - used)}"


def test_yolo_output_folder_reports_each_dataset_as_its_manifest_names_it(
    cli: list[str], tmp_path: Path
) -> None:
    """Validating the whole output folder: every generated dataset (names-less Segments.ai SDK layouts
    too) is its own report, and its finding carries the manifest's pointer."""
    count = str(len(mutants.operators_for("yolo", "lenient")))
    result = _run(cli, tmp_path, "yolo", "--invalid", "--count", count, "--profile", "lenient", "--seed", "3")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert any("~1" in e["pointer"] for e in manifest["files"])  # label files below the dataset folder
    report = labelspec.validate(tmp_path, profile="lenient")
    by_path = {Path(f.path).resolve(): f for f in report.files}
    for entry in manifest["files"]:
        own = by_path[(tmp_path / entry["path"]).resolve()]
        assert (entry["operator"], entry["pointer"]) in {(f.rule, f.pointer) for f in own.findings}, entry
    assert len(report.files) == len(manifest["files"])  # no two datasets merged into one report


def test_rule_option_breaks_only_that_rule(cli: list[str], tmp_path: Path) -> None:
    for rule in ("COCO-AREA-NOT-POSITIVE", "COCO-RLE-NOT-CROWD", "schema.required"):
        folder = tmp_path / rule
        result = _run(cli, folder, "coco-instance", "--invalid", "--rule", rule, "--count", "3")
        assert result.returncode == 0, result.stderr
        entries = _check_entries(folder, "coco-instance")
        assert [e["operator"] for e in entries] == [rule] * 3


@pytest.mark.parametrize(
    "arguments",
    [
        ["coco-instance", "--invalid", "--rule", "SEG-TRACK-DUPLICATE"],
        ["coco-instance", "--invalid", "--rule", "NO-SUCH-RULE"],
        ["coco-instance", "--rule", "COCO-AREA-NOT-POSITIVE"],
    ],
)
def test_rule_option_misuse_exits_2(cli: list[str], tmp_path: Path, arguments: list[str]) -> None:
    result = _run(cli, tmp_path / "x", *arguments)
    assert result.returncode == 2, result.stderr
    assert "--rule" in result.stderr and "Traceback" not in result.stderr
