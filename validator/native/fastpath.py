"""The native fast path: certify a file clean without building Python objects, or step aside.

Most exports gated in CI are valid, and for them the whole Python pipeline (``orjson`` objects, the
structural check, the semantic rules) is pure cost. The C extension ``labelspec._native`` parses the file
into a flat tape, checks the structure with the compiled schema program
(:mod:`labelspec.validator.native.schema_program`) and runs the format's rule *deciders*
(:mod:`labelspec.validator.native.encord_rows`, :mod:`labelspec.validator.native.encord_ontology`,
:mod:`labelspec.validator.native.datagym_rules`), one root-list item at a time (DataGym: the label classes of
element 0 first, as the context of every task). For each item it answers only "certainly clean" (no
finding of any severity) or "not certainly clean". :func:`native_report` skips the certified items and
hands the others to the reference path item by item, which writes their findings; a file the native
parser refuses (not plain JSON, a repeated key...) goes to the reference path whole. So the fast path
changes how long validation takes, never what it reports (tests/native compares reports with the
reference path on the corpus, generated exports and every rule mutant).

Used for: plain JSON files (not archives) of the formats that have rule deciders (:data:`DECIDED`; COCO
instance files and Segments.ai releases, whose root is an object, by :mod:`~labelspec.validator.native.coco`
and :mod:`~labelspec.validator.native.segments`). Turned
off by ``LABELSPEC_NATIVE=0`` or when the extension is not built (then everything takes the reference
path). ``LABELSPEC_NATIVE_DEBUG=1`` prints why a file was not certified.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from labelspec import format_ids
from labelspec.validator import progress
from labelspec.validator.compiler import (
    cache_folder,
    compile_schema,
    compiled_cache_key,
    digest,
    write_cache_entry,
)
from labelspec.validator.detect import SAMPLE_ITEMS, DetectionError, detect_format
from labelspec.validator.envelope import unwrap
from labelspec.validator.inputs import LoadedDocument
from labelspec.validator.native import shipped
from labelspec.validator.native.schema_program import NotCompilable, Program, compile_program
from labelspec.validator.report import FileReport
from labelspec.validator.rules import RuleContext, semantic_findings
from labelspec.validator.scale.pool import local_mapper
from labelspec.validator.single_item import item_definition

if TYPE_CHECKING:  # the formats' own native modules are imported on first use (labelspec.format_ids.load)
    from labelspec.validator.native import coco

# Formats whose every semantic rule has a native decider (a format is listed only when all of them do).
DECIDED = frozenset({"encord", "datagym"})
# Formats whose root is an object, checked by their own native module (labelspec.format_ids: native)
_SEGMENTS = "segments"
_COCO = ("coco-instance", "coco-panoptic")
_NOT_PLAIN_JSON = (".gz", ".zip", ".txt")
_MIN_ITEM_BYTES = 64  # no label row is smaller: bounds how many dirty items max_dirty can allow
# With several processes, files from this size on are checked in parts (smaller ones: not worth a fork).
SPLIT_BYTES = int(os.environ.get("LABELSPEC_NATIVE_SPLIT_BYTES", 32 * 1024**2))
# Between two items of the root list: guesses where a part may start (verified, see _check_parts). Label
# rows are written with label_hash first; nested objects never start with it.
_ITEM_JOINTS = {"encord": re.compile(rb'\}\s*,\s*(\{\s*"label_hash"\s*:)')}
_SPLIT_WINDOW = 1 << 20
_PROGRESS_STEP = 1 << 20  # bytes between two progress reports of the native pass
_PROGRAM_SOURCES = ("schema_program.py", "regex_dfa.py", "segments.py")  # what a cached program depends on


@functools.cache
def native() -> ModuleType | None:
    """The extension module, or None when it is turned off or not built."""
    if os.environ.get("LABELSPEC_NATIVE", "1") == "0":
        return None
    try:
        from labelspec import _native
    except ImportError:
        return None
    module: ModuleType = _native
    return module


@dataclass(frozen=True)
class _Program:
    schema: Any  # labelspec._native.Schema
    root: int
    items: int  # -1: the root is not a list checked item by item
    head: int = -1  # the entry of the list's first element when it differs from the others (DataGym)


@functools.cache
def _program(format_id: str, profile: str) -> _Program | None:
    module = native()
    assert module is not None
    program = _compiled_program(format_id, profile)
    if program is None:
        return None
    entries = program.entries
    if "head" in entries:  # the first element has its own schema (DataGym's label classes)
        return _Program(module.Schema(program.ir), entries["root"], entries["rest"], entries["head"])
    return _Program(module.Schema(program.ir), entries["root"], entries.get("items", -1))


def _compiled_program(
    format_id: str, profile: str, variant: str = "", build: Callable[[Any], Any] | None = None
) -> Program | None:
    """The schema program of a format: the one shipped with the package (:mod:`.shipped`), else compiled,
    from the cache folder when its sources have not changed (compiling the patterns into DFAs costs more
    than checking a 10 MB export). ``build``: derives the schema to compile from the format's (named by
    ``variant`` in the cache; Segments' samples schema; not shipped)."""
    ready = shipped.load(format_id, profile) if not variant and build is None else None
    if ready is not None:
        return ready
    import pickle  # here: a shipped program needs none, and importing pickle costs start-up time

    folder, key = cache_folder(), compiled_cache_key(format_id, profile)
    cache = None
    if folder is not None and key is not None:
        sources = [
            (Path(__file__).parent / s).read_bytes()
            for s in ("schema_program.py", "regex_dfa.py", "segments.py")
        ]
        format_id_variant = f"{format_id}{variant}"
        cache = folder / f"program-{format_id_variant}-{profile}-{digest(key.encode(), *sources)[:16]}.pickle"
        try:
            cached: Program = pickle.loads(cache.read_bytes())  # our own entry, written below
            return cached
        except Exception:  # missing, or damaged in any way: compile again (and rewrite it)
            pass
    try:
        schema = compile_schema(format_id, profile)
        program = compile_program(build(schema) if build is not None else schema)
    except NotCompilable as exc:
        _debug(f"{format_id}/{profile}: schema not compilable: {exc}")
        return None
    if cache is not None:
        write_cache_entry(
            cache,
            pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL),
            stale=f"program-{format_id}{variant}-{profile}-*",
        )
    return program


