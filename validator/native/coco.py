"""The native fast path of COCO instance files: one streaming C pass, then vectorised cross-checks.

A COCO file is one object whose ``images``, ``annotations`` and ``categories`` arrays hold almost all of its
bytes (a train2017-sized file: 450 MB, 800 000 annotations). ``labelspec._native.check_coco`` maps the file
and parses one array element at a time into a tape, checks it with the compiled schema program (entries
``member-items:<key>``, see :mod:`labelspec.validator.native.schema_program`), runs the single-element
rules in C (``labelspec/native/coco.c``, ``LCOCO_RULE_IDS``) and keeps only compact columns (ids, sizes,
boxes). The rules that compare elements run here over those columns with numpy (:data:`VECTORISED`, each
function names the rule it mirrors). Memory stays at the columns (~80 bytes per annotation) plus one element.

Like every decider, this answers only "certainly clean" (a report without findings) or "not sure"
(``None``: the reference path validates the whole file and writes the findings). The pass stops at the
first element it cannot certify. A catalogued rule of the format that neither coco.c nor this module
mirrors makes every file "not sure" (:func:`unmirrored_rules`; tests/native/test_coco_decider.py).

Why C plus numpy rather than numpy alone: a Python pass cannot beat ``orjson.loads`` (it must parse at
least as much), and building 40 million float objects is what makes the baseline slow and big. Why numpy
for the cross-element rules rather than C hash tables: they are set and join operations over whole
columns (``np.unique``, ``np.searchsorted``), a few lines each and far from the hot loop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import orjson

from labelspec.validator import progress
from labelspec.validator.compiler import compile_schema
from labelspec.validator.detect import DetectionError, detect_format
from labelspec.validator.native.schema_program import Program
from labelspec.validator.report import FileReport
from labelspec.validator.rules import catalogue

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:

    class _Numpy:
        """numpy, imported on first use: it costs more start-up than checking a small file, and only a
        COCO file's columns need it."""

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("numpy"), name)

    np = _Numpy()

FORMAT = "coco-instance"
PANOPTIC = "coco-panoptic"
FORMATS = (FORMAT, PANOPTIC)
# What check_coco answers when an annotation is of the other COCO format (then the other plan is tried).
_OTHER_COCO = "an annotation of the other COCO format"
# Root keys of the other formats' detectors: the pass stops at once on them (then detection decides).
_OTHER_FORMAT_KEYS = (
    "dataset",
    "samples",
    "tasks",
    "objects",
    "classifications",
    "editor",
    "label_hash",
    "data_units",
    "data_hash",
    "object_answers",
)
# Decided by the tape parser, which refuses a repeated key (and the pass, for the root's keys).
_PARSER_RULES = frozenset({"JSON-DUPLICATE-KEY"})

# float64; every other column is int64
_REAL_COLUMNS = ("ann_x", "ann_y", "ann_w", "ann_h", "seg_x", "seg_y", "seg_w", "seg_h")
_RANGE_COLUMNS = ("image_at", "annotation_at", "category_at")  # (start, end) byte offsets per element
Columns: TypeAlias = "dict[str, npt.NDArray[Any]]"
_Check = Callable[[Columns], bool]
VECTORISED: dict[str, _Check] = {}  # COCO instance
VECTORISED_PANOPTIC: dict[str, _Check] = {}


def _vectorised(rule_id: str, into: dict[str, _Check] = VECTORISED) -> Callable[[_Check], _Check]:
    """Register the column check of ``rule_id``: True when the rule certainly finds nothing."""

    def register(check: _Check) -> _Check:
        into[rule_id] = check
        return check

    return register


# ---------------------------------------------------------------------------------------------- rules


