"""``labelspec codegen [--check] [--output-dir DIR]``: regenerate (or check) ``labelspec/formats/*.py`` and
the native fast path's shipped schema programs (``labelspec/validator/native/programs/*.json``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from labelspec.generators import native_programs
from labelspec.generators.codegen import output_dir, stale_modules, write_modules
from labelspec.validator.native import shipped

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "codegen",
        help="regenerate the typed readers/writers labelspec.formats.<format> from the schemas",
        description="Generate labelspec/formats/<format>.py from the lenient schemas, and the native fast "
        "path's schema programs and rule tables (package data, so that a run compiles nothing). With "
        "--check, write nothing and exit 1 when a committed file differs from freshly generated text (0 when "
        "all are fresh).",
    )
    parser.add_argument("--check", action="store_true", help="only report stale modules (exit 1 if any)")
    parser.add_argument("--output-dir", metavar="DIR", help="default: the labelspec/formats folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    directory = Path(args.output_dir) if args.output_dir else output_dir()
    programs = shipped.FOLDER
    if args.check:
        stale = [directory / name for name in stale_modules(directory)]
        stale += [programs / name for name in native_programs.stale_files()]
        for file in stale:
            out.write(f"stale: {file} (run `labelspec codegen`)\n")
        if not stale:
            out.write(f"generated modules in {directory} and programs in {programs} are up to date\n")
        return 1 if stale else 0
    changed = [directory / name for name in write_modules(directory)]
    changed += [programs / name for name in native_programs.write_files()]
    for file in changed:
        out.write(f"wrote {file}\n")
    if not changed:
        out.write(f"generated modules in {directory} and programs in {programs} are up to date\n")
    return 0