@functools.cache
def _coco_plan(format_id: str, profile: str) -> coco.Plan | None:
    """The native plan of a COCO format (:data:`_COCO`)."""
    module = native()
    program = _compiled_program(format_id, profile) if module is not None else None
    plan: coco.Plan | None = (
        None
        if program is None
        else format_ids.load(format_id, "native").plan(module, program, profile, format_id)
    )
    return plan


@functools.cache
def _shipped_samples(profile: str) -> tuple[Any, dict[str, int]] | None:
    """(schema, entries) of the shipped program of Segments samples (``segments.SAMPLES``), or None."""
    module = native()
    program = shipped.load(format_ids.load(_SEGMENTS, "native").SAMPLES, profile)
    if module is None or program is None:
        return None
    return module.Schema(program.ir), program.entries


@functools.cache
def _segments_program(profile: str, chosen: str) -> _Program | None:
    """The program that checks one sample of a release whose dataset branches are ``chosen``: shipped with
    the package for the task types the schema allows, else compiled (and cached) on first use."""
    module = native()
    assert module is not None
    ready = _shipped_samples(profile)
    entry = ready[1].get(f"member-items:{chosen}") if ready is not None else None
    if ready is not None and entry is not None:
        return _Program(ready[0], -1, entry)
    segments = format_ids.load(_SEGMENTS, "native")
    program = _compiled_program(
        _SEGMENTS, profile, f"-samples-{chosen}", lambda schema: segments.items_schema(schema, chosen)
    )
    if program is None or "items" not in program.entries:
        return None
    return _Program(module.Schema(program.ir), program.entries["root"], program.entries["items"])


def _segments_checks(profile: str, document: Any) -> tuple[Any, int, Any, str] | None:
    """(schema, samples entry, rule decider, dataset branches) for a release's header, or None."""
    segments = format_ids.load(_SEGMENTS, "native")
    config = segments.decider_config(document)
    chosen = segments.branches_of(profile, document) if config is not None else None
    program = _segments_program(profile, chosen) if chosen is not None else None
    if program is None or chosen is None:
        return None
    module = native()
    assert module is not None
    return program.schema, program.items, module.SegmentsRules(config), chosen


