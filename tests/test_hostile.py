"""Hostile and malformed inputs: exit 1 or 2 with a clear message, bounded time and memory, no traceback."""

from __future__ import annotations

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
