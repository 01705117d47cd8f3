"""``labelspec generate --with-media``: the images and Segments bitmaps an export refers to are written,
so a generated fixture converts offline; without them the same conversion cannot size its images."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

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
    converted = 0
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
        if format_id == "segments" and not _labelled(out / entry["path"]):
            # no sample labelled in ground-truth (null labels): nothing to convert, with or without media
            assert done.returncode == 1 and "no label" in done.stderr, done.stderr
            continue
        assert done.returncode == 0, done.stderr
        converted += 1
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
    assert converted, "no generated file converted"


def _labelled(path: Path) -> bool:
    samples = json.loads(path.read_text())["dataset"]["samples"]
    return any(sample["labels"].get("ground-truth") for sample in samples)  # the labelset converted


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


def _generate(cli: list[str], out: Path, format_id: str, *extra: str) -> list[dict[str, Any]]:
    command = [*cli, "generate", format_id, "--count", "3", "--seed", "5", "--with-media", "--out", str(out)]
    done = subprocess.run([*command, *extra], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files: list[dict[str, Any]] = json.loads((out / "manifest.json").read_text())["files"]
    return files


def _points_in(data: bytes, name: str, kind: str) -> int:
    """The number of points of a point-cloud file, read from its own header or size (not by labelspec)."""
    if kind in ("binary-xyzi", "kitti"):
        return len(data) // 16
    if kind == "binary-xyzir":
        return len(data) // 20
    header = data.split(b"end_header" if kind == "ply" else b"DATA ascii", 1)[0].decode()
    key = "element vertex" if kind == "ply" else "POINTS"
    return int(next(line.split()[-1] for line in header.splitlines() if line.startswith(key)))


def test_point_clouds_have_the_points_their_labels_label(cli: list[str], tmp_path: Path) -> None:
    entries = _generate(cli, tmp_path, "segments", "--task-type", "pointcloud-segmentation")
    checked = 0
    for entry in entries:
        release = json.loads((tmp_path / entry["path"]).read_text())
        skipped = {s["name"] for s in entry.get("media_skipped", [])}
        for sample in release["dataset"]["samples"]:
            pcd = sample["attributes"]["pcd"]
            name = pcd["url"].rsplit("/", 1)[-1]
            counts = {len(v["attributes"]["point_annotations"]) for v in sample["labels"].values() if v}
            assert len(counts) <= 1, "every labelset labels the same points"
            if name in skipped:
                assert pcd["type"] not in ("pcd", "binary-xyzi", "kitti", "binary-xyzir", "ply")
                continue
            data = (tmp_path / entry["media_dir"] / name).read_bytes()
            assert {_points_in(data, name, pcd["type"])} == (counts or {32}), (name, pcd["type"])
            checked += 1
    assert checked


def test_pdf_pages_and_skipped_media_are_reported(cli: list[str], tmp_path: Path) -> None:
    for entry in _generate(cli, tmp_path / "pdf", "encord", "--data-type", "pdf"):
        rows = json.loads((tmp_path / "pdf" / entry["path"]).read_text())
        for row in rows:
            unit = next(iter(row["data_units"].values()))
            data = (tmp_path / "pdf" / entry["media_dir"] / unit["data_link"].rsplit("/", 1)[-1]).read_bytes()
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
            offset = int(data.rsplit(b"startxref", 1)[1].split()[0])
            assert data[offset:].startswith(b"xref")  # the cross-reference table is where the trailer says
            pages = data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
            assert pages >= 1 + max((int(k) for k in unit["labels"]), default=0)
    for entry in _generate(cli, tmp_path / "video", "encord", "--data-type", "video"):
        rows = json.loads((tmp_path / "video" / entry["path"]).read_text())
        links = {next(iter(r["data_units"].values()))["data_link"].rsplit("/", 1)[-1] for r in rows}
        skipped = {s["name"]: s for s in entry["media_skipped"]}
        assert links <= set(skipped), "every video the export names is listed as skipped"
        assert all(s["kind"] == "video" and "video" in s["reason"] for s in skipped.values())


def test_yolo_images_sit_next_to_the_labels_and_convert(cli: list[str], tmp_path: Path) -> None:
    for number, entry in enumerate(_generate(cli, tmp_path, "yolo")):
        dataset = tmp_path / entry["path"]
        assert entry["media_dir"] == entry["path"]
        labels = [p for p in dataset.rglob("*.txt") if p.name not in ("classes.txt", "train.txt")]
        images = {p.relative_to(dataset).as_posix() for p in dataset.rglob("*.jpg")}
        for label in labels:
            relative = label.relative_to(dataset).as_posix()[: -len(".txt")] + ".jpg"
            assert relative.replace("labels/", "images/", 1) in images or relative in images, relative
        target = tmp_path / f"coco-{number}.json"
        convert = [*cli, "convert", str(dataset), "--to", "coco-instance", "--offline", "-o", str(target)]
        done = subprocess.run([*convert, "--media-dir", str(dataset)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        sizes = {(i["width"], i["height"]) for i in json.loads(target.read_text())["images"]}
        assert sizes == {Image.open(dataset / next(iter(images))).size}
