"""The native fast path of Segments.ai releases (``labelspec/native/segments_rules.c``).

A release is one object whose bulk is ``dataset.samples``. The fast path splits it in two:

* the *header* (the document with ``dataset.samples`` emptied) is judged by the reference path itself
  (structure and every rule, :func:`labelspec.validator.engine.validate_document`): it is small, and the
  rules that read only the header (:data:`HEADER_RULES`) need no twin. A header with any finding sends the
  whole file to the reference path;
* the samples are streamed by ``_native.check_file(list_at=...)``: each one is checked against the schema
  its task type gives samples (:func:`items_schema`) and by the C decider, which answers "certainly clean"
  or "not sure" per sample and remembers every sample's uuid and name stem. Samples it is not sure of, and
  those whose uuid or stem another sample has too, are validated by the reference path one at a time
  (:func:`labelspec.validator.scale.streaming.validate_items`), with the header as their context (and the
  ``png_dir`` relative bitmap paths resolve against); the others stay certified. The rules comparing
  samples see the handed-over samples in their places.

Soundness: every catalogued Segments rule has a C twin (``_native.segments_rule_ids()``) or is decided on
the header (:data:`HEADER_RULES`); the decider models every task type (the label's, and each sensor's in
multi-sensor sequences), and what it does not model exactly makes it "not sure" of that sample alone.
:func:`unmirrored_rules` names any other rule, and the fast path is then off for Segments; a rule the C code
does not know also makes it answer "not sure" for every sample (``decider_config(...)["rules"]``).

Why C and not columnar Python: the target is the time ``orjson.loads`` takes to parse the file, and any
Python-side check needs those parsed objects first; the native tape parser reads the 100 MB benchmark
release in 0.21 s against 0.57 s for ``orjson.loads`` (same process), which leaves room for the checks.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from labelspec.validator import progress
from labelspec.validator.compiler import compiled_schema_view
from labelspec.validator.detect import DetectionError, detect_format
from labelspec.validator.engine import validate_document
from labelspec.validator.inputs import find_duplicate_keys
from labelspec.validator.native.schema_program import NotCompilable
from labelspec.validator.report import FileReport
from labelspec.validator.rules import catalogue
from labelspec.validator.rules import segments as reference  # the decider's tables come from its helpers
from labelspec.validator.scale.split import FileBytes, Layout, scan_items
from labelspec.validator.scale.streaming import Fallback, Plan, merge, validate_items

if TYPE_CHECKING:
    import jsonschema
else:

    class _Jsonschema:
        """python-jsonschema, imported on first use: it costs start-up that a release the native checks
        certify never needs."""

        def __getattr__(self, attribute: str) -> Any:
            return getattr(importlib.import_module("jsonschema"), attribute)

    jsonschema = _Jsonschema()

FORMAT = "segments"
CONTAINER = ("dataset", "samples")
_DRAFT07 = "http://json-schema.org/draft-07/schema#"

# Rules the reference path decides on the header (they read only dataset.task_attributes).
HEADER_RULES = frozenset({"SEG-CATEGORY-ID-DUPLICATE", "SEG-CATEGORY-REFERENCE-UNDECLARED"})
# Attribute input types as segments_rules.c numbers them (reference._value_problem).
_KINDS = {"select": 1, "multiselect": 2, "text": 3, "number": 4, "checkbox": 5}
_SHAPES = {"bbox": 1, "point": 2}
_INT64 = (-(2**63), 2**63 - 1)
_NAMED = 10  # sample indexes a debug message names at most


def unmirrored_rules(module: ModuleType) -> list[str]:
    """Catalogued Segments rules with neither a C twin nor a header decision."""
    twins = set(module.segments_rule_ids()) | HEADER_RULES
    return [spec.id for spec in catalogue(FORMAT) if spec.id not in twins]


def _decided_in_c() -> list[str]:
    return [spec.id for spec in catalogue(FORMAT) if spec.id not in HEADER_RULES]


# ------------------------------------------------------------------------------------------ the decider


class _Unmodelled(Exception):
    """The header holds something the decider's tables cannot represent exactly."""


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unmodelled("a name that is not valid UTF-8") from None
    return value


def _definitions(raw: dict[str, dict[str, Any]]) -> tuple[Any, ...]:
    out = []
    for name, definition in raw.items():
        kind = definition.get("input_type")
        choices = definition.get("values")
        out.append(
            (
                _text(name),
                _KINDS.get(kind, 0) if isinstance(kind, str) else 0,
                tuple(_text(c) for c in choices if isinstance(c, str)) if isinstance(choices, list) else None,
                reference.attribute_bound(definition.get("min")),
                reference.attribute_bound(definition.get("max")),
                definition.get("is_mandatory") is True,
            )
        )
    return tuple(out)


