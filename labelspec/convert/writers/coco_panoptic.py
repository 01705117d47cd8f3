"""The ``coco-panoptic`` writer: ``panoptic.json`` plus one RGB PNG per image in ``panoptic/``.

Output folder layout (panopticapi's)::

    OUT/panoptic.json          info, images, categories (id, name, supercategory, isthing, color), annotations
    OUT/panoptic/<stem>.png    8-bit RGB; a pixel's segment id = R + 256·G + 65536·B; 0 (black) = unlabelled

Check it with ``labelspec validate OUT/panoptic.json --format coco-panoptic --png-dir OUT/panoptic``.

Rules (all deterministic: the same dataset always gives the same bytes):

* Annotations are rasterised as for the mask writers (:mod:`labelspec.convert.writers.masks`): masks and
  integer boxes exactly, polygons and rotated boxes with pycocotools (approximated); points, polylines,
  keypoints and cuboids are dropped. Where annotations overlap, **the later one wins** and the overlap is
  reported as approximated (panoptic segments cannot overlap).
* **Things** (``Category.is_thing``): one segment per annotation, ``iscrowd`` from the annotation.
* **Stuff**: one segment per image and category; several instances of a stuff category in one image are
  merged into that segment (reported as approximated). The segments-ai SDK instead writes every instance
  with the same id, i.e. duplicate segment ids.
* **Segment ids / colours**, per image, in annotation order: a segment first tries its category's colour
  (the category's own ``color``, else ``COLORMAP[position % 36]`` as in the mask writers); if that id is
  taken in the image (a second instance of a thing category, or two categories sharing a colour), it takes a
  colour within ±30 per channel of it drawn from ``random.Random("<category position>:<ordinal>:<try>")``, a
  seeded generator, until the id is free and non-zero. This is panopticapi's ``IdGenerator`` scheme made
  deterministic: the segments-ai SDK draws from numpy's unseeded global generator, so its ids change from
  run to run.
* ``segments_info``: ``{id, category_id, area (pixel count), bbox [x, y, w, h] (integer pixel extent of the
  segment's pixels), iscrowd}``.
* Category ids are the source's when they are unique integers, else 1..N in model order (mapping reported);
  image ids likewise. ``supercategory`` is the category's, else its name.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from labelspec.convert.atomic import write_bytes, write_json
from labelspec.convert.media import safe_member_path
from labelspec.convert.model import Annotation, ConversionReport, LabelledDataset
from labelspec.convert.registry import WriteOptions
from labelspec.convert.writers import integer_ids
from labelspec.convert.writers.coco_instance import category_ids
from labelspec.convert.writers.masks import BoolArray, category_colors, iter_layers, png_names
from labelspec.formats import coco_panoptic

if TYPE_CHECKING:
    from labelspec.validator.report import Report

__all__ = ["JSON_NAME", "PNG_DIR", "WRITER", "CocoPanopticWriter", "SegmentIds", "id_to_rgb", "rgb_to_id"]

JSON_NAME = "panoptic.json"
PNG_DIR = "panoptic"
_JITTER = 30
_MAX_TRIES = 1000


def rgb_to_id(rgb: Sequence[int]) -> int:
    """panopticapi's ``rgb2id``: ``R + 256·G + 65536·B``."""
    return int(rgb[0]) + 256 * int(rgb[1]) + 65536 * int(rgb[2])


def id_to_rgb(segment_id: int) -> tuple[int, int, int]:
    """panopticapi's ``id2rgb``, the inverse of :func:`rgb_to_id`."""
    return segment_id & 0xFF, (segment_id >> 8) & 0xFF, (segment_id >> 16) & 0xFF


