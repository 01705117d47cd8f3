"""Rebuild labelspec._native in place (labelspec/_native*.so) for development: the quick loop after editing
the C sources. `pip install -e .` builds the same extension through setup.py; this calls the compiler
directly (with setup.py's flags) so it does not depend on the virtualenv's setuptools. Takes a lock so
concurrent builds do not interleave."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE = ROOT / "labelspec" / "native"
FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-fno-strict-aliasing", "-fPIC", "-shared"]


def main() -> int:
    (ROOT / "build").mkdir(exist_ok=True)
    target = ROOT / "labelspec" / f"_native{sysconfig.get_config_var('EXT_SUFFIX')}"
    sources = sorted(str(path) for path in NATIVE.glob("*.c"))
    include = sysconfig.get_paths()["include"]
    compiler = os.environ.get("CC", "gcc")
    with (ROOT / "build" / ".native.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        partial = target.with_suffix(".tmp")
        done = subprocess.call([compiler, *FLAGS, f"-I{include}", *sources, "-o", str(partial)])
        if done == 0:
            partial.replace(target)  # atomic: a running test never sees half a library
        return done


if __name__ == "__main__":
    sys.exit(main())
