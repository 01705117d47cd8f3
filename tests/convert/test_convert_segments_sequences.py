"""The Segments writer writes videos and image sequences as sequence samples (issue 14).

Inputs: Encord video and image-sequence rows written by encord 0.1.211 (``LabelRowV2.to_encord_dict``), and
the Segments image-vector-sequence release of the corpus (plus a sample reusing its track ids).

Oracles, independent of labelspec's readers: the output release is checked with the segments-ai 1.33.0
typing models (``tests.interop.test_segments_sdk.sdk_accepts``) and loaded with ``SegmentsDataset``
offline; its objects per frame and track are compared with the source JSON read here (Encord: normalised
coordinates times the data unit's size; bitmasks decoded by encord's own codec, label PNGs decoded with
PIL as R + 256 G + 65536 B, Segments' documented encoding). Every output is validated under the strict
profile (conftest).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from encord.objects.bitmask import BitmaskCoordinates
from hypothesis import given, settings
from PIL import Image
from segments.dataset import SegmentsDataset

from labelspec import generators
from labelspec.convert.api import convert
from labelspec.convert.registry import ConversionError
from tests.conftest import CORPUS, examples
from tests.convert.test_convert_corpus import make_media
from tests.convert.test_convert_encord_groups import _encord_export, _segments_tracks, _sequence_release
from tests.interop.test_segments_sdk import sdk_accepts

_VECTOR = ("bounding_box", "point", "polyline")


def _keep_shapes(labels: Path, rows: list[dict[str, Any]], shapes: tuple[str, ...]) -> None:
    """Keep only objects of ``shapes`` in the source rows (rewritten in place)."""
    for row in rows:
        for unit in row["data_units"].values():
            blobs = unit["labels"].values() if row["data_type"] == "video" else [unit["labels"]]
            for blob in blobs:
                blob["objects"] = [o for o in blob["objects"] if o["shape"] in shapes]
    labels.write_text(json.dumps(rows), encoding="utf-8")


def _source_frames(row: dict[str, Any]) -> list[tuple[int, dict[str, Any], tuple[int, int]]]:
    """(frame number, frame blob, (width, height)) of a video or image-sequence row, in frame order."""
    found = []
    for unit in row["data_units"].values():
        size = (int(unit["width"]), int(unit["height"]))
        if row["data_type"] == "video":
            found.extend((int(k), blob, size) for k, blob in unit["labels"].items())
        else:
            found.append((int(unit["data_sequence"]), unit["labels"], size))
    return sorted(found, key=lambda f: f[0])


def _source_shape(obj: dict[str, Any], size: tuple[int, int]) -> tuple[str, tuple[float, ...]]:
    w, h = size
    if obj["shape"] == "bounding_box":
        b = obj["boundingBox"]
        return ("bbox", (b["x"] * w, b["y"] * h, (b["x"] + b["w"]) * w, (b["y"] + b["h"]) * h))
    if obj["shape"] == "point":
        return ("point", (obj["point"]["0"]["x"] * w, obj["point"]["0"]["y"] * h))
    points = obj["polyline"]
    points = [points[k] for k in sorted(points, key=int)] if isinstance(points, dict) else points
    return ("polyline", tuple(c for p in points for c in (p["x"] * w, p["y"] * h)))


def _written_shape(annotation: dict[str, Any]) -> tuple[str, tuple[float, ...]]:
    return (annotation["type"], tuple(c for point in annotation["points"] for c in point))


def _assert_tracks(source: list[dict[Any, Any]], written: list[dict[Any, Any]]) -> None:
    """Frame by frame, the same shapes; one written track per source track, and the other way round."""
    assert len(written) == len(source)
    tracks: dict[Any, Any] = {}
    for frame_source, frame_written in zip(source, written, strict=True):
        assert len(frame_written) == len(frame_source)
        for track, (kind, coords) in frame_source.items():
            matches = [
                t
                for t, (k, c) in frame_written.items()
                if k == kind
                and len(c) == len(coords)
                and np.allclose(np.asarray(c, dtype=float), coords, atol=1e-6)
            ]
            assert matches, (track, kind)
            assert tracks.setdefault(track, matches[0]) in matches, f"track {track} changed its id"
    assert len(set(tracks.values())) == len(tracks), "two source tracks became one"


def _samples(release: Path) -> dict[str, dict[str, Any]]:
    document = json.loads(release.read_text(encoding="utf-8"))
    assert sdk_accepts(document)
    dataset = SegmentsDataset(str(release), segments_dir=None, load_images=False)
    # image-vector-sequence: SegmentsDataset yields the sample itself
    samples = (
        [dataset[i] for i in range(len(dataset))] if dataset.task_type == "image-vector-sequence" else []
    )
    return {s["name"]: s for s in samples or document["dataset"]["samples"]}


def test_encord_video_and_image_sequence_become_sequence_samples_with_their_tracks(tmp_path: Path) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "video", "img_sequence", "image")
    _keep_shapes(labels, rows, _VECTOR)
    out = tmp_path / "seg.json"
    report = convert(labels, "segments", out, ontology=ontology, statuses=["all"])
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["dataset"]["task_type"] == "image-vector-sequence"
    samples = _samples(out)
    assert set(samples) == {"clip.mp4", "sequence", "still.png"}
    for row in rows:
        sample = samples[row["data_title"]]
        frames = sample["labels"]["ground-truth"]["attributes"]["frames"]
        assert len(sample["attributes"]["frames"]) == len(frames)
        if row["data_type"] == "image":  # a loose image: a sequence of one frame, reported
            assert len(frames) == 1
            continue
        source_frames = _source_frames(row)
        if row["data_type"] == "video":  # the frames' times: frame number / the video's frame rate
            fps = float(next(iter(row["data_units"].values()))["data_fps"])
            times = [f.get("timestamp") for f in sample["attributes"]["frames"]]
            assert times == [pytest.approx(n / fps) for n, _, _ in source_frames]
        source = [
            {obj["objectHash"]: _source_shape(obj, size) for obj in blob["objects"]}
            for _, blob, size in source_frames
        ]
        written = [{a["track_id"]: _written_shape(a) for a in frame["annotations"]} for frame in frames]
        assert all(a["id"] == a["track_id"] for frame in frames for a in frame["annotations"])
        _assert_tracks(source, written)
    reasons = {(loss.what, loss.reason) for loss in report.losses}
    assert any(what == "frame number" for what, _ in reasons)  # the video's frames 0, 1, 5 become 0, 1, 2
    assert any("sequence of one frame" in reason for _, reason in reasons)


def test_encord_bitmasks_become_an_image_segmentation_sequence_with_track_ids_in_the_pixels(
    tmp_path: Path,
) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "img_sequence")
    _keep_shapes(labels, rows, ("bitmask",))
    out = tmp_path / "seg.json"
    convert(labels, "segments", out, ontology=ontology, statuses=["all"])
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["dataset"]["task_type"] == "image-segmentation-sequence"
    assert sdk_accepts(document)
    (sample,) = document["dataset"]["samples"]
    frames = sample["labels"]["ground-truth"]["attributes"]["frames"]
    source, written = [], []
    for (_, blob, _), frame in zip(_source_frames(rows[0]), frames, strict=True):
        source.append(
            {obj["objectHash"]: BitmaskCoordinates.from_dict(obj).to_numpy_array() for obj in blob["objects"]}
        )
        rgba = np.asarray(
            Image.open(out.parent / frame["segmentation_bitmap"]["url"]).convert("RGBA"), dtype=np.uint32
        )
        ids = rgba[..., 0] + 256 * rgba[..., 1] + 65536 * rgba[..., 2]
        assert {a["id"] for a in frame["annotations"]} == set(np.unique(ids).tolist()) - {0}
        written.append({a["track_id"]: ids == a["id"] for a in frame["annotations"]})
    tracks: dict[str, int] = {}
    for frame_source, frame_written in zip(source, written, strict=True):
        assert len(frame_source) == len(frame_written)
        for object_hash, mask in frame_source.items():
            matches = [t for t, m in frame_written.items() if np.array_equal(m, mask)]
            assert matches and tracks.setdefault(object_hash, matches[0]) in matches
    assert tracks and len(set(tracks.values())) == len(tracks)


def test_segments_sequence_release_keeps_its_samples_and_tracks(tmp_path: Path) -> None:
    source = _sequence_release(tmp_path)
    out = tmp_path / "seg.json"
    report = convert(source, "segments", out)
    assert json.loads(out.read_text(encoding="utf-8"))["dataset"]["task_type"] == "image-vector-sequence"
    _samples(out)
    mine, theirs = _segments_tracks(source), _segments_tracks(out)
    assert set(mine) == set(theirs)
    for name in mine:
        frames = sorted(set(mine[name]) | set(theirs[name]))
        _assert_tracks(
            [{t: ("bbox", b) for t, b in mine[name].get(f, {}).items()} for f in frames],
            [{t: ("bbox", b) for t, b in theirs[name].get(f, {}).items()} for f in frames],
        )
    assert report.lossless, report.losses


def test_segments_layout_images_flattens_and_says_so(cli: list[str], tmp_path: Path) -> None:
    source = _sequence_release(tmp_path)
    media = make_media("segments", source, tmp_path / "media")
    out = tmp_path / "seg.json"
    done = subprocess.run(
        [*cli, "convert", str(source), "--to", "segments", "-o", str(out), "--layout", "images",
         "--media-dir", str(media), "--report", str(tmp_path / "report.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["dataset"]["task_type"] == "vector"
    frames = sum(len(s["attributes"]["frames"]) for s in json.loads(source.read_text())["dataset"]["samples"])
    assert len(document["dataset"]["samples"]) == frames
    summary = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]
    assert {s["what"] for s in summary} >= {"media item", "track id"}
    refused = subprocess.run(
        [*cli, "convert", str(source), "--to", "segments", "-o", str(tmp_path / "x.json"),
         "--layout", "darknet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and not (tmp_path / "x.json").exists()


def test_datagym_target_keeps_frames_as_image_tasks_and_says_why(tmp_path: Path) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "video")
    _keep_shapes(labels, rows, _VECTOR)
    report = convert(labels, "datagym", tmp_path / "dg.json", ontology=ontology, statuses=["all"])
    tasks = json.loads((tmp_path / "dg.json").read_text(encoding="utf-8"))[1:]
    assert len(tasks) == len(rows[0]["data_units"][next(iter(rows[0]["data_units"]))]["labels"])
    assert all("task_export_url" not in t for t in tasks)
    reasons = [loss.reason for loss in report.losses if loss.what == "media item"]
    assert len(reasons) == len(tasks) and all("task_export_url" in r for r in reasons)


def _trajectories(document: dict[str, Any]) -> dict[str, Counter[tuple[Any, ...]]]:
    """sample uuid -> the multiset of its tracks, each as (category, ((frame, type, rounded points), ...)),
    from a release's JSON: equal multisets = the same objects on the same frames, grouped the same way."""
    found: dict[str, Counter[tuple[Any, ...]]] = {}
    for sample in document["dataset"]["samples"]:
        label = sample["labels"].get("ground-truth")
        if not label or not label.get("attributes"):
            continue
        tracks: dict[Any, list[tuple[Any, ...]]] = {}
        categories: dict[Any, Any] = {}
        for n, frame in enumerate(label["attributes"]["frames"]):
            for a in frame["annotations"]:
                points = tuple(round(float(c), 6) for point in a["points"] for c in point)
                tracks.setdefault(a["track_id"], []).append((n, a["type"], points))
                categories[a["track_id"]] = a["category_id"]
        found[sample["uuid"]] = Counter((categories[t], tuple(v)) for t, v in tracks.items())
    return found


