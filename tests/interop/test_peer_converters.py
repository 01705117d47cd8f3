"""Peer converters from PyPI write COCO and YOLO at test time; labelspec lenient accepts all of it and
reads it through its converters (``labelspec convert``).

Producers (pinned in the test extra): labelformat 0.1.17 (``labelformat.formats.coco``, ``yolov8``) and
datumaro 1.13.12 (CVAT's export engine: ``coco_instances``, ``coco_person_keypoints``, ``coco_panoptic``,
``yolo``, ``yolo_ultralytics``). Each is fed a dataset generated here (hypothesis, bounded CI profile), so
nothing from those projects is copied into the repository. The oracle for "accepted" is the producer's
own file; the object counts labelspec reads back are compared with what was given to the producer.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

import labelspec
from tests.conftest import examples

pytestmark = pytest.mark.interop

SETTINGS = settings(
    max_examples=examples(5),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class Obj:
    """One generated object: a box (x, y, w, h) and, inside it, a triangle and a rectangular mask."""

    label: int
    box: tuple[int, int, int, int]

    def polygon(self) -> list[tuple[float, float]]:
        x, y, w, h = self.box
        return [(x, y), (x + w, y), (x + w, y + h)]

    def mask(self, width: int, height: int) -> np.ndarray[Any, Any]:
        x, y, w, h = self.box
        mask = np.zeros((height, width), dtype=np.uint8)
        mask[y : y + h, x : x + w] = 1
        return mask


@dataclass(frozen=True)
class Picture:
    name: str
    width: int
    height: int
    objects: tuple[Obj, ...]


@dataclass(frozen=True)
class Dataset:
    labels: tuple[str, ...]
    pictures: tuple[Picture, ...]

    def object_count(self) -> int:
        return sum(len(p.objects) for p in self.pictures)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    labels = tuple(f"class_{i}" for i in range(draw(st.integers(1, 3))))
    pictures = []
    for index in range(draw(st.integers(1, 3))):
        width, height = draw(st.integers(8, 40)), draw(st.integers(8, 40))
        objects = []
        for _ in range(draw(st.integers(0, 3))):
            w, h = draw(st.integers(2, width - 1)), draw(st.integers(2, height - 1))
            x, y = draw(st.integers(0, width - w)), draw(st.integers(0, height - h))
            objects.append(Obj(draw(st.integers(0, len(labels) - 1)), (x, y, w, h)))
        pictures.append(Picture(f"img_{index}", width, height, tuple(objects)))
    return Dataset(labels, tuple(pictures))


def _write_images(dataset: Dataset, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for picture in dataset.pictures:
        PILImage.new("RGB", (picture.width, picture.height)).save(folder / f"{picture.name}.png")


def _errors(report: labelspec.Report) -> list[str]:
    return [
        f"{f.pointer} {f.rule} {f.message}" for r in report.files for f in r.findings if f.severity == "error"
    ]


def _validate_file(path: Path, fmt: str) -> list[str]:
    return _errors(labelspec.validate(json.loads(path.read_text()), format=fmt, profile="lenient"))


def _convert(cli: list[str], source: Path, target: str, out: Path, *extra: str) -> dict[str, Any]:
    """``labelspec convert``; returns its JSON report (exit 0 required)."""
    report = out.parent / f"{out.name}.report.json"
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", target, "-o", str(out), "--report", str(report), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(report.read_text()))


# ------------------------------------------------------------------------------------------------ labelformat

labelformat = pytest.importorskip("labelformat")

from labelformat.formats.coco import (  # noqa: E402
    COCOInstanceSegmentationOutput,
    COCOObjectDetectionOutput,
)
from labelformat.formats.yolov8 import (  # noqa: E402
    YOLOv8InstanceSegmentationOutput,
    YOLOv8ObjectDetectionOutput,
)
from labelformat.model.bounding_box import BoundingBox  # noqa: E402
from labelformat.model.category import Category  # noqa: E402
from labelformat.model.image import Image  # noqa: E402
from labelformat.model.instance_segmentation import (  # noqa: E402
    ImageInstanceSegmentation,
    InstanceSegmentationInput,
    SingleInstanceSegmentation,
)
from labelformat.model.multipolygon import MultiPolygon  # noqa: E402
from labelformat.model.object_detection import (  # noqa: E402
    ImageObjectDetection,
    ObjectDetectionInput,
    SingleObjectDetection,
)


class _LabelformatDataset(ObjectDetectionInput, InstanceSegmentationInput):  # type: ignore[misc]
    """The generated dataset through labelformat's input interfaces (boxes and polygons)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.categories = [Category(id=i, name=n) for i, n in enumerate(dataset.labels)]
        self.images = [
            Image(id=i + 1, filename=f"{p.name}.png", width=p.width, height=p.height)
            for i, p in enumerate(dataset.pictures)
        ]

    @staticmethod
    def add_cli_arguments(parser: Any) -> None:
        raise NotImplementedError

    def get_categories(self) -> list[Category]:
        return self.categories

    def get_images(self) -> list[Image]:
        return self.images

    def get_labels(self) -> list[Any]:
        raise NotImplementedError

    def boxes(self) -> list[ImageObjectDetection]:
        return [
            ImageObjectDetection(
                image=image,
                objects=[
                    SingleObjectDetection(
                        category=self.categories[o.label],
                        box=BoundingBox(o.box[0], o.box[1], o.box[0] + o.box[2], o.box[1] + o.box[3]),
                    )
                    for o in picture.objects
                ],
            )
            for image, picture in zip(self.images, self.dataset.pictures, strict=True)
        ]

    def polygons(self) -> list[ImageInstanceSegmentation]:
        return [
            ImageInstanceSegmentation(
                image=image,
                objects=[
                    SingleInstanceSegmentation(
                        category=self.categories[o.label], segmentation=MultiPolygon(polygons=[o.polygon()])
                    )
                    for o in picture.objects
                ],
            )
            for image, picture in zip(self.images, self.dataset.pictures, strict=True)
        ]


