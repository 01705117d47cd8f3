"""Semantic rules of the Segments.ai release file (catalogue: ``schemas/segments/rules.yaml``).

All rules share one linear pass over the document (:func:`_analyse`): lookup tables (categories,
labelsets, attribute definitions) are built once, then every sample, label, frame and annotation is
visited once and its hits are filed under the rule they belong to. Each registered check only returns
its share, so the pass runs once per validation however many rules the catalogue lists.

Label bitmaps are decoded only when they are available locally: a ``data:`` URL, a ``file:`` URL or a
plain (absolute, or relative to ``png_dir`` / the working directory) path to an existing file. Nothing
is ever fetched over the network.
"""

from __future__ import annotations

import base64
import binascii
import math
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from labelspec.validator.report import escape_token
from labelspec.validator.rules.base import Hit, RuleContext, catalogued_ids, cross_item, rule

IMAGE_TASK_TYPES = frozenset(
    {"segmentation-bitmap", "segmentation-bitmap-highres", "vector", "bboxes", "keypoints"}
)
BITMAP_TASK_TYPES = frozenset({"segmentation-bitmap", "segmentation-bitmap-highres"})
# The shapes each image vector task type lets a labeler draw (notes §2).
ALLOWED_SHAPES = {"bboxes": frozenset({"bbox"}), "keypoints": frozenset({"point"})}
# Statuses of a label the labeler submitted: mandatory attributes must be filled in by then.
DONE_STATUSES = frozenset({"LABELED", "REVIEWED", "VERIFIED"})
MAX_DATA_URL = 64 * 1024 * 1024
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_LISTED = 10  # ids listed in one message at most