@settings(max_examples=examples(10), deadline=None)
@given(generators.segments_release(profile="strict", task_types=["image-vector-sequence"], max_size=256))
def test_generated_sequence_releases_keep_their_tracks(release: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder, "release.json"), Path(folder, "out.json")
        source.write_text(json.dumps(release), encoding="utf-8")
        try:
            report = convert(source, "segments", out, statuses=["all"])  # strict-valid: conftest
        except ConversionError as exc:  # nothing convertible (e.g. no sample in the labelset read)
            assert exc.exit_code == 1 and not out.exists()
            return
        written = json.loads(out.read_text(encoding="utf-8"))
    assert written["dataset"]["task_type"] == "image-vector-sequence"
    assert sdk_accepts(written)
    mine, theirs = _trajectories(release), _trajectories(written)
    assert set(theirs) <= set(mine)
    changed = {loss.where for loss in report.losses}
    for uuid, tracks in theirs.items():
        if not any(where.startswith(f"{uuid}/") or where == uuid for where in changed):
            assert tracks == mine[uuid]


def _ids(png: Path) -> np.ndarray:
    rgba = np.asarray(Image.open(png).convert("RGBA"), dtype=np.uint32)
    return rgba[..., 0] + 256 * rgba[..., 1] + 65536 * rgba[..., 2]