class _Boxes(_LabelformatDataset):
    def get_labels(self) -> list[Any]:
        return self.boxes()


class _Polygons(_LabelformatDataset):
    def get_labels(self) -> list[Any]:
        return self.polygons()


@pytest.mark.parametrize(
    ("source", "writer"),
    [(_Boxes, COCOObjectDetectionOutput), (_Polygons, COCOInstanceSegmentationOutput)],
    ids=["detection", "segmentation"],
)
def test_labelformat_coco_is_lenient_valid(source: type, writer: type, tmp_path_factory: Any) -> None:
    @SETTINGS
    @given(datasets())
    def check(dataset: Dataset) -> None:
        out = tmp_path_factory.mktemp("labelformat") / "coco.json"
        writer(output_file=out).save(label_input=source(dataset))
        assert _validate_file(out, "coco-instance") == []
        written = json.loads(out.read_text())
        assert len(written["annotations"]) == dataset.object_count()

    check()


@pytest.mark.parametrize(
    ("source", "writer"),
    [(_Boxes, YOLOv8ObjectDetectionOutput), (_Polygons, YOLOv8InstanceSegmentationOutput)],
    ids=["detection", "segmentation"],
)
def test_labelformat_yolo_is_lenient_valid(source: type, writer: type, tmp_path_factory: Any) -> None:
    @SETTINGS
    @given(datasets())
    def check(dataset: Dataset) -> None:
        folder = tmp_path_factory.mktemp("labelformat-yolo")
        writer(output_file=folder / "data.yaml", output_split="train").save(label_input=source(dataset))
        assert _errors(labelspec.validate(folder, format="yolo", profile="lenient")) == []

    check()