def _integral(value: Any) -> int | None:
    """An integral JSON number as int (booleans are not numbers here), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _setting(value: Any) -> float | None:
    """A number-attribute bound: a number or a numeric string; "" and null mean unset."""
    if isinstance(value, str):
        try:
            number = float(value.strip()) if value.strip() else None
        except ValueError:
            return None
        return number if number is not None and math.isfinite(number) else None
    return _number(value)


def _rep(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _listing(values: Any) -> str:
    items = sorted(values)
    shown = ", ".join(str(v) for v in items[:_LISTED])
    return shown + (f", ... ({len(items)} in all)" if len(items) > _LISTED else "")


@dataclass
class _Config:
    """What labels of one labelset are checked against."""

    task_type: str | None
    categories: dict[int, dict[str, Any]] | None  # None: no (complete) category list declared
    image_attributes: dict[str, dict[str, Any]] | None
    known: dict[int, dict[str, Any]] | None = None  # the usable categories of an incomplete list
    _object_attributes: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _link_attributes: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _owners: dict[int, str] = field(default_factory=dict)

    def category(self, cid: int) -> dict[str, Any] | None:
        """The category with this id among those whose id is usable."""
        found = (self.categories if self.categories is not None else self.known or {}).get(cid)
        return found

    def object_attributes(self, cid: int, category: dict[str, Any]) -> dict[str, dict[str, Any]]:
        if cid not in self._object_attributes:
            self._object_attributes[cid] = _definitions(category.get("attributes"))
        return self._object_attributes[cid]

    def owner(self, cid: int, category: dict[str, Any]) -> str:
        """How messages name a category."""
        if cid not in self._owners:
            self._owners[cid] = f"category {cid} ({_rep(category.get('name'))})"
        return self._owners[cid]

    def link_attributes(self, cid: int, category: dict[str, Any]) -> dict[str, dict[str, Any]]:
        if cid not in self._link_attributes:
            self._link_attributes[cid] = _definitions(category.get("link_attributes"))
        return self._link_attributes[cid]


@dataclass
class _Scope:
    """Object ids of one label (or frame) and the tracks of one sequence label."""

    ids: dict[int, str] = field(default_factory=dict)  # annotation id -> pointer of its first use
    categories: dict[int, int] = field(default_factory=dict)  # annotation / track id -> category id


@dataclass
class _Analysis:
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    assets: dict[str, Any] = field(default_factory=dict)

    def add(self, rule_id: str, pointer: str, message: str, hint: str | None = None) -> None:
        hit: Hit = (pointer, message, hint) if hint else (pointer, message)
        self.hits.setdefault(rule_id, []).append(hit)


def _analysis(ctx: RuleContext) -> _Analysis:
    """The hits of every rule for this document (computed once per document)."""
    return ctx.memo(_analyse)


def _analyse(ctx: RuleContext) -> _Analysis:
    result = _Analysis()
    _Walker(ctx.png_dir, result).document(ctx.document)
    return result


def _hits(rule_id: str) -> Any:
    def check(ctx: RuleContext) -> Iterator[Hit]:
        yield from _analysis(ctx).hits.get(rule_id, [])

    check.__name__ = "check_" + rule_id.lower().replace("-", "_")
    return rule(rule_id)(check)


# The one walk finds every rule the catalogue lists for Segments (so no rule has a check of its own).
for _rule_id in catalogued_ids("segments"):
    _hits(_rule_id)


# ------------------------------------------------------------------------------------------ local assets


def local_asset(url: Any, base: Path | None = None) -> Path | bytes | None:
    """The local file (or ``data:`` payload) a URL names, or None when it is remote or absent.

    ``data:`` URLs (base64) give their bytes; ``file:`` URLs and scheme-less paths give an existing
    regular file (relative paths resolve against ``base``, else the working directory). http(s), s3, gs
    and every other scheme give None: the validator never fetches anything.
    """
    if not isinstance(url, str) or not url or "\x00" in url:
        return None
    if url[:5].lower() == "data:":
        header, sep, payload = url[5:].partition(",")
        if not sep or not header.lower().endswith(";base64") or len(payload) > MAX_DATA_URL:
            return None
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return None
    if url[:5].lower() == "file:":
        parsed = urlparse(url)
        if parsed.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parsed.path)))
    elif _SCHEME.match(url) and not _WINDOWS_DRIVE.match(url):
        return None
    else:
        path = Path(url)
        if not path.is_absolute() and base is not None:
            path = base / path
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------ the walk


class _Walker:
    def __init__(self, png_dir: Path | None, out: _Analysis) -> None:
        self.out = out
        self.base = png_dir
        self.add = out.add

    # --- envelope --------------------------------------------------------------------------------

    def document(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            return
        dataset = doc.get("dataset")
        if isinstance(dataset, dict):
            self.dataset(dataset)
        elif isinstance(doc.get("tasks"), list):
            self.legacy(doc)

    def config(self, task_type: Any, task_attributes: Any, pointer: str) -> _Config:
        categories: dict[int, dict[str, Any]] | None = None
        image_attributes: dict[str, dict[str, Any]] | None = None
        if isinstance(task_attributes, dict):
            raw = task_attributes.get("categories")
            if isinstance(raw, list):
                categories = {}
                complete = True
                first: dict[int, int] = {}
                for i, category in enumerate(raw):
                    if not isinstance(category, dict):
                        continue
                    cid = _integral(category.get("id"))
                    if cid is None:
                        # a category without a usable id (a structural finding): which ids are declared
                        # is unknown, so undeclared ids are not reported
                        complete = False
                        continue
                    if cid in first:
                        self.add(
                            "SEG-CATEGORY-ID-DUPLICATE",
                            f"{pointer}/categories/{i}/id",
                            f"category id {cid} ({_rep(category.get('name'))}) is already declared by "
                            f"categories/{first[cid]} ({_rep(raw[first[cid]].get('name'))})",
                            "give every category its own id",
                        )
                        continue
                    first[cid] = i
                    categories[cid] = category
            image_attributes = _definitions(task_attributes.get("image_attributes"))
            if categories is not None and isinstance(raw, list):
                self.category_references(task_attributes, raw, categories, pointer)
                if not complete:
                    return _Config(
                        task_type if isinstance(task_type, str) else None, None, image_attributes, categories
                    )
        return _Config(task_type if isinstance(task_type, str) else None, categories, image_attributes)

    def category_references(
        self, task_attributes: dict[str, Any], raw: list[Any], categories: dict[int, Any], pointer: str
    ) -> None:
        def check(values: Any, where: str) -> None:
            if isinstance(values, list):
                for j, value in enumerate(values):
                    cid = _integral(value)
                    if cid is not None and cid not in categories:
                        self.add(
                            "SEG-CATEGORY-REFERENCE-UNDECLARED",
                            f"{where}/{j}",
                            f"category id {cid} is not declared in task_attributes.categories "
                            f"(declared: {_listing(categories)})",
                        )

        for i, category in enumerate(raw):
            if isinstance(category, dict):
                check(
                    category.get("link_category_restrictions"),
                    f"{pointer}/categories/{i}/link_category_restrictions",
                )
        warning_rules = task_attributes.get("warning_rules")
        if isinstance(warning_rules, list):
            for i, warning_rule in enumerate(warning_rules):
                if isinstance(warning_rule, dict):
                    for key in ("categories", "excluded_categories", "excluded_set_of_categories"):
                        check(warning_rule.get(key), f"{pointer}/warning_rules/{i}/{key}")

    def dataset(self, dataset: dict[str, Any]) -> None:
        config = self.config(
            dataset.get("task_type"), dataset.get("task_attributes"), "/dataset/task_attributes"
        )
        labelsets = dataset.get("labelsets")
        declared: list[str] | None = None
        if isinstance(labelsets, list):
            declared = [
                ls["name"] for ls in labelsets if isinstance(ls, dict) and isinstance(ls.get("name"), str)
            ]
        self.samples(
            dataset.get("samples"), "/dataset/samples", declared, lambda name: config, config.task_type
        )

    def legacy(self, doc: dict[str, Any]) -> None:
        configs: dict[str, _Config] = {}
        for i, task in enumerate(doc["tasks"]):
            if isinstance(task, dict) and isinstance(task.get("name"), str):
                attributes = task.get("attributes")
                configs.setdefault(
                    task["name"], self.config(task.get("task_type"), attributes, f"/tasks/{i}/attributes")
                )
        self.samples(doc.get("samples"), "/samples", list(configs), configs.get, None)

    def samples(
        self, samples: Any, pointer: str, declared: list[str] | None, config_of: Any, task_type: str | None
    ) -> None:
        if not isinstance(samples, list):
            return
        declared_set = set(declared) if declared is not None else None
        uuids: dict[str, int] = {}
        stems: dict[str, int] = {}
        for i, sample in enumerate(samples):
            if not isinstance(sample, dict):
                continue
            sp = f"{pointer}/{i}"
            uuid = sample.get("uuid")
            if isinstance(uuid, str):
                if uuid in uuids:
                    self.add(
                        "SEG-SAMPLE-UUID-DUPLICATE",
                        f"{sp}/uuid",
                        f"sample uuid {uuid!r} is already used by samples/{uuids[uuid]}",
                    )
                else:
                    uuids[uuid] = i
            name = sample.get("name")
            if task_type in IMAGE_TASK_TYPES and isinstance(name, str):
                stem = posixpath.splitext(name)[0]
                if stem in stems:
                    other = samples[stems[stem]].get("name")
                    self.add(
                        "SEG-SAMPLE-NAME-COLLISION",
                        f"{sp}/name",
                        f"sample name {name!r} has the same stem {stem!r} as samples/{stems[stem]} "
                        f"({other!r}): SegmentsDataset caches both under {stem!r}",
                        "rename one of the samples",
                    )
                else:
                    stems[stem] = i
            labels = sample.get("labels")
            if not isinstance(labels, dict):
                continue
            if declared is not None:
                missing = [name for name in declared if name not in labels]
                if missing:
                    self.add(
                        "SEG-LABELSET-MISSING",
                        f"{sp}/labels",
                        f"no key for declared labelset{'s' if len(missing) > 1 else ''} "
                        + ", ".join(repr(m) for m in missing)
                        + " (an unlabeled sample has the key with null)",
                        "SegmentsDataset(..., filter_by=...) raises KeyError on this sample",
                    )
            for key, label in labels.items():
                lp = f"{sp}/labels/{escape_token(key)}"
                if declared_set is not None and key not in declared_set:
                    self.add(
                        "SEG-LABELSET-UNDECLARED",
                        lp,
                        f"labelset {key!r} is not declared in dataset.labelsets (declared: "
                        + (", ".join(repr(d) for d in declared or []) or "none")
                        + ")",
                        "SegmentsDataset only loads declared labelsets; these labels are unreachable",
                    )
                config = config_of(key)
                if isinstance(label, dict) and config is not None:
                    self.label(label, lp, config, sample.get("attributes"), f"{sp}/attributes")

    # --- labels ----------------------------------------------------------------------------------

    def label(
        self, label: dict[str, Any], pointer: str, config: _Config, sample_attrs: Any, sample_ptr: str
    ) -> None:
        attrs = label.get("attributes")
        if not isinstance(attrs, dict):
            return
        status = label.get("label_status")
        done = isinstance(status, str) and status in DONE_STATUSES
        self.payload(config.task_type, attrs, f"{pointer}/attributes", config, sample_attrs, sample_ptr, done)

    def payload(
        self,
        task_type: str | None,
        attrs: dict[str, Any],
        ap: str,
        config: _Config,
        sample_attrs: Any,
        sample_ptr: str,
        done: bool,
    ) -> _Scope:
        """Check one label payload; returns the ids (and tracks) its links may refer to."""
        if task_type == "multisensor-sequence":
            return self.multisensor(attrs, ap, config, sample_attrs, sample_ptr, done)
        self.image_attributes(attrs.get("image_attributes"), f"{ap}/image_attributes", config, done)
        frames = attrs.get("frames")
        if task_type is not None and task_type.endswith("-sequence") and isinstance(frames, list):
            return self.sequence(task_type, attrs, frames, ap, config, sample_attrs, sample_ptr, done)
        scope = _Scope()
        self.annotations(attrs.get("annotations"), f"{ap}/annotations", task_type, config, scope, None, done)
        self.links(attrs.get("links"), f"{ap}/links", scope, config, done)
        if task_type in BITMAP_TASK_TYPES:
            image = sample_attrs.get("image") if isinstance(sample_attrs, dict) else None
            self.bitmap(attrs, ap, scope, image)
        elif task_type == "pointcloud-segmentation":
            self.point_annotations(attrs, ap, scope)
        return scope

    def sequence(
        self,
        task_type: str,
        attrs: dict[str, Any],
        frames: list[Any],
        ap: str,
        config: _Config,
        sample_attrs: Any,
        sample_ptr: str,
        done: bool,
    ) -> _Scope:
        sample_frames = sample_attrs.get("frames") if isinstance(sample_attrs, dict) else None
        if isinstance(sample_frames, list) and len(sample_frames) != len(frames):
            self.add(
                "SEG-FRAME-COUNT-MISMATCH",
                f"{ap}/frames",
                f"the label has {len(frames)} frame{'s' if len(frames) != 1 else ''} but the sample has "
                f"{len(sample_frames)} ({sample_ptr}/frames); label frames pair with sample frames "
                "by position",
            )
        tracks = _Scope()  # track id -> category, over the whole sequence
        every_id = _Scope()
        for j, frame in enumerate(frames):
            if not isinstance(frame, dict):
                continue
            fp = f"{ap}/frames/{j}"
            scope = _Scope()
            self.annotations(
                frame.get("annotations"), f"{fp}/annotations", task_type, config, scope, tracks, done
            )
            every_id.ids.update(scope.ids)
            every_id.categories.update(scope.categories)
            self.image_attributes(frame.get("image_attributes"), f"{fp}/image_attributes", config, done)
            self.links(frame.get("links"), f"{fp}/links", scope, config, done)
            if task_type == "image-segmentation-sequence":
                image = None
                if (
                    isinstance(sample_frames, list)
                    and j < len(sample_frames)
                    and isinstance(sample_frames[j], dict)
                ):
                    image = sample_frames[j].get("image")
                self.bitmap(frame, fp, scope, image)
            elif task_type == "pointcloud-segmentation-sequence":
                self.point_annotations(frame, fp, scope)
        for track, category in tracks.categories.items():
            every_id.categories.setdefault(track, category)
            every_id.ids.setdefault(track, tracks.ids.get(track, ""))
        self.links(attrs.get("links"), f"{ap}/links", every_id, config, done)
        return every_id

    def multisensor(
        self, attrs: dict[str, Any], ap: str, config: _Config, sample_attrs: Any, sample_ptr: str, done: bool
    ) -> _Scope:
        union = _Scope()
        sensors = attrs.get("sensors")
        if not isinstance(sensors, list):
            return union
        sample_sensors = sample_attrs.get("sensors") if isinstance(sample_attrs, dict) else None
        if not isinstance(sample_sensors, list):
            sample_sensors = None
        for k, sensor in enumerate(sensors):
            if not isinstance(sensor, dict):
                continue
            kp = f"{ap}/sensors/{k}"
            name, kind = sensor.get("name"), sensor.get("task_type")
            counterpart: Any = None
            if sample_sensors is not None:
                counterpart = sample_sensors[k] if k < len(sample_sensors) else None
                if not isinstance(counterpart, dict) or counterpart.get("name") != name:
                    where = [
                        n
                        for n, s in enumerate(sample_sensors)
                        if isinstance(s, dict) and s.get("name") == name
                    ]
                    self.add(
                        "SEG-SENSOR-MISMATCH",
                        f"{kp}/name",
                        f"label sensor {k} is {_rep(name)} but sample sensor {k} is "
                        + (_rep(counterpart.get("name")) if isinstance(counterpart, dict) else "absent")
                        + (
                            f" ({_rep(name)} is sample sensor {where[0]})"
                            if where
                            else f" (the sample has no sensor {_rep(name)})"
                        ),
                        "label sensors pair with sample sensors by position",
                    )
                    counterpart = sample_sensors[where[0]] if where else None
                elif counterpart.get("task_type") != kind:
                    self.add(
                        "SEG-SENSOR-MISMATCH",
                        f"{kp}/task_type",
                        f"label sensor {_rep(name)} has task_type {_rep(kind)} but the sample's sensor has "
                        f"{_rep(counterpart.get('task_type'))}",
                    )
            sensor_attrs = sensor.get("attributes")
            if isinstance(sensor_attrs, dict) and isinstance(kind, str):
                counterpart_attrs = counterpart.get("attributes") if isinstance(counterpart, dict) else None
                scope = self.payload(
                    kind, sensor_attrs, f"{kp}/attributes", config, counterpart_attrs, sample_ptr, done
                )
                union.ids.update(scope.ids)
                union.categories.update(scope.categories)
        if sample_sensors is not None and len(sample_sensors) > len(sensors):
            names = [s.get("name") if isinstance(s, dict) else None for s in sample_sensors[len(sensors) :]]
            self.add(
                "SEG-SENSOR-MISMATCH",
                f"{ap}/sensors",
                f"the label has {len(sensors)} sensors but the sample has {len(sample_sensors)} "
                f"(no label for {', '.join(_rep(n) for n in names)})",
            )
        self.links(attrs.get("links"), f"{ap}/links", union, config, done)
        return union

    # --- annotations -----------------------------------------------------------------------------

    def annotations(
        self,
        annotations: Any,
        pointer: str,
        task_type: str | None,
        config: _Config,
        scope: _Scope,
        tracks: _Scope | None,
        done: bool,
    ) -> None:
        if not isinstance(annotations, list):
            return
        categories = config.categories
        frame_tracks: dict[int, int] = {}
        three_d = task_type is not None and (
            task_type.startswith("pointcloud") or task_type.startswith("multisensor")
        )
        for i, annotation in enumerate(annotations):
            if not isinstance(annotation, dict):
                continue
            ip = f"{pointer}/{i}"
            aid = _integral(annotation.get("id"))
            cid = _integral(annotation.get("category_id"))
            if aid is not None:
                if aid in scope.ids:
                    self.add(
                        "SEG-ANNOTATION-ID-DUPLICATE",
                        f"{ip}/id",
                        f"annotation id {aid} is already used by {scope.ids[aid]}"
                        + (" in the same frame" if tracks is not None else " in the same label"),
                        "every object of a label (of a frame, in sequences) needs its own id",
                    )
                else:
                    scope.ids[aid] = ip
                    if cid is not None:
                        scope.categories[aid] = cid
            category = config.category(cid) if cid is not None else None
            if cid is not None and categories is not None and category is None:
                self.add(
                    "SEG-CATEGORY-UNDECLARED",
                    f"{ip}/category_id",
                    f"category_id {cid} is not declared in task_attributes.categories (declared: "
                    + (_listing(categories) or "none")
                    + ")",
                )
            if category is not None and cid is not None:
                self.attribute_values(
                    annotation.get("attributes"),
                    f"{ip}/attributes",
                    config.object_attributes(cid, category),
                    config.owner(cid, category),
                    done,
                )
            track = annotation.get("track_id")
            tid = _integral(track)
            if tracks is not None and tid is not None:
                if tid in frame_tracks:
                    self.add(
                        "SEG-TRACK-DUPLICATE",
                        f"{ip}/track_id",
                        f"track {tid} already appears in this frame at annotations/{frame_tracks[tid]}",
                        "a track is one object: at most one annotation per frame",
                    )
                else:
                    frame_tracks[tid] = i
                if cid is not None:
                    if tid in tracks.categories and tracks.categories[tid] != cid:
                        self.add(
                            "SEG-TRACK-CATEGORY-CHANGED",
                            f"{ip}/category_id",
                            f"track {tid} has category_id {cid} here but {tracks.categories[tid]} at "
                            f"{tracks.ids[tid]}",
                            "a track keeps one category in every frame",
                        )
                    elif tid not in tracks.categories:
                        tracks.categories[tid] = cid
                        tracks.ids[tid] = f"{ip}/category_id"
            elif tracks is None and tid is not None and aid is not None and tid != aid:
                self.add(
                    "SEG-TRACK-ID-MISMATCH",
                    f"{ip}/track_id",
                    f"track_id {tid} differs from id {aid}; outside sequences the documentation says "
                    "they are equal, and the SDK keeps only id",
                )
            shape = annotation.get("type")
            if isinstance(shape, str) and "points" in annotation:
                self.shape(annotation["points"], shape, ip, three_d, task_type, cid)

    def shape(
        self, points: Any, shape: str, ip: str, three_d: bool, task_type: str | None, cid: int | None
    ) -> None:
        allowed = ALLOWED_SHAPES.get(task_type or "")
        if allowed is not None and shape not in allowed:
            self.add(
                "SEG-SHAPE-NOT-ALLOWED",
                f"{ip}/type",
                f"a {task_type} dataset has only {', '.join(sorted(allowed))} annotations, not {shape!r}",
                "the SDK's yolo export silently skips every non-bbox shape"
                if task_type == "bboxes"
                else None,
            )
        if not isinstance(points, list):
            return
        n = len(points)
        need = {"bbox": (2, 2), "point": (1, 1), "polyline": (2, None), "polygon": (3, None)}.get(shape)
        if need is not None:
            low, high = need
            if n < low or (high is not None and n > high):
                expected = f"exactly {low}" if low == high else f"at least {low}"
                self.add(
                    "SEG-SHAPE-POINT-COUNT",
                    f"{ip}/points",
                    f"a {shape} has {expected} point{'s' if low > 1 else ''}, this one has {n}",
                )
        dims = 3 if three_d else 2
        for k, vertex in enumerate(points):
            if isinstance(vertex, list) and len(vertex) != dims:
                self.add(
                    "SEG-SHAPE-VERTEX-DIMENSION",
                    f"{ip}/points/{k}",
                    f"a vertex of a {'3D' if three_d else '2D'} {shape} has {dims} coordinates "
                    f"({'x, y, z' if three_d else 'x, y'}), this one has {len(vertex)}",
                )
                break

    # --- attribute values ------------------------------------------------------------------------

    def image_attributes(self, values: Any, pointer: str, config: _Config, done: bool) -> None:
        if values is None:
            return
        self.attribute_values(
            values, pointer, config.image_attributes or {}, "task_attributes.image_attributes", done
        )

    def attribute_values(
        self, values: Any, pointer: str, definitions: dict[str, dict[str, Any]], owner: str, done: bool
    ) -> None:
        if values is None:
            values = {}
        if not isinstance(values, dict):
            return
        for name, value in values.items():
            definition = definitions.get(name)
            if definition is None:
                self.add(
                    "SEG-ATTRIBUTE-UNDECLARED",
                    f"{pointer}/{escape_token(name)}",
                    f"attribute {name!r} is not defined for {owner} (defined: "
                    + (", ".join(repr(d) for d in definitions) or "none")
                    + ")",
                )
                continue
            if value is None:
                continue
            problem = _value_problem(value, definition)
            if problem:
                self.add(
                    "SEG-ATTRIBUTE-VALUE-INVALID",
                    f"{pointer}/{escape_token(name)}",
                    f"attribute {name!r} of {owner}: {problem}",
                )
        if done:
            for name, definition in definitions.items():
                if definition.get("is_mandatory") is True and values.get(name) is None:
                    self.add(
                        "SEG-ATTRIBUTE-MANDATORY-MISSING",
                        pointer,
                        f"mandatory attribute {name!r} of {owner} has no value in a submitted label",
                    )

    # --- links -----------------------------------------------------------------------------------

    def links(self, links: Any, pointer: str, scope: _Scope, config: _Config, done: bool) -> None:
        if not isinstance(links, list):
            return
        for i, link in enumerate(links):
            if not isinstance(link, dict):
                continue
            lp = f"{pointer}/{i}"
            ends: list[int | None] = []
            for key in ("from_id", "to_id"):
                oid = _integral(link.get(key))
                ends.append(oid)
                if oid is not None and oid not in scope.ids:
                    self.add(
                        "SEG-LINK-OBJECT-UNKNOWN",
                        f"{lp}/{key}",
                        f"{key} {oid} is not the id of an object of this label (ids: "
                        + (_listing(scope.ids) or "none")
                        + ")",
                    )
            source_id = scope.categories.get(ends[0]) if ends[0] is not None else None
            source = config.category(source_id) if source_id is not None else None
            if source is None or source_id is None:
                continue
            owner = f"links from category {source_id} ({_rep(source.get('name'))})"
            definitions = config.link_attributes(source_id, source)
            self.attribute_values(link.get("attributes"), f"{lp}/attributes", definitions, owner, False)
            frames = link.get("frames")
            if isinstance(frames, list):
                for j, frame in enumerate(frames):
                    if isinstance(frame, dict):
                        self.attribute_values(
                            frame.get("attributes"), f"{lp}/frames/{j}/attributes", definitions, owner, False
                        )
            restrictions = source.get("link_category_restrictions")
            target = scope.categories.get(ends[1]) if ends[1] is not None else None
            if isinstance(restrictions, list) and restrictions and target is not None:
                allowed = {r for r in map(_integral, restrictions) if r is not None}
                if target not in allowed:
                    self.add(
                        "SEG-LINK-CATEGORY-RESTRICTED",
                        f"{lp}/to_id",
                        f"{owner} may point only to categories {_listing(allowed)}, not to category {target}",
                    )

    # --- point clouds ----------------------------------------------------------------------------

    def point_annotations(self, attrs: dict[str, Any], pointer: str, scope: _Scope) -> None:
        values = attrs.get("point_annotations")
        if not isinstance(values, list):
            return
        try:
            present = set(values)
        except TypeError:
            present = {v for v in values if isinstance(v, (int, float, str, bool, type(None)))}
        ids = {v for v in present if _integral(v) is not None and not isinstance(v, bool)}
        unknown = {int(v) for v in ids if int(v) != 0 and int(v) not in scope.ids}
        for uid in sorted(unknown)[:_LISTED]:
            index = next(i for i, v in enumerate(values) if _integral(v) == uid)
            self.add(
                "SEG-POINT-ANNOTATION-UNKNOWN",
                f"{pointer}/point_annotations/{index}",
                f"point {index} belongs to instance {uid}, which is not an annotation id of this "
                f"{'frame' if '/frames/' in pointer else 'label'} (ids: {_listing(scope.ids) or 'none'})",
                f"{len(unknown)} unknown ids in all" if len(unknown) > _LISTED else None,
            )
        used = {int(v) for v in ids}
        for aid, ap in scope.ids.items():
            if aid not in used:
                self.add(
                    "SEG-ANNOTATION-WITHOUT-POINTS",
                    ap,
                    f"annotation {aid} owns no point: its id does not occur in point_annotations",
                )

    # --- bitmaps ---------------------------------------------------------------------------------

    def asset(self, url: Any) -> Any:
        """Decoded ids (or an error string) of a local bitmap, or None when it is not available."""
        from labelspec.codecs.segments_bitmap import BitmapFormatError, read_bitmap, read_bitmap_bytes

        if not isinstance(url, str):
            return None
        key = "bitmap:" + url
        if key not in self.out.assets:
            local = local_asset(url, self.base)
            result: Any = None
            try:
                if isinstance(local, bytes):
                    result = read_bitmap_bytes(local, require_alpha=True)
                elif isinstance(local, Path):
                    result = read_bitmap(local, require_alpha=True)
            except (BitmapFormatError, OSError, MemoryError) as exc:
                result = str(exc) or exc.__class__.__name__
            self.out.assets[key] = result
        return self.out.assets[key]

    def image_size(self, url: Any) -> tuple[int, int] | None:
        if not isinstance(url, str):
            return None
        key = "size:" + url
        if key not in self.out.assets:
            local = local_asset(url, self.base)
            size = None
            if local is not None:
                import io

                from PIL import Image

                try:
                    with Image.open(io.BytesIO(local) if isinstance(local, bytes) else local) as image:
                        size = image.size
                except Exception:  # any undecodable image: its size is simply unknown
                    size = None
            self.out.assets[key] = size
        result: tuple[int, int] | None = self.out.assets[key]
        return result

    def bitmap(self, attrs: dict[str, Any], pointer: str, scope: _Scope, image: Any) -> None:
        bitmap = attrs.get("segmentation_bitmap")
        if not isinstance(bitmap, dict):
            return
        url = bitmap.get("url")
        up = f"{pointer}/segmentation_bitmap/url"
        ids = self.asset(url)
        if ids is None:
            return
        if isinstance(ids, str):
            self.add("SEG-BITMAP-UNREADABLE", up, f"the label bitmap cannot be decoded: {ids}")
            return
        import numpy as np

        height, width = ids.shape
        if isinstance(image, dict):
            size = self.image_size(image.get("url"))
            if size is not None and size != (width, height):
                self.add(
                    "SEG-BITMAP-SIZE-MISMATCH",
                    up,
                    f"the label bitmap is {width}x{height} pixels but the image is {size[0]}x{size[1]}",
                )
        found = {int(v) for v in np.unique(ids)} - {0}
        unannotated = found - set(scope.ids)
        if unannotated:
            self.add(
                "SEG-BITMAP-ID-UNANNOTATED",
                up,
                f"the bitmap has pixels with instance id{'s' if len(unannotated) > 1 else ''} "
                f"{_listing(unannotated)} but no annotation with that id (annotation ids: "
                + (_listing(scope.ids) or "none")
                + ")",
                "the pixels have no category; SDK exports drop them or fail",
            )
        for aid, ap in scope.ids.items():
            if aid not in found:
                self.add(
                    "SEG-ANNOTATION-NOT-IN-BITMAP",
                    f"{ap}/id",
                    f"annotation {aid} has no pixel in the label bitmap",
                    "SDK exports skip zero-pixel instances",
                )


def _definitions(raw: Any) -> dict[str, dict[str, Any]]:
    """Attribute definitions by name (first definition of a name wins)."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(raw, list):
        for definition in raw:
            if isinstance(definition, dict) and isinstance(definition.get("name"), str):
                out.setdefault(definition["name"], definition)
    return out


