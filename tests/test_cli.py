"""Acceptance tests: the installed ``labelspec`` command on real files, as a user runs it."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

COCO_VALID: dict[str, Any] = {
    "images": [{"id": 1, "width": 4, "height": 3, "file_name": "a.jpg"}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 1, 1],
            "area": 1,
            "iscrowd": 0,
            "segmentation": [[0, 0, 1, 0, 1, 1]],
        }
    ],
    "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}],
}


def coco_invalid() -> dict[str, Any]:
    doc = json.loads(json.dumps(COCO_VALID))
    doc["images"][0]["width"] = "four"
    del doc["annotations"][0]["image_id"]
    return doc


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120)


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_valid_file_exits_0(cli: list[str], tmp_path: Path) -> None:
    result = run(cli, "validate", write(tmp_path / "coco.json", COCO_VALID))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid as coco-instance (lenient)" in result.stdout
    assert "1 document checked: 1 valid, 0 invalid" in result.stdout


def test_invalid_file_exits_1_with_every_located_finding(cli: list[str], tmp_path: Path) -> None:
    path = write(tmp_path / "coco.json", coco_invalid())
    result = run(cli, "validate", path, "--output", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    (file,) = report["files"]
    assert file["path"] == str(path) and file["format"] == "coco-instance" and file["valid"] is False
    assert file["profile"] == "lenient"
    located = {(f["rule"], f["pointer"]) for f in file["findings"]}
    assert ("schema.type", "/images/0/width") in located
    assert ("schema.required", "/annotations/0") in located
    for finding in file["findings"]:
        assert set(finding) >= {"rule", "severity", "pointer", "message"}
    messages = " ".join(f["message"] for f in file["findings"])
    assert '"image_id"' in messages and 'string "four"' in messages


def test_text_report_names_file_pointer_and_totals(cli: list[str], tmp_path: Path) -> None:
    path = write(tmp_path / "coco.json", coco_invalid())
    result = run(cli, "validate", path)
    assert result.returncode == 1
    assert f"{path}: INVALID as coco-instance (lenient)" in result.stdout
    assert "/images/0/width  error  schema.type  expected integer" in result.stdout
    assert "1 document checked: 0 valid, 1 invalid" in result.stdout


def test_quiet_prints_only_documents_with_findings(cli: list[str], tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", COCO_VALID)
    bad = write(tmp_path / "bad.json", coco_invalid())
    result = run(cli, "validate", "--quiet", good, bad)
    assert result.returncode == 1
    assert str(good) not in result.stdout and str(bad) in result.stdout
    assert "checked" not in result.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b'{"images": [', "invalid JSON at line 1"),
        (b'{"a": NaN}', "invalid JSON"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        (b"\xff\xfe{}", "invalid JSON"),
    ],
)
def test_unreadable_json_exits_2_with_a_clear_message(
    cli: list[str], tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    result = run(cli, "validate", path)
    assert result.returncode == 2
    assert needle in result.stdout
    assert_no_traceback(result)


def test_missing_file_and_bad_usage_exit_2(cli: list[str], tmp_path: Path) -> None:
    missing = run(cli, "validate", tmp_path / "nope.json")
    assert missing.returncode == 2 and "no such file" in missing.stdout
    bad_format = run(cli, "validate", "--format", "pascal-voc", tmp_path / "x.json")
    assert bad_format.returncode == 2 and "invalid choice" in bad_format.stderr
    no_args = run(cli, "validate")
    assert no_args.returncode == 2
    for result in (missing, bad_format, no_args):
        assert_no_traceback(result)


def test_ambiguous_and_unknown_documents_ask_for_format(cli: list[str], tmp_path: Path) -> None:
    empty_list = run(cli, "validate", write(tmp_path / "empty.json", []))
    assert empty_list.returncode == 2
    assert "several formats (datagym, encord)" in empty_list.stdout and "--format" in empty_list.stdout
    unknown = run(cli, "validate", write(tmp_path / "other.json", {"hello": 1}))
    assert unknown.returncode == 2 and "looks like none of the known formats" in unknown.stdout
    explicit = run(cli, "validate", "--format", "encord", tmp_path / "empty.json")
    assert explicit.returncode == 0, explicit.stdout


def test_gzip_and_zip_exports(cli: list[str], tmp_path: Path) -> None:
    gz = tmp_path / "coco.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(COCO_VALID).encode()))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("rows/good.json", json.dumps(COCO_VALID))
        zf.writestr("rows/bad.json", json.dumps(coco_invalid()))
        zf.writestr("README.txt", "not validated")
    result = run(cli, "validate", "--output", "json", gz, archive)
    assert result.returncode == 1
    files = {f["path"]: f["valid"] for f in json.loads(result.stdout)["files"]}
    assert files == {str(gz): True, f"{archive}!rows/good.json": True, f"{archive}!rows/bad.json": False}


def test_zip_member_escaping_the_folder_is_refused(cli: list[str], tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/evil.json", json.dumps(COCO_VALID))
    result = run(cli, "validate", archive)
    assert result.returncode == 2 and "unsafe member name" in result.stdout
    assert_no_traceback(result)


def test_profile_strict_is_applied(cli: list[str], tmp_path: Path) -> None:
    doc = json.loads(json.dumps(COCO_VALID))
    del doc["annotations"][0]["area"]
    path = write(tmp_path / "coco.json", doc)
    assert run(cli, "validate", path).returncode == 0
    strict = run(cli, "validate", "--profile", "strict", "--output", "json", path)
    assert strict.returncode == 1
    (file,) = json.loads(strict.stdout)["files"]
    assert file["profile"] == "strict"
    assert any(f["rule"] == "schema.required" and '"area"' in f["message"] for f in file["findings"])


def test_formats_and_schema_commands(cli: list[str]) -> None:
    formats = run(cli, "formats", "--output", "json")
    assert formats.returncode == 0
    ids = [row["id"] for row in json.loads(formats.stdout)]
    assert ids[:3] == ["datagym", "segments", "encord"] and "yolo" in ids
    # strict names the SDK it is checked against; the vendor SDK versions are the ones the tests install
    sdks = {row["id"]: row.get("sdk") or "" for row in json.loads(formats.stdout)}
    for fmt, package in (("segments", "segments-ai"), ("encord", "encord"), ("encord-ontology", "encord")):
        assert f"{package} {importlib.metadata.version(package)}" in sdks[fmt], (fmt, sdks[fmt])
    assert "strict = segments-ai" in run(cli, "formats").stdout
    schema = run(cli, "schema", "encord", "--profile", "strict")
    assert schema.returncode == 0
    compiled = json.loads(schema.stdout)
    assert compiled["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert compiled["$id"].endswith("/encord/strict.json")
    assert "x-profiles" not in schema.stdout


def test_examples_command_reports_every_format(cli: list[str]) -> None:
    result = run(cli, "examples", "--quiet")
    for fmt in ("datagym", "segments", "encord"):
        assert f"== {fmt}:" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_folder_of_exports_is_validated_file_by_file(cli: list[str], tmp_path: Path) -> None:
    (tmp_path / "batch" / "nested").mkdir(parents=True)
    good = write(tmp_path / "batch" / "a.json", COCO_VALID)
    bad = write(tmp_path / "batch" / "nested" / "b.json", coco_invalid())
    (tmp_path / "batch" / "notes.md").write_text("not an export")
    result = run(cli, "validate", "--output", "json", tmp_path / "batch")
    assert result.returncode == 1
    files = {f["path"]: f["valid"] for f in json.loads(result.stdout)["files"]}
    assert files == {str(good): True, str(bad): False}
