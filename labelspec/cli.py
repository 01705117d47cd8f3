"""The ``labelspec`` command line. Exit codes: 0 valid, 1 invalid, 2 unreadable input or bad usage."""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from labelspec import __version__
from labelspec.cliargs import whole
from labelspec.config import Config
from labelspec.validator.compiler import (
    DEFAULT_PROFILE,
    PROFILES,
    compile_schema,
    format_metadata,
    list_formats,
)
from labelspec.validator.engine import UsageError
from labelspec.validator.report import EXIT_INVALID, EXIT_UNUSABLE, EXIT_VALID, FileReport, Report
from labelspec.validator.reporters import REPORTERS, write_text
from labelspec.validator.rules import all_entries

# Further commands live next to their subsystem; each module has ``register(commands)`` which adds its
# sub-parser(s) with ``set_defaults(run=fn)``, ``fn(args, out) -> exit code``.
COMMAND_MODULES: tuple[str, ...] = (
    "labelspec.generators.codegen_cli",
    "labelspec.generators.fixtures.cli",
    "labelspec.convert.cli",
    "labelspec.fix.cli",
    "labelspec.inspect.cli",
)


class Progress:
    """A one-line progress bar (bytes) on stderr, only when stderr is a terminal and there is something to
    wait for: several inputs, or one file of at least :data:`PROGRESS_BYTES`. Within a file, the bar moves
    as validation reports the offset it has read (:mod:`labelspec.validator.progress`)."""

    def __init__(self, paths: Sequence[str], stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.sizes = [_file_size(path) for path in paths]
        self.total = sum(self.sizes)
        self.enabled = self.stream.isatty() and (len(paths) > 1 or self.total >= PROGRESS_BYTES)
        self.before = 0  # bytes of the files already done
        self.current = 0  # index of the file being validated
        self.label = ""
        self.drawn = -1  # the last permille drawn (redrawn only when it changes)

    def start(self, number: int, label: str) -> None:
        """File ``number`` of the inputs (``label``) begins."""
        self.current, self.label = number, label
        self.before = sum(self.sizes[:number])
        self._draw(self.before)

    def read(self, offset: int) -> None:
        """The current file has been read up to byte ``offset``."""
        size = self.sizes[self.current] if self.current < len(self.sizes) else 0
        self._draw(self.before + min(max(offset, 0), size))

    def _draw(self, done: int) -> None:
        if not self.enabled:
            return
        share = done / self.total if self.total else self.current / max(len(self.sizes), 1)
        permille = int(1000 * share)
        if permille == self.drawn:
            return
        self.drawn = permille
        width = 30
        filled = width * permille // 1000
        bar = "#" * filled + "-" * (width - filled)
        amount = f"{done / 1e6:.1f}/{self.total / 1e6:.1f} MB" if self.total else ""
        self.stream.write(f"\r[{bar}] {permille / 10:5.1f}% {amount} {self.label[-40:]:<40}")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


# --output: the reporters, and SARIF (labelspec.validator.sarif, imported only when chosen: it reads the
# whole rule catalogue, start-up time that other outputs never need)
OUTPUTS = (*REPORTERS, "sarif")

# A single input shows a progress bar from this size on (smaller files are done before one would help).
PROGRESS_BYTES = 8 * 1024**2


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size if os.path.isfile(path) else 0
    except OSError:
        return 0


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size()`` tells argparse (``COLUMNS``, the terminal of
    stdout, else 80), without importing shutil: every parser asks for it when an argument is added, and
    shutil imports the compression modules (start-up time that a small validation notices)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Help(argparse.HelpFormatter):
    """argparse's help layout, its width found by :func:`_columns`."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors name the command and exit with 2 (our 'bad usage' code)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_UNUSABLE)


# Commands defined here; running one of them does not import the modules of the other commands.
BUILTIN_COMMANDS = frozenset({"validate", "formats", "schema", "rules", "examples"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; given the ``command`` about to run, only what it needs (faster start-up)."""
    parser = _Parser(
        prog="labelspec",
        description="Validate, generate and convert label exports of annotation platforms "
        "(DataGym.ai, Segments.ai, Encord, COCO, YOLO) against their specifications.",
    )
    parser.add_argument("--version", action="version", version=f"labelspec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # A built-in command about to run: only its parser (each costs start-up); else all of them, and the
    # commands of the other modules.
    for name, add in _BUILTIN_PARSERS.items():
        if command not in BUILTIN_COMMANDS or command == name:
            add(commands)
    if command not in BUILTIN_COMMANDS:
        for module_name in COMMAND_MODULES:
            importlib.import_module(module_name).register(commands)
    return parser


def _add_validate(commands: Any) -> None:
    check = commands.add_parser(
        "validate",
        help="validate exports (.json, .json.gz, .zip, YOLO folders)",
        description="Validate export files. Exit code 0: all valid; 1: some invalid; "
        "2: some input unreadable or bad usage.",
    )
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="export files, archives, folders of exports or YOLO datasets"
    )
    check.add_argument(
        "--format",
        choices=list_formats(),
        help="the format (default: the configuration's, or detected per file)",
    )
    check.add_argument(
        "--profile", choices=PROFILES, help=f"default: the configuration's, or {DEFAULT_PROFILE}"
    )
    check.add_argument(
        "--ontology",
        action="append",
        metavar="[GLOB=]FILE",
        help="Encord ontology the label rows refer to: FILE for every export, or GLOB=FILE for the exports "
        "matching GLOB (repeatable). Default: <stem>.ontology.json or ontology.json beside the export",
    )
    check.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        help="in folders, validate only the files matching GLOB (their path below the folder, or their "
        "name; repeatable)",
    )
    check.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="leave out the files matching GLOB (repeatable); they are listed as skipped",
    )
    check.add_argument("--png-dir", metavar="DIR", help="COCO panoptic: the folder of the panoptic PNGs")
    check.add_argument("--output", choices=sorted(OUTPUTS), default="text", help="default: %(default)s")
    check.add_argument("--quiet", "-q", action="store_true", help="print only documents with findings")
    _add_ci_options(check)
    check.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=1,
        metavar="N",
        help="validate over N processes: many files, and the items of a large export (0: one per core; "
        "default: %(default)s)",
    )
    streaming = check.add_mutually_exclusive_group()
    streaming.add_argument(
        "--stream",
        dest="stream",
        action="store_const",
        const=True,
        help="validate list-shaped exports (Encord, DataGym, Segments) one item at a time, in bounded "
        "memory (default: for files of 64 MiB and more)",
    )
    streaming.add_argument(
        "--no-stream", dest="stream", action="store_const", const=False, help="always parse files whole"
    )
    check.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="run on a Dask cluster: a scheduler address, or 'local' for a local cluster (needs the "
        "'dask' extra: pip install 'labelspec[dask]')",
    )
    check.set_defaults(run=_cmd_validate)


