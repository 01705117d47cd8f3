"""Label rows and ontologies written by the Encord SDK itself (encord 0.1.211), offline.

The ontology is built with the SDK's builders (``OntologyStructure.add_object`` / ``add_classification`` /
``add_skeleton_object``, ``add_attribute``, ``add_option``, ``add_nested_attribute``) and written with
``to_dict()``. Label rows are created through the SDK's API: ``LabelRowV2.from_media_metadata`` (the SDK's
own offline "detached" rows) for image, image group, video, audio, plain text, HTML and PDF, and for
DICOM, NIfTI, data groups and scenes a ``LabelRowV2`` on constructed API metadata, initialised with
``from_labels_dict`` of an empty row (what ``from_media_metadata`` does internally). Objects and
classifications are added as ``ObjectInstance`` / ``ClassificationInstance`` with coordinates and answers,
and the row is written with ``to_encord_dict()``. Nothing is read from files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from unittest.mock import MagicMock, Mock

from encord.objects import Classification, LabelRowV2, Object, Shape
from encord.objects.attributes import ChecklistAttribute, RadioAttribute, TextAttribute
from encord.objects.coordinates import (
    AudioCoordinates,
    BitmaskCoordinates,
    BoundingBoxCoordinates,
    CuboidCoordinates,
    HtmlCoordinates,
    PointCoordinate,
    PolygonCoordinates,
    PolylineCoordinates,
    RotatableBoundingBoxCoordinates,
    SkeletonCoordinate,
    TextCoordinates,
)
from encord.objects.frames import Range
from encord.objects.html_node import HtmlNode, HtmlRange
from encord.objects.ontology_structure import OntologyStructure
from encord.objects.skeleton_template import SkeletonTemplate, SkeletonTemplateCoordinate
from encord.ontology import Ontology
from encord.orm import storage
from encord.orm.label_row import LabelRowMetadata, LabelStatus
from encord.orm.ontology import Ontology as OrmOntology

SDK_VERSION = "0.1.211"
_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
_W, _H = 64, 48


# ------------------------------------------------------------------------------------------------ ontology


def build_ontology() -> OntologyStructure:
    """One object per shape, one classification per answer kind, nested attributes, a skeleton."""
    structure = OntologyStructure()
    for shape in (
        Shape.BOUNDING_BOX,
        Shape.ROTATABLE_BOUNDING_BOX,
        Shape.POLYGON,
        Shape.POLYLINE,
        Shape.POINT,
        Shape.BITMASK,
        Shape.AUDIO,
        Shape.TEXT,
        Shape.CUBOID,
    ):
        obj = structure.add_object(name=f"{shape.value} thing", shape=shape)
        radio = obj.add_attribute(RadioAttribute, name=f"{shape.value} size", required=False)
        big = radio.add_option(label="big")
        radio.add_option(label="small")
        nested = big.add_nested_attribute(ChecklistAttribute, name=f"{shape.value} detail")
        nested.add_option(label="dented")
        nested.add_option(label="scratched")
        obj.add_attribute(TextAttribute, name=f"{shape.value} note")
        obj.add_attribute(ChecklistAttribute, name=f"{shape.value} tags").add_option(label="tag")
        if shape in (Shape.BOUNDING_BOX, Shape.POLYGON):
            dynamic = obj.add_attribute(RadioAttribute, name=f"{shape.value} moving", dynamic=True)
            dynamic.add_option(label="yes")
            dynamic.add_option(label="no")
    template = SkeletonTemplate(
        name="pair",
        width=0.2,
        height=0.2,
        skeleton={
            "0": SkeletonTemplateCoordinate(x=0.1, y=0.1, name="head", color="#FF0000", value="head"),
            "1": SkeletonTemplateCoordinate(x=0.2, y=0.2, name="tail", color="#00FF00", value="tail"),
        },
        skeleton_edges={"0": {"1": {"color": "#0000FF"}}},
    )
    structure.add_skeleton_object(name="pair thing", skeleton_template=template)
    radio = structure.add_classification().add_attribute(RadioAttribute, name="weather")
    sunny = radio.add_option(label="sunny")
    radio.add_option(label="rainy")
    sunny.add_nested_attribute(TextAttribute, name="weather note")
    checklist = structure.add_classification().add_attribute(ChecklistAttribute, name="issues")
    checklist.add_option(label="blur")
    checklist.add_option(label="glare")
    structure.add_classification().add_attribute(TextAttribute, name="caption")
    return structure


def ontology_dict() -> dict[str, Any]:
    """The SDK's ``to_dict()`` of the built ontology, through JSON (as it would be saved)."""
    loaded: dict[str, Any] = json.loads(json.dumps(build_ontology().to_dict(), default=str))
    return loaded


