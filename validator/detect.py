"""Format auto-detection: cheap looks at the top of a parsed document.

Detection only picks the schema; it never decides validity. A document that looks like no format, or
like several (e.g. ``[]`` is both an empty DataGym and an empty Encord export), is a usage error that
asks for ``--format``.
"""

from __future__ import annotations

from typing import Any

from labelspec import format_ids

SAMPLE_ITEMS = 5  # list-shaped exports: look at the first few items only (the fast path reads just these)


def _dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [item for item in items[:SAMPLE_ITEMS] if isinstance(item, dict)]


def _looks_datagym(doc: Any) -> bool:
    if not isinstance(doc, list) or not doc:
        return False
    head = _dicts(doc)
    task_keys = {"internal_media_ID", "external_media_ID", "internal_image_ID", "external_image_ID"}
    return any("label_classes" in item or task_keys & item.keys() for item in head)


def _looks_encord(doc: Any) -> bool:
    row_keys = {"label_hash", "data_units", "data_hash", "object_answers"}
    if isinstance(doc, dict):
        return len(row_keys & doc.keys()) >= 2
    if not isinstance(doc, list) or not doc:
        return False
    return any(len(row_keys & item.keys()) >= 2 for item in _dicts(doc))


def _looks_encord_ontology(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if "objects" not in doc and "classifications" not in doc and isinstance(doc.get("editor"), dict):
        doc = doc["editor"]  # the ontology as the Encord API returns it (x-format envelope)
    return "objects" in doc and "classifications" in doc and "dataset" not in doc


def _looks_segments(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    dataset = doc.get("dataset")
    if isinstance(dataset, dict) and ({"samples", "task_type", "labelsets"} & dataset.keys()):
        return True
    return "samples" in doc and "tasks" in doc  # the 2020 layout, without the dataset wrapper


def _coco_annotations(doc: Any) -> list[dict[str, Any]] | None:
    if not isinstance(doc, dict) or not ({"images", "annotations", "categories"} & doc.keys()):
        return None
    annotations = doc.get("annotations")
    return _dicts(annotations) if isinstance(annotations, list) else []


def _looks_coco_panoptic(doc: Any) -> bool:
    annotations = _coco_annotations(doc)
    if annotations is None:
        return False
    if any("segments_info" in a for a in annotations):
        return True
    categories = doc.get("categories") if isinstance(doc, dict) else None
    return (
        not annotations
        and isinstance(categories, list)
        and any(isinstance(c, dict) and "isthing" in c for c in categories[:SAMPLE_ITEMS])
    )


def _looks_coco_instance(doc: Any) -> bool:
    return _coco_annotations(doc) is not None and not _looks_coco_panoptic(doc)


# The test of each format told from a document (labelspec.format_ids: ``detected``), tried in its order.
_DETECTORS = {
    "datagym": _looks_datagym,
    "segments": _looks_segments,
    "encord": _looks_encord,
    "encord-ontology": _looks_encord_ontology,
    "coco-instance": _looks_coco_instance,
    "coco-panoptic": _looks_coco_panoptic,
}


def candidate_formats(document: Any) -> list[str]:
    """Every format the document looks like (usually exactly one)."""
    if document == []:
        return ["datagym", "encord"]
    return [f.id for f in format_ids.FORMATS if f.detected and _DETECTORS[f.id](document)]


class DetectionError(Exception):
    """The format cannot be told from the document; the message says what to pass."""


def detect_format(document: Any) -> str:
    found = candidate_formats(document)
    if len(found) == 1:
        return found[0]
    if not found:
        kind = (
            type(document).__name__
            if not isinstance(document, (dict, list))
            else (
                "object with keys " + ", ".join(sorted(map(str, document))[:8])
                if isinstance(document, dict)
                else "array"
            )
        )
        raise DetectionError(
            f"cannot tell the format: the document ({kind}) looks like none of the known formats; "
            "pass --format (see `labelspec formats`)"
        )
    raise DetectionError(
        f"cannot tell the format: the document matches several formats ({', '.join(found)}); pass --format"
    )
