"""Canonical model -> YOLO detection folder, in one of two documented layouts (``--layout``).

- ``ultralytics`` (default): ``data.yaml`` (``train``/``val`` image folders, ``nc`` and ``names`` as a
  mapping class index -> name, no ``path`` key so ultralytics resolves the folders next to the file) and
  ``labels/<media file name without extension>.txt``; put the images under ``images/`` with the same
  names (ultralytics finds a label by replacing ``/images/`` with ``/labels/`` in the image path);
- ``darknet``: ``obj.names`` (one class name per line), ``obj.data`` (``classes``, ``train``, ``names``,
  ``backup``), ``train.txt`` (one image path per line) and ``obj_train_data/<stem>.txt`` next to where
  the images go, as darknet and CVAT's "YOLO 1.1" export lay it out.

Every media item gets a label file (an empty one for an item without boxes, so "no objects" is explicit);
two items with one name get the media id appended.

The class mapping is documented here and in the conversion report (``mappings.class_index``): **class
index = the 0-based position of the category** in the names (categories in model order, the source's
order). This differs from the Segments.ai SDK, which writes raw category ids and no names file
(schemas/segments/notes.md#s9-3).

Lines are ``class cx cy w h``: box centre and size divided by the image width/height, 6 decimals, boxes
clipped to the image (reported when clipping changed them). Polygons, masks, keypoints and rotated boxes
are written as their axis-aligned bounding box (approximated, reported); points, polylines and cuboids
are dropped (reported).
"""

from __future__ import annotations

import itertools
import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from labelspec.convert.atomic import write_bytes, write_many
from labelspec.convert.media import safe_member_name
from labelspec.convert.model import (
    Annotation,
    Box,
    Category,
    ConversionReport,
    Cuboid,
    LabelledDataset,
    MediaItem,
    Point,
    Polygon,
    Polyline,
)
from labelspec.convert.registry import WriteOptions
from labelspec.convert.writers import extent, image_items, require_size
from labelspec.validator.report import Report

__all__ = ["DATA_YAML", "LAYOUTS", "WRITER", "LabelFiles", "YoloWriter", "label_name"]

DATA_YAML = "data.yaml"
_NO_BOX: dict[type, str] = {Point: "point", Polyline: "polyline", Cuboid: "cuboid"}
LAYOUTS = ("ultralytics", "darknet")
CHECK_FILES = 4096  # label files validated at a time by validate_output
_DARKNET_DIR = "obj_train_data"


class LabelFiles(list[Path]):
    """The files a YOLO writer wrote (names file first), with what its clean decider left to check:
    ``unchecked`` lists the label files whose written bytes the decider was not sure about (None: it did
    not run, every label file is read back). Each file was created new (O_EXCL) in the conversion's
    private staging folder and written whole, so its bytes on disk are the bytes the decider saw."""

    def __init__(self, paths: Iterable[Path] = (), unchecked: list[str] | None = None) -> None:
        super().__init__(paths)
        self.unchecked = unchecked


def label_name(item: MediaItem) -> str:
    """The label file (relative to ``labels/``) of a media item."""
    name = item.file_name.replace("\\", "/")
    stem, _ = posixpath.splitext(name)
    return f"{stem or item.id}.txt"


def _data_yaml(names: Sequence[str]) -> bytes:
    """The ultralytics dataset file: no ``path`` (ultralytics then uses this file's folder; a relative
    ``path`` would be resolved against its global datasets folder), images/ for train and val."""
    import yaml

    header = (
        "# ultralytics dataset: put the images under images/ with the names of the label files in labels/\n"
    )
    data: dict[str, Any] = {"train": "images", "val": "images"}
    if names:  # nc is at least 1 where it is given (ultralytics refuses 0)
        data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    return (header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).encode()


def _fmt(value: float) -> str:
    text = f"{value:.6f}"
    return "0.000000" if text == "-0.000000" else text


