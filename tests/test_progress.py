"""The progress bar of ``labelspec validate`` (bytes), seen on a real terminal (a pseudo-terminal).

The bar shows only when stderr is a terminal: for one large file it must move while that file is read,
not only jump from 0 to done.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.encord import build_ontology, build_row
from tests.conftest import labelspec_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

BAR = re.compile(rb"\r\[[#-]{30}\]\s+(\d+\.\d)% ([\d.]+)/([\d.]+) MB")


def _large_export(path: Path, size: int) -> Path:
    """A clean Encord export of at least ``size`` bytes: generated video rows, repeated with fresh
    label hashes (duplicate hashes would be findings)."""
    draw = RandomDraw(3)
    ontology = build_ontology(draw, profile="lenient")
    rows = [
        orjson.dumps(
            build_row(draw, ontology, profile="lenient", data_type="video", max_frames=40, max_objects=6)
        )
        for _ in range(8)
    ]
    written = 0
    with path.open("wb") as out:
        out.write(b"[")
        copy = 0
        while written < size:
            row = orjson.loads(rows[copy % len(rows)])
            row["label_hash"] = f"{copy:08x}-0000-4000-8000-{copy:012x}"
            text = orjson.dumps(row)
            out.write((b"," if copy else b"") + text)
            written += len(text) + 1
            copy += 1
        out.write(b"]")
    return path


def _plain_environment() -> dict[str, str]:
    """The environment without labelspec's tuning variables (another test of the same worker may have
    left one set): the CLI runs as a user runs it."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LABELSPEC_")}


def _on_terminal(*args: str | Path) -> tuple[int, bytes, bytes]:
    """Exit code, stdout and what a terminal on stderr received."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*labelspec_command(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=_plain_environment(),
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    stdout, _ = process.communicate(timeout=300)
    return process.returncode, stdout, seen


def test_one_large_file_moves_the_bar_while_it_is_read(tmp_path: Path) -> None:
    export = _large_export(tmp_path / "large.json", 10 * 10**6)
    code, stdout, terminal = _on_terminal("validate", export)
    assert code == 0, stdout.decode()
    shares = [float(m.group(1)) for m in BAR.finditer(terminal)]
    totals = {m.group(3) for m in BAR.finditer(terminal)}
    assert totals == {f"{export.stat().st_size / 1e6:.1f}".encode()}, terminal[-500:]
    # drawn at the start, then while reading (not only when the file is done)
    assert shares[0] == 0.0 and any(0.0 < share < 100.0 for share in shares), shares
    assert shares == sorted(shares)
    assert terminal.endswith(b"\r"), "the bar is wiped when validation ends"


def test_small_single_file_and_a_pipe_show_no_bar(tmp_path: Path) -> None:
    small = _large_export(tmp_path / "small.json", 10_000)
    code, _, terminal = _on_terminal("validate", small)
    assert code == 0 and not BAR.search(terminal)
    large = _large_export(tmp_path / "large.json", 9 * 2**20)
    command = [*labelspec_command(), "validate", str(large)]
    piped = subprocess.run(command, capture_output=True, timeout=300, env=_plain_environment())
    assert piped.returncode == 0 and b"MB" not in piped.stderr and b"\r[" not in piped.stderr


def test_several_files_count_their_bytes(tmp_path: Path) -> None:
    first = _large_export(tmp_path / "a.json", 20_000)
    second = _large_export(tmp_path / "b.json", 40_000)
    code, _, terminal = _on_terminal("validate", first, second)
    assert code == 0
    bars = BAR.findall(terminal)
    total = (first.stat().st_size + second.stat().st_size) / 1e6
    assert {t for _, _, t in bars} == {f"{total:.1f}".encode()}
    # the second file starts where the first one's bytes end
    assert any(abs(float(done) - first.stat().st_size / 1e6) < 0.06 for _, done, _ in bars), bars
