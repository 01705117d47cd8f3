"""Run mypy over the ``labelspec`` namespace as the build maps it onto the top-level folders.

mypy cannot follow setuptools' package-dir mapping (``labelspec.validator`` -> ``validator/``), so we
mirror the mapping with symlinks under ``build/typecheck`` and check the mirror.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def mirror(target: Path) -> Path:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    if target.exists():
        shutil.rmtree(target)
    for package, folder in sorted(mapping.items()):
        link = target.joinpath(*package.split("."))
        link.parent.mkdir(parents=True, exist_ok=True)
        if package == "labelspec":
            link.mkdir(exist_ok=True)
            for entry in (ROOT / folder).iterdir():
                if entry.name != "__pycache__":
                    (link / entry.name).symlink_to(entry)
        else:
            link.symlink_to(ROOT / folder, target_is_directory=True)
    return target / "labelspec"


def main() -> int:
    package = mirror(ROOT / "build" / "typecheck")
    env = dict(os.environ, MYPYPATH=str(package.parent))
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "labelspec"]
    return subprocess.call(command, cwd=package.parent, env=env)


if __name__ == "__main__":
    sys.exit(main())