@functools.cache
def _rules(format_id: str, profile: str) -> Any:
    """The rule decider of a format (:data:`DECIDED`)."""
    module = native()
    assert module is not None
    config = shipped.decider(format_id, profile, "rows")  # the catalogue's table, without reading it
    if format_id == "datagym":
        return module.DataGymRules(config or format_ids.load(format_id, "native").decider_config(profile))
    return module.EncordRules(
        config or format_ids.load(format_id, "native", "encord_rows").decider_config(profile)
    )


def _encord_ontology(ontology: Any, profile: str) -> Any:
    """The ontology decider, None without an ontology, or False when this ontology cannot be modelled."""
    if ontology is None:
        return None
    native_ontology = format_ids.load("encord", "native", "encord_ontology")
    rules = shipped.decider("encord", profile, "ontology_rules")
    tables = native_ontology.ontology_tables(
        ontology, profile, native_ontology.ontology_rules() if rules is None else rules
    )
    if tables is None:
        return False
    module = native()
    assert module is not None
    return module.EncordOntology(tables)


def _debug(message: str) -> None:
    if os.environ.get("LABELSPEC_NATIVE_DEBUG"):
        sys.stderr.write(f"labelspec native: {message}\n")


def _detect(path: str) -> str | None:
    module = native()
    assert module is not None
    ranges = module.head_items(path, SAMPLE_ITEMS)  # all that detection looks at
    if ranges is None:
        return None  # not a root list: no format with a decider has another shape
    with open(path, "rb") as handle:
        probe = []
        for start, end in ranges:
            handle.seek(start)
            probe.append(orjson.loads(handle.read(end - start)))
    try:
        return detect_format(probe)
    except DetectionError:
        return None


def native_report(
    path: str | os.PathLike[str],
    format: str | None,
    profile: str,
    ontology: Any = None,
    *,
    max_dirty: float = 1.0,
    jobs: int = 1,
    png_dir: str | os.PathLike[str] | None = None,
) -> FileReport | None:
    """The report of ``path`` with the native checks doing what they can, or None (then the caller runs the
    reference path on the whole file).

    Items the native checks certify clean are done; the others (structure or rule deciders not
    certain) are validated by the reference path one item at a time
    (:func:`labelspec.validator.scale.streaming.validate_items`), exactly as streaming validation does, so a
    large export with a few faulty items costs one native pass plus those items. ``max_dirty``: the
    share of items (0..1) beyond which to give up (a caller with several processes spreads a very faulty
    file better itself). ``ontology``: the parsed Encord ontology the rules check against. ``jobs``:
    processes for the native pass over a large file (its list is cut into contiguous parts). ``png_dir``:
    the COCO panoptic PNG folder (its rules have no native twin: a panoptic file given one is "not sure"), and
    the folder relative Segments label bitmaps resolve against (for the samples handed to the reference path).
    """
    location = str(path)
    if format in (None, _SEGMENTS) and _object_root(location):
        module = native()
        if module is not None and (format == _SEGMENTS or _segments_root(location)):
            report: FileReport | None = format_ids.load(_SEGMENTS, "native").segments_report(
                module, _segments_checks, location, format, profile, ontology, max_dirty, _debug, png_dir
            )
            if report is not None or format == _SEGMENTS:
                return report
    if (format is None or format in _COCO) and _object_root(location):
        module = native()
        if module is None:
            return None
        coco_native = format_ids.load(format or _COCO[0], "native")
        report = coco_native.coco_report(module, _coco_plan, location, format, profile, png_dir, _debug)
        return report
    checked = _check(location, format, profile, ontology, max_dirty, jobs)
    if checked is None:
        return None
    format_id, result = checked
    dirty: list[tuple[int, int, int]] = result["dirty"]
    if not dirty:
        return FileReport(path=location, format=format_id, profile=profile, findings=[])
    if len(dirty) > max_dirty * result["items"]:
        _debug(f"{location}: {len(dirty)} of {result['items']} items not certified: reference path")
        return None
    _debug(f"{location}: {len(dirty)} of {result['items']} items not certified: to the reference path")
    return _report_for_items(location, format_id, profile, ontology, result, dirty)


