"""Streaming keeps memory bounded: validating a ~40 MB export grows the peak RSS by far less than its size
(the reference path streaming item by item, and the native fast path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Peak RSS from /proc (VmHWM): getrusage's ru_maxrss would start at the forking pytest worker's RSS, which
# Linux carries over exec, so a large worker hides the growth being measured.
_PROBE = """
import sys
from labelspec.validator.api import validate

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

validate(sys.argv[1], format="encord", stream=sys.argv[2] == "stream")  # warm up on a tiny file
before = peak()
report = validate(sys.argv[3], format="encord", stream=sys.argv[2] == "stream")
after = peak()
print(before * 1024, after * 1024, len(report.findings))
"""


@pytest.mark.slow
def test_streaming_memory_is_bounded(fixtures: Any, tmp_path: Path) -> None:
    rows = [row for e in fixtures[("encord", False)] for row in json.loads(Path(e["path"]).read_text())]
    small = tmp_path / "small.json"
    small.write_text(json.dumps(rows[:1]))
    big = tmp_path / "big.json"
    with big.open("w") as out:
        out.write("[")
        written = 0
        while written < 40 * 1024**2:
            for row in rows:
                text = ("," if written else "") + json.dumps(row)
                out.write(text)
                written += len(text)
        out.write("]")
    size = big.stat().st_size

    def growth(mode: str, native: str = "0") -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(small), mode, str(big)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "LABELSPEC_NATIVE": native},
        )
        before, after, findings = map(int, done.stdout.split())
        return after - before, findings

    streamed, streamed_findings = growth("stream")
    whole, whole_findings = growth("memory")
    assert streamed_findings == whole_findings
    assert streamed < size / 4, (streamed, size)
    assert whole > size  # the in-memory path holds the parsed document: the comparison means something
    # the native fast path maps the file and parses one row at a time (pages already read are released)
    native, native_findings = growth("memory", native="1")
    assert native_findings == whole_findings
    assert native < size / 2, (native, size)
