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


def test_pdf_pages_match_the_labelled_pages(cli: list[str], tmp_path: Path) -> None:
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


# --------------------------------------------------------------- video, audio, DICOM (independent readers)
# Written by FFmpeg (imageio-ffmpeg) and by labelspec's own DICOM writer; read back with OpenCV's FFmpeg
# build, libsndfile (soundfile) and pydicom, and compared with the export's own metadata.


def _video_facts(path: Path) -> tuple[int, int, int, float]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    facts = (
        decoded,
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        float(capture.get(cv2.CAP_PROP_FPS)),
    )
    capture.release()
    return facts


def _no_av_skipped(entry: dict[str, Any]) -> None:
    kinds = {s["kind"] for s in entry.get("media_skipped", [])}
    assert not kinds & {"video", "audio", "DICOM"}, entry["media_skipped"]


def test_encord_videos_have_the_rows_frames_and_size(cli: list[str], tmp_path: Path) -> None:
    checked = 0
    for entry in _generate(cli, tmp_path, "encord", "--data-type", "video"):
        _no_av_skipped(entry)
        for row in json.loads((tmp_path / entry["path"]).read_text()):
            unit = next(iter(row["data_units"].values()))
            path = tmp_path / entry["media_dir"] / unit["data_link"].rsplit("/", 1)[-1]
            frames, width, height, fps = _video_facts(path)
            labelled = 1 + max((int(k) for k in unit["labels"]), default=0)
            assert frames == max(round(unit["data_fps"] * unit["data_duration"]), labelled), path
            assert frames >= labelled
            assert (width, height) == (unit["width"], unit["height"])
            assert fps == pytest.approx(unit["data_fps"], abs=0.01)
            assert path.read_bytes()[4:8] == b"ftyp"  # an ISO base-media (MP4) file, as the link's name says
            checked += 1
    assert checked


def test_encord_audio_has_the_rows_duration_rate_and_channels(cli: list[str], tmp_path: Path) -> None:
    import soundfile

    checked = 0
    for entry in _generate(cli, tmp_path, "encord", "--profile", "lenient", "--data-type", "audio"):
        _no_av_skipped(entry)
        for row in json.loads((tmp_path / entry["path"]).read_text()):
            unit = next(iter(row["data_units"].values()))
            info = soundfile.info(str(tmp_path / entry["media_dir"] / unit["data_link"].rsplit("/", 1)[-1]))
            assert info.format == "MP3"
            assert (info.samplerate, info.channels) == (unit["audio_sample_rate"], unit["audio_num_channels"])
            assert info.frames / info.samplerate == pytest.approx(unit["data_duration"], abs=0.03)
            ends = [end for o in row["object_answers"].values() for span in o["range"] for end in span]
            assert max(ends, default=0) <= info.frames / info.samplerate * 1000 + 30  # the ranges fit (ms)
            checked += 1
    assert checked


def test_encord_dicom_slices_have_the_rows_size_and_uids(cli: list[str], tmp_path: Path) -> None:
    import pydicom

    checked = 0
    for data_type in ("dicom", "dicom_study"):
        out = tmp_path / data_type
        for entry in _generate(cli, out, "encord", "--profile", "lenient", "--data-type", data_type):
            _no_av_skipped(entry)
            for row in json.loads((out / entry["path"]).read_text()):
                unit = next(iter(row["data_units"].values()))
                for key, blob in unit["labels"].items():
                    meta = blob["metadata"]
                    path = out / entry["media_dir"] / meta["file_uri"].rsplit("/", 1)[-1]
                    assert path.read_bytes()[128:132] == b"DICM"
                    dataset = pydicom.dcmread(path)
                    assert (dataset.Columns, dataset.Rows) == (int(meta["width"]), int(meta["height"]))
                    assert dataset.pixel_array.shape == (int(meta["height"]), int(meta["width"]))
                    assert dataset.SOPInstanceUID == meta["dicom_instance_uid"]
                    assert dataset.file_meta.MediaStorageSOPInstanceUID == meta["dicom_instance_uid"]
                    assert dataset.StudyInstanceUID == unit["metadata"]["study_uid"]
                    assert dataset.SeriesInstanceUID == unit["metadata"]["series_uid"]
                    assert int(dataset.InstanceNumber) == int(key) + 1
                    checked += 1
    assert checked


