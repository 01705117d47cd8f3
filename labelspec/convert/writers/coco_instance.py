"""Canonical model -> COCO instance JSON (one file).

Conventions (and where they differ from the Segments.ai SDK's exporter, schemas/segments/notes.md#s9-1, whose
faults are deliberately not reproduced):

- every annotation has ``segmentation``, ``area``, ``bbox`` and ``iscrowd``; sizes are never negative;
- coordinates, sizes and areas are rounded to 6 decimals (a millionth of a pixel), so float noise from
  unit conversions (``12.000000000001``) is not written; integral values are written as integers;
- ``bbox`` is ``[x, y, w, h]`` of the geometry's extent (polygon vertices; set pixels of a mask);
- polygons are written as polygon segmentations; a polygon with holes cannot be expressed as COCO
  polygons, so it becomes compressed RLE (outer rings merged, holes subtracted, via pycocotools) and is
  reported as approximated; a rotated box becomes its 4-corner polygon (reported);
- masks are RLE: compressed for single objects, uncompressed counts for crowds (``iscrowd: 1``), as the
  COCO files do;
- ``area`` is the pixel area of the RLE (pycocotools ``area``) for polygons and masks (for a polygon
  smaller than a pixel, which covers no pixel, its geometric area), ``w*h`` for boxes;
- keypoints are flat ``x, y, v`` triplets in the order of the category's ``keypoints`` names with COCO
  visibility 2 visible, 1 occluded (labelled, not visible), 0 not labelled (written as 0, 0, 0); a region
  and a Keypoints annotation sharing ``track_id`` on one image are one COCO annotation (as COCO persons);
  a lone Point becomes ``keypoints: [x, y, 2]`` of a category without keypoint names; keypoints without
  a region get their bounding box (at least 1x1 pixel) as segmentation, bbox and area, as strict COCO
  needs a segmentation (reported as approximated);
- category ids: the source's integer ids when they are integers and unique, else 1..N in model order
  (the mapping is in the report's ``mappings``); image and annotation ids likewise;
- polylines and cuboids are dropped; attributes, track ids and classifications have no place in COCO
  and are reported as dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from labelspec.convert.atomic import write_json
from labelspec.convert.model import (
    Annotation,
    Box,
    Category,
    ConversionReport,
    Cuboid,
    Keypoint,
    Keypoints,
    LabelledDataset,
    Mask,
    MediaItem,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelspec.convert.registry import WriteOptions
from labelspec.convert.writers import (
    extent,
    image_items,
    integer_ids,
    mask_extent,
    require_size,
    rotated_corners,
)
from labelspec.formats import coco_instance
from labelspec.validator.report import Report

__all__ = ["WRITER", "CocoInstanceWriter", "category_ids"]

_VISIBILITY = {"visible": 2, "occluded": 1, "invisible": 0}


def category_ids(categories: Sequence[Category]) -> tuple[dict[str, int], bool]:
    """Model category id -> COCO integer id, and whether it is the source's own ids."""
    kept = integer_ids([c.source_id if c.source_id is not None else c.id for c in categories])
    if kept is not None:
        return {c.id: i for c, i in zip(categories, kept, strict=True)}, True
    return {c.id: n for n, c in enumerate(categories, 1)}, False


def _ids(values: Sequence[str]) -> tuple[dict[str, int], bool]:
    kept = integer_ids(values)
    if kept is not None:
        return dict(zip(values, kept, strict=True)), True
    return {v: n for n, v in enumerate(values, 1)}, False


def _rounded(values: Sequence[float]) -> list[float | int]:
    out: list[float | int] = []
    for value in values:
        rounded = round(float(value), 6)
        out.append(int(rounded) if rounded.is_integer() else rounded)
    return out


def _shoelace(ring: Sequence[float]) -> float:
    xs, ys = ring[0::2], ring[1::2]
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


