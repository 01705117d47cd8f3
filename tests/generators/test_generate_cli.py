"""``labelspec generate``: deterministic output, a manifest, and files that validate as the manifest says."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec.generators.fixtures.mutants import severity_of

RUNS = [
    ("encord", "strict", ["--data-type", "video"], False),
    ("encord", "lenient", [], True),
    ("segments", "strict", ["--task-type", "image-vector-sequence"], False),
    ("datagym", "strict", [], True),
    ("coco-panoptic", "lenient", [], True),
    ("yolo", "strict", [], True),
    ("segments", "lenient", ["--layout", "2020"], True),
    ("coco-instance", "strict", ["--results", "segmentation"], True),
]


def _generate(
    cli: list[str], out: Path, format_id: str, profile: str, extra: list[str], invalid: bool
) -> None:
    command = [
        *cli,
        "generate",
        format_id,
        "--count",
        "5",
        "--seed",
        "7",
        "--out",
        str(out),
        "--profile",
        profile,
    ]
    result = subprocess.run(
        [*command, *extra, *(["--invalid"] if invalid else [])], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("format_id", "profile", "extra", "invalid"), RUNS)
def test_generate_is_deterministic_and_valid_as_declared(
    cli: list[str], tmp_path: Path, format_id: str, profile: str, extra: list[str], invalid: bool
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _generate(cli, first, format_id, profile, extra, invalid)
    _generate(cli, second, format_id, profile, extra, invalid)
    assert _tree(first) == _tree(second), "the same seed must give byte-identical files"

    manifest: dict[str, Any] = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["files"]) == 5
    for entry in manifest["files"]:
        assert entry["profile"] == profile
        assert ("expect" in entry) == invalid
        report = labelspec.validate(
            first / entry["path"],
            format=format_id,
            profile=entry["profile"],
            ontology=first / entry["ontology"] if "ontology" in entry else None,
            png_dir=first / entry["png_dir"] if "png_dir" in entry else None,
        )
        document = report.files[-1]
        found = {f.rule for f in document.findings}
        errors = {f.rule for f in document.findings if f.severity == "error"}
        if invalid:
            expected = {r for r in entry["expect"] if severity_of(r, format_id, profile) == "error"}
            assert errors == expected, (entry, sorted(errors))
        else:
            assert errors == set(), (entry, [f.to_json() for f in document.findings])
        assert set(entry.get("expect", [])) <= found
        if format_id == "encord":
            assert (first / entry["ontology"]).is_file()


def test_a_different_seed_gives_different_files(cli: list[str], tmp_path: Path) -> None:
    for seed, folder in ((1, tmp_path / "one"), (2, tmp_path / "two")):
        command = [
            *cli,
            "generate",
            "coco-instance",
            "--count",
            "2",
            "--seed",
            str(seed),
            "--out",
            str(folder),
        ]
        assert subprocess.run(command, capture_output=True).returncode == 0
    assert _tree(tmp_path / "one") != _tree(tmp_path / "two")


@pytest.mark.parametrize(
    "arguments",
    [
        ["coco-instance", "--data-type", "video"],
        ["encord", "--data-type", "image_group"],
        ["segments", "--task-type", "text-named-entities", "--profile", "strict"],
        ["yolo", "--count", "0"],
        ["nosuchformat"],
        ["segments", "--layout", "2020", "--profile", "strict"],
        ["segments", "--layout", "2020", "--task-type", "pointcloud-cuboid"],
        ["segments", "--layout", "1999"],
        ["coco-instance", "--layout", "2020"],
        ["segments", "--results", "bbox"],
        ["coco-instance", "--results", "polygons"],
    ],
)
def test_bad_usage_exits_2(cli: list[str], tmp_path: Path, arguments: list[str]) -> None:
    result = subprocess.run(
        [*cli, "generate", *arguments, "--out", str(tmp_path / "x")], capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
