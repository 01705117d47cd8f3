"""Our mask writers against the segments-ai SDK's own loader and ``export_dataset``, offline.

A small ``segmentation-bitmap`` release is served from a local HTTP server on 127.0.0.1: images (RGB PNG)
and label bitmaps (RGBA PNG, id = R + 256·G + 65536·B, via ``ids_to_rgba``). Ids are < 256 and category ids
are contiguous 1..N in list order (schemas/segments/notes.md#s12), so that the SDK's positional colour
lookups and our category positions coincide.

Why the SDK's bitmap cache is pre-populated: with Pillow 13 (this venv), ``SegmentsDataset`` caches each
decoded bitmap as ``Image.fromarray(uint32)`` → ``OSError: cannot write mode I as PNG`` (notes §7.1). The
documented route (notes §8 "Asset access and offline use") avoids that write: the 16-bit bitmap PNG that
Pillow <= 12 would have written is put beforehand at
``<segments_dir>/<owner>_<dataset>/<release>/<stem>_label_<labelset>.png``. Images are still downloaded
by the SDK from the local server; the bitmap URLs are fetched by
labelspec's own reader (``labelspec.convert.fetch``).

Each test runs twice: with contiguous ids (categories 1..N in list order, instances 1..N), and with
non-contiguous category and instance ids (``SPARSE``), where the instance PNG must hold the Segments
instance ids and the semantic PNG ``category_id + id_increment``, exactly as the SDK writes them.

Documented differences (by design): the SDK's ``semantic-color`` looks colours up by category id as a list
index, so it is compared with contiguous ids only (ours uses each category's own colour); panoptic
segment ids/colours differ (the SDK draws them from numpy's unseeded global generator), so panoptic output
is compared by segment masks and categories, not ids; a stuff category with several instances is one
segment in ours and several segments with one duplicated id in the SDK's, i.e. the same union mask.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from labelspec.codecs.segments_bitmap import ids_to_rgba, read_bitmap
from labelspec.convert.model import ConversionReport
from labelspec.convert.registry import ReadOptions, WriteOptions
from labelspec.convert.writers import coco_panoptic, masks
from tests.convert.conftest import LocalServer

pytestmark = pytest.mark.interop

segments = pytest.importorskip("segments")
segments_utils = pytest.importorskip("segments.utils")

OWNER, DATASET, RELEASE, LABELSET = "jane", "streets", "v1", "ground-truth"
H, W = 12, 16


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


# non-contiguous ids: category id -> sparse id; instance id -> sparse id per sample
SPARSE_CATEGORIES = {1: 3, 2: 7, 3: 12}
SPARSE_INSTANCES = {"street-1": {1: 2, 2: 5, 3: 9, 4: 17, 5: 40}, "street-2": {1: 3, 2: 8}}


def bitmaps(sparse: bool = False) -> dict[str, tuple[np.ndarray, list[dict[str, Any]]]]:
    """sample stem -> (instance ids, annotations), with contiguous or non-contiguous (``sparse``) ids."""
    plain = _bitmaps()
    if not sparse:
        return plain
    out = {}
    for stem, (ids, objects) in plain.items():
        remap = SPARSE_INSTANCES[stem]
        sparse_ids = np.zeros_like(ids)
        for old, new in remap.items():
            sparse_ids[ids == old] = new
        out[stem] = (
            sparse_ids,
            [{"id": remap[o["id"]], "category_id": SPARSE_CATEGORIES[o["category_id"]]} for o in objects],
        )
    return out


def _bitmaps() -> dict[str, tuple[np.ndarray, list[dict[str, Any]]]]:
    """sample stem -> (instance ids, annotations)."""
    one = np.zeros((H, W), np.uint32)
    one[1:5, 2:7] = 1  # car
    one[6:11, 1:6] = 2  # person
    one[3:9, 9:15] = 3  # car, second instance
    one[0:2, 10:16] = 4  # road (stuff)
    one[10:12, 8:16] = 5  # road again: a second stuff instance
    two = np.zeros((H, W), np.uint32)
    two[0:12, 0:5] = 1  # road
    two[2:6, 6:12] = 2  # person
    return {
        "street-1": (
            one,
            [
                {"id": 1, "category_id": 1},
                {"id": 2, "category_id": 2},
                {"id": 3, "category_id": 1},
                {"id": 4, "category_id": 3},
                {"id": 5, "category_id": 3},
            ],
        ),
        "street-2": (two, [{"id": 1, "category_id": 3}, {"id": 2, "category_id": 2}]),
    }


@pytest.fixture(params=[False, True], ids=["contiguous-ids", "sparse-ids"])
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, http_server: LocalServer
) -> tuple[Path, Path]:
    """(release path, the SDK's segments_dir) with assets on a local server."""
    sparse: bool = request.param
    category = SPARSE_CATEGORIES.get if sparse else (lambda c: c)
    monkeypatch.delenv("SEGMENTS_DIR", raising=False)
    root = tmp_path / "www"
    root.mkdir()
    http_server.serve_folder(root)
    base = http_server.url
    segments_dir = tmp_path / "segments"
    cache = segments_dir / f"{OWNER}_{DATASET}" / RELEASE
    cache.mkdir(parents=True)
    samples = []
    for n, (stem, (ids, objects)) in enumerate(bitmaps(sparse).items()):
        (root / f"img-{n}.png").write_bytes(png(np.full((H, W, 3), 40 * n, np.uint8)))
        (root / f"bitmap-{n}.png").write_bytes(png(ids_to_rgba(ids)))
        # what SegmentsDataset's cache write produces with Pillow <= 12: a 16-bit grayscale PNG
        (cache / f"{stem}_label_{LABELSET}.png").write_bytes(png(ids.astype(np.uint16)))
        samples.append(
            {
                "uuid": f"00000000-0000-4000-8000-00000000000{n}",
                "name": f"{stem}.jpg",
                "attributes": {"image": {"url": f"{base}/img-{n}.png"}},
                "metadata": {},
                "labels": {
                    LABELSET: {
                        "label_status": "LABELED",
                        "attributes": {
                            "format_version": "0.1",
                            "annotations": [{**a, "attributes": {}} for a in objects],
                            "segmentation_bitmap": {"url": f"{base}/bitmap-{n}.png"},
                        },
                    }
                },
            }
        )
    release = {
        "name": RELEASE,
        "description": "",
        "created_at": "2024-08-08 21:18:34.274388+00:00",
        "dataset": {
            "name": DATASET,
            "description": "",
            "owner": OWNER,
            "task_type": "segmentation-bitmap",
            "task_attributes": {
                "format_version": "0.1",
                "categories": [
                    {"id": category(1), "name": "car", "color": [255, 0, 0], "has_instances": True},
                    {"id": category(2), "name": "person", "has_instances": True},
                    {"id": category(3), "name": "road", "color": [0, 0, 255], "has_instances": False},
                ],
            },
            "labelsets": [{"name": LABELSET, "description": ""}],
            "samples": samples,
        },
    }
    path = tmp_path / "release.json"
    path.write_text(json.dumps(release))
    return path, segments_dir


def _sparse(release: Path) -> bool:
    categories = json.loads(release.read_text())["dataset"]["task_attributes"]["categories"]
    return [c["id"] for c in categories] == list(SPARSE_CATEGORIES.values())


def ours(release: Path, writer: Any, out: Path, id_increment: int = 0) -> Path:
    from labelspec.convert.readers.segments import read

    report = ConversionReport("segments", writer.target_id)
    document = json.loads(release.read_text())
    # the assets are on a local server: the explicit allowance (refused by default)
    options = ReadOptions(
        source_path=release, cache_dir=release.parent / "labelspec-cache", allow_private_network=True
    )
    dataset = read(document, options, report)
    writer.write(dataset, out, WriteOptions(id_increment=id_increment), report)
    return out


def sdk_dataset(release: Path, segments_dir: Path) -> Any:
    return segments.SegmentsDataset(str(release), labelset=LABELSET, segments_dir=str(segments_dir))


def load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_sdk_loads_the_bitmaps_we_decode(served: tuple[Path, Path], tmp_path: Path) -> None:
    """SegmentsDataset (no scikit-image needed) sees the same instance ids and semantic values as we write."""
    release, segments_dir = served
    dataset = sdk_dataset(release, segments_dir)
    out = ours(release, masks.INSTANCE_PNG, tmp_path / "instance")
    semantic = ours(release, masks.SEMANTIC_PNG, tmp_path / "semantic")
    for i in range(len(dataset)):
        sample = dataset[i]
        stem = Path(sample["name"]).stem
        assert sample["image"] is not None and sample["image"].size == (W, H)  # fetched from the local server
        sdk_ids = np.array(sample["segmentation_bitmap"], np.uint32)
        assert (read_bitmap(release.parent / "www" / f"bitmap-{i}.png") == sdk_ids).all()
        assert (load(out / f"{stem}.png") == sdk_ids).all()
        sdk_semantic = segments_utils.get_semantic_bitmap(sdk_ids, sample["annotations"])
        assert (load(semantic / f"{stem}.png") == sdk_semantic).all()


@pytest.fixture()
def skimage() -> Any:
    return pytest.importorskip(
        "skimage",
        reason="segments-ai's export_dataset imports scikit-image (a test extra in pyproject.toml) and it is "
        "not installed in this environment",
    )


FORMATS = {
    "instance": (masks.INSTANCE_PNG, "instance"),
    "instance-color": (masks.INSTANCE_PNG_COLOR, "instance_colored"),
    "semantic": (masks.SEMANTIC_PNG, "semantic"),
    "semantic-color": (masks.SEMANTIC_PNG_COLOR, "semantic_colored"),
}


@pytest.mark.parametrize("export_format", sorted(FORMATS))
def test_mask_pngs_equal_the_sdk_export(
    served: tuple[Path, Path], tmp_path: Path, skimage: Any, export_format: str
) -> None:
    from segments.utils import export_dataset

    release, segments_dir = served
    if export_format == "semantic-color" and _sparse(release):
        pytest.skip("the SDK looks semantic colours up by category id as a list index (documented above)")
    writer, suffix = FORMATS[export_format]
    sdk_out = tmp_path / "sdk"
    sdk_out.mkdir()
    export_dataset(
        sdk_dataset(release, segments_dir), export_folder=str(sdk_out), export_format=export_format
    )
    out = ours(release, writer, tmp_path / "ours")
    for stem in bitmaps(_sparse(release)):
        theirs = load(sdk_out / f"{stem}_label_{LABELSET}_{suffix}.png")
        mine = load(out / f"{stem}.png")
        assert theirs.shape == mine.shape
        assert (theirs.astype(np.int64) == mine.astype(np.int64)).all(), (export_format, stem)


def test_coco_panoptic_segments_equal_the_sdk_export(
    served: tuple[Path, Path], tmp_path: Path, skimage: Any
) -> None:
    from segments.utils import export_dataset

    release, segments_dir = served
    dataset = sdk_dataset(release, segments_dir)
    json_path, image_dir = export_dataset(
        dataset, export_folder=str(tmp_path / "sdk"), export_format="coco-panoptic"
    )
    theirs = json.loads(Path(json_path).read_text())
    out = ours(release, coco_panoptic.WRITER, tmp_path / "ours")
    mine = json.loads((out / "panoptic.json").read_text())

    def segments_of(document: dict[str, Any], png_dir: Path) -> dict[str, set[tuple[int, bytes]]]:
        names = {image["id"]: Path(image["file_name"]).stem for image in document["images"]}
        result: dict[str, set[tuple[int, bytes]]] = {}
        for annotation in document["annotations"]:
            ids = read_bitmap(png_dir / annotation["file_name"])
            result[names[annotation["image_id"]]] = {
                (s["category_id"], np.packbits(ids == s["id"]).tobytes()) for s in annotation["segments_info"]
            }
        return result

    assert segments_of(theirs, Path(image_dir)) == segments_of(mine, out / "panoptic")
    # the SDK duplicates the stuff id (two road instances in street-1); ours lists it once
    sdk_street1 = next(a for a in theirs["annotations"] if "street-1" in a["file_name"])["segments_info"]
    assert len(sdk_street1) == 5 and len({s["id"] for s in sdk_street1}) == 4


def test_semantic_values_with_an_id_increment_equal_the_sdk_export(
    served: tuple[Path, Path], tmp_path: Path, skimage: Any
) -> None:
    from segments.utils import export_dataset

    release, segments_dir = served
    sdk_out = tmp_path / "sdk"
    sdk_out.mkdir()
    dataset = sdk_dataset(release, segments_dir)
    export_dataset(dataset, export_folder=str(sdk_out), export_format="semantic", id_increment=100)
    out = ours(release, masks.SEMANTIC_PNG, tmp_path / "ours", id_increment=100)
    for stem in bitmaps(_sparse(release)):
        theirs = load(sdk_out / f"{stem}_label_{LABELSET}_semantic.png")
        assert (theirs.astype(np.int64) == load(out / f"{stem}.png").astype(np.int64)).all(), stem
