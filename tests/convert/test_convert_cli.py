"""``labelspec convert`` through the installed command: exit codes, --force, --strict, --report, safe
media names, atomic outputs; the helpers behind them (safe names, headers only, staging)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from PIL import Image

from labelspec.convert.atomic import OutputExistsError, StagedOutput, output_target, write_bytes
from labelspec.convert.media import UnsafeNameError, find_media, image_size, safe_member_path
from tests.conftest import CORPUS

STREETS = CORPUS / "coco-instance" / "export_coco-instance_jane_streets_v0.3.json"  # lossy to yolo
GROUND_TRUTH = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=60)


def test_convert_writes_the_output_and_a_summary(cli: list[str], tmp_path: Path) -> None:
    out = tmp_path / "coco.json"
    result = run(cli, "convert", GROUND_TRUTH, "--to", "coco-instance", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "coco-instance -> coco-instance" in result.stderr and "lossless" in result.stderr
    assert json.loads(out.read_text())["annotations"]
    assert "Traceback" not in result.stderr


def test_existing_output_needs_force(cli: list[str], tmp_path: Path) -> None:
    out = tmp_path / "coco.json"
    out.write_text("keep me")
    refused = run(cli, "convert", GROUND_TRUTH, "--to", "coco-instance", "-o", out)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert out.read_text() == "keep me"
    forced = run(cli, "convert", GROUND_TRUTH, "--to", "coco-instance", "-o", out, "--force")
    assert forced.returncode == 0 and json.loads(out.read_text())["images"]
    folder = tmp_path / "yolo"
    folder.mkdir()
    (folder / "old.txt").write_text("old")
    assert run(cli, "convert", GROUND_TRUTH, "--to", "yolo", "-o", folder).returncode == 2
    assert run(cli, "convert", GROUND_TRUTH, "--to", "yolo", "-o", folder, "--force").returncode == 0
    assert (folder / "data.yaml").exists() and not (folder / "old.txt").exists()


def test_strict_refuses_a_lossy_conversion_and_writes_nothing(cli: list[str], tmp_path: Path) -> None:
    out, report = tmp_path / "yolo", tmp_path / "report.json"
    result = run(cli, "convert", STREETS, "--to", "yolo", "-o", out, "--strict", "--report", report)
    assert result.returncode == 1
    assert "--strict" in result.stderr and "dropped" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no staging left behind
    content = json.loads(report.read_text())
    assert content["ok"] is False and content["lossless"] is False and "--strict" in content["error"]


def test_report_lists_every_loss_with_reason_and_counts(cli: list[str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run(cli, "convert", STREETS, "--to", "yolo", "-o", tmp_path / "yolo", "--report", report)
    assert result.returncode == 0, result.stderr
    content = json.loads(report.read_text())
    assert (
        content["ok"] is True
        and content["source_format"] == "coco-instance"
        and content["target_format"] == "yolo"
    )
    assert content["counts"]["media"] == 2 and content["counts"]["written_label_files"] == 2
    assert content["mappings"]["class_index"] == {"1": 0, "2": 1, "3": 2}
    kinds = {(s["kind"], s["what"]) for s in content["summary"]}
    assert ("dropped", "point annotation") in kinds and ("approximated", "polygon annotation") in kinds
    assert sum(s["count"] for s in content["summary"]) == len(content["losses"])
    assert all(loss["reason"] for loss in content["losses"])
    data = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert data["names"] == {0: "car", 1: "lamp", 2: "lane"} and data["nc"] == 3
    assert (
        (tmp_path / "yolo" / "labels" / "street_a.txt")
        .read_text()
        .startswith("0 0.375000 0.500000 0.500000 0.333333\n")
    )


def test_invalid_input_is_exit_1_with_the_findings(cli: list[str], tmp_path: Path) -> None:
    out = tmp_path / "coco.json"
    result = run(
        cli,
        "convert",
        CORPUS / "coco-instance" / "bad_bbox_three_values.json",
        "--to",
        "coco-instance",
        "-o",
        out,
    )
    assert result.returncode == 1
    assert "not valid coco-instance" in result.stderr and "/annotations/" in result.stderr
    assert not out.exists() and "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [b"{not json", b""])
def test_unreadable_input_is_exit_2(cli: list[str], tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "broken.json"
    source.write_bytes(content)
    result = run(cli, "convert", source, "--to", "coco-instance", "-o", tmp_path / "out.json")
    assert result.returncode == 2 and "unreadable" in result.stderr and "Traceback" not in result.stderr
    missing = run(cli, "convert", tmp_path / "nope.json", "--to", "coco-instance", "-o", tmp_path / "o.json")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_bad_usage_is_exit_2(cli: list[str], tmp_path: Path) -> None:
    assert run(cli, "convert", GROUND_TRUTH, "--to", "nonsense", "-o", tmp_path / "o").returncode == 2
    assert run(cli, "convert", GROUND_TRUTH, "-o", tmp_path / "o").returncode == 2
    wrong_format = run(
        cli, "convert", GROUND_TRUTH, "--from", "datagym", "--to", "yolo", "-o", tmp_path / "o"
    )
    assert wrong_format.returncode == 1 and not (tmp_path / "o").exists()


def test_media_names_cannot_escape_the_output_folder(cli: list[str], tmp_path: Path) -> None:
    document = json.loads(GROUND_TRUTH.read_text())
    document["images"][0]["file_name"] = "../../escaped.jpg"
    source = tmp_path / "in.json"
    source.write_text(json.dumps(document))
    work = tmp_path / "work"
    work.mkdir()
    result = run(cli, "convert", source, "--to", "yolo", "-o", work / "out" / "yolo")
    assert result.returncode == 1 and "escaped" in result.stderr
    assert not list(tmp_path.rglob("escaped*")) and not (work / "out" / "yolo").exists()
    assert [p.name for p in (work / "out").iterdir()] == []  # the staging folder is gone


def test_formats_lists_every_converter_with_keeps_and_drops(cli: list[str]) -> None:
    from labelspec.convert.registry import READERS, WRITERS

    text = run(cli, "formats")
    assert text.returncode == 0
    for reader in READERS:
        assert f"read {reader}\n" in text.stdout
    for target in WRITERS:
        assert f"write {target} (" in text.stdout
    assert text.stdout.count("  keeps: ") == len(READERS) + len(WRITERS)
    rows = json.loads(run(cli, "formats", "--output", "json").stdout)
    by_id = {row["id"]: row for row in rows}
    assert by_id["encord"]["reader"]["keeps"] and by_id["yolo"]["writers"][0]["drops"]
    assert by_id["semantic-png"]["writers"] and by_id["semantic-png"]["profiles"] == []


# ------------------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize(
    "name", ["../x.jpg", "a/../../x.jpg", "/etc/passwd", "C:\\x.jpg", "a\\..\\..\\x", "", "a\x00b"]
)
def test_safe_member_path_refuses_escapes(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeNameError):
        safe_member_path(tmp_path, name)


def test_safe_member_path_refuses_links_out_and_allows_subfolders(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafeNameError):
        safe_member_path(tmp_path / "out", "link/x.jpg")
    assert safe_member_path(tmp_path / "out", "a/./b.jpg") == tmp_path / "out" / "a" / "b.jpg"


def test_image_size_reads_the_header_only(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated pixel data: the header is enough
    assert image_size(path) == (300, 200)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "x y.png").write_bytes(data)
    assert find_media(tmp_path / "media", "https://host/a/x%20y.png") == tmp_path / "media" / "x y.png"
    assert find_media(tmp_path / "media", "x y", by_stem=True) == tmp_path / "media" / "x y.png"
    assert find_media(tmp_path / "media", "../big.png") is None


def test_staged_output_publishes_atomically_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "result"
    with pytest.raises(RuntimeError), StagedOutput(out, "folder") as stage:
        stage.path.mkdir()
        write_bytes(stage.path / "a.txt", b"a")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []
    with StagedOutput(out, "folder") as stage:
        stage.path.mkdir()
        stage.publish([write_bytes(stage.path / "a.txt", b"a")])
    assert [p.name for p in tmp_path.iterdir()] == ["result"] and (out / "a.txt").read_bytes() == b"a"
    with pytest.raises(OutputExistsError):
        write_bytes(out / "a.txt", b"b")
    assert write_bytes(out / "a.txt", b"b", force=True).read_bytes() == b"b"


def test_convert_and_fix_refuse_an_existing_output_with_one_message(cli: list[str], tmp_path: Path) -> None:
    """-o/--force is one helper (``atomic.output_target`` / ``check_writable``) for both commands."""
    source = CORPUS / "coco-instance" / "box_only_empty_segmentation.json"
    taken = tmp_path / "taken.json"
    taken.write_text("mine")
    messages = []
    for command in (["convert", str(source), "--to", "coco-instance", "-o", str(taken)],
                    ["fix", str(source), "-o", str(taken)]):  # fmt: skip
        result = subprocess.run([*cli, *command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert taken.read_text() == "mine"
        messages.append(f"{taken} exists; pass --force to overwrite it" in result.stderr)
    assert messages == [True, True]
    in_place = tmp_path / "in-place.json"
    assert output_target(in_place, None, in_place=True) == in_place
    assert output_target(in_place, None) is None
    with pytest.raises(OutputExistsError):
        output_target(in_place, taken)
    assert output_target(in_place, taken, force=True) == taken
