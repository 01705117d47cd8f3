"""``labelspec fix EXPORT``: repair an export mechanically, like ``ruff --fix``.

Nothing is written without ``-o OUT`` or ``--in-place``; ``--diff`` shows what would change as a unified
diff of the JSON. The repaired document is validated before it is written (atomically), and the report
lists every change with its JSON Pointer, then the findings left over. Exit codes: 0 when no error is
left (under the profile, or strict with ``--to-strict``), 1 when some is, 2 for bad usage or input.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
from pathlib import Path
from typing import Any, TextIO

from labelspec.validator.api import UsageError
from labelspec.validator.report import EXIT_INVALID, EXIT_UNUSABLE, EXIT_VALID, FileReport
from labelspec.validator.schemas import DEFAULT_PROFILE, PROFILES, list_formats


def register(commands: Any) -> None:
    fix = commands.add_parser(
        "fix",
        help="repair an export mechanically (the fixes declared in the rule catalogue)",
        description="Apply the fixes the rule catalogue declares for the findings of EXPORT (a .json or "
        ".json.gz file). Safe fixes are applied by default, unsafe ones with --unsafe-fixes. Nothing is "
        "written without -o or --in-place. Exit code 0: no error left; 1: errors left that no fix "
        "repairs; 2: bad usage or unreadable input. 'labelspec rules RULE-ID' shows a rule's fix.",
    )
    fix.add_argument("export", metavar="EXPORT", help="the export to repair (.json or .json.gz)")
    where = fix.add_mutually_exclusive_group()
    where.add_argument(
        "-o", "--output-file", dest="out", metavar="OUT", help="write the repaired export here"
    )
    where.add_argument("--in-place", action="store_true", help="replace EXPORT with the repaired export")
    fix.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    fix.add_argument(
        "--rule",
        action="append",
        metavar="ID",
        help="apply only the fixes of this rule or this fix id (repeatable; default: every fix)",
    )
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply the fixes marked unsafe")
    fix.add_argument(
        "--to-strict",
        action="store_true",
        help="validate with the strict profile and apply every fix (safe and unsafe) its findings need, "
        "so the export loads in the current vendor SDK; lists exactly what cannot be repaired",
    )
    fix.add_argument("--diff", action="store_true", help="print a unified diff of the JSON (before, after)")
    fix.add_argument("--format", choices=list_formats(), help="the format (default: detected)")
    fix.add_argument(
        "--profile", choices=PROFILES, help=f"default: {DEFAULT_PROFILE} (strict with --to-strict)"
    )
    fix.add_argument("--ontology", metavar="FILE", help="Encord ontology the label rows refer to")
    fix.add_argument("--output", choices=("text", "json"), default="text", help="the report (default: text)")
    config = fix.add_mutually_exclusive_group()
    config.add_argument(
        "--config",
        metavar="FILE",
        help="the configuration whose profile, format and ontology globs apply (default: the nearest "
        "labelspec.toml or pyproject.toml [tool.labelspec])",
    )
    config.add_argument("--no-config", action="store_true", help="ignore any configuration file")
    fix.set_defaults(run=run_fix)


def _read(path: Path) -> tuple[Any, bool]:
    """The parsed document, and whether its text was indented (the output keeps that style)."""
    from labelspec.validator.inputs import UnreadableInput, parse_json_bytes

    name = path.name.lower()
    if not name.endswith((".json", ".json.gz")):
        raise UsageError(f"{path}: labelspec fix repairs .json and .json.gz files")
    try:
        data = path.read_bytes()
        if name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    try:
        document = parse_json_bytes(data)
    except UnreadableInput as exc:
        raise UsageError(f"{path}: {exc}") from None
    return document, b"\n " in data[:4096] or b"\n\t" in data[:4096]


def _text(document: Any, indented: bool) -> str:
    if indented:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def _load_ontology(path: str | None) -> Any:
    if path is None:
        return None
    document, _ = _read(Path(path))
    return document


def _detect(document: Any, format_id: str | None) -> str:
    from labelspec.validator.detect import DetectionError, detect_format

    if format_id:
        return format_id
    candidate = [document] if isinstance(document, dict) and "data_units" in document else document
    try:
        return detect_format(candidate)  # a single Encord row is detected as the list it belongs in
    except DetectionError as exc:
        raise UsageError(f"{exc}; pass --format") from None


def run_fix(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.config import config_for
    from labelspec.convert.atomic import OutputExistsError, write_bytes
    from labelspec.fix.catalogue import all_fixes
    from labelspec.fix.engine import fix_document

    config = config_for(args.config, args.no_config)
    source = Path(args.export)
    document, indented = _read(source)
    format_id = _detect(document, args.format or config.format_for(args.export))
    if args.to_strict and args.profile == "lenient":
        raise UsageError("--to-strict validates with the strict profile; drop --profile lenient")
    profile = "strict" if args.to_strict else (args.profile or config.profile or DEFAULT_PROFILE)
    ontology = args.ontology or config.ontology_for(args.export)
    rules = frozenset(args.rule) if args.rule else None
    if rules is not None:
        known = {f.id for f in all_fixes()} | {f.rule for f in all_fixes()}
        unknown = sorted(rules - known)
        if unknown:
            raise UsageError(f"--rule {unknown[0]}: no fix is declared for it ('labelspec rules ID' tells)")
    outcome = fix_document(
        document,
        format_id,
        profile,
        ontology=_load_ontology(ontology),
        rules=rules,
        unsafe=args.unsafe_fixes or args.to_strict,
        name=str(source),
    )
    target = source if args.in_place else Path(args.out) if args.out else None
    if args.diff:
        before = _text(document, True).splitlines(keepends=True)
        after = _text(outcome.document, True).splitlines(keepends=True)
        out.writelines(difflib.unified_diff(before, after, f"a/{source.name}", f"b/{source.name}"))
    written = False
    if target is not None and outcome.changed:
        data = _text(outcome.document, indented).encode("utf-8")
        if target.name.lower().endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        try:
            write_bytes(target, data, force=args.force or args.in_place)
        except OutputExistsError as exc:
            raise UsageError(str(exc)) from None
        written = True
    _report(args, out, outcome, profile, target, written)
    if not outcome.after.readable:
        return EXIT_UNUSABLE
    return EXIT_INVALID if outcome.after.errors else EXIT_VALID


def _report(
    args: argparse.Namespace, out: TextIO, outcome: Any, profile: str, target: Path | None, written: bool
) -> None:
    left: FileReport = outcome.after
    if args.output == "json":
        json.dump(
            {
                "path": args.export,
                "format": left.format,
                "profile": profile,
                "changes": [{"fix": f, "pointer": p, "change": c} for f, p, c in outcome.changes],
                "not_repaired": [dict(finding.to_json(), fix=fix) for fix, finding in outcome.refused],
                "left": [finding.to_json() for finding in left.findings],
                "written": str(target) if written else None,
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
        return
    out.write(f"{args.export}: {len(outcome.changes)} change(s) as {left.format} ({profile})\n")
    for fix, pointer, change in outcome.changes:
        out.write(f"  {pointer or '/'}  {fix}  {change}\n")
    if outcome.refused:
        out.write("not repaired (the fix does not apply here, or would add findings):\n")
        for fix, finding in outcome.refused:
            out.write(f"  {finding.pointer or '/'}  {fix}  {finding.message}\n")
    if left.findings:
        what = "cannot be repaired for the strict profile" if args.to_strict else "left"
        out.write(f"{len(left.findings)} finding(s) {what}:\n")
        for finding in left.findings:
            out.write(f"  {finding.pointer or '/'}  {finding.severity}  {finding.rule}  {finding.message}\n")
    if written:
        out.write(f"wrote {target} (validated: {left.errors} error(s), {left.warnings} warning(s))\n")
    elif outcome.changed:
        out.write("nothing written: pass -o OUT or --in-place to write the repaired export\n")
