"""``labelspec codegen [--check] [--output-dir DIR]``: regenerate (or check) ``labelspec/formats/*.py``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from labelspec.generators.codegen import output_dir, stale_modules, write_modules

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "codegen",
        help="regenerate the typed readers/writers labelspec.formats.<format> from the schemas",
        description="Generate labelspec/formats/<format>.py from the lenient schemas. With --check, write "
        "nothing and exit 1 when a committed module differs from freshly generated text (0 when all are "
        "fresh).",
    )
    parser.add_argument("--check", action="store_true", help="only report stale modules (exit 1 if any)")
    parser.add_argument("--output-dir", metavar="DIR", help="default: the labelspec/formats folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    directory = Path(args.output_dir) if args.output_dir else output_dir()
    if args.check:
        stale = stale_modules(directory)
        for name in stale:
            out.write(f"stale: {directory / name} (run `labelspec codegen`)\n")
        if not stale:
            out.write(f"generated modules in {directory} are up to date\n")
        return 1 if stale else 0
    changed = write_modules(directory)
    for name in changed:
        out.write(f"wrote {directory / name}\n")
    if not changed:
        out.write(f"generated modules in {directory} are up to date\n")
    return 0
