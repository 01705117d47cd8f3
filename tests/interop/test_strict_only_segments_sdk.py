"""Every strict-only error of the `segments` profile is a release segments-ai 1.33.0 refuses or loses.

Strict means "the current SDK loads it with no loss". Releases of the corpus are first written again
through the SDK's own typing models (``model_validate`` + ``model_dump``, ``_sdk_written`` of
test_generated_segments_sdk); each proof breaks one in exactly the way one strict-only constraint (a schema
site only the strict profile has, ``labelspec.audit.sites``) or rule forbids, checks that strict reports
that error and lenient no error, and runs the SDK code that then fails: ``segments.dataset.SegmentsDataset``
(offline: ``load_images=False``, a local cache folder) reading the release and every sample, or the
``segments.typing`` model of the broken part. A strict-only site or rule without a proof here fails
``test_every_strict_only_error_is_proven``.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec import audit

pytestmark = pytest.mark.interop

import pydantic  # noqa: E402
from segments import typing as typing_  # noqa: E402
from segments.dataset import SegmentsDataset  # noqa: E402
from strict_only import strict_only_errors  # noqa: E402
from test_generated_segments_sdk import _sdk_written  # noqa: E402

FORMAT = "segments"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "segments"
GT = "ground-truth"


def _release(name: str) -> dict[str, Any]:
    document: dict[str, Any] = _sdk_written(json.loads((CORPUS / name).read_text(encoding="utf-8")))
    return document


class SampleLost(Exception):
    """SegmentsDataset caught an error reading a sample, logged it and went on without the sample's data."""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load(
    release: dict[str, Any], folder: Path, filter_by: list[str] | None = None, images: bool = False
) -> None:
    """SegmentsDataset reads the release and every sample (and its categories), offline (with ``images``, it
    reads each sample's image URL too, which the proofs make unusable before any request is made)."""
    path = folder / "release.json"
    path.write_text(json.dumps(release), encoding="utf-8")
    errors = _Errors()
    logger = logging.getLogger("segments")
    logger.addHandler(errors)
    try:
        dataset = SegmentsDataset(
            str(path),
            labelset=GT,
            filter_by=filter_by,
            segments_dir=str(folder / "cache"),
            load_images=images,
        )
        for index in range(len(dataset)):
            dataset[index]
        dataset.categories  # noqa: B018 - the property reads task_attributes
    finally:
        logger.removeHandler(errors)
    if errors.messages:
        raise SampleLost(errors.messages[0][:200])


def _samples(release: dict[str, Any]) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = release["dataset"]["samples"]
    return samples


def _labels(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["labels"][GT] for s in _samples(release) if s["labels"].get(GT)]


def _model(model: Any, value: Any) -> Callable[[Path], None]:
    return lambda _folder: pydantic.TypeAdapter(model).validate_python(value)


Proof = Callable[[], tuple[dict[str, Any], Callable[[Path], None]]]


def _envelope(
    base: str,
    edit: Callable[[dict[str, Any]], None],
    filter_by: list[str] | None = None,
    images: bool = False,
) -> Proof:
    def make() -> tuple[dict[str, Any], Callable[[Path], None]]:
        release = _release(base)
        edit(release)
        return release, lambda folder: _load(release, folder, filter_by, images)

    return make


def _part(
    base: str, edit: Callable[[dict[str, Any]], Any], model: Callable[[dict[str, Any]], tuple[Any, Any]]
) -> Proof:
    def make() -> tuple[dict[str, Any], Callable[[Path], None]]:
        release = _release(base)
        edit(release)
        return release, _model(*model(release))

    return make


