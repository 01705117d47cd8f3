"""``labelspec stats`` on real files: every corpus document and bundled example of the seven formats, with
counts checked against independent oracles (pycocotools, plain JSON walks, YOLO label lines), and the
item-by-item path against the whole-document path."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from labelspec import format_ids
from tests.conftest import CORPUS, ROOT

FORMATS = tuple(sorted(format_ids.IDS))


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=300)


def stats(cli: list[str], *args: str | Path) -> dict[str, Any]:
    result = run(cli, "stats", *args, "--output", "json", "--offline")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    files: list[dict[str, Any]] = json.loads(result.stdout)["files"]
    return files[0] if len(files) == 1 else {"files": files}


def corpus_documents() -> list[tuple[str, Path]]:
    found = []
    for fmt in FORMATS:
        for path in sorted((CORPUS / fmt).iterdir()):
            if path.name != "index.yaml":
                found.append((fmt, path))
    return found


def bundled_examples() -> list[tuple[str, Path]]:
    from labelspec.validator.examples import documented_examples

    return [
        (fmt, ROOT / "schemas" / fmt / "examples" / example.file)
        for fmt in FORMATS
        for example in documented_examples(fmt)
        if not example.definition
    ]


def test_every_format_has_documents_to_check() -> None:
    formats = {fmt for fmt, _ in corpus_documents()} | {fmt for fmt, _ in bundled_examples()}
    assert formats == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_stats_reads_every_corpus_document_and_example(cli: list[str], fmt: str) -> None:
    paths = [p for f, p in corpus_documents() + bundled_examples() if f == fmt]
    result = run(cli, "stats", *paths, "--format", fmt, "--output", "json", "--offline")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    entries = json.loads(result.stdout)["files"]
    assert len(entries) == len(paths)
    broken = []
    for path, entry in zip(paths, entries, strict=True):
        assert entry["format"] == fmt and "error" not in entry, (path, entry.get("error"))
        if entry["unreadable_items"]:
            broken.append(path)
        assert entry["labels"] == sum(c["labels"] for c in entry["classes"].values())
        assert entry["labels"] == sum(entry["geometries"].values())
        per_media = entry["labels_per_media"]["histogram"]
        assert sum(per_media.values()) == entry["media"]
        assert sum(int(k) * v for k, v in per_media.items()) == entry["labels"]
    assert result.returncode == (1 if broken else 0)
    if broken:  # only documents the validator rejects may hold items too broken to read
        verdicts = json.loads(run(cli, "validate", *broken, "--format", fmt, "--output", "json").stdout)
        assert [v["valid"] for v in verdicts["files"]] == [False] * len(broken)


def test_coco_counts_equal_pycocotools(cli: list[str]) -> None:
    from pycocotools.coco import COCO

    path = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"
    oracle = COCO(str(path))
    entry = stats(cli, path)
    assert entry["media"] == len(oracle.getImgIds())
    # an annotation with a region and a skeleton is two labels of the model (region, keypoints)
    both = [
        a
        for a in oracle.anns.values()
        if a.get("keypoints") and oracle.cats[a["category_id"]].get("keypoints") and a.get("bbox")
    ]
    assert entry["labels"] == len(oracle.getAnnIds()) + len(both)
    for category in oracle.loadCats(oracle.getCatIds()):
        ids = oracle.getAnnIds(catIds=[category["id"]])
        images = {oracle.anns[i]["image_id"] for i in ids}
        labels = len(ids) + sum(1 for a in both if a["category_id"] == category["id"])
        assert entry["classes"][category["name"]] == {"labels": labels, "media": len(images)}
    sizes = Counter(f"{i['width']}x{i['height']}" for i in oracle.imgs.values())
    assert entry["image_sizes"] == dict(sizes)


def test_encord_counts_equal_a_walk_of_the_rows(cli: list[str]) -> None:
    path = CORPUS / "encord" / "image-row.json"
    rows = json.loads(path.read_text())
    names: Counter[str] = Counter()
    for row in rows:
        for unit in row["data_units"].values():
            labels = unit["labels"]
            for obj in labels.get("objects", []):
                names[obj["name"]] += 1
    entry = stats(cli, path)
    assert {name: c["labels"] for name, c in entry["classes"].items()} == dict(names)
    assert entry["statuses"] == dict(Counter(row["label_status"] for row in rows))
    assert entry["data_types"] == dict(Counter(row["data_type"] for row in rows))


def test_yolo_counts_equal_the_label_lines(cli: list[str]) -> None:
    folder = CORPUS / "yolo" / "ultralytics"
    labels = sorted((folder / "labels").rglob("*.txt"))
    lines = [line.split() for label in labels for line in label.read_text().splitlines() if line.strip()]
    entry = stats(cli, folder)
    assert entry["labels"] == len(lines)
    assert entry["media"] == len(labels)
    assert entry["classes"]["car"]["labels"] == sum(1 for line in lines if line[0] == "2")
    # without the images the coordinates stay fractions: box sizes are still known
    assert entry["box_sizes"]["unsized"] == 0
    assert entry["media_missing"] == entry["media"]


def test_segments_labelsets_and_statuses(cli: list[str]) -> None:
    path = CORPUS / "segments" / "vector-release.json"
    release = json.loads(path.read_text())
    statuses: Counter[str] = Counter()
    annotations = 0
    for sample in release["dataset"]["samples"]:
        for name, label in sample["labels"].items():
            statuses[label["label_status"]] += 1
            if name == "ground-truth":
                annotations += len(label["attributes"]["annotations"])
    entry = stats(cli, path)
    assert entry["statuses"] == dict(statuses)
    assert entry["labels"] == annotations
    assert entry["data_types"] == {release["dataset"]["task_type"]: len(release["dataset"]["samples"])}


def test_bitmap_labels_are_counted_without_their_pixels(cli: list[str]) -> None:
    path = CORPUS / "segments" / "segmentation-bitmap-release.json"
    release = json.loads(path.read_text())
    expected = sum(
        len((s["labels"].get("ground-truth") or {}).get("attributes", {}).get("annotations", []))
        for s in release["dataset"]["samples"]
    )
    entry = stats(cli, path)
    assert entry["labels"] == expected
    assert entry["media_missing"] > 0


def test_item_by_item_equals_the_whole_document(cli: list[str], tmp_path: Path) -> None:
    """A plain file is read item by item; its gzip copy whole: the counts must be the same."""
    generated = tmp_path / "gen"
    result = run(cli, "generate", "encord", "--count", "3", "--seed", "7", "--out", generated)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((generated / "manifest.json").read_text())
    checked = 0
    for entry in manifest["files"]:
        plain = generated / entry["path"]
        if not plain.name.endswith(".json"):
            continue
        packed = tmp_path / (plain.name + ".gz")
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        ontology = ["--ontology", str(generated / entry["ontology"])] if entry.get("ontology") else []
        first, second = stats(cli, plain, *ontology), stats(cli, packed, *ontology)
        first.pop("path"), second.pop("path")
        assert first == second
        checked += 1
    assert checked


def test_text_output_and_unreadable_input(cli: list[str], tmp_path: Path) -> None:
    result = run(cli, "stats", CORPUS / "coco-instance" / "export_coco-instance_jane_pets_v1.0.json")
    assert result.returncode == 0
    assert "coco-instance, 2 media, 4 labels" in result.stdout
    assert "labels per media: min 1, median 2, max 3" in result.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run(cli, "stats", broken, tmp_path / "missing.json")
    assert result.returncode == 2
    assert "UNREADABLE" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_and_diff_work_on_every_corpus_document_and_example(
    cli: list[str], fmt: str, tmp_path: Path
) -> None:
    """``report`` over all documents of a format (one page), and ``diff`` of each document with itself."""
    from labelspec.inspect.diff import DiffInputError, diff_sides, load_side
    from labelspec.inspect.source import Options

    paths = [p for f, p in corpus_documents() + bundled_examples() if f == fmt]
    out = tmp_path / "report.html"
    result = run(cli, "report", *paths, "--format", fmt, "-o", out, "--offline")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.count('<section class="document"') == len(paths)
    options = Options(format=fmt, offline=True)
    compared = 0
    for path in paths:
        try:
            side = load_side(str(path), options)
        except DiffInputError:  # items too malformed to read: stats counts them, diff refuses (exit 2)
            assert run(cli, "validate", path, "--format", fmt).returncode == 1
            continue
        assert diff_sides(side, load_side(str(path), options)).equal, path
        compared += 1
    assert compared
