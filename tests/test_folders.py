"""Folders through the installed CLI: validated file by file, YOLO datasets one by one, nothing skipped
silently (every file is reported or listed as skipped with its reason)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import labelspec

CORPUS = Path(__file__).resolve().parent / "corpus"
EMPTY_ONTOLOGY = {"objects": [], "classifications": []}  # every featureHash of a row is then unknown


def run(cli: list[str], *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def as_json(cli: list[str], *args: str | Path, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    result = run(cli, "validate", "--output", "json", *args, cwd=cwd)
    return result.returncode, json.loads(result.stdout)


def by_path(report: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).relative_to(root).as_posix() or ".": f for f in report["files"]}


def skipped(report: dict[str, Any], root: Path) -> dict[str, str]:
    return {Path(s["path"]).relative_to(root).as_posix(): s["reason"] for s in report["skipped"]}


def yolo_dataset(folder: Path, names: str, lines: str, names_file: str = "data.yaml") -> Path:
    (folder / "labels" / "train").mkdir(parents=True)
    (folder / names_file).write_text(names)
    (folder / "labels" / "train" / "img1.txt").write_text(lines)
    (folder / "labels" / "train" / "img2.txt").write_text("")  # an image without objects
    return folder


def test_mixed_folder_reports_every_file(cli: list[str], tmp_path: Path) -> None:
    """JSON exports next to a YOLO dataset and a notes file: the invalid COCO file is validated as COCO,
    the dataset as YOLO, the notes are listed as skipped; nothing passes as 'valid as yolo' alone."""
    shutil.copy(CORPUS / "coco-instance" / "bad_missing_images.json", tmp_path / "coco.json")
    shutil.copy(CORPUS / "coco-instance" / "pycocotools_ground_truth.json", tmp_path / "gt.json")
    (tmp_path / "notes.txt").write_text("Export of 3 March.\nClasses: car person\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    yolo_dataset(tmp_path / "yolo", "names: [car]\n", "0 0.5 0.5 0.2 0.2\n")
    code, report = as_json(cli, tmp_path)
    assert code == 1
    files = by_path(report, tmp_path)
    assert {k: (f["format"], f["valid"]) for k, f in files.items()} == {
        "coco.json": ("coco-instance", False),
        "gt.json": ("coco-instance", True),
        "yolo": ("yolo", True),
    }
    assert set(skipped(report, tmp_path)) == {"notes.txt", "photo.jpg", ".DS_Store"}
    assert "not YOLO label lines" in skipped(report, tmp_path)["notes.txt"]
    text = run(cli, "validate", tmp_path).stdout
    assert "notes.txt: a text file that is not YOLO label lines" in text
    assert "3 files skipped" in text


def test_notes_next_to_coco_never_make_a_yolo_folder(cli: list[str], tmp_path: Path) -> None:
    shutil.copy(CORPUS / "coco-instance" / "bad_missing_images.json", tmp_path / "coco.json")
    (tmp_path / "notes.txt").write_text("to do: check the boxes\n")
    code, report = as_json(cli, tmp_path)
    assert code == 1
    assert [(f["format"], f["valid"]) for f in report["files"]] == [("coco-instance", False)]


def test_datasets_are_never_merged(cli: list[str], tmp_path: Path) -> None:
    """Two ultralytics datasets under one folder, each with its own data.yaml: two reports, and the
    class out of range of the second one (2 names) is found."""
    yolo_dataset(tmp_path / "a", "names: [car, person, bike]\n", "2 0.5 0.5 0.2 0.2\n")
    yolo_dataset(tmp_path / "b", "names: [car, person]\n", "2 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.1 0.1\n")
    code, report = as_json(cli, tmp_path)
    assert code == 1
    files = by_path(report, tmp_path)
    assert set(files) == {"a", "b"}
    assert files["a"]["valid"]
    assert [(f["rule"], f["pointer"]) for f in files["b"]["findings"]] == [
        ("YOLO-CLASS-OUT-OF-RANGE", "/labels/labels~1train~1img1.txt/0/0")
    ]


def test_roboflow_layout_is_one_dataset(cli: list[str], tmp_path: Path) -> None:
    """data.yaml at the top, train/labels and valid/labels below it: one dataset with those names."""
    (tmp_path / "data.yaml").write_text("names: [car]\nnc: 1\ntrain: train/images\nval: valid/images\n")
    for split in ("train", "valid"):
        (tmp_path / split / "labels").mkdir(parents=True)
        (tmp_path / split / "labels" / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    code, report = as_json(cli, tmp_path)
    assert code == 1
    (file,) = report["files"]
    assert [f["rule"] for f in file["findings"]] == ["YOLO-CLASS-OUT-OF-RANGE"] * 2


@pytest.mark.parametrize("names_file", ["example.yaml", "classes.txt", "obj.names", "dataset.yaml"])
def test_names_files(cli: list[str], tmp_path: Path, names_file: str) -> None:
    """Any YAML with `names` (labelformat's example.yaml, which ultralytics reads), classes.txt, obj.names:
    the class range is checked with them."""
    names = (
        "car\nperson\n" if not names_file.endswith(".yaml") else "path: .\nnames:\n  0: car\n  1: person\n"
    )
    yolo_dataset(tmp_path, names, "5 0.5 0.5 0.2 0.2\n", names_file=names_file)
    code, report = as_json(cli, tmp_path)
    (file,) = report["files"]
    assert code == 1 and [f["rule"] for f in file["findings"]] == ["YOLO-CLASS-OUT-OF-RANGE"]
    assert report["skipped"] == []


def test_a_yaml_without_names_is_skipped_with_its_reason(cli: list[str], tmp_path: Path) -> None:
    yolo_dataset(tmp_path, "car\n", "0 0.5 0.5 0.2 0.2\n", names_file="classes.txt")
    (tmp_path / "hyp.yaml").write_text("lr0: 0.01\n")
    code, report = as_json(cli, tmp_path)
    assert code == 0
    assert skipped(report, tmp_path) == {"hyp.yaml": "a YAML file without `names` (no YOLO dataset)"}


def test_include_and_exclude_are_repeatable(cli: list[str], tmp_path: Path) -> None:
    for name in ("a.json", "b.json", "c.json"):
        shutil.copy(CORPUS / "coco-instance" / "pycocotools_ground_truth.json", tmp_path / name)
    shutil.copy(CORPUS / "coco-instance" / "bad_missing_images.json", tmp_path / "broken.json")
    (tmp_path / "sub").mkdir()
    shutil.copy(CORPUS / "coco-instance" / "bad_missing_images.json", tmp_path / "sub" / "x.json")
    code, report = as_json(cli, tmp_path, "--exclude", "broken.json", "--exclude", "sub/*")
    assert code == 0 and set(by_path(report, tmp_path)) == {"a.json", "b.json", "c.json"}
    assert skipped(report, tmp_path) == {
        "broken.json": "excluded by --exclude broken.json",
        "sub/x.json": "excluded by --exclude sub/*",
    }
    code, report = as_json(cli, tmp_path, "--include", "a.*", "--include", "c.json")
    assert code == 0 and set(by_path(report, tmp_path)) == {"a.json", "c.json"}
    assert set(skipped(report, tmp_path)) == {"b.json", "broken.json", "sub/x.json"}


def test_format_decides_how_a_file_is_read(cli: list[str], tmp_path: Path) -> None:
    """A COCO file saved as .txt (CVAT exports are committed so) is JSON with --format coco-instance."""
    coco = tmp_path / "instances.txt"
    shutil.copy(CORPUS / "coco-instance" / "pycocotools_ground_truth.json", coco)
    result = run(cli, "validate", "--format", "coco-instance", coco)
    assert result.returncode == 0, result.stdout
    assert "valid as coco-instance" in result.stdout
    code, report = as_json(cli, "--format", "coco-instance", tmp_path)
    assert code == 0 and [f["format"] for f in report["files"]] == ["coco-instance"]


def test_generator_manifest_does_not_fail_the_folder(cli: list[str], tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run(cli, "generate", "coco-instance", "--count", "2", "--seed", "3", "--out", out).returncode == 0
    code, report = as_json(cli, out)
    assert code == 0, report
    assert len(report["files"]) == 2
    assert skipped(report, out) == {"manifest.json": "the manifest `labelspec generate` writes"}


def test_empty_folder_is_unusable_input(cli: list[str], tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("nothing here")
    result = run(cli, "validate", tmp_path)
    assert result.returncode == 2 and "is a directory with no exports" in result.stdout
    assert "readme.md: not an export" in result.stdout


# ------------------------------------------------------------------------------- Encord ontologies


def _rows(folder: Path, name: str) -> Path:
    path = folder / name
    shutil.copy(CORPUS / "encord" / "image-row.json", path)
    return path


def _ontology_rules(file: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in file["findings"] if "FEATURE-UNKNOWN" in f["rule"]}


@pytest.mark.parametrize("convention", ["<stem>.ontology.json", "ontology.json"])
def test_encord_rows_find_their_ontology_by_convention(
    cli: list[str], tmp_path: Path, convention: str
) -> None:
    _rows(tmp_path, "rows.json")
    name = convention.replace("<stem>", "rows")
    (tmp_path / name).write_text(json.dumps(EMPTY_ONTOLOGY))
    code, report = as_json(cli, tmp_path)
    files = by_path(report, tmp_path)
    assert files[name]["format"] == "encord-ontology"  # validated as a document of its own, once
    assert _ontology_rules(files["rows.json"]) == {
        "ENC-OBJECT-FEATURE-UNKNOWN",
        "ENC-CLASSIFICATION-FEATURE-UNKNOWN",
    }
    assert code == 1 and len(report["files"]) == 2


def test_without_an_ontology_the_ontology_rules_do_not_run(cli: list[str], tmp_path: Path) -> None:
    _rows(tmp_path, "rows.json")
    code, report = as_json(cli, tmp_path)
    assert code == 0 and not _ontology_rules(report["files"][0])


def test_ontology_per_glob(cli: list[str], tmp_path: Path) -> None:
    """--ontology GLOB=PATH: each export finds its own; the ontology is reported once, first."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _rows(tmp_path / "a", "rows.json")
    _rows(tmp_path / "b", "rows.json")
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(EMPTY_ONTOLOGY))
    code, report = as_json(cli, tmp_path / "a", tmp_path / "b", "--ontology", f"a/*={empty}")
    files = by_path(report, tmp_path)
    assert list(files) == ["empty.json", "a/rows.json", "b/rows.json"]
    assert _ontology_rules(files["a/rows.json"]) and not _ontology_rules(files["b/rows.json"])
    assert code == 1


