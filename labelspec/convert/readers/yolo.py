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
  polygons, pose lines (``class cx cy w h`` + keypoint triplets) a box and keypoints sharing a track id.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from labelspec.convert.media import find_media, image_size
from labelspec.convert.model import (
    Annotation,
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
    media: list[MediaItem] = []
    annotations: list[Annotation] = []
    missing: list[str] = []
    for key in sorted(labels):
        found = _find_image(key, options)
        if found is None:
            missing.append(key)
            continue
        file_name, (width, height) = found
        media_id = key[: -len(".txt")] if key.lower().endswith(".txt") else key
        media.append(MediaItem(id=media_id, file_name=file_name, width=width, height=height))
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
            elif len(coords) % 2 == 0 and len(coords) >= 6:
                flat = tuple(v * (width if i % 2 == 0 else height) for i, v in enumerate(coords))
                geometries.append((ann_id, Polygon((flat,))))
            elif (len(coords) - 4) % 3 == 0:
                cx, cy, w, h = coords[:4]
                geometries.append(
                    (ann_id, Box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height))
                )
                points = []
                for i in range(4, len(coords), 3):
                    x, y, v = coords[i : i + 3]
                    points.append(Keypoint(x * width, y * height, _visibility(v)))
                geometries.append((f"{ann_id}#keypoints", Keypoints(tuple(points))))
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