def _int64(value: int) -> int:
    if not _INT64[0] <= value <= _INT64[1]:
        raise _Unmodelled("an id beyond int64")
    return value


def decider_config(document: Any) -> dict[str, Any] | None:
    """The tables of ``SegmentsRules`` for a release (its header), or None when the decider declines it
    (no ``dataset``, something not representable)."""
    dataset = document.get("dataset") if isinstance(document, dict) else None
    if not isinstance(dataset, dict):
        return None
    try:
        return _config(dataset)
    except _Unmodelled:
        return None


def _config(dataset: dict[str, Any]) -> dict[str, Any]:
    config = reference.label_config(dataset.get("task_type"), dataset.get("task_attributes"))
    task_type = config.task_type
    usable = config.categories if config.categories is not None else (config.known or {})
    categories = []
    for cid, category in usable.items():
        restrictions = category.get("link_category_restrictions")
        allowed = None
        if isinstance(restrictions, list) and restrictions:
            ids = {r for r in map(reference.integral, restrictions) if r is not None}
            allowed = tuple(sorted(r for r in ids if _INT64[0] <= r <= _INT64[1]))  # others match no id
        categories.append(
            (
                _int64(cid),
                _definitions(config.object_attributes(cid, category)),
                _definitions(config.link_attributes(cid, category)),
                allowed,
            )
        )
    labelsets = dataset.get("labelsets")
    declared = None
    if isinstance(labelsets, list):
        names = [ls["name"] for ls in labelsets if isinstance(ls, dict) and isinstance(ls.get("name"), str)]
        declared = tuple(_text(name) for name in dict.fromkeys(names))
    return {
        "rules": _decided_in_c(),
        # what the label's task type (and each sensor's, in multi-sensor sequences) selects is computed in C
        # from these tables
        "task_type": None if task_type is None else _text(task_type),
        "shapes": tuple(
            (name, sum(_SHAPES[shape] for shape in shapes))
            for name, shapes in sorted(reference.ALLOWED_SHAPES.items())
        ),
        "bitmap_task_types": tuple(sorted(reference.BITMAP_TASK_TYPES)),
        "image": task_type in reference.IMAGE_TASK_TYPES,
        "labelsets": declared,
        "report_undeclared": config.categories is not None,
        "categories": tuple(categories),
        "image_attributes": _definitions(config.image_attributes or {}),
    }


# ------------------------------------------------------------------------------------------ sample schema


def _dumps_mentions(schema: Any, *words: str) -> bool:
    text = orjson.dumps(schema).decode()
    return any(f'"{word}"' in text for word in words)


def _chosen(branch: dict[str, Any], instance: Any, where: str) -> Any:
    """The ``then`` or ``else`` of an if/then/else schema that applies to ``instance`` (None: neither)."""
    if set(branch) - {"if", "then", "else", "description"}:
        raise NotCompilable(f"{where}: a branch with other keywords")
    test = branch["if"]
    if _dumps_mentions(test, "$ref", "samples"):
        raise NotCompilable(f"{where}: a condition that reads the samples or refers elsewhere")
    return branch.get("then") if jsonschema.Draft7Validator(test).is_valid(instance) else branch.get("else")


def branches(schema: dict[str, Any], document: Any) -> str:
    """Which branch of each ``dataset.allOf`` if/then/else applies to this release ("t", "e"): with
    :func:`items_schema`, the schema of its samples. Raises NotCompilable for a schema shape it does not
    model (then the file takes the reference path)."""
    if set(schema) & {"allOf", "anyOf", "oneOf", "not", "additionalProperties", "patternProperties"}:
        raise NotCompilable("root keywords that may constrain the dataset")
    if "if" in schema:
        root_branch = _chosen(
            {"if": schema["if"], "then": schema.get("then"), "else": schema.get("else")}, document, "root"
        )
        if root_branch is not None and set(root_branch) - {"required", "description"}:
            raise NotCompilable("the root's chosen branch constrains more than required keys")
    dataset = _dataset_schema(schema)
    chosen = ""
    for i, branch in enumerate(dataset.get("allOf", [])):
        if not isinstance(branch, dict) or "if" not in branch:
            raise NotCompilable(f"dataset allOf/{i} is not an if/then/else")
        picked = _chosen(branch, document["dataset"], f"dataset allOf/{i}")
        chosen += "t" if picked is branch.get("then") else "e"
    return chosen


