"""Hostile and malformed inputs: exit 1 or 2 with a clear message, bounded time and memory, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.hostile_inputs import deep_nesting, gzip_bomb, zip_bomb

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES: list[dict[str, Any]] = yaml.safe_load((HOSTILE / "index.yaml").read_text())


def run(cli: list[str], *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    return result


def memory_capped(limit_mib: int) -> Any:
    """A preexec_fn capping the child's address space, to prove decompression stays bounded."""

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_mib << 20, limit_mib << 20))

    return cap


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['file']}-{c.get('format', 'auto')}")
def test_hostile_corpus(cli: list[str], case: dict[str, Any]) -> None:
    args: list[str | Path] = ["validate", HOSTILE / case["file"]]
    if "format" in case:
        args += ["--format", case["format"]]
    result = run(cli, *args)
    assert result.returncode == case["exit"], result.stdout + result.stderr
    assert case["message"] in result.stdout, result.stdout


def test_200k_deep_nesting(cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(deep_nesting(200_000))
    result = run(cli, "validate", "--format", "encord", path)
    assert result.returncode == 2 and "nesting is deeper than 1024 levels" in result.stdout


def test_gzip_bomb_is_refused_in_bounded_memory(cli: list[str], tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "export.json.gz", gib=3)
    assert bomb.stat().st_size < 4 << 20
    result = subprocess.run(
        [*cli, "validate", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=memory_capped(1024),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing a likely decompression bomb" in result.stdout


def test_zip_bomb_is_refused_in_bounded_memory(cli: list[str], tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "export.zip", gib=3)
    assert bomb.stat().st_size < 4 << 20
    assert zipfile.ZipFile(bomb).infolist()[0].file_size == 3 << 30
    result = subprocess.run(
        [*cli, "validate", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=memory_capped(1024),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "export.zip!export.json" in result.stdout and "decompression bomb" in result.stdout


def test_zip_slip_member_is_refused(cli: list[str], tmp_path: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.json", "[]")
        zf.writestr("/abs/path.json", "[]")
    result = run(cli, "validate", "--format", "encord", archive)
    assert result.returncode == 2
    assert result.stdout.count("unsafe member name") == 2
    assert not (tmp_path.parent / "outside.json").exists()


def test_directory_without_dataset_is_a_usage_error(cli: list[str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(cli, "validate", tmp_path / "empty")
    assert result.returncode == 2 and "is a directory" in result.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text("[]")
    path.chmod(0)
    result = run(cli, "validate", path)
    assert result.returncode == 2 and "permission denied" in result.stdout


def test_broken_symlink_and_not_a_zip(cli: list[str], tmp_path: Path) -> None:
    link = tmp_path / "gone.json"
    link.symlink_to(tmp_path / "missing-target.json")
    fake_zip = tmp_path / "export.zip"
    fake_zip.write_bytes(b"PK\x03\x04 definitely not a zip")
    result = run(cli, "validate", link, fake_zip)
    assert result.returncode == 2
    assert "no such file" in result.stdout and "cannot read" in result.stdout


# ------------------------------------------------------------------ numbers too long for int()

CORPUS = Path(__file__).resolve().parent / "corpus"
HUGE = "7" * 5000  # CPython's int() refuses more than 4300 digits


def _encord_with_huge_numbers(folder: Path) -> tuple[Path, Path]:
    """An image-group row whose data_sequence values are 5000-digit strings, and a video row with a
    5000-digit frame key (both otherwise corpus rows)."""
    group = json.loads((CORPUS / "encord" / "image-sequence-row.json").read_text())
    for unit in group[0]["data_units"].values():
        unit["data_sequence"] = HUGE
    video = json.loads((CORPUS / "encord" / "video-row.json").read_text())
    labels = next(iter(video[0]["data_units"].values()))["labels"]
    labels[HUGE] = labels[next(iter(labels))]
    (folder / "group.json").write_text(json.dumps(group))
    (folder / "video.json").write_text(json.dumps(video))
    return folder / "group.json", folder / "video.json"


@pytest.mark.parametrize("mode", [[], ["--no-stream"], ["--stream"], ["--jobs", "2"]])
def test_huge_numbers_give_located_findings_and_the_run_goes_on(
    cli: list[str], tmp_path: Path, mode: list[str]
) -> None:
    group, video = _encord_with_huge_numbers(tmp_path)
    yolo = tmp_path / "frame_001.txt"
    yolo.write_text(f"{HUGE} 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n")
    clean = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"
    result = run(cli, "validate", *mode, "--output", "json", group, video, yolo, clean)
    assert result.returncode == 1, result.stdout + result.stderr
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert set(files) == {"group.json", "video.json", "frame_001.txt", clean.name}
    assert files[clean.name]["valid"]
    group_pointers = {f["pointer"] for f in files["group.json"]["findings"]}
    assert {p for p in group_pointers if p.endswith("/data_sequence")}, group_pointers
    assert any(f["pointer"].endswith("/labels/" + HUGE) for f in files["video.json"]["findings"])
    yolo_findings = files["frame_001.txt"]["findings"]
    assert [f["pointer"] for f in yolo_findings] == ["/labels/frame_001.txt/0/0"]
    assert "frame_001.txt line 1, field 1" in yolo_findings[0]["message"]


def test_huge_numbers_through_the_python_api(tmp_path: Path) -> None:
    import labelspec

    group, video = _encord_with_huge_numbers(tmp_path)
    for source in (group, video, json.loads(group.read_text()), video.read_bytes()):
        report = labelspec.validate(source, format="encord")
        assert not report.valid
        assert not [f for f in report.findings if f.rule.startswith("internal.")]


def test_unicode_digits_in_keys_are_not_read_as_numbers(cli: list[str], tmp_path: Path) -> None:
    """'²'.isdigit() is True but int('²') raises: a names key or a frame key spelt so is reported."""
    (tmp_path / "data.yaml").write_text('names: {"²": a, 0: b}\n')
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    result = run(cli, "validate", tmp_path)
    assert result.returncode == 1 and "/names/²  error  schema.propertyNames" in result.stdout


# ------------------------------------------------------------------ a rule that raises

INJECT = """
import sys
from labelspec.validator.rules import coco  # registers the COCO checks
from labelspec.validator.rules.base import CHECKS

def broken(context):
    yield "/images/0", "found before failing"
    raise KeyError("injected failure")

CHECKS["COCO-IMAGE-ID-DUPLICATE"] = broken
from labelspec.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_exception_inside_a_rule_becomes_a_finding(tmp_path: Path) -> None:
    import sys

    first = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"
    second = HOSTILE / "duplicate-keys.json"
    result = subprocess.run(
        [sys.executable, "-c", INJECT, "validate", "--output", "json", str(first), str(second)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    files = json.loads(result.stdout)["files"]
    assert len(files) == 2
    for file in files:
        rules_found = [f["rule"] for f in file["findings"]]
        aborted = [f for f in file["findings"] if f["rule"] == "internal.rule-aborted"]
        assert len(aborted) == 1, file
        assert aborted[0]["severity"] == "error"
        assert "COCO-IMAGE-ID-DUPLICATE" in aborted[0]["message"] and "KeyError" in aborted[0]["message"]
        assert "COCO-IMAGE-ID-DUPLICATE" in rules_found  # what it found before failing is kept
    assert "JSON-DUPLICATE-KEY" in {f["rule"] for f in files[1]["findings"]}  # the other rules still ran


def test_an_exception_inside_a_rule_through_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import labelspec
    from labelspec.validator.rules import load_checks
    from labelspec.validator.rules.base import CHECKS

    load_checks("yolo")

    def broken(context: Any) -> Any:
        raise ValueError("injected")

    monkeypatch.setitem(CHECKS, "YOLO-LINE-DUPLICATE", broken)
    document = {"names": ["a"], "names_file": None, "labels": {"a.txt": [[3, 0.5, 0.5, 0.2, 0.2]]}}
    report = labelspec.validate(document, format="yolo")
    assert {f.rule for f in report.findings} == {"internal.rule-aborted", "YOLO-CLASS-OUT-OF-RANGE"}
    assert "YOLO-LINE-DUPLICATE" in next(f.message for f in report.findings if f.rule.startswith("internal"))
