"""COCO -> COCO through the installed CLI on a clean file, which is converted streamed (one image at a time,
the output written as it comes: labelspec/convert/writers/coco_instance.py ``write_groups``), checked
against pycocotools: the written file loads with ``pycocotools.coco.COCO``, and every annotation's mask
(``annToMask``) is the mask pycocotools makes of the source annotation, its area is pycocotools' area of
the source polygon, its bbox the extent of the source points computed here with plain arithmetic.

The same file converted in memory (``LABELSPEC_NATIVE=0``) must give the same document (byte for byte when
the annotations come image by image; the same annotations when they are shuffled, which the streamed
writer writes image by image). A file whose annotations have no ids (labelformat writes none) cannot be
streamed (they are renumbered over the whole file): it falls back to the in-memory path.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

SIZES = [(640, 480), (640, 427), (500, 375), (1280, 720), (427, 640)]
KEYPOINTS = ["nose", "left_eye", "right_eye", "left_hand", "right_hand"]


def _coco(images: int, seed: int, shuffled: bool) -> dict[str, Any]:
    """A realistic COCO instance file: polygons (some in two parts, some past the border), plain boxes,
    persons with keypoints (a category declaring its keypoint names and skeleton), crowd-free, sparse ids,
    file names in folders, a few images without objects, COCO's info and licenses."""
    rng = random.Random(seed)
    categories: list[dict[str, Any]] = [
        {"id": c, "name": f"class {c}", "supercategory": "thing"} for c in (2, 3, 5, 8, 13, 90)
    ]
    categories.append(
        {
            "id": 1,
            "name": "person",
            "supercategory": "person",
            "keypoints": KEYPOINTS,
            "skeleton": [[1, 2], [1, 3]],
        }
    )
    out: dict[str, Any] = {
        "info": {"description": "stream oracle", "version": "1.0", "year": 2017},
        "licenses": [
            {"id": 4, "name": "Attribution License", "url": "http://creativecommons.org/licenses/by/2.0/"}
        ],
        "images": [],
        "annotations": [],
        "categories": categories,
    }
    next_id = 7
    for image_id in rng.sample(range(1, 10 * images), images):
        width, height = rng.choice(SIZES)
        out["images"].append(
            {
                "id": image_id,
                "file_name": f"train/{image_id:012d}.jpg",
                "width": width,
                "height": height,
                "license": 4,
            }
        )
        for _ in range(rng.choice([0, 1, 3, 6])):
            x, y = rng.uniform(0, width - 10), rng.uniform(0, height - 10)
            w, h = rng.uniform(2, min(200, width - x)), rng.uniform(2, min(200, height - y))
            category = rng.choice(categories)
            annotation: dict[str, Any] = {
                "id": next_id,
                "image_id": image_id,
                "category_id": category["id"],
                "iscrowd": 0,
                "area": round(w * h / 2, 2) + 1,
                "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
            }
            if rng.random() < 0.8:
                parts = []
                for _ in range(1 if rng.random() < 0.9 else 2):
                    ring: list[float] = []
                    for _ in range(rng.randint(3, 12)):
                        ring += [round(x + rng.uniform(0, w), 2), round(y + rng.uniform(0, h), 2)]
                    parts.append(ring)
                annotation["segmentation"] = parts
            if "keypoints" in category:
                values: list[float] = []
                for _ in KEYPOINTS:
                    visible = rng.choice([0, 1, 2])
                    values += (
                        [round(x + rng.uniform(0, w)), round(y + rng.uniform(0, h)), visible]
                        if visible
                        else [0, 0, 0]
                    )
                annotation["keypoints"] = values
                annotation["num_keypoints"] = sum(1 for v in values[2::3] if v)
            out["annotations"].append(annotation)
            next_id += rng.choice([1, 1, 2, 5])
    if shuffled:
        rng.shuffle(out["annotations"])
    return out