def test_plain_ontology_applies_to_every_export(cli: list[str], tmp_path: Path) -> None:
    first, second = _rows(tmp_path, "one.json"), _rows(tmp_path, "two.json")
    empty = tmp_path / "empty.ontology"
    empty.write_text(json.dumps(EMPTY_ONTOLOGY))
    for jobs in ("1", "2"):
        code, report = as_json(cli, "--ontology", empty, "--jobs", jobs, first, second)
        assert code == 1
        files = by_path(report, tmp_path)
        assert list(files) == ["empty.ontology", "one.json", "two.json"]
        assert _ontology_rules(files["one.json"]) and _ontology_rules(files["two.json"]), jobs


# ------------------------------------------------------------------------------------ Python API


def test_python_api_lists_skipped_files(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "coco-instance" / "pycocotools_ground_truth.json", tmp_path / "gt.json")
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "old.json").write_text("{}")
    report = labelspec.validate(tmp_path, exclude=["old.*"])
    assert [Path(f.path).name for f in report.files] == ["gt.json"]
    assert {Path(s.path).name: s.reason for s in report.skipped} == {
        "notes.txt": "a text file that is not YOLO label lines (line 1 is not 'class x y w h ...')",
        "old.json": "excluded by --exclude old.*",
    }
    assert report.to_json()["skipped"][0]["path"].endswith("notes.txt")
