"""labelspec.generators: synthetic label exports for tests (hypothesis strategies) and code generation.

Strategies, one per format, each with keyword knobs (``profile``, ``data_types`` / ``task_types``,
``min_items`` / ``max_items``, ``max_objects``, ``shapes``, ``max_frames``, ``min_size`` / ``max_size``)::

    from hypothesis import given
    import labelspec
    from labelspec import generators

    @given(generators.encord_export_with_ontology(data_types=["video"], profile="strict"))
    def test_my_loader(example):
        rows, ontology = example
        assert labelspec.validate(rows, format="encord", profile="strict", ontology=ontology).valid

Every example is valid under its profile and coherent beyond what the schemas can say (references,
geometry inside the media, real RLE encodings of real masks, bounded nesting). The same build functions
drive ``labelspec generate`` (seeded, byte-identical output per seed); single-fault mutants are in
:mod:`labelspec.generators.fixtures.mutants`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelspec.generators.fixtures import coco, datagym, encord, segments, yolo
from labelspec.generators.fixtures.common import strategy

__all__ = [
    "coco_instance",
    "coco_panoptic",
    "coco_results",
    "datagym_export",
    "encord_export",
    "encord_export_with_ontology",
    "encord_ontology",
    "segments_release",
    "yolo_dataset",
]

Strategy = Any  # hypothesis.strategies.SearchStrategy (hypothesis is imported lazily)


def datagym_export(
    *,
    profile: str = "lenient",
    data_types: Sequence[str] | None = None,
    min_items: int = 1,
    max_items: int = 3,
    max_objects: int = 3,
    shapes: Sequence[str] | None = None,
    min_size: int = 16,
    max_size: int = 640,
    max_depth: int = 2,
) -> Strategy:
    """DataGym.ai exports. ``data_types``: ``image`` / ``video`` projects; ``shapes``: point, line, polygon,
    rectangle, image_segmentation; ``max_depth`` bounds nested classifications."""
    return strategy(
        datagym.build_export,
        profile=profile,
        data_types=data_types,
        min_items=min_items,
        max_items=max_items,
        max_objects=max_objects,
        shapes=shapes,
        min_size=min_size,
        max_size=max_size,
        max_depth=max_depth,
    )


def segments_release(
    *,
    profile: str = "lenient",
    task_types: Sequence[str] | None = None,
    min_items: int = 1,
    max_items: int = 3,
    max_objects: int = 3,
    max_frames: int = 3,
    min_size: int = 64,
    max_size: int = 1920,
    layout: str = "current",
) -> Strategy:
    """Segments.ai release files of one of ``task_types`` (default: every task type of the profile);
    ``layout="2020"``: the layout of 2020 releases (lenient, image tasks)."""
    return strategy(
        segments.build_release,
        layout=layout,
        profile=profile,
        task_types=task_types,
        min_items=min_items,
        max_items=max_items,
        max_objects=max_objects,
        max_frames=max_frames,
        min_size=min_size,
        max_size=max_size,
    )


def encord_ontology(
    *, profile: str = "lenient", shapes: Sequence[str] | None = None, max_depth: int = 2
) -> Strategy:
    """Encord ontology structures (``shapes`` restricts the frame shapes; ``max_depth`` the nesting); some
    classifications are global."""
    return strategy(
        encord.build_ontology, profile=profile, shapes=shapes, max_depth=max_depth, global_level=True
    )


def encord_export_with_ontology(
    *,
    profile: str = "lenient",
    data_types: Sequence[str] | None = None,
    min_items: int = 1,
    max_items: int = 2,
    max_frames: int = 4,
    max_objects: int = 3,
    shapes: Sequence[str] | None = None,
    min_size: int = 16,
    max_size: int = 256,
    max_depth: int = 2,
    ontology: dict[str, Any] | None = None,
) -> Strategy:
    """``(rows, ontology)`` pairs: an Encord export (list of label rows) and the ontology it refers to.

    ``data_types`` are Encord ``data_type`` values (``image``, ``img_group``, ``video``, ``dicom``,
    ``nifti``, ``audio``, ``plain_text``, ``pdf``, ``scene``, ``group``; lenient also ``dicom_study``).
    Pass ``ontology`` to draw rows for a fixed ontology instead of a drawn one.
    """
    return strategy(
        encord.build_export,
        ontology=ontology,
        profile=profile,
        data_types=data_types,
        min_items=min_items,
        max_items=max_items,
        max_frames=max_frames,
        max_objects=max_objects,
        shapes=shapes,
        min_size=min_size,
        max_size=max_size,
        max_depth=max_depth,
    )


def encord_export(**knobs: Any) -> Strategy:
    """Encord exports (lists of label rows); knobs as :func:`encord_export_with_ontology`."""
    return encord_export_with_ontology(**knobs).map(lambda pair: pair[0])


def coco_instance(
    *,
    profile: str = "lenient",
    min_items: int = 1,
    max_items: int = 3,
    max_objects: int = 4,
    shapes: Sequence[str] | None = None,
    min_size: int = 16,
    max_size: int = 320,
) -> Strategy:
    """COCO instance files; ``shapes``: ``polygon``, ``rle``, ``crowd`` (uncompressed RLE), ``keypoints``."""
    return strategy(
        coco.build_instance,
        profile=profile,
        min_items=min_items,
        max_items=max_items,
        max_objects=max_objects,
        shapes=shapes,
        min_size=min_size,
        max_size=max_size,
    )


def coco_results(*, kind: str = "bbox", **knobs: Any) -> Strategy:
    """``(ground_truth, results)``: a strict COCO instance file (what ``COCO()`` loads fully) and a results
    file for it as ``pycocotools.coco.COCO.loadRes`` reads it (``kind``: ``bbox``, ``segmentation`` or
    ``keypoints``); ``knobs`` as :func:`coco_instance`."""
    shapes = ["keypoints", "polygon"] if kind == "keypoints" else knobs.pop("shapes", None)

    def build(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ground_truth = coco.build_instance(draw, profile="strict", shapes=shapes, **knobs)
        return ground_truth, coco.build_results(draw, ground_truth, kind)

    return strategy(build)


def coco_panoptic(
    *,
    profile: str = "lenient",
    min_items: int = 1,
    max_items: int = 3,
    max_objects: int = 4,
    min_size: int = 16,
    max_size: int = 128,
    with_pngs: bool = False,
) -> Strategy:
    """COCO panoptic files (or ``(document, {png file name: RGB array})`` with ``with_pngs=True``)."""
    build = coco.build_panoptic_with_pngs if with_pngs else coco.build_panoptic
    return strategy(
        build,
        profile=profile,
        min_items=min_items,
        max_items=max_items,
        max_objects=max_objects,
        min_size=min_size,
        max_size=max_size,
    )


def yolo_dataset(
    *,
    profile: str = "lenient",
    min_items: int = 1,
    max_items: int = 3,
    max_objects: int = 4,
    layouts: Sequence[str] | None = None,
) -> Strategy:
    """YOLO datasets in parsed form (``yolo.dataset_files`` renders the files); ``layouts``: darknet,
    labelimg, ultralytics (lenient also segments_sdk, ultralytics_segment)."""
    return strategy(
        yolo.build_dataset,
        profile=profile,
        min_items=min_items,
        max_items=max_items,
        max_objects=max_objects,
        layouts=layouts,
    )
