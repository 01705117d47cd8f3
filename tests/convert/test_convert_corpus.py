"""Every valid corpus document of a readable format converts to coco-instance and yolo, and the outputs
validate against the target specification. Media files (image sizes, Segments bitmaps) are made up in a
temporary --media-dir; nothing is fetched from the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

import labelspec
from labelspec.codecs.segments_bitmap import ids_to_rgba
from labelspec.convert.api import convert
from labelspec.convert.media import media_basename
from labelspec.convert.registry import READERS, ConversionError
from tests.conftest import CORPUS

WIDTH, HEIGHT = 64, 48


def _corpus(valid: bool) -> list[tuple[str, str]]:
    cases = []
    for fmt in READERS:
        for entry in yaml.safe_load((CORPUS / fmt / "index.yaml").read_text(encoding="utf-8")):
            if (entry["verdict"]["lenient"] == "valid") == valid:
                cases.append((fmt, entry["file"]))
    return cases


def _image(path: Path, size: tuple[int, int] = (WIDTH, HEIGHT)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        Image.new("RGB", size, (90, 90, 90)).save(path, format="PNG")


def _walk(value: Any) -> Any:
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _walk(child)


def make_media(fmt: str, source: Path, media: Path) -> Path:
    """Images named as the export names them and, for Segments bitmap labels, label PNGs whose instance
    ``i`` (the i-th annotation) fills row band ``i``."""
    media.mkdir(parents=True, exist_ok=True)
    if fmt == "yolo":
        for label in source.rglob("*.txt"):
            _image(media / f"{label.stem}.png")
        return media
    document = json.loads(source.read_text(encoding="utf-8"))
    for node in _walk(document):
        if not isinstance(node, dict):
            continue
        for key in ("external_media_ID", "external_image_ID", "file_name", "name", "data_title"):
            if isinstance(node.get(key), str) and node[key] and "/" not in node[key]:
                _image(media / media_basename(node[key]))
        url = (node.get("image") or {}).get("url") if isinstance(node.get("image"), dict) else None
        if isinstance(url, str):
            _image(media / media_basename(url))
        bitmap = node.get("segmentation_bitmap")
        if isinstance(bitmap, dict) and isinstance(bitmap.get("url"), str):
            ids = np.zeros((HEIGHT, WIDTH), dtype=np.uint32)
            for band, annotation in enumerate(node.get("annotations") or []):
                ids[band * 3 : band * 3 + 3, :] = int(annotation["id"])
            Image.fromarray(ids_to_rgba(ids), "RGBA").save(media / media_basename(bitmap["url"]))
    return media


def _output(tmp_path: Path, target: str) -> Path:
    return tmp_path / ("out.json" if target == "coco-instance" else "out")


# valid documents with nothing an image target can hold: point clouds, text, video projects without labels,
# media types without image spaces, and a keypoints release whose only sample is SKIPPED (filtered by
# default). Converting them must say so and write nothing, never an empty COCO file with exit 0.
NOTHING_CONVERTIBLE = {
    ("datagym", "video-project.json"),
    ("segments", "keypoints-release.json"),
    *(
        ("segments", f"{name}.json")
        for name in (
            "pointcloud-cuboid-release",
            "pointcloud-vector-release",
            "pointcloud-segmentation-release",
            "pointcloud-cuboid-sequence-release",
            "pointcloud-vector-sequence-release",
            "pointcloud-segmentation-sequence-release",
            "text-named-entities-2022",
            "text-span-categorization-2022",
            "pointcloud-cuboid-2022",
            "pointcloud-segmentation-sequence-2022",
        )
    ),
    *(
        ("encord", f"{name}.json")
        for name in (
            "dicom-study-row",
            "audio-row",
            "plain-text-row",
            "html-row",
            "scene-row",
            "audio-unit-without-codec",
        )
    ),
}


@pytest.mark.parametrize(("fmt", "name"), _corpus(valid=True), ids=lambda v: str(v))
def test_valid_corpus_documents_convert_and_validate(fmt: str, name: str, tmp_path: Path) -> None:
    source = CORPUS / fmt / name
    media = make_media(fmt, source, tmp_path / "media")
    for target in ("coco-instance", "yolo"):
        out = _output(tmp_path, target)
        if (fmt, name) in NOTHING_CONVERTIBLE:
            with pytest.raises(ConversionError) as refused:
                convert(source, target, out, source_format=fmt, media_dir=media, cache_dir=tmp_path / "c")
            assert refused.value.exit_code == 1 and "can be converted" in str(refused.value)
            assert not out.exists()
            continue
        report = convert(
            source, target, out, source_format=fmt, media_dir=media, cache_dir=tmp_path / "cache"
        )
        assert out.exists()
        checked = labelspec.validate(out, format=target)
        assert checked.valid, checked.to_json()
        assert report.counts["written_files"] >= 1
        for loss in report.losses:  # every loss says what and why
            assert loss.what and loss.reason
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # nothing fetched


@pytest.mark.parametrize(("fmt", "name"), _corpus(valid=False)[::3], ids=lambda v: str(v))
def test_invalid_corpus_documents_are_refused(fmt: str, name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    with pytest.raises(ConversionError) as caught:
        convert(CORPUS / fmt / name, "coco-instance", out, source_format=fmt, media_dir=tmp_path)
    assert caught.value.exit_code == 1
    assert caught.value.validation is not None and not caught.value.validation.valid
    assert "not valid" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_segments_bitmap_masks_are_the_bitmap_instances(tmp_path: Path) -> None:
    source = CORPUS / "segments" / "segmentation-bitmap-release.json"
    media = make_media("segments", source, tmp_path / "media")
    out = tmp_path / "coco.json"
    convert(source, "coco-instance", out, media_dir=media, cache_dir=tmp_path / "cache")
    from pycocotools.coco import COCO

    coco = COCO(str(out))
    assert coco.getAnnIds()
    for annotation in coco.loadAnns(coco.getAnnIds()):
        mask = coco.annToMask(annotation)
        rows = np.flatnonzero(mask.any(axis=1))
        assert mask.shape == (HEIGHT, WIDTH) and len(rows) == 3 and rows[-1] - rows[0] == 2
        assert mask[rows[0]].all() and annotation["area"] == 3 * WIDTH


def test_segments_labelset_and_status_filters(tmp_path: Path) -> None:
    source = CORPUS / "segments" / "segmentation-bitmap-release.json"
    media = make_media("segments", source, tmp_path / "media")
    everything = convert(
        source, "coco-instance", tmp_path / "a.json", media_dir=media, cache_dir=tmp_path / "c"
    )
    only_reviewed = convert(
        source,
        "coco-instance",
        tmp_path / "b.json",
        media_dir=media,
        cache_dir=tmp_path / "c",
        statuses=["reviewed"],
    )
    assert only_reviewed.counts["filtered_samples"] > 0
    assert only_reviewed.counts["media"] < everything.counts["media"]
    with pytest.raises(ConversionError) as caught:
        convert(source, "coco-instance", tmp_path / "c.json", media_dir=media, labelset="nope")
    assert caught.value.exit_code == 2 and "labelset" in str(caught.value)


def test_missing_image_sizes_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(CORPUS / "datagym" / "image-project.json", "coco-instance", tmp_path / "out.json")
    assert caught.value.exit_code == 2 and "--media-dir" in str(caught.value)
    with pytest.raises(ConversionError) as caught:
        convert(CORPUS / "yolo" / "labelimg", "coco-instance", tmp_path / "out.json")
    assert caught.value.exit_code == 2 and "--media-dir" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_yolo_reader_reads_boxes_in_pixels(tmp_path: Path) -> None:
    media = tmp_path / "media"
    _image(media / "photo1.jpg", (200, 100))
    out = tmp_path / "coco.json"
    convert(CORPUS / "yolo" / "labelimg", "coco-instance", out, media_dir=media)
    document = json.loads(out.read_text())
    assert [c["name"] for c in document["categories"]] == ["cat", "dog"]
    assert document["images"][0]["width"] == 200
    x, y, w, h = document["annotations"][1]["bbox"]  # "1 0.2 0.3 0.1 0.15"
    assert (x, y, w, h) == pytest.approx((30.0, 22.5, 20.0, 15.0))
