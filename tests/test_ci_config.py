"""CI ergonomics: configuration files, --select/--ignore/--fail-on, grouped text output, rule explanations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import COCO_VALID


def run_in(cli: list[str], cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def coco(areas: int = 0, unknown_category: bool = False) -> dict[str, Any]:
    """A COCO file with ``areas`` zero-area annotations (warnings) and maybe an unknown category (error)."""
    doc = json.loads(json.dumps(COCO_VALID))
    first = doc["annotations"][0]
    doc["annotations"] = [dict(first, id=n + 1, area=0) for n in range(areas)] or [first]
    if unknown_category:
        doc["annotations"].append(dict(first, id=99, category_id=9))
    return doc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "warn.json").write_text(json.dumps(coco(areas=2)))
    (tmp_path / "exports" / "bad.json").write_text(json.dumps(coco(unknown_category=True)))
    return tmp_path


def test_fail_on_warning_and_error(cli: list[str], project: Path) -> None:
    assert run_in(cli, project, "validate", "exports/warn.json").returncode == 0
    assert run_in(cli, project, "validate", "--fail-on", "warning", "exports/warn.json").returncode == 1
    (project / "labelspec.toml").write_text('fail-on = "warning"\n')
    assert run_in(cli, project, "validate", "exports/warn.json").returncode == 1
    # the command line overrides the file
    assert run_in(cli, project, "validate", "--fail-on", "error", "exports/warn.json").returncode == 0


def test_select_and_ignore_from_the_command_line(cli: list[str], project: Path) -> None:
    both = ["exports/warn.json", "exports/bad.json"]
    result = run_in(cli, project, "validate", "--ignore", "COCO-CATEGORY-ID-UNKNOWN", *both)
    assert result.returncode == 0, result.stdout
    assert "COCO-CATEGORY-ID-UNKNOWN" not in result.stdout and "COCO-AREA-NOT-POSITIVE" in result.stdout
    result = run_in(cli, project, "validate", "--select", "COCO-CATEGORY", *both)  # a prefix
    assert result.returncode == 1
    assert "COCO-CATEGORY-ID-UNKNOWN" in result.stdout and "COCO-AREA-NOT-POSITIVE" not in result.stdout
    result = run_in(cli, project, "validate", "--ignore", "COCO-AREA-NOT-POSITIVE,COCO-CATEGORY", *both)
    assert result.returncode == 0 and "COCO-" not in result.stdout


def test_pyproject_configuration(cli: list[str], project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.labelspec]\n"
        'profile = "strict"\nexclude = ["exports/bad.*"]\n'
        '[tool.labelspec.severity]\n"COCO-AREA-NOT-POSITIVE" = "warning"\n'
        '[tool.labelspec.format]\n"exports/*.json" = "coco-instance"\n'
    )
    result = run_in(cli, project, "validate", "exports/warn.json", "exports/bad.json")
    # strict makes a zero area an error, the override a warning again; bad.json is excluded
    assert result.returncode == 0, result.stdout + result.stderr
    assert "exports/warn.json: valid as coco-instance (strict), 2 warnings" in result.stdout
    assert (
        "exports/bad.json: excluded by the configuration's exclude" in result.stdout
    )  # listed, not validated
    assert "bad.json: INVALID" not in result.stdout and "bad.json: valid" not in result.stdout
    # a subfolder finds the configuration upwards; --no-config ignores it
    sub = project / "exports"
    assert "(strict)" in run_in(cli, sub, "validate", "warn.json").stdout
    result = run_in(cli, sub, "validate", "--no-config", "warn.json", "bad.json")
    assert "(lenient)" in result.stdout and result.returncode == 1


def test_labelspec_toml_wins_over_pyproject_and_cli_overrides(cli: list[str], project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.labelspec]\nprofile = "strict"\n')
    (project / "labelspec.toml").write_text('profile = "lenient"\nselect = ["COCO-AREA-NOT-POSITIVE"]\n')
    result = run_in(cli, project, "validate", "exports/bad.json", "exports/warn.json")
    assert "(lenient)" in result.stdout and result.returncode == 0
    result = run_in(cli, project, "validate", "--profile", "strict", "--select", "COCO", "exports/bad.json")
    assert "(strict)" in result.stdout and result.returncode == 1


def test_ontology_per_glob_and_exclude_reach_files_inside_folders(cli: list[str], tmp_path: Path) -> None:
    from labelspec.validator.compiler import load_format_yaml

    entry = next(
        e for e in load_format_yaml("encord", "rules.yaml") if e["id"] == "ENC-OBJECT-FEATURE-UNKNOWN"
    )
    (tmp_path / "rows" / "old").mkdir(parents=True)
    for name in ("a.json", "b.json", "old/c.json"):
        (tmp_path / "rows" / name).write_text(json.dumps(entry["example"]))
    (tmp_path / "ontology.json").write_text(json.dumps(entry["example_ontology"]))
    assert "ENC-OBJECT-FEATURE-UNKNOWN" not in run_in(cli, tmp_path, "validate", "rows").stdout
    (tmp_path / "labelspec.toml").write_text(
        'exclude = ["rows/old/**"]\n[ontology]\n"rows/*.json" = "ontology.json"\n'
    )
    result = run_in(cli, tmp_path, "validate", "--output", "json", "rows")
    files = json.loads(result.stdout)["files"]
    paths = [Path(f["path"]).name for f in files]
    assert paths == ["ontology.json", "a.json", "b.json"], paths  # the ontology reported once; old/ excluded
    for file in files[1:]:
        assert "ENC-OBJECT-FEATURE-UNKNOWN" in {f["rule"] for f in file["findings"]}, file


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[tool.labelspec]\nprofiel = "strict"\n', "'profiel'"),
        ('[tool.labelspec]\nignore = ["ENC-NO-SUCH-RULE"]\n', "'ENC-NO-SUCH-RULE'"),
        ('[tool.labelspec]\nselect = ["NOPE"]\n', "'NOPE'"),
        ('[tool.labelspec.severity]\n"COCO-NOPE" = "error"\n', "'COCO-NOPE'"),
        ('[tool.labelspec.severity]\n"COCO-AREA-NOT-POSITIVE" = "fatal"\n', "'fatal'"),
        ('[tool.labelspec.format]\n"*.json" = "pascal-voc"\n', "'pascal-voc'"),
        ('[tool.labelspec]\nprofile = "sloppy"\n', "'sloppy'"),
        ("[tool.labelspec\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_usage_error_naming_it(
    cli: list[str], project: Path, content: str, named: str
) -> None:
    (project / "pyproject.toml").write_text(content)
    result = run_in(cli, project, "validate", "exports/warn.json")
    assert result.returncode == 2, result.stdout
    assert named in result.stderr and "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_rule_on_the_command_line_is_a_usage_error(cli: list[str], project: Path) -> None:
    result = run_in(cli, project, "validate", "--ignore", "COCO-TYPO", "exports/warn.json")
    assert result.returncode == 2 and "'COCO-TYPO'" in result.stderr


def test_alike_findings_are_grouped_and_capped(cli: list[str], tmp_path: Path) -> None:
    (tmp_path / "many.json").write_text(json.dumps(coco(areas=10, unknown_category=True)))
    result = run_in(cli, tmp_path, "validate", "many.json")
    lines = result.stdout.splitlines()
    assert sum("COCO-AREA-NOT-POSITIVE  area is 0" in line for line in lines) == 3
    assert "  … and 7 more like this (COCO-AREA-NOT-POSITIVE)" in lines
    assert any("COCO-CATEGORY-ID-UNKNOWN" in line for line in lines)
    assert "11 warnings" in lines[0] or "10 warnings" in lines[0]
    capped = run_in(cli, tmp_path, "validate", "--max-findings", "1", "many.json").stdout.splitlines()
    assert sum(" warning  " in line or " error  " in line for line in capped) == 1
    # 3 shown of the group become 1: the 2 others, the 7 'alike' and the unknown category are not shown
    assert "  … 10 more findings not shown (--max-findings 1)" in capped
    every = json.loads(run_in(cli, tmp_path, "validate", "--output", "json", "many.json").stdout)
    assert len(every["files"][0]["findings"]) == 11


def test_rules_explains_one_rule(cli: list[str], tmp_path: Path) -> None:
    result = run_in(cli, tmp_path, "rules", "COCO-NUM-KEYPOINTS-MISMATCH")
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith("COCO-NUM-KEYPOINTS-MISMATCH: num_keypoints differs")
    assert "severity: lenient: warning, strict: warning" in out
    assert "why:" in out and "fails" in out and "passes" in out
    data = json.loads(
        run_in(cli, tmp_path, "rules", "COCO-NUM-KEYPOINTS-MISMATCH", "--output", "json").stdout
    )
    assert (
        data["example"]
        and data["passing_example"]
        and data["severity"] == {"lenient": "warning", "strict": "warning"}
    )
    unknown = run_in(cli, tmp_path, "rules", "COCO-NOPE")
    assert unknown.returncode == 2 and "'COCO-NOPE'" in unknown.stderr
    assert "fix: none" in run_in(cli, tmp_path, "rules", "COCO-IMAGE-ID-DUPLICATE").stdout


def test_rules_explains_a_structural_finding_and_its_fix(cli: list[str], tmp_path: Path) -> None:
    """A schema finding with a fix is catalogued in rules.yaml (schema_finding:), so it is explained too."""
    out = run_in(cli, tmp_path, "rules", "ENC-FIX-BRANCH-NAME").stdout
    assert out.startswith("ENC-FIX-BRANCH-NAME: A label row has no branch_name")
    assert "severity: strict: error" in out and "not reported under: lenient" in out
    assert "reported by the schema as: schema.required" in out
    assert "fails" in out and "passes" in out
    assert "fix ENC-FIX-BRANCH-NAME (safe)" in out
    assert "labelspec fix EXPORT --rule ENC-FIX-BRANCH-NAME" in out
    data = json.loads(run_in(cli, tmp_path, "rules", "ENC-FIX-BRANCH-NAME", "--output", "json").stdout)
    assert data["schema_finding"]["rule"] == "schema.required" and data["fixes"][0]["safety"] == "safe"
    listed = run_in(cli, tmp_path, "rules", "encord").stdout
    assert "ENC-FIX-BRANCH-NAME  (strict: error) [reported as schema.required]" in listed


def test_a_catalogued_structural_finding_is_selected_by_its_id(cli: list[str], tmp_path: Path) -> None:
    """COCO-FIX-ISCROWD stands for the schema.enum findings of iscrowd: ignoring it drops those, not the
    other schema.enum findings; severity overrides reach them by the same id."""
    annotation = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": "false",
                  "segmentation": [[0, 0, 2, 0, 2, 2]]}  # fmt: skip
    doc = {"images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.jpg"}],
           "categories": [{"id": 1, "name": "p", "supercategory": "x"}],
           "annotations": [dict(annotation, id=n) for n in (1, 2)]}  # fmt: skip
    doc["annotations"][1]["segmentation"] = {"size": [4, 4], "counts": "x"}
    doc["annotations"][1]["iscrowd"] = 3  # also schema.enum, but not a string: not COCO-FIX-ISCROWD's
    (tmp_path / "coco.json").write_text(json.dumps(doc))

    def rules(*args: str) -> list[tuple[str, str, str]]:
        out = json.loads(run_in(cli, tmp_path, "validate", "coco.json", "--output", "json", *args).stdout)
        return [(f["rule"], f["pointer"], f["severity"]) for f in out["files"][0]["findings"]]

    every = rules()
    assert ("schema.enum", "/annotations/0/iscrowd", "error") in every
    assert ("schema.enum", "/annotations/1/iscrowd", "error") in every
    ignored = rules("--ignore", "COCO-FIX-ISCROWD")
    assert ignored == [f for f in every if f[1] != "/annotations/0/iscrowd"]
    assert rules("--select", "COCO-FIX-ISCROWD") == [("schema.enum", "/annotations/0/iscrowd", "error")]
    (tmp_path / "labelspec.toml").write_text('[severity]\n"COCO-FIX-ISCROWD" = "warning"\n')
    assert ("schema.enum", "/annotations/0/iscrowd", "warning") in rules()
    assert ("schema.enum", "/annotations/1/iscrowd", "error") in rules()