def test_segments_segmentation_sequence_keeps_each_tracks_pixels(tmp_path: Path) -> None:
    release = json.loads((CORPUS / "segments" / "image-segmentation-sequence-release.json").read_text())
    frames = release["dataset"]["samples"][0]["labels"]["ground-truth"]["attributes"]["frames"]
    # a second track whose instance id differs between frames (ids are per frame, tracks join them)
    frames[0]["annotations"].append({"id": 2, "category_id": 1, "track_id": 2, "is_keyframe": True})
    frames[1]["annotations"].append({"id": 5, "category_id": 1, "track_id": 2, "is_keyframe": True})
    source = tmp_path / "release.json"
    source.write_text(json.dumps(release), encoding="utf-8")
    media = make_media("segments", source, tmp_path / "media")  # instance i fills row band i
    out = tmp_path / "out" / "seg.json"
    out.parent.mkdir()
    report = convert(source, "segments", out, media_dir=media)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["dataset"]["task_type"] == "image-segmentation-sequence" and sdk_accepts(written)
    (sample,) = written["dataset"]["samples"]
    tracks: dict[int, int] = {}
    for frame, theirs in zip(frames, sample["labels"]["ground-truth"]["attributes"]["frames"], strict=True):
        mine = _ids(media / frame["segmentation_bitmap"]["url"].rsplit("/", 1)[1])
        ours = _ids(out.parent / theirs["segmentation_bitmap"]["url"])
        assert all(a["id"] == a["track_id"] for a in theirs["annotations"])
        for annotation in frame["annotations"]:
            pixels = mine == annotation["id"]
            matches = [
                a["track_id"] for a in theirs["annotations"] if np.array_equal(ours == a["id"], pixels)
            ]
            assert len(matches) == 1 and tracks.setdefault(annotation["track_id"], matches[0]) == matches[0]
    assert len(tracks) == len(set(tracks.values())) == 2
    assert report.lossless, report.losses