def _add_formats(commands: Any) -> None:
    formats = commands.add_parser("formats", help="list the formats and profiles")
    formats.add_argument("--output", choices=("text", "json"), default="text")
    formats.set_defaults(run=_cmd_formats)


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the compiled JSON Schema of a format")
    schema.add_argument("format", choices=list_formats(), metavar="FORMAT")
    schema.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE)
    schema.set_defaults(run=_cmd_schema)


def _add_rules(commands: Any) -> None:
    rules = commands.add_parser(
        "rules",
        help="list the semantic rules (all formats, or one), or explain one rule",
        description="'labelspec rules' lists every rule, 'labelspec rules FORMAT' the rules of one format, "
        "'labelspec rules RULE-ID' explains one rule: severity per profile, rationale, failing and passing "
        "examples, and its fix if one exists.",
    )
    rules.add_argument("format", nargs="?", metavar="FORMAT|RULE-ID")
    rules.add_argument("--output", choices=("text", "json"), default="text")
    rules.set_defaults(run=_cmd_rules)


def _add_examples(commands: Any) -> None:
    examples = commands.add_parser(
        "examples",
        help="validate the bundled documented examples and compare with their expected verdicts",
        description="Every JSON example of the vendor documentation is bundled (repaired where the "
        "documentation's JSON is broken) with its expected verdict per profile. Exit code 1 when a "
        "verdict differs from the expectation.",
    )
    examples.add_argument("formats", nargs="*", metavar="FORMAT", help="default: every format")
    examples.add_argument("--quiet", "-q", action="store_true", help="print only the summary per format")
    examples.set_defaults(run=_cmd_examples)


