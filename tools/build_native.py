"""Rebuild labelspec._native in place (next to labelspec/) for development; takes a lock so concurrent
builds do not interleave. `pip install -e .` builds it too; this is the quick loop after editing C."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    (ROOT / "build").mkdir(exist_ok=True)
    with (ROOT / "build" / ".native.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.call([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