def test_encord_group_children_match_their_spaces(cli: list[str], tmp_path: Path) -> None:
    import pydicom
    import soundfile

    kinds: set[str] = set()
    for entry in _generate(cli, tmp_path, "encord", "--profile", "lenient", "--data-type", "group"):
        _no_av_skipped(entry)
        media = tmp_path / entry["media_dir"]
        for row in json.loads((tmp_path / entry["path"]).read_text()):
            for space in row["spaces"].values():
                name = (space.get("child_info") or {}).get("file_name")
                kind = space["space_type"]
                if kind == "video":
                    frames, width, height, _fps = _video_facts(media / name)
                    assert (frames, width, height) == (
                        space["number_of_frames"],
                        space["width"],
                        space["height"],
                    )
                elif kind == "audio":
                    info = soundfile.info(str(media / name))
                    assert info.frames / info.samplerate == pytest.approx(
                        space["duration_ms"] / 1000, abs=0.03
                    )
                elif kind == "medical_file":
                    dataset = pydicom.dcmread(media / name)
                    assert dataset.pixel_array.shape[-2:] == (space["height"], space["width"])
                    assert int(getattr(dataset, "NumberOfFrames", 1)) == space["number_of_frames"]
                elif kind == "medical_stack":
                    for frame in space["frames"]:
                        dataset = pydicom.dcmread(media / frame["file_name"])
                        assert (dataset.Columns, dataset.Rows) == (frame["width"], frame["height"])
                        assert dataset.SOPInstanceUID == frame["instance_uid"]
                else:
                    continue
                kinds.add(kind)
    assert kinds >= {"video"}, kinds


def test_datagym_videos_have_the_tasks_frames_rate_and_size(cli: list[str], tmp_path: Path) -> None:
    checked = 0
    for entry in _generate(cli, tmp_path, "datagym", "--data-type", "video"):
        _no_av_skipped(entry)
        for task in json.loads((tmp_path / entry["path"]).read_text())[1:]:
            if "video_total_frames" not in task:
                continue  # a task without the video facts: nothing to compare with
            name = task.get("external_media_ID", task.get("external_image_ID"))  # pre-2021: image_ID
            frames, width, height, fps = _video_facts(tmp_path / entry["media_dir"] / name)
            numerator, denominator = task["video_frame_rate"].split("/")
            assert frames == int(task["video_total_frames"])
            assert (width, height) == (int(task["video_width"]), int(task["video_height"]))
            assert fps == pytest.approx(int(numerator) / int(denominator), abs=0.01)
            checked += 1
    assert checked


def test_without_ffmpeg_video_and_audio_are_listed_as_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extra 'media' (no imageio-ffmpeg), nothing is skipped silently: each file is listed with
    the reason; DICOM needs no extra."""
    from labelspec.generators.fixtures import media, media_av
    from labelspec.generators.fixtures.common import RandomDraw
    from labelspec.generators.fixtures.encord import build_export

    monkeypatch.setattr(media_av, "_ffmpeg", lambda: None)
    for data_type, kind in (("video", "video"), ("audio", "audio")):
        rows, _ = build_export(
            RandomDraw(f"no-ffmpeg/{data_type}"), profile="lenient", data_types=[data_type]
        )
        files, skipped = media.media_for("encord", rows, "seed")
        assert skipped and {s["kind"] for s in skipped} == {kind}
        assert all("labelspec[media]" in s["reason"] for s in skipped)
        assert not [name for name in files if name.endswith((".mp4", ".mp3"))]
    rows, _ = build_export(RandomDraw("no-ffmpeg/dicom"), profile="lenient", data_types=["dicom"])
    files, skipped = media.media_for("encord", rows, "seed")
    assert not skipped and all(name.endswith(".dcm") for name in files) and files


def test_video_audio_and_dicom_bytes_are_seeded() -> None:
    """Same seed, same bytes (FFmpeg runs with bitexact flags and one thread); another seed, other bytes."""
    from labelspec.generators.fixtures import media_av, media_dicom

    assert media_av.video(34, 21, 3, 29.97, "a") == media_av.video(34, 21, 3, 29.97, "a")
    assert media_av.video(34, 21, 3, 29.97, "a") != media_av.video(34, 21, 3, 29.97, "b")
    assert media_av.audio(0.5, 16000, 2, "a") == media_av.audio(0.5, 16000, 2, "a")
    facts = {"width": 5, "height": 3, "instance_uid": "1.2.3.1", "study_uid": "1.2", "series_uid": "1.2.3"}
    assert media_dicom.dicom(**facts) == media_dicom.dicom(**facts)