def test_labelformat_output_converts(cli: list[str], tmp_path: Path) -> None:
    dataset = Dataset(
        ("car", "person"),
        (
            Picture("img_0", 32, 24, (Obj(0, (2, 3, 10, 8)), Obj(1, (12, 4, 6, 6)))),
            Picture("img_1", 16, 16, (Obj(1, (1, 1, 5, 5)),)),
        ),
    )
    coco = tmp_path / "coco.json"
    COCOInstanceSegmentationOutput(output_file=coco).save(label_input=_Polygons(dataset))
    report = _convert(cli, coco, "coco-instance", tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert len(again["annotations"]) == dataset.object_count(), report
    assert all("id" in a for a in again["annotations"])  # labelspec writes the ids labelformat left out

    yolo = tmp_path / "yolo"
    YOLOv8ObjectDetectionOutput(output_file=yolo / "data.yaml", output_split="train").save(
        label_input=_Boxes(dataset)
    )
    _write_images(dataset, yolo / "images")
    _convert(cli, yolo, "coco-instance", tmp_path / "from_yolo.json", "--media-dir", str(yolo / "images"))
    from_yolo = json.loads((tmp_path / "from_yolo.json").read_text())
    assert len(from_yolo["annotations"]) == dataset.object_count()


# ------------------------------------------------------------------------------------------------ datumaro

datumaro = pytest.importorskip("datumaro")

from datumaro.components.annotation import (  # noqa: E402
    AnnotationType,
    Bbox,
    LabelCategories,
    Mask,
    Points,
    PointsCategories,
    Polygon,
)
from datumaro.components.dataset import Dataset as DmDataset  # noqa: E402
from datumaro.components.dataset_base import DatasetItem  # noqa: E402
from datumaro.components.media import Image as DmImage  # noqa: E402

# Per datumaro format: the labelspec format of the file it writes and where to find it.
DATUMARO_COCO = {
    "coco_instances": ("coco-instance", "annotations/instances_{subset}.json"),
    "coco_person_keypoints": ("coco-instance", "annotations/person_keypoints_{subset}.json"),
    "coco_panoptic": ("coco-panoptic", "annotations/panoptic_{subset}.json"),
}


def _datumaro(dataset: Dataset, subsets: tuple[str, ...] = ("train",)) -> DmDataset:
    items = []
    next_id = 1
    for subset in subsets:
        for picture in dataset.pictures:
            annotations: list[Any] = []
            for obj in picture.objects:
                x, y, w, h = obj.box
                flat = [c for point in obj.polygon() for c in point]
                annotations += [
                    Bbox(x, y, w, h, label=obj.label, id=next_id, group=next_id),
                    Polygon(flat, label=obj.label, id=next_id + 1, group=next_id + 1),
                    Mask(
                        obj.mask(picture.width, picture.height),
                        label=obj.label,
                        id=next_id + 2,
                        group=next_id + 2,
                    ),
                    Points([x, y, x + w, y + h], label=obj.label, id=next_id + 3, group=next_id),
                ]
                next_id += 4
            media = DmImage.from_numpy(data=np.zeros((picture.height, picture.width, 3), dtype=np.uint8))
            items.append(DatasetItem(id=picture.name, subset=subset, media=media, annotations=annotations))
    categories = {
        AnnotationType.label: LabelCategories.from_iterable(dataset.labels),
        AnnotationType.points: PointsCategories.from_iterable(
            [(i, ["top_left", "bottom_right"], {(1, 2)}) for i in range(len(dataset.labels))]
        ),
    }
    return DmDataset.from_iterable(items, categories=categories)


@pytest.mark.parametrize("fmt", sorted(DATUMARO_COCO))
def test_datumaro_coco_is_lenient_valid(fmt: str, tmp_path_factory: Any) -> None:
    labelspec_format, member = DATUMARO_COCO[fmt]

    @SETTINGS
    @given(datasets())
    def check(dataset: Dataset) -> None:
        folder = tmp_path_factory.mktemp(fmt)
        _datumaro(dataset).export(str(folder), fmt, save_media=False)
        path = folder / member.format(subset="train")
        assert _validate_file(path, labelspec_format) == []
        document = json.loads(path.read_text())
        if fmt == "coco_instances":
            # a box, a polygon and a mask per object (points go to the keypoints file)
            assert len(document["annotations"]) == 3 * dataset.object_count()
            assert all(image["date_captured"] == 0 for image in document["images"])  # COCO-D09

    check()


@pytest.mark.parametrize("fmt", ["yolo", "yolo_ultralytics"])
def test_datumaro_yolo_is_lenient_valid(fmt: str, tmp_path_factory: Any) -> None:
    @SETTINGS
    @given(datasets())
    def check(dataset: Dataset) -> None:
        folder = tmp_path_factory.mktemp(fmt)
        _datumaro(dataset, ("train", "val")).export(str(folder), fmt, save_media=False)
        assert _errors(labelspec.validate(folder, format="yolo", profile="lenient")) == []

    check()


def test_datumaro_output_converts(cli: list[str], tmp_path: Path) -> None:
    dataset = Dataset(
        ("car", "person"),
        (Picture("img_0", 32, 24, (Obj(0, (2, 3, 10, 8)), Obj(1, (12, 4, 6, 6)))),),
    )
    coco = tmp_path / "coco"
    _datumaro(dataset).export(str(coco), "coco_instances", save_media=False)
    _convert(cli, coco / "annotations" / "instances_train.json", "coco-instance", tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert len(again["annotations"]) == 3 * dataset.object_count()
    assert {c["name"] for c in again["categories"]} == set(dataset.labels)

    keypoints = tmp_path / "keypoints"
    _datumaro(dataset).export(str(keypoints), "coco_person_keypoints", save_media=False)
    _convert(
        cli, keypoints / "annotations" / "person_keypoints_train.json", "coco-instance", tmp_path / "kp.json"
    )
    kp = json.loads((tmp_path / "kp.json").read_text())
    assert sum(1 for a in kp["annotations"] if a.get("keypoints")) == dataset.object_count()

    yolo = tmp_path / "yolo"
    _datumaro(dataset).export(str(yolo), "yolo", save_media=True)
    _convert(
        cli, yolo, "coco-instance", tmp_path / "from_yolo.json", "--media-dir", str(yolo / "obj_train_data")
    )
    from_yolo = json.loads((tmp_path / "from_yolo.json").read_text())
    assert len(from_yolo["annotations"]) == dataset.object_count()