def _ontology(structure: OntologyStructure) -> Ontology:
    return Ontology(OrmOntology("interop", structure, "interop-ontology", _EPOCH, _EPOCH), MagicMock())


# ------------------------------------------------------------------------------------------------ rows


def _obj(structure: OntologyStructure, shape: Shape) -> Object:
    return next(o for o in structure.objects if o.shape == shape)


def _classification(structure: OntologyStructure, name: str) -> Classification:
    return next(c for c in structure.classifications if c.attributes[0].name == name)


def _answer_object(instance: Any, ontology_object: Object, *, nested: bool) -> None:
    """Radio (with its nested checklist when ``nested``), text and checklist answers."""
    for attribute in ontology_object.attributes:
        if attribute.dynamic:
            continue
        if isinstance(attribute, RadioAttribute):
            option = attribute.options[0 if nested else 1]
            instance.set_answer(option, attribute=attribute)
            if nested:
                child = option.attributes[0]
                instance.set_answer(list(child.options), attribute=child)
        elif isinstance(attribute, TextAttribute):
            instance.set_answer("written by the SDK", attribute=attribute)
        elif isinstance(attribute, ChecklistAttribute):
            instance.set_answer(list(attribute.options), attribute=attribute)


def _answer_classifications(
    row: LabelRowV2, structure: OntologyStructure, frames: Any, *, ranged: bool
) -> None:
    """One classification instance per answer kind: radio with a nested text, checklist, text."""
    weather = _classification(structure, "weather")
    instance = weather.create_instance(range_only=ranged)
    radio = weather.attributes[0]
    sunny = radio.options[0]
    instance.set_answer(sunny, attribute=radio)
    instance.set_answer("bright", attribute=sunny.attributes[0])
    issues = _classification(structure, "issues")
    second = issues.create_instance(range_only=ranged)
    second.set_answer(list(issues.attributes[0].options), attribute=issues.attributes[0])
    caption = _classification(structure, "caption")
    third = caption.create_instance(range_only=ranged)
    third.set_answer("a caption", attribute=caption.attributes[0])
    for made in (instance, second, third):
        made.set_for_frames(frames=frames)
        row.add_classification_instance(made)


def _geometry(shape: Shape, frame: int) -> Any:
    shift = 0.01 * frame
    if shape == Shape.BOUNDING_BOX:
        return BoundingBoxCoordinates(height=0.2, width=0.3, top_left_x=0.1 + shift, top_left_y=0.2)
    if shape == Shape.ROTATABLE_BOUNDING_BOX:
        return RotatableBoundingBoxCoordinates(
            height=0.2, width=0.3, top_left_x=0.1, top_left_y=0.2, theta=30.0
        )
    if shape == Shape.POLYGON:
        outer = [PointCoordinate(0.1, 0.1), PointCoordinate(0.5, 0.1), PointCoordinate(0.5, 0.5)]
        second = [PointCoordinate(0.6, 0.6), PointCoordinate(0.9, 0.6), PointCoordinate(0.9, 0.9)]
        hole = [PointCoordinate(0.7, 0.7), PointCoordinate(0.8, 0.7), PointCoordinate(0.8, 0.8)]
        return PolygonCoordinates(polygons=[[outer], [second, hole]])
    if shape == Shape.POLYLINE:
        return PolylineCoordinates(
            [PointCoordinate(0.1, 0.1), PointCoordinate(0.4, 0.3), PointCoordinate(0.7, 0.2)]
        )
    if shape == Shape.POINT:
        return PointCoordinate(0.25 + shift, 0.75)
    if shape == Shape.BITMASK:
        import numpy as np

        mask = np.zeros((_H, _W), dtype=bool)
        mask[5:20, 10:30] = True
        return BitmaskCoordinates(mask)
    raise ValueError(shape)


