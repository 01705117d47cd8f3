"""YOLO dataset (parsed form, ``labelspec.formats.yolo``) -> canonical model.

- class names (classes.txt / obj.names / data.yaml) become categories with ids ``"0"``..``"n-1"`` (the class
  index); without a names file the categories are the class indexes used, named by their index
  (reported as approximated);
- every label file is one image: its id is the label path without ``.txt``; the image is looked up under
  ``--media-dir`` (``labels/…`` -> ``images/…`` as ultralytics lays it out, the same relative path, or the
  file stem, with any image extension) and its size read from the header: YOLO coordinates are fractions
  of the image size, so without the image the conversion stops with an error saying to pass
  ``--media-dir``;
- ``class cx cy w h`` lines become boxes, ultralytics segmentation lines (``class x1 y1 x2 y2 …``)
  polygons, pose lines (``class cx cy w h`` + keypoints) a box and keypoints sharing a track id. When the
  data.yaml declares ``kpt_shape: [K, D]`` every line of 4 + K·D numbers is a pose line (D = 3 with
  visibility, D = 2 without) and lines of another length are dropped and reported; without it a line of
  an even number of values is a polygon, as ultralytics reads segmentation datasets;
- label files are matched to images by their whole stem, dots included (``a.b.txt`` is ``a.b.jpg``,
  Roboflow's ``x_jpg.rf.<hash>.txt`` is ``x_jpg.rf.<hash>.jpg``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from labelspec.convert.media import find_media, image_size
from labelspec.convert.model import (
    MISSING_MEDIA,
    NORMALISED,
    Annotation,
    AttributeValue,
    Box,
    Category,
    ConversionReport,
    Geometry,
    Keypoint,
    Keypoints,
    LabelledDataset,
    MediaItem,
    Polygon,
)
from labelspec.convert.readers import number
from labelspec.convert.registry import ConversionError, ReadOptions
from labelspec.formats import yolo
from labelspec.formats._runtime import ListView, MapView

__all__ = ["read"]


def _visibility(value: float) -> Literal["visible", "occluded", "invisible"]:
    return "visible" if value >= 2 else "occluded" if value >= 1 else "invisible"


def _names(document: yolo.Document) -> list[str] | None:
    names = document.names
    if isinstance(names, ListView):
        return [str(n) for n in names]
    if isinstance(names, MapView):
        size = max((int(k) for k in names), default=-1) + 1
        return [str(names.get(str(i), i)) for i in range(size)]
    return None


def _kpt_shape(raw: Mapping[str, Any], options: ReadOptions) -> tuple[int, int] | None:
    """``kpt_shape`` ([keypoints, 2 or 3]) of an ultralytics pose dataset: from the parsed document when it
    carries it, else from the data.yaml the names came from; None when the dataset declares none."""
    declared = raw.get("kpt_shape")
    names_file = raw.get("names_file")
    if declared is None and isinstance(names_file, str) and names_file.endswith((".yaml", ".yml")):
        source = options.source_path
        root = source if source is not None and source.is_dir() else source.parent if source else None
        if root is not None and (root / names_file).is_file():
            import yaml

            try:
                data = yaml.safe_load((root / names_file).read_text(encoding="utf-8"))
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                data = None
            declared = data.get("kpt_shape") if isinstance(data, dict) else None
    if (
        isinstance(declared, list)
        and len(declared) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in declared)
        and declared[0] > 0
        and declared[1] in (2, 3)
    ):
        return declared[0], declared[1]
    return None


def _pose(coords: Sequence[float], dims: int, width: int, height: int) -> tuple[Keypoint, ...]:
    points = []
    for i in range(4, len(coords), dims):
        x, y = coords[i], coords[i + 1]
        visibility = _visibility(coords[i + 2]) if dims == 3 else "visible"
        points.append(Keypoint(x * width, y * height, visibility))
    return tuple(points)


def _find_image(key: str, options: ReadOptions) -> tuple[str, tuple[int, int]] | None:
    if options.media_dir is None:
        return None
    stem = key[: -len(".txt")] if key.lower().endswith(".txt") else key
    parts = stem.split("/")
    candidates = []
    if "labels" in parts:
        index = len(parts) - 1 - parts[::-1].index("labels")
        candidates.append("/".join([*parts[:index], "images", *parts[index + 1 :]]))
    candidates += [stem, posixpath.basename(stem)]
    for candidate in candidates:
        found = find_media(options.media_dir, candidate, by_stem=True)
        if found is not None:
            relative = found.relative_to(options.media_dir).as_posix()
            return relative, image_size(found)
    return None


def read(document: Any, options: ReadOptions, report: ConversionReport) -> LabelledDataset:
    doc = yolo.from_json(document)
    names = _names(doc)
    labels: Mapping[str, Sequence[list[Any]]] = doc.labels if doc.to_json().get("labels") else {}
    if names is None:
        used = sorted({int(line[0]) for lines in labels.values() for line in lines if line})
        size = (used[-1] + 1) if used else 0
        names = [str(i) for i in range(size)]
        if size:
            report.approximate("category names", "the dataset has no names file: names are the class indexes")
    categories = tuple(Category(id=str(i), name=name, source_id=i) for i, name in enumerate(names))
    kpt_shape = _kpt_shape(doc.to_json(), options)
    pose_length = 4 + kpt_shape[0] * kpt_shape[1] if kpt_shape else None
    media: list[MediaItem] = []
    annotations: list[Annotation] = []
    missing: list[str] = []
    for key in sorted(labels):
        found = _find_image(key, options)
        media_id = key[: -len(".txt")] if key.lower().endswith(".txt") else key
        if found is None and options.inspect:  # looking, not converting: keep the fractions
            reason = "no image found" + (f" under {options.media_dir}" if options.media_dir else "")
            attributes: dict[str, AttributeValue] = {NORMALISED: True, MISSING_MEDIA: reason}
            media.append(MediaItem(id=media_id, file_name=media_id, attributes=attributes))
            found = (media_id, (1, 1))
        elif found is None:
            missing.append(key)
            continue
        else:
            media.append(MediaItem(id=media_id, file_name=found[0], width=found[1][0], height=found[1][1]))
        width, height = found[1]
        for number_, line in enumerate(labels[key]):
            where = f"{key} line {number_ + 1}"
            values = [number(v) for v in line]
            if len(values) < 5 or any(v is None for v in values):
                report.drop("label line", "not a YOLO line of numbers", where)
                continue
            cls = int(line[0])
            coords = [float(v) for v in values[1:] if v is not None]
            if cls >= len(categories):
                report.drop("label line", f"class index {cls} has no name", where)
                continue
            ann_id = f"{media_id}#{number_}"
            geometries: list[tuple[str, Geometry]] = []
            if len(coords) == 4:
                cx, cy, w, h = coords
                geometries.append(
                    (ann_id, Box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height))
                )
            elif kpt_shape is not None and len(coords) == pose_length:
                # the dataset's kpt_shape says these are pose lines: box + keypoints, never a polygon
                cx, cy, w, h = coords[:4]
                geometries.append(
                    (ann_id, Box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height))
                )
                points = _pose(coords, kpt_shape[1], width, height)
                geometries.append((f"{ann_id}#keypoints", Keypoints(points)))
            elif kpt_shape is not None:
                report.drop(
                    "label line",
                    f"{len(coords)} numbers after the class, not 4 + {kpt_shape[0]} x {kpt_shape[1]} "
                    "(kpt_shape)",
                    where,
                )
                continue
            elif len(coords) % 2 == 0 and len(coords) >= 6:
                flat = tuple(v * (width if i % 2 == 0 else height) for i, v in enumerate(coords))
                geometries.append((ann_id, Polygon((flat,))))
            elif (len(coords) - 4) % 3 == 0:
                cx, cy, w, h = coords[:4]
                geometries.append(
                    (ann_id, Box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height))
                )
                geometries.append((f"{ann_id}#keypoints", Keypoints(_pose(coords, 3, width, height))))
            else:
                report.drop("label line", "neither a box, a polygon nor a pose line", where)
                continue
            track = ann_id if len(geometries) > 1 else None
            for geometry_id, geometry in geometries:
                annotations.append(Annotation(geometry_id, media_id, str(cls), geometry, track_id=track))
    if missing:
        shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        where = f" under {options.media_dir}" if options.media_dir is not None else ""
        raise ConversionError(
            f"YOLO coordinates are fractions of the image size, and no image was found{where} for "
            f"{len(missing)} label file(s) ({shown}); pass --media-dir DIR with the images "
            "(only their headers are read)",
            2,
        )
    report.counts.update(media=len(media), categories=len(categories), annotations=len(annotations))
    return LabelledDataset(tuple(media), categories, tuple(annotations))