def certified_coco(path: str | os.PathLike[str], profile: str) -> coco.Columns | None:
    """The columns (with every element's byte offsets) of a plain JSON COCO instance file the native checks
    certify clean under ``profile`` (then its report has no finding, as :func:`native_report` says), else
    None. The converters read such a file element by element instead of loading it whole."""
    location = str(path)
    module = native()
    if module is None or not _object_root(location):
        return None
    checks = _coco_plan(_COCO[0], profile)
    if checks is None:
        return None
    columns: coco.Columns | None = format_ids.load(_COCO[0], "native").certified_columns(
        module, checks, location, None, _debug, ranges=True
    )
    return columns


ONTOLOGY = "encord-ontology"


def certify_ontology(loaded: LoadedDocument, profile: str) -> FileReport | None:
    """The report of a parsed Encord ontology that is certainly clean (no finding), else None (then the
    reference path judges it: :func:`labelspec.validator.engine.load_ontology`).

    An ontology is small; what makes the reference path cost more than checking a 10 MB export is
    compiling its schema for jsonschema-rs. So the structure is decided by the shipped schema program
    (schema.c decides exactly as draft-07 does) and the rules are the reference's own, run on the same
    document with the same context as :func:`labelspec.validator.engine.validate_document` gives them.
    """
    module = native()
    program = _program(ONTOLOGY, profile) if module is not None and loaded.readable else None
    if program is None:
        return None
    inner, _path = unwrap(ONTOLOGY, loaded.document)
    if item_definition(ONTOLOGY, inner) is not None:
        return None
    try:
        if not program.schema.valid(orjson.dumps(inner), program.root):
            return None
    except (TypeError, ValueError, RecursionError):  # not JSON orjson writes back (e.g. a huge integer)
        return None
    context = RuleContext(
        document=loaded.document,
        format=ONTOLOGY,
        profile=profile,
        duplicate_keys=loaded.duplicate_keys or [],
    )
    if semantic_findings(context):
        return None
    return FileReport(path=loaded.name, format=ONTOLOGY, profile=profile, findings=[])


def _object_root(location: str) -> bool:
    """Whether the file is plain JSON text whose first value starts with '{' (COCO, not a root list)."""
    if location.lower().endswith(_NOT_PLAIN_JSON):
        return False
    try:
        with open(location, "rb") as handle:
            return handle.read(4096).lstrip(b" \t\r\n")[:1] == b"{"
    except OSError:
        return False


def _segments_root(location: str) -> bool:
    """Whether a root object starts like a Segments release (a "dataset" key before anything else COCO
    reads); detection on the whole header decides later."""
    try:
        with open(location, "rb") as handle:
            return b'"dataset"' in handle.read(1 << 16)
    except OSError:
        return False


def uncertified_items(
    path: str | os.PathLike[str], format: str | None, profile: str, ontology: Any = None, jobs: int = 1
) -> list[int] | None:
    """Indexes of the items the native checks cannot certify clean, or None when the whole file goes to
    the reference path (for tests and diagnostics)."""
    checked = _check(str(path), format, profile, ontology, 1.0, jobs)
    return None if checked is None else [index for index, _start, _end in checked[1]["dirty"]]


@dataclass(frozen=True)
class _Part:
    """Check the items of one file from byte ``start`` up to byte ``stop`` (-1: from '[' / to ']')."""

    location: str
    format: str
    profile: str
    ontology: Any
    limit: int  # uncertified items allowed before giving up
    start: int = -1
    stop: int = -1


def _check_part(part: _Part) -> dict[str, Any] | None:
    """The native verdict on one part, or None when the native checks do not apply (run in any process)."""
    module = native()
    program = _program(part.format, part.profile) if module is not None else None
    ontology = part.ontology if part.format == "encord" else None
    onto = _encord_ontology(ontology, part.profile) if program is not None else False
    if module is None or program is None or program.items < 0 or onto is False:
        return None
    result: dict[str, Any] = module.check_file(
        part.location,
        program.schema,
        program.root,
        program.items,
        _rules(part.format, part.profile),
        onto,
        max_dirty=part.limit,
        start=part.start,
        stop=part.stop,
        progress=progress.listener(),
        progress_step=_PROGRESS_STEP,
        head=program.head,
    )
    return result