_FRAME_SHAPES = (
    Shape.BOUNDING_BOX,
    Shape.ROTATABLE_BOUNDING_BOX,
    Shape.POLYGON,
    Shape.POLYLINE,
    Shape.POINT,
    Shape.BITMASK,
)


def _add_frame_objects(row: LabelRowV2, structure: OntologyStructure, frames: list[int]) -> None:
    for n, shape in enumerate(_FRAME_SHAPES):
        ontology_object = _obj(structure, shape)
        instance = ontology_object.create_instance()
        for frame in frames:
            instance.set_for_frames(_geometry(shape, frame), frames=frame)
        _answer_object(instance, ontology_object, nested=n % 2 == 0)
        for attribute in ontology_object.attributes:
            if attribute.dynamic and len(frames) > 1:
                instance.set_answer(attribute.options[0], attribute=attribute, frames=frames[0])
        row.add_object_instance(instance)
    skeleton_object = next(o for o in structure.objects if o.shape == Shape.SKELETON)
    template = structure.skeleton_templates["pair"]
    skeleton = skeleton_object.create_instance()
    coordinates = template.create_instance(
        [SkeletonCoordinate(x=0.3, y=0.3, name="head"), SkeletonCoordinate(x=0.4, y=0.5, name="tail")]
    )
    skeleton.set_for_frames(coordinates, frames=frames[0])
    row.add_object_instance(skeleton)


def _detached(structure: OntologyStructure, metadata: Any) -> LabelRowV2:
    return LabelRowV2.from_media_metadata(_ontology(structure), metadata)


def image_row(structure: OntologyStructure) -> LabelRowV2:
    row = _detached(
        structure,
        storage.CustomerProvidedImageMetadata(mime_type="image/png", file_size=1, width=_W, height=_H),
    )
    _add_frame_objects(row, structure, [0])
    _answer_classifications(row, structure, 0, ranged=False)
    return row


def image_group_row(structure: OntologyStructure) -> LabelRowV2:
    images = [
        storage.CustomerProvidedImageMetadata(mime_type="image/jpeg", file_size=1, width=_W, height=_H)
        for _ in range(3)
    ]
    row = _detached(structure, images)
    _add_frame_objects(row, structure, [0, 2])
    _answer_classifications(row, structure, [Range(1, 2)], ranged=False)
    return row


def video_row(structure: OntologyStructure) -> LabelRowV2:
    row = _detached(
        structure,
        storage.CustomerProvidedVideoMetadata(
            mime_type="video/mp4", file_size=1, fps=25.0, duration=2.0, width=_W, height=_H
        ),
    )
    _add_frame_objects(row, structure, [0, 1, 5])
    _answer_classifications(row, structure, [Range(0, 4)], ranged=False)
    return row


def audio_row(structure: OntologyStructure) -> LabelRowV2:
    row = _detached(
        structure,
        storage.CustomerProvidedAudioMetadata(
            duration=10.0,
            file_size=1,
            mime_type="audio/mpeg",
            sample_rate=44100,
            bit_depth=16,
            codec="mp3",
            num_channels=2,
        ),
    )
    ontology_object = _obj(structure, Shape.AUDIO)
    instance = ontology_object.create_instance()
    instance.set_for_frames(AudioCoordinates(range=[Range(100, 2500)]))
    _answer_object(instance, ontology_object, nested=True)
    row.add_object_instance(instance)
    _answer_classifications(row, structure, [Range(0, 900)], ranged=True)
    return row