_BUILTIN_PARSERS: dict[str, Callable[[Any], None]] = {
    "validate": _add_validate,
    "formats": _add_formats,
    "schema": _add_schema,
    "rules": _add_rules,
    "examples": _add_examples,
}


def _add_ci_options(check: argparse.ArgumentParser) -> None:
    """The options a CI gate needs (ruff-like); they override the project configuration."""
    config = check.add_mutually_exclusive_group()
    config.add_argument(
        "--config",
        metavar="FILE",
        help="a labelspec.toml or pyproject.toml ([tool.labelspec]) to read (default: the nearest one "
        "from the current folder upwards)",
    )
    config.add_argument("--no-config", action="store_true", help="ignore any configuration file")
    check.add_argument(
        "--select",
        action="append",
        type=_rule_ids,
        metavar="RULE",
        help="report only these rules (ids or prefixes such as ENC or schema; repeatable or "
        "comma-separated; replaces the configuration's select)",
    )
    check.add_argument(
        "--ignore",
        action="append",
        type=_rule_ids,
        metavar="RULE",
        help="do not report these rules (ids or prefixes; repeatable or comma-separated; added to the "
        "configuration's ignore)",
    )
    check.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        help="exit 1 when a finding of this severity or worse is reported (default: the configuration's, "
        "or error)",
    )
    check.add_argument(
        "--max-findings",
        type=_positive,
        metavar="N",
        help="text output: show at most N findings per document (alike findings are grouped anyway)",
    )


def _rule_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# --max-findings N: at least one; --jobs N: 0 means one process per core.
_positive = whole(1, "a positive number")
_jobs = whole(0, "a number of processes", "0 (one per core) or more")


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.config import fails, rule_filter

    config = _config(args)
    profile = args.profile or config.profile or DEFAULT_PROFILE
    report = _validate_inputs(args, config, profile)
    filters = rule_filter(config, _flat(args.select), _flat(args.ignore))
    if filters:
        report.files = [filters.apply(file) for file in report.files]
    fail_on = args.fail_on or config.fail_on or "error"
    max_findings = args.max_findings or config.max_findings
    if args.output == "text":
        write_text(report, out, quiet=args.quiet, max_findings=max_findings)
    elif args.output == "sarif":
        from labelspec.validator.sarif import write_sarif

        write_sarif(report, out)
    else:
        REPORTERS[args.output](report, out)
    if any(not f.readable for f in report.files):
        return EXIT_UNUSABLE
    failing: list[FileReport] = [f for f in report.files if fails(f, fail_on)]
    return EXIT_INVALID if failing else EXIT_VALID


def _flat(values: list[list[str]] | None) -> list[str] | None:
    return [v for group in values for v in group] if values else None


def _config(args: argparse.Namespace) -> Config:
    from labelspec.config import config_for

    return config_for(args.config, args.no_config)


def _validate_inputs(args: argparse.Namespace, config: Config, profile: str) -> Report:
    """Every document of the paths given: folders file by file (labelspec.validator.folders), files sharing
    a format and an ontology validated together. An ontology named on the command line or in the
    configuration is reported once, before the documents that use it."""
    from labelspec.validator.api import validate_dataset
    from labelspec.validator.paths import OntologyChoice, PathFilter, conventional_ontology, expand

    try:
        choice = OntologyChoice.parse(args.ontology or [])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    path_filter = PathFilter(tuple(args.include or ()), tuple(args.exclude or ()), config.excluded)
    selection = expand(
        args.paths, format_for=lambda path: args.format or config.format_for(path), path_filter=path_filter
    )
    report = Report(skipped=selection.skipped)
    groups: dict[tuple[str | None, str | None, bool], list[str]] = {}
    for target in selection.targets:
        format_id = args.format or config.format_for(target.path)
        if target.dataset is not None:
            report.files.append(validate_dataset(target.dataset, format_id, profile))
            continue
        ontology = choice.for_export(target.path) if choice.by_glob or choice.default else None
        explicit = ontology is not None or config.ontology_for(target.path) is not None
        if ontology is None:
            ontology = config.ontology_for(target.path)
        if ontology is None:
            found = conventional_ontology(target.path)
            ontology = None if found is None else str(found)
        groups.setdefault((format_id, ontology, explicit), []).append(target.path)
    reported: set[str] = set()
    for (format_id, ontology, explicit), members in groups.items():
        show = explicit and ontology is not None and ontology not in reported
        if show and ontology is not None:
            reported.add(ontology)
        report.extend(_validate_paths(args, members, format_id, profile, ontology, show).files)
    return report