def _check(
    location: str, format: str | None, profile: str, ontology: Any, max_dirty: float, jobs: int
) -> tuple[str, dict[str, Any]] | None:
    """(format, native verdict) of one file, or None when the native checks do not apply or give up."""
    if native() is None or location.lower().endswith(_NOT_PLAIN_JSON) or not Path(location).is_file():
        return None
    try:
        format_id = format or _detect(location)
    except (OSError, orjson.JSONDecodeError):
        return None
    if format_id not in DECIDED:
        return None
    size = Path(location).stat().st_size
    limit = int(max_dirty * size / _MIN_ITEM_BYTES) + 1 if max_dirty < 1.0 else sys.maxsize
    whole = _Part(location, format_id, profile, ontology, limit)
    splittable = format_id in _ITEM_JOINTS
    result = _check_parts(whole, size, jobs) if splittable and jobs > 1 and size >= SPLIT_BYTES else None
    if result is None:
        result = _check_part(whole)
    if result is None:
        _debug(f"{location}: no native checks for {format_id}/{profile} (or for this ontology)")
        return None
    if not result["complete"]:
        where = f"item {result['items']}, byte {result['offset']}"
        _debug(f"{location}: the reference path judges the whole file: {result['reason']} ({where})")
        return None
    return format_id, result


def _check_parts(whole: _Part, size: int, jobs: int) -> dict[str, Any] | None:
    """The native verdict of the whole file from ``jobs`` processes, each checking a contiguous part of its
    list; None when the parts do not join up (a guessed split was not an item start: then check whole).

    Split points are guessed near equal offsets (the next joint between two rows after them); a part ends
    only exactly at the next part's start, which proves every guess was an item start, by induction from the
    first part.
    """
    points = _split_points(whole.location, size, jobs, _ITEM_JOINTS[whole.format])
    if not points:
        return None
    program = _program(whole.format, whole.profile)  # compiled here, so the forked workers inherit it
    if program is None or program.items < 0:
        return None
    _rules(whole.format, whole.profile)
    starts, stops = [-1, *points], [*points, -1]
    parts = [replace(whole, start=a, stop=b) for a, b in zip(starts, stops, strict=True)]
    with local_mapper(jobs) as pool:
        results: list[dict[str, Any] | None] = list(pool(_check_part, parts))
    merged: dict[str, Any] = {"complete": True, "reason": "", "offset": 0, "items": 0, "dirty": []}
    for result in results:
        if result is None or result["reason"] == "the split is not at an item":
            return None
        if not result["complete"]:
            return result
        merged["dirty"] += [(merged["items"] + i, a, b) for i, a, b in result["dirty"]]
        merged["items"] += result["items"]
    first, last = results[0], results[-1]
    assert first is not None and last is not None
    merged["open"], merged["close"] = first["open"], last["close"]
    return merged


def _split_points(location: str, size: int, parts: int, joint: re.Pattern[bytes]) -> list[int]:
    """Guessed item starts near ``size * k / parts``: where ``joint`` (its group 1) first matches after
    each offset."""
    points: list[int] = []
    with open(location, "rb") as handle:
        for k in range(1, parts):
            offset = size * k // parts
            handle.seek(offset)
            found = joint.search(handle.read(_SPLIT_WINDOW))
            if found and (not points or offset + found.start(1) > points[-1]):
                points.append(offset + found.start(1))
    return points


def _report_for_items(
    location: str,
    format_id: str,
    profile: str,
    ontology: Any,
    checked: dict[str, Any],
    dirty: list[tuple[int, int, int]],
) -> FileReport | None:
    # the reference path item by item (imported when the native pass leaves items to it)
    streaming = format_ids.load(format_id, "scale", "streaming")
    if _program(format_id, profile).head >= 0:  # type: ignore[union-attr]
        # the first element is the context of the others (DataGym's label classes): certified clean
        (start, end), context = checked["head"], 1
        layout = streaming.Layout((), checked["open"], checked["close"], (start,), (end,))
    else:
        layout, context = streaming.Layout((), checked["open"], checked["close"], (), ()), 0
    plan = streaming.Plan(location, location, format_id, profile, layout, context, ontology)
    try:
        report: FileReport = streaming.merge(plan, [streaming.validate_items(plan, dirty)])
    except streaming.Fallback:
        return None
    return report