def _text_row(structure: OntologyStructure, mime: str) -> LabelRowV2:
    row = _detached(structure, storage.CustomerProvidedTextMetadata(file_size=1, mime_type=mime))
    ontology_object = _obj(structure, Shape.TEXT)
    instance = ontology_object.create_instance()
    if mime == "text/html":
        span = HtmlRange(
            start=HtmlNode(xpath="/html/body/p[1]", offset=0), end=HtmlNode(xpath="/html/body/p[1]", offset=5)
        )
        instance.set_for_frames(HtmlCoordinates(range=[span]))
    else:
        instance.set_for_frames(TextCoordinates(range=[Range(3, 17)]))
    _answer_object(instance, ontology_object, nested=False)
    row.add_object_instance(instance)
    _answer_classifications(row, structure, [Range(0, 10)], ranged=True)
    return row


def text_row(structure: OntologyStructure) -> LabelRowV2:
    return _text_row(structure, "text/plain")


def html_row(structure: OntologyStructure) -> LabelRowV2:
    return _text_row(structure, "text/html")


def pdf_row(structure: OntologyStructure) -> LabelRowV2:
    row = _detached(structure, storage.CustomerProvidedPdfMetadata(file_size=1, num_pages=3))
    ontology_object = _obj(structure, Shape.BOUNDING_BOX)
    instance = ontology_object.create_instance()
    instance.set_for_frames(_geometry(Shape.BOUNDING_BOX, 0), frames=1)
    _answer_object(instance, ontology_object, nested=True)
    row.add_object_instance(instance)
    _answer_classifications(row, structure, [Range(0, 1)], ranged=False)
    return row


BUILDERS: dict[str, Callable[[OntologyStructure], LabelRowV2]] = {
    "image": image_row,
    "img_group": image_group_row,
    "video": video_row,
    "audio": audio_row,
    "plain_text": text_row,
    "html": html_row,
    "pdf": pdf_row,
}