def _dataset_schema(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("properties", {}).get("dataset", {}).get("$ref")
    if ref != "#/definitions/dataset":
        raise NotCompilable("properties.dataset is not a reference to definitions/dataset")
    dataset: dict[str, Any] = schema["definitions"]["dataset"]
    allowed = {"description", "title", "type", "required", "properties", "allOf", "examples"}
    if any(key not in allowed and not key.startswith("x-") for key in dataset):
        raise NotCompilable("dataset keywords that may constrain the samples")
    return dataset


def _samples_items(holder: Any, where: str, branch: bool = True) -> Any:
    """The ``items`` of ``holder.properties.samples`` (None: no such schema); only ``type: array`` and
    ``items`` may constrain the list (anything else could judge it as a whole). A ``branch`` (then/else)
    may hold only properties and required keys."""
    if holder is None:
        return None
    if not isinstance(holder, dict) or (branch and set(holder) - {"properties", "required", "description"}):
        raise NotCompilable(f"{where}: keywords beside properties/required")
    samples = holder.get("properties", {}).get("samples")
    if samples is None:
        return None
    if set(samples) - {"description", "type", "items"} or samples.get("type", "array") != "array":
        raise NotCompilable(f"{where}: the samples schema judges the list as a whole")
    return samples.get("items", True)


def items_schema(schema: dict[str, Any], chosen: str) -> dict[str, Any]:
    """A schema whose root is "an array of samples" valid exactly where ``dataset.samples`` is, for the
    branches :func:`branches` chose."""
    dataset = _dataset_schema(schema)
    parts = [_samples_items(dataset, "dataset", branch=False)]
    for i, (branch, pick) in enumerate(zip(dataset.get("allOf", []), chosen, strict=True)):
        parts.append(_samples_items(branch.get("then" if pick == "t" else "else"), f"dataset allOf/{i}"))
    return {
        "$schema": _DRAFT07,
        "definitions": schema["definitions"],
        "type": "array",
        "items": {"allOf": [part for part in parts if part is not None]},
    }


# The shipped program of the samples (``programs/segments-samples-<profile>.json``, written by ``labelspec
# codegen``): one program whose entry ``member-items:<branches>`` checks a sample, for the dataset branches of
# every task type the profile's schema allows (another header compiles its own on first use).
SAMPLES = f"{FORMAT}-samples"


def task_type_branches(schema: dict[str, Any]) -> list[str]:
    """The dataset branches (:func:`branches`) of each task type the schema's ``task_type`` enum allows."""
    task_type = schema.get("definitions", {}).get("task_type", {})
    out: list[str] = []
    for value in task_type.get("enum", []) if isinstance(task_type, dict) else []:
        try:
            chosen = branches(schema, {"dataset": {"task_type": value}})
        except NotCompilable:
            continue
        if chosen not in out:
            out.append(chosen)
    return out


def samples_schema(schema: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """One schema whose member ``<branches>`` is the samples list of a release with those dataset branches
    (:func:`items_schema`): compiled once, the items of each member are an entry of one program."""
    return {
        "$schema": _DRAFT07,
        "definitions": schema["definitions"],
        "type": "object",
        "properties": {c: {"type": "array", "items": items_schema(schema, c)["items"]} for c in chosen},
    }


# ------------------------------------------------------------------------------------------ the report

Debug = Callable[[str], None]
# (profile, document) -> (schema, items entry, rules decider, branches) or None
Checks = Callable[[str, Any], Any]


def segments_report(
    module: ModuleType,
    checks: Checks,
    location: str,
    format: str | None,
    profile: str,
    ontology: Any,
    max_dirty: float,
    debug: Debug,
    png_dir: str | os.PathLike[str] | None = None,
) -> FileReport | None:
    """The report of a Segments release with the native checks doing what they can, or None (then the
    reference path judges the whole file). ``max_dirty``: the share of samples (0..1) the native checks may
    leave to the reference path before it judges the whole file instead; ``png_dir``: where the reference
    path resolves relative bitmap paths of the samples it is given."""
    if format not in (None, FORMAT):
        return None
    unmirrored = unmirrored_rules(module)
    if unmirrored:
        debug(f"{location}: segments rules without a native twin: {', '.join(unmirrored)}")
        return None
    open_at = module.nested_list_at(location, *CONTAINER)
    if open_at is None:
        return None
    with open(location, "rb") as handle:
        head = handle.read(open_at + 1)
        try:
            provisional = orjson.loads(head + b"]}}")  # the header up to the samples
        except orjson.JSONDecodeError:
            return None
        found = checks(profile, provisional)
        if found is None:
            debug(f"{location}: segments: no native checks for this header")
            return None
        schema, items, rules, _chosen = found
        size = os.fstat(handle.fileno()).st_size
        result = module.check_file(
            location,
            schema,
            0,
            items,
            rules,
            None,
            # how many samples may be handed over (a sample takes at least 2 bytes, "{}")
            max_dirty=sys.maxsize if max_dirty >= 1.0 else int(max_dirty * size / 2) + 1,
            list_at=open_at,
            progress=progress.listener(),
            progress_step=1 << 20,
        )
        if not result["complete"]:
            debug(f"{location}: segments: {result['reason']} at byte {result['offset']}")
            return None
        close = result["close"]
        handle.seek(close)
        shell_bytes = head + handle.read()
    return _report(
        location,
        format,
        (profile, ontology, png_dir),
        max_dirty,
        debug,
        (shell_bytes, provisional, found),
        result,
    )


def _report(
    location: str,
    format: str | None,
    options: tuple[str, Any, str | os.PathLike[str] | None],
    max_dirty: float,
    debug: Debug,
    header: tuple[bytes, Any, Any],
    result: dict[str, Any],
) -> FileReport | None:
    shell_bytes, provisional, (_schema, _items, _rules, chosen) = header
    profile, ontology, png_dir = options
    try:
        shell = orjson.loads(shell_bytes)
        if format is None and detect_format(shell) != FORMAT:
            return None
    except (orjson.JSONDecodeError, DetectionError):
        return None
    # the decider and the samples' schema were chosen from the header up to the samples: the whole header
    # must give the same ones
    if decider_config(shell) != decider_config(provisional) or branches_of(profile, shell) != chosen:
        debug(f"{location}: segments: the header after the samples changes their checks")
        return None
    header_report = validate_document(
        shell,
        name=location,
        format=FORMAT,
        profile=profile,
        ontology=ontology,
        duplicate_keys=find_duplicate_keys(shell_bytes, shell),
    )
    if not header_report.readable or header_report.findings:
        debug(f"{location}: segments: the header has findings")
        return None
    dirty: list[tuple[int, int, int]] = result["dirty"]
    repeated: list[int] = result["repeated"]
    if not dirty and not repeated:
        return FileReport(path=location, format=FORMAT, profile=profile, findings=[])
    items = _handed_over(location, dirty, repeated, result["items"])
    if items is None or len(items) > max_dirty * result["items"]:
        debug(
            f"{location}: segments: {len(dirty)} of {result['items']} samples not certified"
            + (f", {len(repeated)} with a repeated uuid or name stem" if repeated else "")
            + ": reference path"
        )
        return None
    debug(
        f"{location}: segments: {len(dirty)} of {result['items']} samples not certified"
        + (f", {len(repeated)} with a repeated uuid or name stem" if repeated else "")
        + f", to the reference path one by one: {', '.join(str(index) for index, _s, _e in items[:_NAMED])}"
        + (", ..." if len(items) > _NAMED else "")
    )
    layout = Layout(CONTAINER, result["open"], result["close"], (), ())
    plan = Plan(
        location, location, FORMAT, profile, layout, 0, ontology, None if png_dir is None else str(png_dir)
    )
    try:
        part = validate_items(plan, items)
    except Fallback:
        return None
    if repeated:
        # the rules comparing samples see every handed-over sample in its place and None for the others
        # (which they skip): every sample sharing a uuid or stem with another is among the handed-over ones
        placed: list[Any] = [None] * result["items"]
        for (index, _start, _end), projection in zip(items, part.projections, strict=True):
            placed[index] = projection
        part.projections = placed
    return merge(plan, [part])


def _handed_over(
    location: str, dirty: list[tuple[int, int, int]], repeated: list[int], count: int
) -> list[tuple[int, int, int]] | None:
    """(index, start, end) of the samples the reference path judges, in order: those the native checks did not
    certify and those with a repeated uuid or name stem (their byte ranges from a scan of the file; None when
    the scan does not find the same samples)."""
    if not repeated:
        return dirty
    with FileBytes(location) as data:
        layout = scan_items(data)
    if layout is None or layout.container != CONTAINER or layout.count != count:
        return None
    items = {index: (index, layout.starts[index], layout.ends[index]) for index in repeated}
    items.update((item[0], item) for item in dirty)
    return [items[index] for index in sorted(items)]


def branches_of(profile: str, document: Any) -> str | None:
    try:
        return branches(compiled_schema_view(FORMAT, profile), document)
    except NotCompilable:
        return None