def _validate_paths(
    args: argparse.Namespace,
    paths: list[str],
    format_id: str | None,
    profile: str,
    ontology: str | None,
    report_ontology: bool,
) -> Report:
    if not paths:
        return Report()
    if args.dask:
        from labelspec.dask import validate_on_dask

        return validate_on_dask(
            paths,
            args.dask,
            format=format_id,
            profile=profile,
            ontology=ontology,
            png_dir=args.png_dir,
            stream=args.stream,
            report_ontology=report_ontology,
        )
    if args.jobs != 1:
        from labelspec.validator.scale.parallel import validate_paths

        return validate_paths(
            paths,
            format_id,
            profile,
            ontology,
            args.png_dir,
            stream=args.stream,
            jobs=args.jobs,
            report_ontology=report_ontology,
        )
    from labelspec.validator.api import validate_source
    from labelspec.validator.engine import load_ontology
    from labelspec.validator.native.fastpath import certify_ontology

    report = Report()
    ontology_reports, ontology_document = load_ontology(ontology, profile, certify_ontology)
    if report_ontology:
        report.extend(ontology_reports)
    from labelspec.validator.progress import listening

    progress = Progress(paths)
    with listening(progress.read):
        for number, path in enumerate(paths):
            progress.start(number, path)
            report.extend(
                validate_source(path, format_id, profile, ontology_document, args.png_dir, args.stream)
            )
    progress.done()
    return report


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    if args.format is not None and args.format not in list_formats():
        from labelspec.validator.explain import explain_rule

        return explain_rule(args.format, out, as_json=args.output == "json")
    specs = all_entries(args.format)
    if args.output == "json":
        json.dump([spec.to_json() for spec in specs], out, indent=2)
        out.write("\n")
        return EXIT_VALID
    for spec in specs:
        severity = ", ".join(f"{p}: {s}" for p, s in spec.severity.items())
        needs = f" [needs --{', --'.join(n.replace('_', '-') for n in spec.needs)}]" if spec.needs else ""
        if spec.schema_finding is not None:
            needs = f" [reported as {spec.schema_finding.rule}]"
        out.write(f"{spec.id}  ({severity}){needs}\n    {spec.title}\n")
    structural = sum(1 for spec in specs if spec.schema_finding is not None)
    out.write(f"{len(specs) - structural} rules")
    out.write(f", {structural} structural finding(s) with a fix\n" if structural else "\n")
    return EXIT_VALID


