"""``labelspec generate --with-media``: the images and Segments bitmaps an export refers to are written,
so a generated fixture converts offline; without them the same conversion cannot size its images."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

RUNS = [
    ("segments", ["--task-type", "segmentation-bitmap"]),
    ("segments", ["--task-type", "vector"]),
    ("datagym", ["--data-type", "image"]),
    ("encord", ["--data-type", "image"]),
    ("encord", ["--data-type", "img_group"]),
]


@pytest.mark.parametrize(("format_id", "extra"), RUNS)
def test_generated_fixture_converts_offline_with_its_media(
    cli: list[str], tmp_path: Path, format_id: str, extra: list[str]
) -> None:
    out = tmp_path / "fixtures"
    command = [*cli, "generate", format_id, "--count", "2", "--seed", "4", "--with-media", "--out", str(out)]
    assert subprocess.run([*command, *extra], capture_output=True).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    for number, entry in enumerate(manifest["files"]):
        media = out / entry["media_dir"]
        sizes = {p.name: Image.open(p).size for p in media.iterdir()}
        assert sizes, entry
        convert = [*cli, "convert", str(out / entry["path"]), "--to", "coco-instance", "--offline"]
        convert += [
            "--status",
            "all",
            *(["--ontology", str(out / entry["ontology"])] if "ontology" in entry else []),
        ]
        target = tmp_path / f"coco-{number}.json"
        done = subprocess.run(
            [*convert, "-o", str(target), "--media-dir", str(media)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        coco = json.loads(target.read_text())
        assert coco["images"]
        for image in coco["images"]:  # the size each image got is the size of the file written for it
            name = Path(image["file_name"]).name
            if name in sizes:
                assert (image["width"], image["height"]) == sizes[name], image
        if format_id == "segments":  # without the media, nothing tells the image sizes offline
            without = subprocess.run(
                [*convert, "-o", str(tmp_path / "no.json")], capture_output=True, text=True
            )
            assert without.returncode == 2 and "media" in without.stderr, without.stderr


def test_media_are_seeded(cli: list[str], tmp_path: Path) -> None:
    trees = []
    for folder in (tmp_path / "a", tmp_path / "b"):
        command = [
            *cli,
            "generate",
            "segments",
            "--count",
            "2",
            "--seed",
            "9",
            "--with-media",
            "--out",
            str(folder),
        ]
        assert (
            subprocess.run([*command, "--task-type", "segmentation-bitmap"], capture_output=True).returncode
            == 0
        )
        trees.append(
            {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        )
    assert trees[0] == trees[1]
    assert any(name.endswith(".png") and "_media/" in name for name in trees[0])