def _pop(path: str) -> Callable[[dict[str, Any]], None]:
    def edit(release: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = release
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        del node[last]

    return edit


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(release: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = release
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        node[int(last) if isinstance(node, list) else last] = copy.deepcopy(value)

    return edit


def _each_sample(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda release: [edit(sample) for sample in _samples(release)] and None


def _first_annotation(release: dict[str, Any]) -> dict[str, Any]:
    return next(a for label in _labels(release) for a in label["attributes"]["annotations"])


def _first_cuboid(release: dict[str, Any]) -> dict[str, Any]:
    return next(a for label in _labels(release) for a in label["attributes"]["annotations"])


VECTOR = "vector-release.json"
CUBOID = "pointcloud-cuboid-release.json"
PC_SEGMENTATION = "pointcloud-segmentation-release.json"
LABEL_MODEL_VECTOR = typing_.ImageVectorLabelAttributes

PROOFS: dict[str, Proof] = {
    # the release envelope SegmentsDataset reads by key
    "$ required": _envelope(VECTOR, _pop("name")),
    "$/then required": _envelope(VECTOR, _pop("dataset")),
    "dataset required": _envelope(VECTOR, _pop("dataset/owner")),
    "task_type enum": _envelope(VECTOR, _set("dataset/task_type", "text-named-entities")),
    "task_attributes required": _envelope(VECTOR, _pop("dataset/task_attributes/categories")),
    "sample required": _envelope(VECTOR, _each_sample(lambda s: s.pop("uuid"))),
    "image_sample_attributes.image required": _envelope(
        VECTOR, _each_sample(lambda s: s["attributes"]["image"].pop("url")), images=True
    ),
    "image_sample_attributes.image.url type": _envelope(
        VECTOR, _each_sample(lambda s: s["attributes"]["image"].__setitem__("url", 7)), images=True
    ),
    "SEG-LABELSET-MISSING": _envelope(
        VECTOR, _each_sample(lambda s: s["labels"].pop(GT)), filter_by=["LABELED", "REVIEWED", "PRELABELED"]
    ),
    # parts the SDK's typing models refuse
    "labelset required": _part(
        VECTOR,
        lambda r: r["dataset"]["labelsets"][0].pop("description"),
        lambda r: (typing_.Labelset, r["dataset"]["labelsets"][0]),
    ),
    "category.color[] type": _part(
        VECTOR,
        _set("dataset/task_attributes/categories/0/color", [216.5, 82, 24]),
        lambda r: (typing_.TaskAttributes, r["dataset"]["task_attributes"]),
    ),
    "attribute_values.* type": _part(
        VECTOR,
        lambda r: _first_annotation(r).__setitem__("attributes", {"v": {"x": 1}}),
        lambda r: (LABEL_MODEL_VECTOR, _labels(r)[0]["attributes"]),
    ),
    "attribute_values.*[] type": _part(
        VECTOR,
        lambda r: _first_annotation(r).__setitem__("attributes", {"v": [{"x": 1}]}),
        lambda r: (LABEL_MODEL_VECTOR, _labels(r)[0]["attributes"]),
    ),
    "motion required": _part(
        CUBOID,
        lambda r: _first_cuboid(r).__setitem__("velocity", {"absolute": 3.2}),
        lambda r: (typing_.PointcloudCuboidLabelAttributes, _labels(r)[0]["attributes"]),
    ),
    "pcd_ref required": _part(
        CUBOID,
        lambda r: _samples(r)[0]["attributes"]["pcd"].pop("type"),
        lambda r: (typing_.PointcloudSampleAttributes, _samples(r)[0]["attributes"]),
    ),
    "pointcloud_segmentation_frame required": _part(
        PC_SEGMENTATION,
        lambda r: _labels(r)[0]["attributes"].pop("point_annotations"),
        lambda r: (typing_.PointcloudSegmentationLabelAttributes, _labels(r)[0]["attributes"]),
    ),
}


def test_every_strict_only_error_is_proven() -> None:
    assert set(PROOFS) == strict_only_errors(FORMAT)


def _errors(document: Any, profile: str) -> set[str]:
    report = labelspec.validate(document, format=FORMAT, profile=profile)
    return {f.rule for file in report.files for f in file.findings if f.severity == "error"}


@pytest.mark.parametrize("error", sorted(PROOFS))
def test_strict_only_error_is_refused_by_the_sdk(error: str, tmp_path: Path) -> None:
    broken, sdk = PROOFS[error]()
    expected = error if error.startswith("SEG-") else f"schema.{error.split()[-1]}"
    assert expected in _errors(broken, "strict"), _errors(broken, "strict")
    with pytest.raises(
        (KeyError, TypeError, AttributeError, ValueError, pydantic.ValidationError, SampleLost)
    ):
        sdk(tmp_path)


@pytest.mark.parametrize("base", [VECTOR, CUBOID, PC_SEGMENTATION])
def test_the_sdk_written_releases_load(base: str, tmp_path: Path) -> None:
    """The baseline: what the proofs break is valid under strict and SegmentsDataset reads it."""
    release = _release(base)
    assert not _errors(release, "strict")
    _load(release, tmp_path)


# where the objects of a `required` site are in a release SegmentsDataset reads
REQUIRED_PLACES: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "dataset required": lambda release: [release["dataset"]],
    "sample required": _samples,
}


@pytest.mark.parametrize("site_id", sorted(REQUIRED_PLACES))
def test_every_key_only_strict_requires_is_read_by_the_sdk(site_id: str, tmp_path: Path) -> None:
    """Each key a `required` site of strict adds to lenient's, deleted alone: SegmentsDataset fails."""
    lenient = {site.id: site.value for site in audit.sites(FORMAT, "lenient")}
    strict = {site.id: site.value for site in audit.sites(FORMAT, "strict")}
    added = sorted(set(strict[site_id]) - set(lenient.get(site_id, [])))
    assert added, f"{site_id} adds nothing: the proof would be empty"
    for key in added:
        release = _release(VECTOR)
        for place in REQUIRED_PLACES[site_id](release):
            del place[key]
        assert "schema.required" in _errors(release, "strict"), key
        folder = tmp_path / key
        folder.mkdir()
        with pytest.raises((KeyError, TypeError, ValueError, SampleLost)):
            _load(release, folder)