def _unique(values: npt.NDArray[np.int64]) -> bool:
    ordered = np.sort(values)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _lookup(keys: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]) -> tuple[Any, Any]:
    """(position in ``keys`` sorted, found) of every value of ``wanted``."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    at = np.minimum(np.searchsorted(ordered, wanted), max(len(ordered) - 1, 0))
    found = ordered[at] == wanted if len(ordered) else np.zeros(len(wanted), dtype=bool)
    return order[at] if len(ordered) else at, found


@_vectorised("COCO-IMAGE-ID-DUPLICATE")
def _image_ids_unique(c: Columns) -> bool:
    return _unique(c["image_id"])


@_vectorised("COCO-ANNOTATION-ID-DUPLICATE")
def _annotation_ids_unique(c: Columns) -> bool:
    return _unique(c["ann_id"])


@_vectorised("COCO-CATEGORY-ID-DUPLICATE")
def _category_ids_unique(c: Columns) -> bool:
    return _unique(c["category_id"])


@_vectorised("COCO-IMAGE-ID-UNKNOWN")
def _images_known(c: Columns) -> bool:
    return bool(_lookup(c["image_id"], c["ann_image"])[1].all())


@_vectorised("COCO-CATEGORY-ID-UNKNOWN")
def _categories_known(c: Columns) -> bool:
    return bool(_lookup(c["category_id"], c["ann_category"])[1].all())


def _image_sizes(c: Columns, images: str = "ann_image") -> tuple[Any, Any, Any]:
    """(height, width, known) of the image of each row of column ``images`` (image ids): known when the
    image has positive sizes."""
    at, found = _lookup(c["image_id"], c[images])
    if not len(c["image_id"]):
        zero = np.zeros(len(at), dtype=np.int64)
        return zero, zero, np.zeros(len(at), dtype=bool)
    height, width = c["image_height"][at], c["image_width"][at]
    return height, width, found & (height > 0)


@_vectorised("COCO-RLE-SIZE-MISMATCH")
def _rle_sizes_match(c: Columns) -> bool:
    height, width, known = _image_sizes(c)
    rle = known & (c["ann_rle_height"] >= 0)
    return not bool((rle & ((c["ann_rle_height"] != height) | (c["ann_rle_width"] != width))).any())


@_vectorised("COCO-BBOX-OUTSIDE-IMAGE")
def _boxes_inside(c: Columns) -> bool:
    height, width, known = _image_sizes(c)
    x, y, w, h = c["ann_x"], c["ann_y"], c["ann_w"], c["ann_h"]
    boxed = known & ~np.isnan(x)
    outside = (x < 0) | (y < 0) | (x + w > width) | (y + h > height)
    return not bool((boxed & outside).any())


@_vectorised("COCO-KEYPOINTS-LENGTH")
def _keypoint_lengths(c: Columns) -> bool:
    lengths = c["ann_keypoints"]
    listed = lengths >= 0
    if not listed.any():
        return True
    at, found = _lookup(c["category_id"], c["ann_category"])
    if not len(c["category_id"]):
        return not bool((listed & (lengths % 3 != 0)).any())
    names = np.where(found, c["category_keypoints"][at], -1)
    wrong = np.where(names >= 0, lengths != 3 * names, lengths % 3 != 0)
    return not bool((listed & wrong).any())


# Panoptic (validator/rules/coco.py, COCO-PANOPTIC-*): columns of the images, categories, annotations
# (pan_image) and segments (seg_category; seg_image and seg_x/y/w/h for segments with a bbox of 4 numbers).


@_vectorised("COCO-PANOPTIC-IMAGE-ID-DUPLICATE", VECTORISED_PANOPTIC)
def _panoptic_image_ids_unique(c: Columns) -> bool:
    return _unique(c["image_id"])


@_vectorised("COCO-PANOPTIC-CATEGORY-ID-DUPLICATE", VECTORISED_PANOPTIC)
def _panoptic_category_ids_unique(c: Columns) -> bool:
    return _unique(c["category_id"])


@_vectorised("COCO-PANOPTIC-IMAGE-ID-UNKNOWN", VECTORISED_PANOPTIC)
def _panoptic_images_known(c: Columns) -> bool:
    return bool(_lookup(c["image_id"], c["pan_image"])[1].all())


@_vectorised("COCO-PANOPTIC-IMAGE-ANNOTATED-TWICE", VECTORISED_PANOPTIC)
def _panoptic_one_annotation_per_image(c: Columns) -> bool:
    return _unique(c["pan_image"])


@_vectorised("COCO-PANOPTIC-CATEGORY-ID-UNKNOWN", VECTORISED_PANOPTIC)
def _panoptic_categories_known(c: Columns) -> bool:
    return bool(_lookup(c["category_id"], c["seg_category"])[1].all())


@_vectorised("COCO-PANOPTIC-BBOX-OUTSIDE-IMAGE", VECTORISED_PANOPTIC)
def _panoptic_boxes_inside(c: Columns) -> bool:
    height, width, known = _image_sizes(c, "seg_image")
    x, y, w, h = c["seg_x"], c["seg_y"], c["seg_w"], c["seg_h"]
    judged = known & (w >= 0) & (h >= 0)  # a negative size is not this rule's (_bbox_outside)
    outside = (x < 0) | (y < 0) | (x + w > width) | (y + h > height)
    return not bool((judged & outside).any())


# ---------------------------------------------------------------------------------------------- pass


def _vectorised_of(format_id: str) -> dict[str, _Check]:
    return VECTORISED_PANOPTIC if format_id == PANOPTIC else VECTORISED


def _c_twins(module: Any, format_id: str) -> set[str]:
    return set(module.coco_panoptic_rule_ids() if format_id == PANOPTIC else module.coco_rule_ids())


def png_rules(format_id: str = PANOPTIC) -> list[str]:
    """The catalogued rules that read the PNG folder (``needs: [png_dir]``): no twin, so a plan given a
    PNG folder certifies nothing (without one the reference path does not run them either)."""
    return [spec.id for spec in catalogue(format_id) if "png_dir" in spec.needs]


def unmirrored_rules(module: Any, format_id: str = FORMAT) -> list[str]:
    """Catalogued rules of the format that no native code mirrors (each makes every file "not sure"); the
    PNG rules are not listed (see :func:`png_rules`). ``module``: the extension (``labelspec._native``),
    whose ``coco_rule_ids`` / ``coco_panoptic_rule_ids`` list the C twins."""
    mirrored = (
        set(_vectorised_of(format_id))
        | _PARSER_RULES
        | _c_twins(module, format_id)
        | set(png_rules(format_id))
    )
    return [spec.id for spec in catalogue(format_id) if spec.id not in mirrored]


@dataclass(frozen=True)
class Plan:
    """How to check a COCO file of one format (instance or panoptic) and profile natively (built once)."""

    format: str
    schema: Any  # labelspec._native.Schema of the format's program
    members: dict[str, tuple[int, int]]  # root key -> (value entry, element entry or -1)
    required: tuple[str, ...]
    unmirrored: tuple[str, ...]  # catalogued rules without a twin: the plan certifies nothing
    png_rules: tuple[str, ...]  # rules that read the PNG folder: with one, the plan certifies nothing


def plan(module: Any, program: Program, profile: str, format_id: str = FORMAT) -> Plan | None:
    """The plan for ``program`` (the format's compiled schema program), or None when its root is not an
    object checked member by member."""
    members = {
        key[len("member:") :]: (node, program.entries.get("member-items:" + key[len("member:") :], -1))
        for key, node in program.entries.items()
        if key.startswith("member:")
    }
    if not members:
        return None
    required = tuple(compile_schema(format_id, profile).get("required", ()))
    unmirrored = tuple(unmirrored_rules(module, format_id))
    return Plan(
        format_id, module.Schema(program.ir), members, required, unmirrored, tuple(png_rules(format_id))
    )


def coco_report(
    module: Any,
    plans: Callable[[str, str], Plan | None],
    location: str,
    format: str | None,
    profile: str,
    png_dir: Any,
    debug: Callable[[str], None],
) -> FileReport | None:
    """The report of a certainly clean COCO instance or panoptic file (no findings), or None: not sure, or
    not a COCO file (then the reference path judges the file). ``plans(format, profile)``: the plan of a
    format. Without a format, the instance plan runs first; a file whose first annotation is panoptic then
    takes the panoptic plan (a second pass, up to that annotation again)."""
    for format_id in [format] if format is not None else list(FORMATS):
        checks = plans(format_id, profile) if format_id in FORMATS else None
        if checks is None:
            return None
        verdict = _verdict(module, checks, location, format, debug, False, png_dir)
        if not isinstance(verdict, str):
            return None if verdict is None else FileReport(location, checks.format, profile, findings=[])
    return None


def certified_columns(
    module: Any,
    checks: Plan,
    location: str,
    format: str | None,
    debug: Callable[[str], None],
    *,
    ranges: bool = False,
    png_dir: Any = None,
) -> Columns | None:
    """The columns of a certainly clean COCO file of the plan's format (no finding under the plan's
    profile), or None (not sure, or not a file of that format). ``ranges``: also the byte offsets of every
    element, as ``(start, end)`` rows of the int64 columns ``image_at``, ``annotation_at`` and
    ``category_at`` (shape ``(n, 2)``; the converters read the elements one at a time by them)."""
    verdict = _verdict(module, checks, location, format, debug, ranges, png_dir)
    return None if isinstance(verdict, str) else verdict


def _verdict(
    module: Any,
    checks: Plan,
    location: str,
    format: str | None,
    debug: Callable[[str], None],
    ranges: bool,
    png_dir: Any,
) -> Columns | str | None:
    """One plan's verdict: the columns of a clean file, None (not sure) or :data:`_OTHER_COCO`."""
    if format not in (None, checks.format):
        return None
    if checks.unmirrored:
        debug(f"{location}: rules without a native twin: {', '.join(checks.unmirrored)}")
        return None
    if png_dir is not None and checks.png_rules:
        debug(f"{location}: the PNG rules have no native twin: {', '.join(checks.png_rules)}")
        return None
    result = module.check_coco(
        location,
        checks.schema,
        checks.members,
        _OTHER_FORMAT_KEYS,
        progress=progress.listener(),
        progress_step=1 << 20,
        ranges=ranges,
        panoptic=checks.format == PANOPTIC,
    )
    if not result["complete"]:
        debug(f"{location}: {checks.format}: {result['reason']} at byte {result['offset']}")
        return _OTHER_COCO if result["reason"] == _OTHER_COCO else None
    keys = result["keys"]
    if any(key not in keys for key in checks.required):
        return None
    if format is None and not _detected(location, keys, result["samples"], checks.format):
        return None
    columns: Columns = {
        name: np.frombuffer(data, dtype=np.float64 if name in _REAL_COLUMNS else np.int64)
        for name, data in result["columns"].items()
    }
    for rule_id, check in _vectorised_of(checks.format).items():
        if not check(columns):
            debug(f"{location}: {checks.format}: {rule_id} may fire")
            return None
    for name in _RANGE_COLUMNS:
        columns[name] = columns[name].reshape(-1, 2)
    return columns


def _detected(
    location: str, keys: list[str], samples: dict[str, list[tuple[int, int]]], format_id: str = FORMAT
) -> bool:
    """Whether format detection picks ``format_id``: it looks only at the root's keys (the pass stopped at
    every key the other formats' detectors read) and the first annotations and categories."""
    probe: dict[str, Any] = dict.fromkeys(keys)
    with open(location, "rb") as handle:
        for key, ranges in samples.items():
            if key not in probe:
                continue
            items = []
            for start, end in ranges:
                handle.seek(start)
                items.append(orjson.loads(handle.read(end - start)))
            probe[key] = items
    try:
        return detect_format(probe) == format_id
    except DetectionError:
        return False