def _text(lines: Sequence[list[Any]]) -> bytes:
    """A label file: ``class cx cy w h`` lines, the coordinates with 6 decimals (-0 written as 0).

    (Not ``yolo.write``: the generated writer prints numbers in full precision, as Python's ``repr``.)
    """
    out: list[str] = []
    for line in lines:
        if len(line) == 5:
            text = f"{line[0]} {line[1]:.6f} {line[2]:.6f} {line[3]:.6f} {line[4]:.6f}\n"
            if "-" in text:  # a clipped -0.0 (the values are never negative)
                text = f"{line[0]} {' '.join(_fmt(v) for v in line[1:])}\n"
        else:
            text = f"{line[0]} {' '.join(_fmt(v) for v in line[1:])}\n"
        out.append(text)
    return "".join(out).encode()


class YoloWriter:
    target_id = "yolo"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        dataset = image_items(dataset, "yolo", report)
        by_media: dict[str, list[Annotation]] = {m.id: [] for m in dataset.media}
        for annotation in dataset.annotations:
            if annotation.media_id in by_media:
                by_media[annotation.media_id].append(annotation)
            else:
                report.drop("annotation", "its media item is not in the dataset", annotation.id)
        groups = ((item, by_media[item.id]) for item in dataset.media)
        written = self.write_groups(dataset.categories, groups, out, options, report)
        for classification in dataset.classifications:
            report.drop("classification", "YOLO has no classifications", classification.media_id or "")
        return written

    def write_groups(
        self,
        categories: Sequence[Category],
        groups: Iterable[tuple[MediaItem, Sequence[Annotation]]],
        out: Path,
        options: WriteOptions,
        report: ConversionReport,
        *,
        media: Sequence[MediaItem] = (),
        info: dict[str, Any] | None = None,
    ) -> list[Path]:
        """Write the names file, then one label file per ``(media item, its annotations)`` as ``groups``
        yields them: a reader may produce them one media item at a time (a large COCO file), so that
        nothing but the current item's annotations is held (``media`` and ``info``: not needed here)."""
        out.mkdir(parents=True, exist_ok=options.force)
        class_index = {c.id: i for i, c in enumerate(categories)}
        report.mappings["class_index"] = dict(class_index)
        for category in categories:
            if "\n" in category.name or "\r" in category.name or not category.name.strip():
                report.approximate("category name", "blank or multi-line: replaced by its id", category.id)
        names = [
            c.name if c.name.strip() and "\n" not in c.name and "\r" not in c.name else f"class_{c.id}"
            for c in categories
        ]
        if not names:
            report.approximate(
                "class names",
                "the dataset has no categories: the names are empty (not valid under strict YOLO)",
            )
        darknet = (options.layout or "ultralytics") == "darknet"
        if darknet:  # obj.names first (``validate_output`` finds the folder by it)
            written = [
                write_bytes(out / "obj.names", "".join(f"{n}\n" for n in names).encode(), force=options.force)
            ]
            data = f"classes = {len(names)}\ntrain = train.txt\nnames = obj.names\nbackup = backup/\n"
            written.append(write_bytes(out / "obj.data", data.encode(), force=options.force))
            folder = os.fspath(out / _DARKNET_DIR)
        else:
            written = [write_bytes(out / DATA_YAML, _data_yaml(names), force=options.force)]
            folder = os.path.join(os.fspath(out), "labels")
        images: list[str] = []  # darknet's train.txt
        counts = [0, 0]  # label files, boxes
        files = self._label_files(groups, class_index, folder, report, counts, images if darknet else None)
        if darknet:
            labels = write_many(files, force=options.force)
            text = "".join(f"{i}\n" for i in images).encode()
            written.append(write_bytes(out / "train.txt", text, force=options.force))
            result = LabelFiles(written + labels)
        else:
            result = self._write_certified(files, written, options.force)
        report.counts.update(written_label_files=counts[0], written_boxes=counts[1])
        return result

    def _write_certified(
        self, files: Iterator[tuple[str, bytes]], written: list[Path], force: bool
    ) -> LabelFiles:
        """Write the label files :data:`CHECK_FILES` at a time, running the clean decider (yolo_check) on
        the very bytes written; the files of a chunk it is not sure about are listed for
        :meth:`validate_output` (the reference path reads them back)."""
        from labelspec.convert.writers.yolo_check import certainly_clean

        names = written[0]
        decidable, classes = self._decided_classes(os.fspath(names.parent), os.fspath(names))
        result = LabelFiles(written, unchecked=[] if decidable else None)
        while chunk := list(itertools.islice(files, CHECK_FILES)):
            paths = write_many(chunk, force=force)
            result += paths
            if result.unchecked is not None and not certainly_clean([text for _, text in chunk], classes):
                result.unchecked += (os.fspath(p) for p in paths)
        return result

    def _label_files(
        self,
        groups: Iterable[tuple[MediaItem, Sequence[Annotation]]],
        class_index: dict[str, int],
        folder: str,
        report: ConversionReport,
        counts: list[int],
        images: list[str] | None,
    ) -> Iterator[tuple[str, bytes]]:
        """(path, text) of each media item's label file, made as the groups come."""
        from labelspec.convert.writers.coco_instance import CocoInstanceWriter

        used: set[str] = set()
        line_of = self._line
        for item, annotations_of_item in groups:
            width, height = require_size(item, "yolo")
            name = label_name(item)
            if name.lower() in used:
                name = f"{posixpath.splitext(name)[0]}_{item.id}.txt"
                report.approximate(
                    "label file name", "two media items share a name: the media id was appended", item.id
                )
            used.add(name.lower())
            paired = (
                {kp.id for kp in CocoInstanceWriter.keypoint_pairs(annotations_of_item).values()}
                if any(a.track_id is not None for a in annotations_of_item)
                else ()
            )
            lines: list[list[Any]] = []
            for annotation in annotations_of_item:
                if annotation.id in paired:
                    report.drop("keypoints", "YOLO detection keeps the object's box only", annotation.id)
                    continue
                line = line_of(annotation, class_index, width, height, report)
                if line is not None:
                    lines.append(line)
            counts[0] += 1
            counts[1] += len(lines)
            if item.attributes:
                report.drop("media attributes", "YOLO has no attributes", item.id)
            # out is the folder this writer just created: a lexical check is enough (no links in it)
            relative = safe_member_name(name)
            if images is not None:
                extension = posixpath.splitext(item.file_name)[1] or ".jpg"
                images.append(f"{_DARKNET_DIR}/{relative[: -len('.txt')]}{extension}")
            yield f"{folder}/{relative}", _text(lines)

    @staticmethod
    def _line(
        annotation: Annotation, class_index: dict[str, int], width: int, height: int, report: ConversionReport
    ) -> list[Any] | None:
        """The fields of the label line (``class cx cy w h``, fractions of the image size)."""
        geometry = annotation.geometry
        index = class_index.get(annotation.category_id)
        if index is None:
            report.drop("annotation", "its category is not in the dataset", annotation.id)
            return None
        kind = type(geometry)
        # The common shapes inline (the hot loop of a large dataset), with extent()'s arithmetic exactly.
        outer = geometry.rings[0] if isinstance(geometry, Polygon) and geometry.rings else ()
        if len(outer) >= 2 and width > 0 and height > 0:
            xs, ys = outer[0::2], outer[1::2]
            x0, y0 = min(xs), min(ys)
            x1, y1 = x0 + (max(xs) - x0), y0 + (max(ys) - y0)
            report.approximate("polygon annotation", "written as its bounding box", annotation.id)
        else:
            if kind in _NO_BOX:
                name = _NO_BOX[kind]
                report.drop(f"{name} annotation", f"YOLO detection labels have no {name}s", annotation.id)
                return None
            box = extent(geometry)
            if box is None or width <= 0 or height <= 0:
                report.drop("annotation", "empty geometry", annotation.id)
                return None
            if kind is not Box:
                report.approximate(
                    f"{kind.__name__.lower()} annotation", "written as its bounding box", annotation.id
                )
            x0, y0, w, h = box
            x1, y1 = x0 + w, y0 + h
            if x1 < x0:
                x0, x1 = x1, x0
            if y1 < y0:
                y0, y1 = y1, y0
        cx0, cy0 = min(max(x0, 0.0), width), min(max(y0, 0.0), height)
        cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
        if cx0 != x0 or cy0 != y0 or cx1 != x1 or cy1 != y1:
            report.approximate("box", "clipped to the image", annotation.id)
        if cx1 <= cx0 or cy1 <= cy0:
            report.drop("annotation", "empty box (outside the image or zero size)", annotation.id)
            return None
        if annotation.attributes:
            report.drop("object attributes", "YOLO has no attributes", annotation.id)
        return [
            index,
            (cx0 + cx1) / 2 / width,
            (cy0 + cy1) / 2 / height,
            (cx1 - cx0) / width,
            (cy1 - cy0) / height,
        ]

    def validate_output(self, paths: Sequence[Path]) -> Report:
        """The written folder validated as YOLO. The ultralytics layout is validated as the dataset the
        writer wrote (data.yaml and every label file, read back from disk) without walking the folder to
        find them, :data:`CHECK_FILES` label files at a time so that memory stays bounded on a large
        dataset (every YOLO rule looks at one label file, or at the names alone; the names' findings are
        kept once); tests/convert checks that this gives the report ``labelspec validate FOLDER`` gives.

        Given the writer's own :class:`LabelFiles`, the files its decider certified as it wrote them are not
        read again (118 000 files re-read were most of a large conversion's system calls); the others are
        read back and validated by the reference path. A plain list of paths is read back whole."""
        from labelspec.validator.api import validate, validate_dataset
        from labelspec.validator.engine import collector_paused
        from labelspec.validator.folders import YoloDataset
        from labelspec.validator.report import FileReport, pointer_sort_key

        folder = paths[0].parent  # the names file is written first, at the top of the folder
        if paths[0].name != DATA_YAML:
            return validate(folder, format="yolo")
        unchecked = paths.unchecked if isinstance(paths, LabelFiles) else None
        certified_at_write = unchecked is not None
        labels = sorted(unchecked if unchecked is not None else (os.fspath(p) for p in paths[1:]))
        root, names = os.fspath(folder), os.fspath(paths[0])
        reports: list[FileReport] = []
        with collector_paused():  # as validate() does: the collector would dominate over parsed lines
            # the decider already ran on the written bytes: what it was not sure of goes to the reference
            decidable, classes = (False, None) if certified_at_write else self._decided_classes(root, names)
            for start in range(0, max(len(labels), 1), CHECK_FILES):
                files = labels[start : start + CHECK_FILES]
                if decidable and self._clean(files, classes):
                    continue  # certainly no finding (yolo_check): nothing to add to the report
                chunk = YoloDataset(root, tuple(files), names)
                reports.append(validate_dataset(chunk, "yolo", "lenient"))
        if not reports:
            return Report(files=[FileReport(path=root, format="yolo", profile="lenient", findings=[])])
        unreadable = [part for part in reports if not part.readable]
        if len(reports) == 1 or unreadable:
            return Report(files=(unreadable or reports)[:1])
        seen: set[tuple[str, str, str]] = set()
        findings = []
        for part in reports:
            for finding in part.findings:
                key = (finding.pointer, finding.rule, finding.message)
                if finding.pointer.startswith("/labels/") or key not in seen:
                    seen.add(key)
                    findings.append(finding)
        findings.sort(key=lambda f: (pointer_sort_key(f.pointer), f.rule, f.message))
        whole = replace(reports[0], findings=findings)
        return Report(files=[whole])

    @staticmethod
    def _decided_classes(root: str, names: str) -> tuple[bool, int | None]:
        """What the label decider needs of the names (yolo_check.names_classes); not decidable unless the
        names alone have no finding and every YOLO rule has its mirror in the decider."""
        from labelspec.convert.writers import yolo_check
        from labelspec.validator.engine import report_for_loaded
        from labelspec.validator.folders import YoloDataset
        from labelspec.validator.inputs import load_dataset

        if yolo_check.unmirrored():
            return False, None
        loaded = load_dataset(YoloDataset(root, (), names))
        if not loaded.readable or report_for_loaded(loaded, "yolo", "lenient").findings:
            return False, None
        return yolo_check.names_classes(loaded.document)

    @staticmethod
    def _clean(files: Sequence[str], classes: int | None) -> bool:
        from labelspec.convert.writers.yolo_check import certainly_clean

        texts = []
        for path in files:
            try:
                with open(path, "rb") as handle:
                    texts.append(handle.read())
            except OSError:
                return False  # the reference path reports it
        return certainly_clean(texts, classes)


WRITER = YoloWriter()