def _rle_of_polygon(polygon: Polygon, height: int, width: int) -> Any:
    """pycocotools RLE of a polygon: its outer ring filled, its holes subtracted."""
    import numpy as np
    from pycocotools import mask as mask_utils

    outer = mask_utils.merge(mask_utils.frPyObjects([list(polygon.rings[0])], height, width))
    if len(polygon.rings) == 1:
        return outer
    holes = mask_utils.merge(mask_utils.frPyObjects([list(r) for r in polygon.rings[1:]], height, width))
    pixels = mask_utils.decode(outer).astype(bool) & ~mask_utils.decode(holes).astype(bool)
    return mask_utils.encode(np.asfortranarray(pixels.astype(np.uint8)))


def _compressed(rle: Any) -> coco_instance.Rle:
    counts = rle["counts"]
    return coco_instance.Rle.create(
        size=[int(rle["size"][0]), int(rle["size"][1])], counts=counts.decode("ascii")
    )


def _region(
    entry: coco_instance.Annotation,
    segmentation: list[Any] | coco_instance.Rle,
    area: float,
    bbox: Sequence[float],
    crowd: int,
) -> None:
    entry.segmentation = segmentation
    entry.area = area
    entry.bbox = bbox
    entry.iscrowd = crowd


class CocoInstanceWriter:
    target_id = "coco-instance"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        document = self.build(dataset, report)
        return [write_json(out, document, force=options.force)]

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.validator.api import validate

        return validate(paths[0], format="coco-instance")

    # ------------------------------------------------------------------------------------------ build

    def build(self, dataset: LabelledDataset, report: ConversionReport) -> dict[str, Any]:
        """The COCO document as JSON (the value of the generated :class:`coco_instance.Document`)."""
        document: dict[str, Any] = coco_instance.to_json(self.build_document(dataset, report))
        return document

    def build_document(self, dataset: LabelledDataset, report: ConversionReport) -> coco_instance.Document:
        from pycocotools import mask as mask_utils

        dataset = image_items(dataset, "coco-instance", report)
        cat_ids, kept = category_ids(dataset.categories)
        if not kept:
            report.mappings["category_id"] = {k: v for k, v in cat_ids.items()}
        image_ids, kept = _ids([m.id for m in dataset.media])
        if not kept:
            report.mappings["image_id"] = dict(image_ids)
        sizes = {m.id: require_size(m, "coco-instance") for m in dataset.media}
        keypoint_names = self.keypoint_names(dataset)
        categories = self._categories(dataset.categories, cat_ids, keypoint_names)
        images = [self._image(item, image_ids[item.id], sizes[item.id], report) for item in dataset.media]

        pairs = self.keypoint_pairs(dataset.annotations)
        merged_keypoints = {kp.id for kp in pairs.values()}
        regions = [a for a in dataset.annotations if a.id not in merged_keypoints]
        ann_ids, kept = _ids([a.id for a in regions])
        if not kept:
            report.mappings["annotation_id"] = dict(ann_ids)
        annotations: list[coco_instance.Annotation] = []
        for annotation in regions:
            if annotation.media_id not in sizes:
                report.drop("annotation", "its media item is not in the dataset", annotation.id)
                continue
            entry = self._entry(
                annotation,
                ann_ids[annotation.id],
                image_ids[annotation.media_id],
                cat_ids,
                sizes[annotation.media_id],
                keypoint_names,
                pairs,
                report,
                mask_utils,
            )
            if entry is not None:
                annotations.append(entry)
        for classification in dataset.classifications:
            report.drop(
                "classification", "COCO instance files have no classifications", classification.media_id or ""
            )
        info = dataset.info.get("coco_info")
        licenses = dataset.info.get("coco_licenses")
        document = coco_instance.Document.create(
            info=(
                coco_instance.Info.from_json(info)
                if isinstance(info, dict)
                else coco_instance.Info.create(description="converted by labelspec")
            ),
            # the source's licences, as they were (items that are not objects are kept unwrapped)
            licenses=[coco_instance.from_json_as("license", x) for x in licenses]
            if isinstance(licenses, list)
            else None,
            images=images,
            annotations=annotations,
            categories=categories,
        )
        report.counts.update(written_images=len(images), written_annotations=len(annotations))
        return document

    @staticmethod
    def _categories(
        categories: Sequence[Category], cat_ids: dict[str, int], keypoint_names: dict[str, tuple[str, ...]]
    ) -> list[coco_instance.Category]:
        out: list[coco_instance.Category] = []
        for category in categories:
            names = keypoint_names.get(category.id, ())
            out.append(
                coco_instance.Category.create(
                    id=cat_ids[category.id],
                    name=category.name,
                    supercategory=category.supercategory or category.name,
                    keypoints=list(names) if names else None,
                    skeleton=[[a + 1, b + 1] for a, b in category.skeleton] if names else None,
                    color=list(category.color) if category.color is not None else None,
                )
            )
        return out

    @staticmethod
    def _image(
        item: MediaItem, image_id: int, size: tuple[int, int], report: ConversionReport
    ) -> coco_instance.Image:
        width, height = size
        # COCO's own files (and pycocotools' examples) write file_name before the size: create() would
        # put width/height first (schema order), so they are set afterwards to keep that key order.
        image = coco_instance.Image.create(id=image_id, file_name=item.file_name)
        image.width = width
        image.height = height
        if item.attributes:
            report.drop("media attributes", "COCO images have no attributes", item.id)
        return image

    @staticmethod
    def _head(info: dict[str, Any]) -> dict[str, Any]:
        """The document's ``info`` and ``licenses`` (the source's, as they were; else a description)."""
        source_info, licenses = info.get("coco_info"), info.get("coco_licenses")
        head: dict[str, Any] = coco_instance.to_json(
            coco_instance.Document.create(
                info=(
                    coco_instance.Info.from_json(source_info)
                    if isinstance(source_info, dict)
                    else coco_instance.Info.create(description="converted by labelspec")
                ),
                # the source's licences, as they were (items that are not objects are kept unwrapped)
                licenses=[coco_instance.from_json_as("license", x) for x in licenses]
                if isinstance(licenses, list)
                else None,
                images=[],
                annotations=[],
                categories=[],
            )
        )
        return head

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
        """The COCO file written as the groups come (a large COCO file read one image at a time): the
        document's head and images, then each image's annotations as they are made, then the categories,
        so that memory holds one image's annotations, never the document. ``media`` are the groups' media
        items in order, ``info`` the dataset's info (the source's ``info`` and ``licenses``).

        Raises :class:`~labelspec.convert.writers.NotStreamable` (nothing is kept: the caller converts in
        memory instead) where the whole dataset would decide what an annotation becomes: annotation ids
        that are not unique integers (renumbered), keypoints of a category that declares no keypoint
        names (named after the dataset's fullest skeleton)."""
        from pycocotools import mask as mask_utils

        from labelspec.convert.atomic import check_writable
        from labelspec.convert.writers import NotStreamable
        from labelspec.formats._runtime import dump_json

        cat_ids, kept = category_ids(categories)
        if not kept:
            report.mappings["category_id"] = {k: v for k, v in cat_ids.items()}
        image_ids, kept = _ids([m.id for m in media])
        if not kept:
            report.mappings["image_id"] = dict(image_ids)
        sizes = {m.id: require_size(m, "coco-instance") for m in media}
        keypoint_names = {c.id: c.keypoint_names for c in categories if c.keypoint_names}
        check_writable(out, options.force)
        head = dump_json(self._head(info or {}))
        marker = b'"images":[]'
        assert head.endswith(b'"images":[],"annotations":[],"categories":[]}'), head[-80:]
        written_images = written_annotations = 0
        seen: set[int] = set()
        with open(out, "wb") as handle:
            write = handle.write
            write(head[: head.rindex(marker)] + b'"images":[')
            for n, item in enumerate(media):
                image = self._image(item, image_ids[item.id], sizes[item.id], report)
                write((b"," if n else b"") + dump_json(image))
                written_images += 1
            write(b'],"annotations":[')
            for item, annotations in groups:
                pairs = self.keypoint_pairs(annotations)
                merged = {kp.id for kp in pairs.values()}
                for annotation in annotations:
                    if annotation.id in merged:
                        continue
                    if isinstance(annotation.geometry, (Keypoints, Point)) and (
                        annotation.category_id not in keypoint_names
                    ):
                        raise NotStreamable("keypoints of a category without keypoint names")
                    ann_id = integer_ids([annotation.id])
                    if ann_id is None or ann_id[0] in seen:
                        raise NotStreamable("annotation ids that are not unique integers")
                    seen.add(ann_id[0])
                    entry = self._entry(
                        annotation,
                        ann_id[0],
                        image_ids[item.id],
                        cat_ids,
                        sizes[item.id],
                        keypoint_names,
                        pairs,
                        report,
                        mask_utils,
                    )
                    if entry is not None:
                        write((b"," if written_annotations else b"") + dump_json(entry))
                        written_annotations += 1
            written = self._categories(categories, cat_ids, keypoint_names)
            write(b'],"categories":' + dump_json([c.to_json() for c in written]) + b"}")
        report.counts.update(written_images=written_images, written_annotations=written_annotations)
        return [out]

    def _entry(
        self,
        annotation: Annotation,
        ann_id: int,
        image_id: int,
        cat_ids: dict[str, int],
        size: tuple[int, int],
        keypoint_names: dict[str, tuple[str, ...]],
        pairs: dict[str, Annotation],
        report: ConversionReport,
        mask_utils: Any,
    ) -> coco_instance.Annotation | None:
        """The COCO annotation of a region annotation (with its merged keypoints), or None (dropped and
        reported)."""
        if annotation.category_id not in cat_ids:
            report.drop("annotation", "its category is not in the dataset", annotation.id)
            return None
        width, height = size
        entry = coco_instance.Annotation.create(
            id=ann_id, image_id=image_id, category_id=cat_ids[annotation.category_id]
        )
        names = keypoint_names.get(annotation.category_id, ())
        if not self._annotation(entry, annotation, width, height, names, report, mask_utils):
            return None
        keypoints = pairs.get(annotation.id)
        if keypoints is not None:
            self._add_keypoints(entry, keypoints, names, report)
        self._report_outside(entry, width, height, annotation, report)
        entry.score = annotation.confidence
        if annotation.attributes:
            report.drop("object attributes", "COCO annotations have no attributes", annotation.id)
        if annotation.track_id is not None and keypoints is None:
            report.drop("track id", "COCO has no tracks", annotation.id)
        return entry

    @staticmethod
    def keypoint_names(dataset: LabelledDataset) -> dict[str, tuple[str, ...]]:
        """Category id -> the keypoint names COCO declares for it: the category's own; else, for a category
        with skeletons, the point names of its fullest skeleton (``keypoint_<n>`` where unnamed); else, for
        a category with points, ``("point",)``: a point is a one-keypoint annotation of a keypoint
        category, so pycocotools / COCOeval read it as a keypoint, not as an empty region."""
        longest: dict[str, tuple[str | None, ...]] = {}
        points: set[str] = set()
        for annotation in dataset.annotations:
            geometry = annotation.geometry
            if isinstance(geometry, Keypoints):
                known = longest.get(annotation.category_id, ())
                if len(geometry.points) > len(known):
                    longest[annotation.category_id] = tuple(p.name for p in geometry.points)
            elif isinstance(geometry, Point):
                points.add(annotation.category_id)
        names: dict[str, tuple[str, ...]] = {}
        for category in dataset.categories:
            if category.keypoint_names:
                names[category.id] = category.keypoint_names
            elif category.id in longest:
                found = longest[category.id]
                unique = len({n for n in found if n}) == len(found)
                names[category.id] = tuple(
                    n if unique and n else f"keypoint_{i}" for i, n in enumerate(found, 1)
                )
            elif category.id in points:
                names[category.id] = ("point",)
        return names

    @staticmethod
    def _report_outside(
        entry: coco_instance.Annotation,
        width: int,
        height: int,
        annotation: Annotation,
        report: ConversionReport,
    ) -> None:
        """A bbox past the image border is written as the source has it (COCO-BBOX-OUTSIDE-IMAGE warns);
        reported, as the YOLO writer reports the boxes it clips."""
        raw = entry.to_json()
        bbox = raw.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            return
        kind = f"{type(annotation.geometry).__name__.lower()} annotation"
        x, y, w, h = (float(v) for v in bbox)
        if x < 0 or y < 0 or x + w > width + 1e-6 or y + h > height + 1e-6:
            report.approximate(
                kind,
                "its box extends past the image border (written unclipped; consumers clip it differently)",
                annotation.id,
            )
        if raw.get("area") == 0:  # a mask (or a polygon) outside the image: no pixel of it is in the image
            report.approximate(
                kind, "it covers no pixel of the image: area 0 (not valid under strict COCO)", annotation.id
            )

    @staticmethod
    def keypoint_pairs(annotations: Sequence[Annotation]) -> dict[str, Annotation]:
        """Region annotation id -> the Keypoints annotation to merge into it (same media, track, category)."""
        groups: dict[tuple[str, str, str], list[Annotation]] = {}
        for annotation in annotations:
            if annotation.track_id is not None:
                key = (annotation.media_id, annotation.track_id, annotation.category_id)
                groups.setdefault(key, []).append(annotation)
        pairs: dict[str, Annotation] = {}
        for group in groups.values():
            keypoints = [a for a in group if isinstance(a.geometry, Keypoints)]
            others = [a for a in group if not isinstance(a.geometry, (Keypoints, Polyline, Point, Cuboid))]
            if len(keypoints) == 1 and len(others) == 1:
                pairs[others[0].id] = keypoints[0]
        return pairs

    def _annotation(
        self,
        entry: coco_instance.Annotation,
        annotation: Annotation,
        width: int,
        height: int,
        names: Sequence[str],
        report: ConversionReport,
        mask_utils: Any,
    ) -> bool:
        """Set the geometry of ``entry`` (False: the annotation is dropped and reported).

        The keys are set in the order labelspec has always written them (schema order, except that a
        Keypoints annotation has ``iscrowd`` before ``area`` and ``bbox``).
        """
        geometry = annotation.geometry
        crowd = 1 if annotation.is_crowd else 0
        if isinstance(geometry, (Polyline, Cuboid)):
            kind = "polyline" if isinstance(geometry, Polyline) else "cuboid"
            report.drop(f"{kind} annotation", f"COCO instance has no {kind}s", annotation.id)
            return False
        if isinstance(geometry, Box):
            if geometry.w < 0 or geometry.h < 0:
                report.drop("box annotation", "negative width or height", annotation.id)
                return False
            x, y, w, h = geometry.x, geometry.y, geometry.w, geometry.h
            _region(
                entry,
                [_rounded([x, y, x + w, y, x + w, y + h, x, y + h])],
                _rounded([w * h])[0],
                _rounded([x, y, w, h]),
                crowd,
            )
            return True
        if isinstance(geometry, RotatedBox):
            report.approximate(
                "rotated box", "written as its 4-corner polygon (COCO has no rotation)", annotation.id
            )
            geometry = Polygon((rotated_corners(geometry),))
        if isinstance(geometry, Point):
            geometry = Keypoints(
                (Keypoint(geometry.x, geometry.y, name=names[0] if len(names) == 1 else None),)
            )
            if len(names) != 1:
                report.drop("point annotation", "its category's keypoints are a skeleton's", annotation.id)
                return False
            annotation = replace(annotation, geometry=geometry)
        if isinstance(geometry, Keypoints):
            x, y, w, h = extent(geometry) or (0.0, 0.0, 0.0, 0.0)
            if w * h <= 0:
                # COCOeval scales keypoint similarity by the area and strict COCO needs it positive: one
                # pixel (each way) around the points is the least a labelled point covers
                report.approximate(
                    "keypoints area", "the keypoints span no area: written as 1 pixel", annotation.id
                )
                if w < 1:
                    x, w = max(0.0, min(x - (1 - w) / 2, max(width - 1.0, 0.0))), 1.0
                if h < 1:
                    y, h = max(0.0, min(y - (1 - h) / 2, max(height - 1.0, 0.0))), 1.0
            # No region: strict COCO needs a segmentation (pycocotools' annToMask reads it), so the points'
            # bounding box is written as the region, as a box-only annotation is; said in the report.
            report.approximate(
                "keypoints annotation",
                "no region: its keypoints' bounding box is written as the segmentation",
                annotation.id,
            )
            _region(
                entry,
                [_rounded([x, y, x + w, y, x + w, y + h, x, y + h])],
                _rounded([w * h])[0],
                _rounded([x, y, w, h]),
                crowd,
            )
            self._add_keypoints(entry, annotation, names, report)
            return True
        if isinstance(geometry, Mask):
            if (geometry.height, geometry.width) != (height, width):
                report.drop(
                    "mask annotation",
                    f"mask size {geometry.width}x{geometry.height} differs from the image ({width}x{height})",
                    annotation.id,
                )
                return False
            rle = mask_utils.frPyObjects(
                {"size": [height, width], "counts": list(geometry.counts)}, height, width
            )
            box = mask_extent(geometry) or (0.0, 0.0, 0.0, 0.0)
            segmentation = (
                coco_instance.Rle.create(size=[height, width], counts=list(geometry.counts))
                if crowd
                else _compressed(rle)
            )
            _region(entry, segmentation, int(mask_utils.area(rle)), _rounded(box), crowd)
            return True
        polygons = geometry.polygons if isinstance(geometry, MultiPolygon) else (geometry,)
        polygons = tuple(p for p in polygons if p.rings and len(p.rings[0]) >= 6)
        if not polygons:
            report.drop("polygon annotation", "fewer than 3 points", annotation.id)
            return False
        box = extent(MultiPolygon(polygons)) or (0.0, 0.0, 0.0, 0.0)
        if any(len(p.rings) > 1 for p in polygons):
            report.approximate(
                "polygon with holes", "written as an RLE mask (COCO polygons have no holes)", annotation.id
            )
            import numpy as np

            pixels = np.zeros((height, width), dtype=bool)
            for polygon in polygons:
                pixels |= mask_utils.decode(_rle_of_polygon(polygon, height, width)).astype(bool)
            rle = mask_utils.encode(np.asfortranarray(pixels.astype(np.uint8)))
            _region(entry, _compressed(rle), int(mask_utils.area(rle)), _rounded(box), crowd)
            return True
        rings = [list(p.rings[0]) for p in polygons]
        merged = mask_utils.merge(mask_utils.frPyObjects(rings, height, width))
        area: float | int = int(mask_utils.area(merged))
        if area == 0:  # a polygon smaller than a pixel covers no pixel centre: keep its geometric area
            area = _rounded([sum(_shoelace(r) for r in rings)])[0]
        _region(entry, [_rounded(r) for r in rings], area, _rounded(box), crowd)
        return True

    @staticmethod
    def _add_keypoints(
        entry: coco_instance.Annotation,
        annotation: Annotation,
        names: Sequence[str],
        report: ConversionReport,
    ) -> None:
        assert isinstance(annotation.geometry, Keypoints)
        points = list(annotation.geometry.points)
        if names and all(p.name is not None for p in points) and any(p.name in names for p in points):
            by_name = {p.name: p for p in points}
            ordered = [by_name.get(name) for name in names]
            if len(by_name) != len(points) or set(by_name) - set(names):
                report.drop("keypoint", "its name is not a keypoint of the category", annotation.id)
        else:
            ordered = list(points)
            if names and len(points) != len(names):
                report.approximate(
                    "keypoints", "count differs from the category's keypoint names", annotation.id
                )
                ordered = (ordered + [None] * len(names))[: len(names)]
        flat: list[float | int] = []
        for point in ordered:
            if point is None or point.visibility == "invisible":
                flat += [0, 0, 0]
            else:
                flat += [*_rounded([point.x, point.y]), _VISIBILITY[point.visibility]]
        entry.keypoints = flat
        entry.num_keypoints = sum(1 for v in flat[2::3] if v)


WRITER = CocoInstanceWriter()