def written_row(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``to_encord_dict()`` of a ``kind`` row, through JSON; the ontology's ``to_dict()``)."""
    structure = build_ontology()
    row = BUILDERS[kind](structure)
    written: dict[str, Any] = json.loads(json.dumps(row.to_encord_dict(), default=str))
    return written, json.loads(json.dumps(structure.to_dict(), default=str))


# ------------------------------------------------------------- types from_media_metadata does not cover


def _metadata(data_type: str, frames: int, spaces: dict[str, Any] | None = None) -> LabelRowMetadata:
    """Constructed API metadata (what the API returns with a row), as ``from_media_metadata`` makes it."""
    return LabelRowMetadata(
        label_hash="00000000-0000-0000-0000-000000000000",
        created_at=_EPOCH,
        last_edited_at=_EPOCH,
        branch_name="main",
        data_hash="11111111-1111-1111-1111-111111111111",
        dataset_hash="22222222-2222-2222-2222-222222222222",
        dataset_title="interop",
        data_title=f"{data_type.lower()} item",
        data_type=data_type,
        data_link=None,
        label_status=LabelStatus.LABEL_IN_PROGRESS,
        annotation_task_status=None,
        workflow_graph_node=None,
        is_shadow_data=False,
        frames_per_second=None,
        number_of_frames=frames,
        duration=None,
        height=_H,
        width=_W,
        audio_codec=None,
        audio_sample_rate=None,
        audio_bit_depth=None,
        audio_num_channels=None,
        spaces=spaces or {},
        file_type=None,
    )


def _empty_row(metadata: LabelRowMetadata, unit: dict[str, Any]) -> dict[str, Any]:
    """The minimal row ``from_labels_dict`` initialises a row from (as ``_build_empty_labels_dict`` does)."""
    return {
        "label_hash": metadata.label_hash,
        "branch_name": metadata.branch_name,
        "created_at": "2025-01-01 00:00:00",
        "last_edited_at": "2025-01-01 00:00:00",
        "data_hash": metadata.data_hash,
        "dataset_hash": metadata.dataset_hash,
        "dataset_title": metadata.dataset_title,
        "data_title": metadata.data_title,
        "data_type": metadata.data_type.lower(),
        "object_answers": {},
        "classification_answers": {},
        "object_actions": {},
        "label_status": "LABEL_IN_PROGRESS",
        "spaces": {},
        "data_units": {metadata.data_hash: {"data_hash": metadata.data_hash, "data_title": "unit", **unit}},
    }


def _initialised(
    structure: OntologyStructure, metadata: LabelRowMetadata, unit: dict[str, Any]
) -> LabelRowV2:
    row = LabelRowV2(metadata, Mock(), _ontology(structure))
    row.from_labels_dict(_empty_row(metadata, unit))
    return row


def _medical_row(structure: OntologyStructure, data_type: str, mime: str) -> LabelRowV2:
    metadata = _metadata(data_type, 8)
    unit = {"data_type": mime, "data_sequence": 0, "width": _W, "height": _H, "labels": {}}
    row = _initialised(structure, metadata, unit)
    _add_frame_objects(row, structure, [0, 3])
    _answer_classifications(row, structure, [Range(2, 4)], ranged=False)
    return row


def dicom_row(structure: OntologyStructure) -> LabelRowV2:
    return _medical_row(structure, "DICOM", "application/dicom")


def nifti_row(structure: OntologyStructure) -> LabelRowV2:
    return _medical_row(structure, "NIFTI", "application/nifti")


def scene_row(structure: OntologyStructure) -> LabelRowV2:
    metadata = _metadata("SCENE", 4)
    unit = {"data_type": "application/x-scene", "data_sequence": 0, "labels": {}}
    row = _initialised(structure, metadata, unit)
    cuboid_object = _obj(structure, Shape.CUBOID)
    instance = cuboid_object.create_instance()
    instance.set_for_frames(
        CuboidCoordinates(position=(1.0, 2.0, 0.5), orientation=(0.0, 0.0, 0.3), size=(4.0, 2.0, 1.5)),
        frames=1,
    )
    _answer_object(instance, cuboid_object, nested=True)
    row.add_object_instance(instance)
    return row


def group_row(structure: OntologyStructure) -> LabelRowV2:
    spaces = {
        "video-space": {
            "space_type": "video",
            "child_info": {"layout_key": "main", "file_name": "clip.mp4"},
            "number_of_frames": 10,
            "width": _W,
            "height": _H,
            "data_duration": 0.4,
            "data_fps": 25.0,
        },
        "image-space": {
            "space_type": "image",
            "child_info": {"layout_key": "side", "file_name": "still.png"},
            "width": _W,
            "height": _H,
        },
    }
    metadata = _metadata("GROUP", 1, spaces)
    unit = {
        "data_type": "application/json",
        "data_sequence": 0,
        "labels": {"objects": [], "classifications": []},
    }
    row = _initialised(structure, metadata, unit)
    video = row.get_space(id="video-space", type_="video")
    image = row.get_space(id="image-space", type_="image")
    box = _obj(structure, Shape.BOUNDING_BOX)
    on_video = box.create_instance()
    video.put_object_instance(on_video, frames=[0, 1], coordinates=_geometry(Shape.BOUNDING_BOX, 0))
    polygon = _obj(structure, Shape.POLYGON)
    on_image = polygon.create_instance()
    image.put_object_instance(on_image, coordinates=_geometry(Shape.POLYGON, 0))
    weather = _classification(structure, "caption")
    caption = weather.create_instance()
    caption.set_answer("group caption", attribute=weather.attributes[0])
    video.put_classification_instance(caption, frames=[0, 1])
    return row


BUILDERS.update(dicom=dicom_row, nifti=nifti_row, scene=scene_row, group=group_row)
