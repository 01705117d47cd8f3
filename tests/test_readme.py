"""The README lists every command and every option of the installed CLI (read from its --help), so a new
option cannot land undocumented."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _help(cli: list[str], *command: str) -> str:
    # Wide enough that argparse never wraps an option name at its hyphen.
    env = {**os.environ, "COLUMNS": "400"}
    result = subprocess.run([*cli, *command, "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _commands(cli: list[str]) -> list[str]:
    listing = _help(cli).split("positional arguments:", 1)[1].split("options:", 1)[0]
    return re.findall(r"^    ([a-z][a-z-]*)\b", listing, flags=re.M)


def test_readme_lists_every_command_and_option(cli: list[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands(cli)
    assert {"validate", "fix", "convert", "rules", "stats"} <= set(commands), commands
    missing = [f"labelspec {c}" for c in commands if not re.search(rf"labelspec {c}\b", readme)]
    for command in commands:
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", _help(cli, command))) - {"--help"}
        missing += [
            f"labelspec {command} {option}"
            for option in sorted(options)
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", readme)
        ]
    assert not missing, "not in the README: " + ", ".join(missing)