def _cmd_formats(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.validator.examples import documented_examples

    rows = []
    for fmt in list_formats():
        meta = format_metadata(fmt)
        rows.append(
            {
                "id": fmt,
                "title": meta.get("title", fmt),
                "vendor": meta.get("vendor"),
                "profiles": list(PROFILES),
                # What the strict profile is checked against (x-format.sdk): the SDK and its version.
                "sdk": meta.get("sdk"),
                "examples": sum(1 for _ in documented_examples(fmt)),
            }
        )
    from labelspec.convert.registry import READERS, WRITERS

    for row in rows:  # the converters of each format: what they keep and drop
        reader = READERS.get(row["id"])
        row["reader"] = reader.to_json() if reader else None
        row["writers"] = [w.to_json() for w in WRITERS.values() if w.target_id == row["id"]]
    for target in (t for t in WRITERS if t not in list_formats()):  # output-only formats (mask PNGs)
        title = f"{target} (conversion target only)"
        writers = [WRITERS[target].to_json()]
        rows.append({"id": target, "title": title, "vendor": None, "profiles": [], "examples": 0,
                     "reader": None, "writers": writers})  # fmt: skip
    if args.output == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
        return EXIT_VALID
    width = max(len(r["id"]) for r in rows)
    for row in rows:
        profiles = f"  [profiles: {', '.join(row['profiles'])}]" if row["profiles"] else ""
        out.write(f"{row['id']:<{width}}  {row['title']}{profiles}\n")
        if row.get("sdk"):
            out.write(f"{'':<{width}}    strict = {row['sdk']}\n")
    out.write("\nconverters (labelspec convert INPUT --to TARGET): readers, then writers\n")
    described = [(f"read {r.format_id}", r.keeps, r.drops) for r in READERS.values()]
    described += [(f"write {w.target_id} ({w.output})", w.keeps, w.drops) for w in WRITERS.values()]
    for name, keeps, drops in described:
        out.write(f"\n{name}\n  keeps: {keeps}\n  drops: {drops}\n")
    return EXIT_VALID


def _cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    json.dump(compile_schema(args.format, args.profile), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return EXIT_VALID


def _cmd_examples(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.validator.examples import check_example, documented_examples, verdict_matches

    unknown = [f for f in args.formats if f not in list_formats()]
    if unknown:
        raise UsageError(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(list_formats())}")
    mismatches = 0
    for fmt in args.formats or list_formats():
        examples = list(documented_examples(fmt))
        agree = 0
        for example in examples:
            for profile in PROFILES:
                report = check_example(example, profile)
                ok = verdict_matches(example, report)
                agree += ok
                mismatches += not ok
                if args.quiet and ok:
                    continue
                target = f" as #/definitions/{example.definition}" if example.definition else ""
                mark = "ok  " if ok else "DIFF"
                verdict = "valid" if report.valid else "invalid"
                out.write(
                    f"{mark} {fmt}/examples/{example.file}{target} ({profile}): {verdict}, "
                    f"expected {example.verdict.get(profile, '?')}"
                )
                cites = f"; explained by {', '.join(example.discrepancies)}" if example.discrepancies else ""
                out.write(cites + "\n")
                for finding in report.findings if not report.valid else []:
                    out.write(f"       {finding.pointer or '/'}  {finding.rule}  {finding.message}\n")
        total = len(examples) * len(PROFILES)
        out.write(f"== {fmt}: {len(examples)} documented examples, {agree}/{total} verdicts as expected\n")
    return EXIT_INVALID if mismatches else EXIT_VALID


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run a command; as the program itself (``argv`` None), exit right after it has written its output.

    Tearing down the interpreter frees every object one by one and runs the cyclic collector over what
    is left: after a large export that took longer than validating it, for a result already written.
    The cyclic collector is off while the program starts (the modules, classes and tables it builds live
    until the end: collecting them costs start-up time a small export notices) and, for ``validate``,
    while it validates, as the validation API does; the other commands run with it on.
    """
    program = argv is None and out is None
    if program:  # (python -m labelspec has paused it before importing this module)
        gc.disable()
    code = _main(argv, out, program)
    if program:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass
        os._exit(code)
    return code


def _main(argv: Sequence[str] | None, out: TextIO | None, program: bool = False) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    if program and getattr(args, "run", None) is not _cmd_validate:
        gc.enable()  # validation pauses the collector anyway (labelspec.validator.engine.collector_paused)
    stream = out or sys.stdout
    if not getattr(args, "run", None):
        parser.print_help(stream)
        return EXIT_UNUSABLE
    try:
        code: int = args.run(args, stream)
        return code
    except UsageError as exc:
        sys.stderr.write(f"labelspec: error: {exc}\n")
        return EXIT_UNUSABLE
    except BrokenPipeError:
        return EXIT_VALID
    except KeyboardInterrupt:
        sys.stderr.write("labelspec: interrupted\n")
        return 130
    except Exception as exc:  # last resort: a defect of labelspec, reported without a traceback
        if os.environ.get("LABELSPEC_DEBUG"):
            raise
        sys.stderr.write(
            f"labelspec: internal error ({type(exc).__name__}: {exc}); "
            "set LABELSPEC_DEBUG=1 for a traceback and please report it\n"
        )
        return EXIT_UNUSABLE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