class SegmentIds:
    """Deterministic segment ids of one image (see the module documentation)."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def next(self, base: tuple[int, int, int], category_position: int, ordinal: int) -> int:
        candidate = rgb_to_id(base)
        attempt = 0
        while candidate == 0 or candidate in self.taken:
            if attempt >= _MAX_TRIES:  # the colour's neighbourhood is full: the lowest free id
                candidate = next(i for i in range(1, 1 << 24) if i not in self.taken)
                break
            rng = random.Random(f"{category_position}:{ordinal}:{attempt}")
            jittered = [min(255, max(0, c + rng.randint(-_JITTER, _JITTER))) for c in base]
            candidate = rgb_to_id(jittered)
            attempt += 1
        self.taken.add(candidate)
        return candidate


def _bbox(mask: BoolArray) -> list[int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    x0, x1, y0, y1 = int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])
    return [x0, y0, x1 - x0 + 1, y1 - y0 + 1]


def _png(ids: npt.NDArray[np.uint32]) -> bytes:
    from PIL import Image

    rgb = np.empty((*ids.shape, 3), dtype=np.uint8)
    rgb[:, :, 0] = ids & 0xFF
    rgb[:, :, 1] = (ids >> 8) & 0xFF
    rgb[:, :, 2] = (ids >> 16) & 0xFF
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


class CocoPanopticWriter:
    target_id = "coco-panoptic"

    def write(
        self, dataset: LabelledDataset, out: Path, options: WriteOptions, report: ConversionReport
    ) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        png_dir = out / PNG_DIR
        document, pngs = self.build_document(dataset, report, options)
        paths = [
            write_bytes(safe_member_path(png_dir, name), data, force=options.force) for name, data in pngs
        ]
        paths.insert(0, write_json(out / JSON_NAME, coco_panoptic.to_json(document), force=options.force))
        return paths

    def validate_output(self, paths: Sequence[Path]) -> Report:
        from labelspec.validator.api import validate

        document = next(p for p in paths if p.name == JSON_NAME)
        png_dir = document.parent / PNG_DIR
        return validate(document, format="coco-panoptic", profile="strict", png_dir=png_dir)

    def build(
        self, dataset: LabelledDataset, report: ConversionReport, options: WriteOptions | None = None
    ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """The panoptic JSON document and the PNGs (relative name, bytes) of ``dataset``."""
        document, pngs = self.build_document(dataset, report, options)
        raw: dict[str, Any] = coco_panoptic.to_json(document)
        return raw, pngs

    def build_document(
        self, dataset: LabelledDataset, report: ConversionReport, options: WriteOptions | None = None
    ) -> tuple[coco_panoptic.Document, list[tuple[str, bytes]]]:
        """The panoptic document and the PNGs (relative name, bytes) of ``dataset``."""
        cat_ids, kept = category_ids(dataset.categories)
        if not kept:
            report.mappings["category_id"] = dict(cat_ids)
        media_ids = [m.id for m in dataset.media]
        kept_ids = integer_ids(media_ids)
        if kept_ids is not None:
            image_ids = dict(zip(media_ids, kept_ids, strict=True))
        else:
            image_ids = {m: n for n, m in enumerate(media_ids, 1)}
            report.mappings["image_id"] = dict(image_ids)
        colors = category_colors(dataset.categories)
        position = {c.id: i for i, c in enumerate(dataset.categories)}
        names = png_names(dataset, report)
        categories = [
            coco_panoptic.PanopticCategory.create(
                id=cat_ids[c.id],
                name=c.name,
                supercategory=c.supercategory or c.name,
                isthing=int(c.is_thing),
                color=list(colors[i]),
            )
            for i, c in enumerate(dataset.categories)
        ]
        images: list[coco_panoptic.Image] = []
        annotations: list[coco_panoptic.PanopticAnnotation] = []
        pngs: list[tuple[str, bytes]] = []
        segments = 0
        for layer in iter_layers(dataset, report, self.target_id, options):
            item = layer.item
            image_id = image_ids[item.id]
            # file_name before the size, as COCO writes it (create() would use the schema's order)
            image = coco_panoptic.Image.create(id=image_id, file_name=item.file_name)
            image.width = layer.width
            image.height = layer.height
            images.append(image)
            # group: things one segment per annotation; stuff one segment per category
            groups: list[tuple[str, list[tuple[Annotation, BoolArray]]]] = []
            stuff_index: dict[str, int] = {}
            for annotation, mask in layer.instances:
                if annotation.category_id not in position:
                    report.drop("annotation", f"unknown category {annotation.category_id!r}", annotation.id)
                    continue
                category = dataset.categories[position[annotation.category_id]]
                if category.is_thing:
                    groups.append((annotation.category_id, [(annotation, mask)]))
                elif annotation.category_id in stuff_index:
                    groups[stuff_index[annotation.category_id]][1].append((annotation, mask))
                    report.approximate(
                        "stuff instance",
                        f"merged into the one segment of stuff category {category.name!r} in this image",
                        annotation.id,
                    )
                else:
                    stuff_index[annotation.category_id] = len(groups)
                    groups.append((annotation.category_id, [(annotation, mask)]))
            ids = np.zeros((layer.height, layer.width), dtype=np.uint32)
            generator = SegmentIds()
            ordinals: dict[str, int] = {}
            segments_info: list[coco_panoptic.SegmentInfo] = []
            for category_id, members in groups:
                pos = position[category_id]
                ordinal = ordinals.get(category_id, 0)
                ordinals[category_id] = ordinal + 1
                segment_id = generator.next(colors[pos], pos, ordinal)
                mask = members[0][1].copy()
                for _, other in members[1:]:
                    mask |= other
                ids[mask] = segment_id
                segments_info.append(
                    coco_panoptic.SegmentInfo.create(
                        id=segment_id,
                        category_id=cat_ids[category_id],
                        area=int(mask.sum()),
                        bbox=_bbox(mask),
                        iscrowd=int(any(a.is_crowd for a, _ in members)),
                    )
                )
            segments += len(segments_info)
            name = names[item.id]
            annotations.append(
                coco_panoptic.PanopticAnnotation.create(
                    image_id=image_id, file_name=name, segments_info=segments_info
                )
            )
            pngs.append((name, _png(ids)))
        info = dataset.info.get("coco_info")
        licenses = dataset.info.get("coco_licenses")
        # categories before annotations (panopticapi's files): set one by one, not in the schema's order
        document = coco_panoptic.Document()
        document.info = (
            coco_panoptic.Info.from_json(info)
            if isinstance(info, dict)
            else coco_panoptic.Info.create(description="converted by labelspec")
        )
        if isinstance(licenses, list):  # the source's licences, as they were
            document.licenses = [coco_panoptic.from_json_as("license", x) for x in licenses]
        document.images = images
        document.categories = categories
        document.annotations = annotations
        report.counts.update(written_images=len(images), written_segments=segments)
        return document, pngs


WRITER = CocoPanopticWriter()
