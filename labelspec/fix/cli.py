"""``labelspec fix EXPORT``: repair an export mechanically, like ``ruff --fix``.

EXPORT is a ``.json`` or ``.json.gz`` file, or a zip archive whose JSON members are repaired one by one
(see ``labelspec.fix.files``). Nothing is written without ``-o OUT`` or ``--in-place``; ``--diff`` shows
what would change as a unified diff of the JSON. The repaired document is validated before it is written
(atomically), and the report lists every change with its JSON Pointer, then the findings left over. A
format the catalogue declares no fix for (YOLO, for one) is refused with exit code 2. Exit codes: 0 when
no error is left (under the profile, or strict with ``--to-strict``), 1 when some is, 2 for bad usage or
an unreadable input.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gzip
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from labelspec.validator.compiler import DEFAULT_PROFILE, PROFILES, list_formats
from labelspec.validator.engine import UsageError
from labelspec.validator.inputs import UnreadableInput
from labelspec.validator.report import EXIT_INVALID, EXIT_UNUSABLE, EXIT_VALID, FileReport

if TYPE_CHECKING:
    from labelspec.fix.engine import FixOutcome
    from labelspec.fix.files import Parsed


def register(commands: Any) -> None:
    fix = commands.add_parser(
        "fix",
        help="repair an export mechanically (the fixes declared in the rule catalogue)",
        description="Apply the fixes the rule catalogue declares for the findings of EXPORT (a .json or "
        ".json.gz file, or a .zip whose JSON members are repaired one by one; the other members are "
        "kept). Safe fixes are applied by default, unsafe ones with --unsafe-fixes. Nothing is written "
        "without -o or --in-place. Formats without any declared fix (YOLO) are refused. Exit code 0: no "
        "error left; 1: errors left that no fix repairs; 2: bad usage, a format without fixes, or an "
        "unreadable input. 'labelspec rules RULE-ID' shows a rule's fix.",
    )
    fix.add_argument("export", metavar="EXPORT", help="the export to repair (.json, .json.gz or .zip)")
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


@dataclass
class Fixed:
    """What fixing one document gave: its outcome, or why it was left as it is."""

    label: str
    outcome: FixOutcome | None = None
    error: str | None = None  # unreadable: the document is left as it is
    note: str | None = None  # readable, but nothing to fix in it (a format without fixes)


@dataclass
class Job:
    """What every document of one run is fixed with."""

    format: str | None
    profile: str
    ontology: Any
    rules: frozenset[str] | None
    unsafe: bool
    keep_original: bool  # --diff needs the document before fixing


def _detect(document: Any, format_id: str | None) -> str:
    from labelspec.validator.detect import detect_format

    if format_id:
        return format_id
    candidate = [document] if isinstance(document, dict) and "data_units" in document else document
    return detect_format(candidate)  # a single Encord row is detected as the list it belongs in


def _no_fix(format_id: str) -> str:
    return (
        f"the catalogue declares no fix for {format_id} (schemas/{format_id}/rules.yaml): labelspec fix has "
        "nothing to apply; 'labelspec validate' reports its findings"
    )


def _refuse_fixless(source: Path, format_id: str | None) -> None:
    """YOLO datasets (folders, .txt label files) and formats without fixes: exit 2, saying so."""
    from labelspec.fix.catalogue import fixes

    yolo = format_id == "yolo" or source.is_dir() or source.name.lower().endswith(".txt")
    if yolo and not fixes("yolo"):
        raise UsageError(f"{source}: a YOLO dataset; {_no_fix('yolo')}")
    if yolo:
        raise UsageError(f"{source}: labelspec fix does not write YOLO datasets yet")
    if format_id is not None and not fixes(format_id):
        raise UsageError(f"{source}: {_no_fix(format_id)}")


def _is_zip(path: Path) -> bool:
    lower = path.name.lower()
    return lower.endswith(".zip") or (
        not lower.endswith((".json", ".gz")) and path.is_file() and zipfile.is_zipfile(path)
    )


def _fix_one(label: str, parsed: Parsed, job: Job, format_hint: str | None) -> Fixed:
    """Fix the document ``parsed`` holds; it is taken from ``parsed`` (the outcome holds it now)."""
    from labelspec.fix.catalogue import fixes
    from labelspec.fix.engine import fix_document
    from labelspec.validator.detect import DetectionError

    try:
        format_id = _detect(parsed.document, format_hint or job.format)
    except DetectionError as exc:
        return Fixed(label, error=str(exc))
    if not fixes(format_id):
        return Fixed(label, note=_no_fix(format_id))
    outcome = fix_document(
        parsed.take(),
        format_id,
        job.profile,
        ontology=job.ontology,
        rules=job.rules,
        unsafe=job.unsafe,
        name=label,
        keep_original=job.keep_original,
    )
    return Fixed(label, outcome)


def run_fix(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.config import config_for
    from labelspec.convert.atomic import OutputExistsError, output_target

    config = config_for(args.config, args.no_config)
    source = Path(args.export)
    if args.to_strict and args.profile == "lenient":
        raise UsageError("--to-strict validates with the strict profile; drop --profile lenient")
    format_hint = args.format or config.format_for(args.export)
    _refuse_fixless(source, format_hint)
    if not source.is_file():
        raise UsageError(f"{source}: no such file")
    job = Job(
        format=format_hint,
        profile="strict" if args.to_strict else (args.profile or config.profile or DEFAULT_PROFILE),
        ontology=_load_ontology(args.ontology or config.ontology_for(args.export)),
        rules=_chosen_rules(args.rule),
        unsafe=args.unsafe_fixes or args.to_strict,
        keep_original=args.diff,
    )
    try:
        target = output_target(source, args.out or None, in_place=args.in_place, force=args.force)
    except OutputExistsError as exc:
        raise UsageError(str(exc)) from None
    archive = _is_zip(source)
    if args.out and archive != args.out.lower().endswith(".zip"):
        kind = "a zip archive is repaired into a .zip" if archive else "JSON into a .json or .json.gz"
        raise UsageError(f"-o {args.out}: {kind}")
    if archive:
        results, written = _fix_zip(args, out, source, target, job)
    else:
        results, written = _fix_file(args, out, source, target, job)
    _report(args, out, results, job.profile, target, written)
    if any(r.error for r in results) or any(r.outcome and not r.outcome.after.readable for r in results):
        return EXIT_UNUSABLE
    left = any(r.outcome and r.outcome.after.errors for r in results)
    return EXIT_INVALID if left else EXIT_VALID


def _chosen_rules(chosen: list[str] | None) -> frozenset[str] | None:
    from labelspec.fix.catalogue import all_fixes

    if not chosen:
        return None
    known = {f.id for f in all_fixes()} | {f.rule for f in all_fixes()}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise UsageError(f"--rule {unknown[0]}: no fix is declared for it ('labelspec rules ID' tells)")
    return frozenset(chosen)


def _load_ontology(path: str | None) -> Any:
    from labelspec.fix.files import read_json_file

    if path is None:
        return None
    try:
        return read_json_file(Path(path)).document
    except (UnreadableInput, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UsageError(f"{path}: cannot read the ontology: {exc}") from None


def _fix_file(
    args: argparse.Namespace, out: TextIO, source: Path, target: Path | None, job: Job
) -> tuple[list[Fixed], bool]:
    from labelspec.convert.atomic import write_bytes
    from labelspec.fix.files import encode, read_json_file

    if not source.name.lower().endswith((".json", ".json.gz")):
        raise UsageError(f"{source}: labelspec fix repairs .json, .json.gz and .zip files")
    try:
        parsed = read_json_file(source)
    except (UnreadableInput, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UsageError(f"{source}: cannot read: {exc}") from None
    result = _fix_one(str(source), parsed, job, None)
    if result.error:
        raise UsageError(f"{source}: {result.error}")
    if result.note:
        raise UsageError(f"{source}: {result.note}")
    outcome = result.outcome
    assert outcome is not None
    if args.diff:
        _diff(out, source.name, outcome)
    if target is None or not outcome.changed:
        return [result], False
    gzipped = target.name.lower().endswith(".gz")  # the output's name decides, as for validate's inputs
    write_bytes(target, encode(parsed, outcome.document, gzipped), force=True)
    return [result], True


def _fix_zip(
    args: argparse.Namespace, out: TextIO, source: Path, target: Path | None, job: Job
) -> tuple[list[Fixed], bool]:
    """Every JSON member fixed in turn; with a target, the archive is rewritten as it goes and renamed
    into place at the end (only when some member changed)."""
    from labelspec.fix.files import ZipRewrite, encode, is_json_member, read_member

    results: list[Fixed] = []
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{source}: cannot read the zip archive: {exc}") from None
    with archive, contextlib.ExitStack() as stack:
        rewrite = None if target is None else stack.enter_context(ZipRewrite(archive, target, force=True))
        for info in archive.infolist():
            if not is_json_member(info):
                if rewrite is not None:
                    rewrite.copy(info)
                continue
            label = f"{source}!{info.filename}"
            try:
                parsed = read_member(archive, info)
            except UnreadableInput as exc:
                results.append(Fixed(label, error=str(exc)))
            else:
                member_format = job.format or _configured_format(args, label)
                result = _fix_one(label, parsed, job, member_format)
                results.append(result)
                if result.outcome is not None and result.outcome.changed:
                    if args.diff:
                        _diff(out, f"{source.name}!{info.filename}", result.outcome)
                    if rewrite is not None:
                        rewrite.write(info, encode(parsed, result.outcome.document))
                    result.outcome.document = result.outcome.original = None  # one member at a time
                    continue
            if rewrite is not None:
                rewrite.copy(info)
        if not any(is_json_member(info) for info in archive.infolist()):
            raise UsageError(f"{source}: the zip archive holds no .json member")
        if all(r.note for r in results):
            raise UsageError(f"{source}: {results[0].note}")
        changed = any(r.outcome is not None and r.outcome.changed for r in results)
        if rewrite is not None and changed:
            rewrite.publish()
            return results, True
    return results, False


def _configured_format(args: argparse.Namespace, label: str) -> str | None:
    from labelspec.config import config_for

    return config_for(args.config, args.no_config).format_for(label)


def _diff(out: TextIO, name: str, outcome: FixOutcome) -> None:
    before = _text(outcome.original).splitlines(keepends=True)
    after = _text(outcome.document).splitlines(keepends=True)
    out.writelines(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))


def _text(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _report(
    args: argparse.Namespace,
    out: TextIO,
    results: list[Fixed],
    profile: str,
    target: Path | None,
    written: bool,
) -> None:
    if args.output == "json":
        documents = [_json_entry(r, profile) for r in results]
        single = len(results) == 1 and not _is_zip(Path(args.export))
        data: dict[str, Any] = dict(documents[0]) if single else {"path": args.export, "documents": documents}
        data["written"] = str(target) if written else None
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    for result in results:
        _report_text(args, out, result, profile)
    changed = any(r.outcome is not None and r.outcome.changed for r in results)
    if written:
        left = [r.outcome.after for r in results if r.outcome is not None]
        errors, warnings = sum(f.errors for f in left), sum(f.warnings for f in left)
        out.write(f"wrote {target} (validated: {errors} error(s), {warnings} warning(s))\n")
    elif changed:
        out.write("nothing written: pass -o OUT or --in-place to write the repaired export\n")


def _json_entry(result: Fixed, profile: str) -> dict[str, Any]:
    if result.outcome is None:
        return {"path": result.label, "error": result.error, "note": result.note}
    outcome = result.outcome
    return {
        "path": result.label,
        "format": outcome.after.format,
        "profile": profile,
        "changes": [{"fix": f, "pointer": p, "change": c} for f, p, c in outcome.changes],
        "not_repaired": [dict(finding.to_json(), fix=fix) for fix, finding in outcome.refused],
        "left": [finding.to_json() for finding in outcome.after.findings],
    }


def _report_text(args: argparse.Namespace, out: TextIO, result: Fixed, profile: str) -> None:
    if result.outcome is None:
        out.write(f"{result.label}: {'cannot read: ' + result.error if result.error else result.note}\n")
        return
    outcome = result.outcome
    left: FileReport = outcome.after
    out.write(f"{result.label}: {len(outcome.changes)} change(s) as {left.format} ({profile})\n")
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