def _convert(
    cli: list[str], source: Path, out: Path, native: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LABELSPEC_NATIVE": "1" if native else "0"}
    return subprocess.run(
        [
            *cli,
            "convert",
            str(source),
            "--to",
            "coco-instance",
            "-o",
            str(out),
            "--report",
            str(out) + ".report.json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _check_against_pycocotools(source: Path, out: Path) -> None:
    import numpy as np
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    given = json.loads(source.read_text())
    written = COCO(str(out))  # loads and indexes the written file
    theirs = COCO(str(source))
    assert sorted(written.getImgIds()) == sorted(i["id"] for i in given["images"])
    for image in given["images"]:
        loaded = written.loadImgs(image["id"])[0]
        assert (loaded["file_name"], loaded["width"], loaded["height"]) == (
            image["file_name"],
            image["width"],
            image["height"],
        )
    categories = {c["id"]: c for c in given["categories"]}
    for category in written.loadCats(written.getCatIds()):
        assert category["name"] == categories[category["id"]]["name"]
        assert category.get("keypoints") == categories[category["id"]].get("keypoints")
    assert sorted(written.getAnnIds()) == sorted(a["id"] for a in given["annotations"])
    for annotation in given["annotations"]:
        ours = written.loadAnns(annotation["id"])[0]
        image = written.loadImgs(annotation["image_id"])[0]
        height, width = image["height"], image["width"]
        assert (ours["image_id"], ours["category_id"], ours["iscrowd"]) == (
            annotation["image_id"],
            annotation["category_id"],
            0,
        )
        if "segmentation" in annotation:
            assert ours["segmentation"] == annotation["segmentation"]
            assert np.array_equal(written.annToMask(ours), theirs.annToMask(annotation))
            rle = mask_utils.merge(mask_utils.frPyObjects(annotation["segmentation"], height, width))
            pixels = float(mask_utils.area(rle))
            if pixels == 0:  # a sliver that covers no pixel centre: its geometric area (numpy shoelace)
                rings = [np.array(r, dtype=float).reshape(-1, 2) for r in annotation["segmentation"]]
                pixels = sum(
                    abs(np.dot(r[:, 0], np.roll(r[:, 1], -1)) - np.dot(r[:, 1], np.roll(r[:, 0], -1))) / 2
                    for r in rings
                )
            assert ours["area"] == pytest.approx(pixels, abs=1e-6)
            xs = [v for ring in annotation["segmentation"] for v in ring[0::2]]
            ys = [v for ring in annotation["segmentation"] for v in ring[1::2]]
            expected = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        else:  # a box: written as its 4-corner polygon, bbox and area w*h
            x, y, w, h = annotation["bbox"]
            expected = [x, y, w, h]
            assert ours["area"] == pytest.approx(w * h, abs=1e-5)
            corners = [x, y, x + w, y, x + w, y + h, x, y + h]
            assert ours["segmentation"][0] == pytest.approx(corners, abs=1e-6)
        assert ours["bbox"] == pytest.approx(expected, abs=1e-6)
        assert ours.get("keypoints") == annotation.get("keypoints")


@pytest.mark.parametrize("shuffled", [False, True], ids=["image-order", "shuffled"])
def test_clean_coco_to_coco_streamed_matches_pycocotools(
    tmp_path: Path, cli: list[str], shuffled: bool
) -> None:
    from labelspec.validator.native.fastpath import certified_coco

    coco = _coco(400, seed=52 if shuffled else 51, shuffled=shuffled)
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco))
    assert certified_coco(source, "lenient") is not None  # so the streamed path is the one taken

    streamed, in_memory = tmp_path / "streamed.json", tmp_path / "in-memory.json"
    done = _convert(cli, source, streamed)
    assert done.returncode == 0, done.stderr
    _check_against_pycocotools(source, streamed)
    assert _convert(cli, source, in_memory, native=False).returncode == 0
    ours, theirs = json.loads(streamed.read_text()), json.loads(in_memory.read_text())
    assert ours["info"] == coco["info"] and ours["licenses"] == coco["licenses"]
    if not shuffled:
        assert streamed.read_bytes() == in_memory.read_bytes()
    else:
        # streamed: image by image (in the order of the images), so not the shuffled file order
        positions = {image["id"]: n for n, image in enumerate(coco["images"])}
        order = [positions[a["image_id"]] for a in ours["annotations"]]
        assert order == sorted(order) and ours["annotations"] != theirs["annotations"]
        key = lambda a: a["id"]  # noqa: E731
        assert sorted(ours["annotations"], key=key) == sorted(theirs["annotations"], key=key)
        assert {k: v for k, v in ours.items() if k != "annotations"} == {
            k: v for k, v in theirs.items() if k != "annotations"
        }
    reports = [json.loads(Path(str(p) + ".report.json").read_text()) for p in (streamed, in_memory)]
    assert reports[0]["counts"] == reports[1]["counts"]


def test_coco_without_annotation_ids_falls_back_to_memory(tmp_path: Path, cli: list[str]) -> None:
    """labelformat writes no annotation ids: they are numbered over the whole file, which the streamed
    writer cannot do image by image; the conversion is done in memory and loads with pycocotools."""
    from pycocotools.coco import COCO

    coco = _coco(60, seed=53, shuffled=False)
    for annotation in coco["annotations"]:
        del annotation["id"]
    source = tmp_path / "no-ids.json"
    source.write_text(json.dumps(coco))
    out = tmp_path / "out.json"
    done = _convert(cli, source, out)
    assert done.returncode == 0, done.stderr
    written = COCO(str(out))
    assert sorted(written.getAnnIds()) == list(range(1, len(coco["annotations"]) + 1))
    for annotation, ours in zip(
        coco["annotations"], written.loadAnns(sorted(written.getAnnIds())), strict=True
    ):
        assert (ours["image_id"], ours["category_id"]) == (annotation["image_id"], annotation["category_id"])
        assert ours.get("keypoints") == annotation.get("keypoints")
    assert not list(tmp_path.glob(".out.json.*"))  # the abandoned streamed attempt left nothing behind


def test_uncertified_coco_is_validated_by_sections_and_streamed(tmp_path: Path, cli: list[str]) -> None:
    """A file with a warning is not certified by the native checks: with ``--from coco-instance`` it is
    validated by the streamed section reference path and converted streamed (image by image: the
    shuffled annotations come out grouped by image), to the same annotations as the in-memory path."""
    from labelspec.validator.native.fastpath import certified_coco

    coco = _coco(120, seed=54, shuffled=True)
    boxes = [a for a in coco["annotations"] if "segmentation" not in a]
    boxes[0]["bbox"][0] = -5.0  # past the left border: COCO-BBOX-OUTSIDE-IMAGE, a warning
    source = tmp_path / "warned.json"
    source.write_text(json.dumps(coco))
    assert certified_coco(source, "lenient") is None

    streamed, in_memory = tmp_path / "streamed.json", tmp_path / "in-memory.json"
    env = {**os.environ, "LABELSPEC_NATIVE": "1"}
    command = [*cli, "convert", str(source), "--to", "coco-instance", "--from", "coco-instance"]
    done = subprocess.run(
        [*command, "-o", str(streamed)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    _check_against_pycocotools(source, streamed)
    assert _convert(cli, source, in_memory).returncode == 0  # small and not --from: in memory
    ours, theirs = json.loads(streamed.read_text()), json.loads(in_memory.read_text())
    positions = {image["id"]: n for n, image in enumerate(coco["images"])}
    order = [positions[a["image_id"]] for a in ours["annotations"]]
    assert order == sorted(order) and ours["annotations"] != theirs["annotations"]
    key = lambda a: a["id"]  # noqa: E731
    assert sorted(ours["annotations"], key=key) == sorted(theirs["annotations"], key=key)

    broken = json.loads(source.read_text())
    broken["annotations"][3]["image_id"] = "not an id"
    source.write_text(json.dumps(broken))
    refused = tmp_path / "refused.json"
    done = subprocess.run(
        [*command, "-o", str(refused)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 1 and "not valid coco-instance" in done.stderr
    assert "/annotations/3/image_id" in done.stderr and not refused.exists()
