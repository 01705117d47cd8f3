"""COCO -> semantic-png / instance-png through the installed CLI on a clean file, converted streamed (one
image at a time: each PNG and its ``instances.json`` entries written as the image comes), checked against
pycocotools: each image's expected PNG is painted here from ``COCO.annToMask`` of the source annotations,
in file order (a later annotation wins its pixels), with the category id (semantic-png, as the segments-ai
SDK writes it with id increment 0) or the annotation id (instance-png). The in-memory path
(``LABELSPEC_NATIVE=0``) must write the same PNGs and tables.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.convert.test_convert_coco_stream_coco import _coco


def _run(cli: list[str], source: Path, target: str, out: Path, native: bool) -> None:
    env = {**os.environ, "LABELSPEC_NATIVE": "1" if native else "0"}
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", target, "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("target", ["semantic-png", "instance-png"])
def test_clean_coco_to_masks_streamed_matches_pycocotools(
    tmp_path: Path, cli: list[str], target: str
) -> None:
    import numpy as np
    from PIL import Image
    from pycocotools.coco import COCO

    from labelspec.validator.native.fastpath import certified_coco

    coco: dict[str, Any] = _coco(40, seed=61, shuffled=True)
    # regions only (boxes are drawn as boxes, keypoints have no area): every object has a polygon here
    coco["annotations"] = [
        {k: v for k, v in a.items() if k not in ("keypoints", "num_keypoints")}
        for a in coco["annotations"]
        if "segmentation" in a
    ]
    for category in coco["categories"]:
        category.pop("keypoints", None)
        category.pop("skeleton", None)
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco))
    assert certified_coco(source, "lenient") is not None  # so the streamed path is the one taken
    streamed, in_memory = tmp_path / "streamed", tmp_path / "in-memory"
    _run(cli, source, target, streamed, native=True)
    _run(cli, source, target, in_memory, native=False)

    theirs = COCO(str(source))
    semantic = target == "semantic-png"
    table = json.loads((streamed / ("classes.json" if semantic else "instances.json")).read_text())
    assert table == json.loads((in_memory / ("classes.json" if semantic else "instances.json")).read_text())
    painted = 0
    for image in coco["images"]:
        expected = np.zeros((image["height"], image["width"]), dtype=np.uint8 if semantic else np.uint16)
        for annotation in coco["annotations"]:  # file order: the later annotation wins
            if annotation["image_id"] == image["id"]:
                expected[theirs.annToMask(annotation).astype(bool)] = (
                    annotation["category_id"] if semantic else annotation["id"]
                )
                painted += 1
        name = os.path.splitext(image["file_name"])[0] + ".png"
        with Image.open(streamed / name) as png:
            written = np.asarray(png)
        assert written.shape == expected.shape and np.array_equal(written, expected), name
        assert (streamed / name).read_bytes() == (in_memory / name).read_bytes()
        if not semantic:
            values = {entry["value"] for entry in table["images"][name]}
            assert values == set(np.unique(expected).tolist()) - {0}
    assert painted == len(coco["annotations"]) > 50