def _value_problem(value: Any, definition: dict[str, Any]) -> str | None:
    """Why a (non-null) value does not fit its attribute definition, or None."""
    kind = definition.get("input_type")
    choices = definition.get("values")
    choices = [c for c in choices if isinstance(c, str)] if isinstance(choices, list) else None
    if kind == "select":
        if not isinstance(value, str):
            return f"a select value is one string, not {_rep(value)}"
        if choices is not None and value not in choices and value != "":
            return f"{value!r} is not one of its values ({', '.join(repr(c) for c in choices)})"
    elif kind == "multiselect":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"a multiselect value is a list of strings, not {_rep(value)}"
        if choices is not None:
            extra = [v for v in value if v not in choices]
            if extra:
                return (
                    f"{', '.join(repr(v) for v in extra)} {'is' if len(extra) == 1 else 'are'} not among its "
                    f"values ({', '.join(repr(c) for c in choices)})"
                )
    elif kind == "text":
        if not isinstance(value, str):
            return f"a text value is a string, not {_rep(value)}"
    elif kind == "number":
        number = _number(value)
        if number is None:
            return f"a number value is a number, not {_rep(value)}"
        low, high = _setting(definition.get("min")), _setting(definition.get("max"))
        if low is not None and number < low:
            return f"{value} is below its min {low:g}"
        if high is not None and number > high:
            return f"{value} is above its max {high:g}"
    elif kind == "checkbox" and not isinstance(value, bool):
        return f"a checkbox value is true or false, not {_rep(value)}"
    return None


# What the native fast path (validator/native/segments.py) builds its decider's tables with: the walk's own
# helpers, so both read the header alike.
integral = _integral
attribute_bound = _setting
LabelConfig = _Config


def label_config(task_type: Any, task_attributes: Any) -> _Config:
    """The configuration labels are checked against, as the walk builds it from the dataset header (the
    header's own findings are not kept)."""
    return _Walker(None, _Analysis()).config(task_type, task_attributes, "")


__all__ = ["LabelConfig", "attribute_bound", "integral", "label_config", "local_asset"]


def _sample_names(sample: Any) -> Any:
    """What the rules comparing samples read of one (item-by-item validation runs them over these)."""
    if not isinstance(sample, dict):
        return None
    return {key: sample[key] for key in ("uuid", "name") if key in sample}


cross_item("segments", ["SEG-SAMPLE-UUID-DUPLICATE", "SEG-SAMPLE-NAME-COLLISION"], _sample_names)
