"""The Encord writer keeps videos, image sequences and image groups (issue 14).

Inputs are real producers' output: label rows written by encord's SDK (0.1.211,
``LabelRowV2.to_encord_dict`` through ``tests.interop.encord_sdk_build``), an image sequence as Encord's
platform exports one (the SDK's image-group row with ``is_image_sequence: true``, as
https://docs.encord.com/platform-documentation/Annotate/annotate-export/annotate-export-json
describes it), and the Segments image-vector-sequence release of the corpus.

Oracles, independent of labelspec's readers: every written row is loaded with the encord SDK
(``LabelRowV2.from_labels_dict`` on constructed metadata, ``tests.interop.encord_sdk.build_label_row``)
and its object instances (frame, objectHash, coordinates) are compared with what the source file says,
read from its JSON here. Every output is also validated under the strict profile with its ontology
(conftest).
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from encord.objects.bitmask import BitmaskCoordinates
from encord.objects.coordinates import (
    BoundingBoxCoordinates,
    PointCoordinate,
    PolygonCoordinates,
    PolylineCoordinates,
    RotatableBoundingBoxCoordinates,
)
from hypothesis import given, settings

from labelspec import generators
from labelspec.convert.api import convert
from labelspec.convert.model import (
    Annotation,
    Box,
    Category,
    ConversionReport,
    LabelledDataset,
    MediaGroup,
    MediaItem,
)
from labelspec.convert.registry import ConversionError
from tests.conftest import CORPUS, examples
from tests.convert.test_convert_corpus import make_media
from tests.interop.encord_sdk import build_label_row, sdk_loads_without_loss
from tests.interop.encord_sdk_build import BUILDERS, build_ontology

Frame = dict[str, Any]
_SEQUENCE_RELEASE = CORPUS / "segments" / "image-vector-sequence-release.json"


# ------------------------------------------------------------------------------------------------- inputs


def _renamed(row: dict[str, Any], n: int, title: str) -> dict[str, Any]:
    """The SDK's offline row with the hashes, titles and links an export of several rows has."""
    row["label_hash"] = f"00000000-0000-4000-8000-00000000000{n}"
    row["data_hash"] = f"10000000-0000-4000-8000-00000000000{n}"
    row["data_title"] = title
    units = {}
    for m, unit in enumerate(row["data_units"].values()):
        unit["data_hash"] = (
            row["data_hash"]
            if row["data_type"] != "img_group"
            else f"2000000{n}-0000-4000-8000-00000000000{m}"
        )
        unit["data_title"] = title if row["data_type"] != "img_group" else f"{title}-{m}.jpg"
        unit["data_link"] = f"https://storage.example.com/{unit['data_title']}"
        units[unit["data_hash"]] = unit
    row["data_units"] = units
    return row


def _encord_export(tmp_path: Path, *kinds: str) -> tuple[Path, Path, list[dict[str, Any]]]:
    """labels.json (rows of ``kinds`` written by the SDK with one ontology) and ontology.json."""
    structure = build_ontology()
    rows = []
    for n, kind in enumerate(kinds):
        sdk_kind = "img_group" if kind == "img_sequence" else kind
        row = json.loads(json.dumps(BUILDERS[sdk_kind](structure).to_encord_dict(), default=str))
        title = {"video": "clip.mp4", "img_group": "group", "img_sequence": "sequence"}.get(kind, "still.png")
        row = _renamed(row, n, title)
        if kind == "img_sequence":
            row["is_image_sequence"] = True  # what tells an image sequence from an image group in an export
        rows.append(row)
    labels, ontology = tmp_path / "in.json", tmp_path / "in.ontology.json"
    labels.write_text(json.dumps(rows), encoding="utf-8")
    ontology.write_text(json.dumps(structure.to_dict(), default=str), encoding="utf-8")
    return labels, ontology, rows


def _written(out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = json.loads((out / "labels.json").read_text(encoding="utf-8"))
    return rows, json.loads((out / "ontology.json").read_text(encoding="utf-8"))


# -------------------------------------------------------------------------------------------------- oracle


def _close(a: Any, b: Any) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-9))


def _sdk_geometry(coordinates: Any) -> tuple[Any, ...]:
    """A comparable form of the SDK's coordinates of one annotation."""
    if isinstance(coordinates, BoundingBoxCoordinates):
        c = coordinates
        return ("box", (c.top_left_x, c.top_left_y, c.width, c.height))
    if isinstance(coordinates, RotatableBoundingBoxCoordinates):
        c = coordinates
        return ("rotated", (c.top_left_x, c.top_left_y, c.width, c.height, c.theta))
    if isinstance(coordinates, PointCoordinate):
        return ("point", (coordinates.x, coordinates.y))
    if isinstance(coordinates, PolylineCoordinates):
        return ("polyline", tuple(c for p in coordinates.values for c in (p.x, p.y)))
    if isinstance(coordinates, PolygonCoordinates):
        rings = [
            tuple(c for p in ring for c in (p.x, p.y)) for polygon in coordinates.polygons for ring in polygon
        ]
        return ("polygon", tuple(rings))
    if isinstance(coordinates, BitmaskCoordinates):
        return ("bitmask", coordinates.to_numpy_array())
    raise AssertionError(f"unexpected coordinates {type(coordinates).__name__}")


def _source_geometry(obj: dict[str, Any]) -> tuple[Any, ...] | None:
    """The same form, read from a source frame object's JSON (None: a shape the writer drops)."""
    shape = obj["shape"]
    if shape == "bounding_box":
        b = obj["boundingBox"]
        return ("box", (b["x"], b["y"], b["w"], b["h"]))
    if shape == "rotatable_bounding_box":
        b = obj["rotatableBoundingBox"]
        return ("rotated", (b["x"], b["y"], b["w"], b["h"], b["theta"]))
    if shape == "point":
        return ("point", (obj["point"]["0"]["x"], obj["point"]["0"]["y"]))
    if shape == "polyline":
        points = obj["polyline"]
        points = [points[k] for k in sorted(points, key=int)] if isinstance(points, dict) else points
        return ("polyline", tuple(c for p in points for c in (p["x"], p["y"])))
    if shape == "polygon":
        return ("polygon", tuple(tuple(ring) for polygon in obj["polygons"] for ring in polygon))
    if shape == "bitmask":  # decoded by the SDK's own codec, from the source JSON
        return ("bitmask", BitmaskCoordinates.from_dict(obj).to_numpy_array())
    return None


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "bitmask":
        return bool(np.array_equal(a[1], b[1]))
    if a[0] == "polygon":
        return len(a[1]) == len(b[1]) and all(_close(x, y) for x, y in zip(a[1], b[1], strict=True))
    return _close(a[1], b[1])


def _sdk_objects(row: dict[str, Any], ontology: dict[str, Any]) -> dict[tuple[int, str], tuple[Any, ...]]:
    """(frame, objectHash) -> geometry of every object instance the SDK loads from ``row``."""
    label_row = build_label_row(row, ontology)
    label_row.from_labels_dict(row)
    found = {}
    for instance in label_row.get_object_instances():
        for annotation in instance.get_annotations():
            found[(annotation.frame, instance.object_hash)] = _sdk_geometry(annotation.coordinates)
    return found


def _source_objects(row: dict[str, Any]) -> dict[tuple[int, str], tuple[Any, ...]]:
    """(frame, objectHash) -> geometry of the source row, from its JSON (frame = data_sequence in a group)."""
    found = {}
    for unit in row["data_units"].values():
        labels = unit["labels"]
        frames = (
            {int(unit["data_sequence"]): labels}
            if row["data_type"] in ("img_group", "image")
            else {int(k): v for k, v in labels.items()}
        )
        for frame, blob in frames.items():
            for obj in blob["objects"]:
                geometry = _source_geometry(obj)
                if geometry is not None:
                    found[(frame, obj["objectHash"])] = geometry
    return found


def assert_same_objects(
    source: dict[tuple[int, str], Any], written: dict[tuple[int, str], Any]
) -> dict[str, str]:
    """Same frames, same objects per frame, same coordinates, and one output objectHash per source track
    (and the other way round); returns source objectHash -> output objectHash."""
    assert sorted({f for f, _ in written}) == sorted({f for f, _ in source})
    tracks: dict[str, str] = {}
    for frame in sorted({f for f, _ in source}):
        mine = {h: g for (f, h), g in source.items() if f == frame}
        theirs = {h: g for (f, h), g in written.items() if f == frame}
        assert len(theirs) == len(mine), frame
        for source_hash, geometry in mine.items():
            matches = [h for h, g in theirs.items() if _same(geometry, g)]
            assert matches, (frame, source_hash, geometry[0])
            mapped = tracks.setdefault(source_hash, matches[0])
            assert mapped in matches, f"track {source_hash} changed its objectHash on frame {frame}"
    assert len(set(tracks.values())) == len(tracks), "two source tracks became one object"
    return tracks


def _actions(row: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
    """objectHash -> (attribute name, answer, frame ranges) of its dynamic answers, from a row's JSON."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    for object_hash, entry in row["object_actions"].items():
        for action in entry["actions"]:
            answers = action["answers"]
            answer = tuple(sorted(a["name"] for a in answers)) if isinstance(answers, list) else answers
            ranges = tuple(tuple(r) for r in action["range"])
            found.setdefault(object_hash, set()).add((action["name"], answer, ranges))
    return found


# --------------------------------------------------------------------------------------------------- tests


def test_encord_video_stays_a_video_with_its_frames_tracks_and_fps(tmp_path: Path) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "video")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology)
    written, written_ontology = _written(tmp_path / "out")
    assert [r["data_type"] for r in written] == ["video"]
    (unit,) = written[0]["data_units"].values()
    source_unit = next(iter(rows[0]["data_units"].values()))
    assert (unit["data_fps"], unit["data_duration"]) == (
        source_unit["data_fps"],
        source_unit["data_duration"],
    )
    assert (unit["width"], unit["height"], unit["data_title"]) == (64, 48, "clip.mp4")
    assert sorted(unit["labels"], key=int) == sorted(source_unit["labels"], key=int)
    tracks = assert_same_objects(_source_objects(rows[0]), _sdk_objects(written[0], written_ontology))
    # the dynamic answers (object_actions) of each track, on the same frames
    source_actions = _actions(rows[0])
    assert source_actions  # the SDK row answers a dynamic attribute on frame 0
    written_actions = _actions(written[0])
    assert {tracks[h]: a for h, a in source_actions.items()} == written_actions
    loaded, why = sdk_loads_without_loss(written[0], written_ontology)  # the SDK keeps them all
    assert loaded, why
    summary = {(loss.kind, loss.what) for loss in report.losses}
    assert ("approximated", "media item") not in summary  # nothing flattened
    # the skeleton (a template the model does not carry) is the only dropped object, and it is reported
    assert ("dropped", "keypoints annotation") in summary


@pytest.mark.parametrize("kind", ["img_group", "img_sequence"])
def test_encord_image_groups_and_sequences_stay_img_group_rows(kind: str, tmp_path: Path) -> None:
    labels, ontology, rows = _encord_export(tmp_path, kind, "image")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology)
    written, written_ontology = _written(tmp_path / "out")
    assert [r["data_type"] for r in written] == ["img_group", "image"]
    assert written[0]["is_image_sequence"] is (kind == "img_sequence")
    source_units = sorted(rows[0]["data_units"].values(), key=lambda u: int(u["data_sequence"]))
    units = sorted(written[0]["data_units"].values(), key=lambda u: int(u["data_sequence"]))
    # every image of the group (the unlabelled one too), in its place
    assert [(int(u["data_sequence"]), u["data_title"]) for u in units] == [
        (int(u["data_sequence"]), u["data_title"]) for u in source_units
    ]
    for source_row, row in zip(rows, written, strict=True):
        assert_same_objects(_source_objects(source_row), _sdk_objects(row, written_ontology))
        loaded, why = sdk_loads_without_loss(row, written_ontology)
        assert loaded, why
    assert not [loss for loss in report.losses if loss.what in ("media item", "track")]


def test_layout_images_flattens_and_says_so(tmp_path: Path) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "video", "img_group")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology, layout="images")
    written, _ = _written(tmp_path / "out")
    assert {r["data_type"] for r in written} == {"image"}
    assert len(written) == len(rows[0]["data_units"][rows[0]["data_hash"]]["labels"]) + 3
    flattened = [loss for loss in report.losses if loss.what == "media item"]
    assert len(flattened) == len(written) and all("--layout images" in loss.reason for loss in flattened)
    with pytest.raises(ConversionError, match="the encord target has the layouts sequences and images"):
        convert(labels, "encord", tmp_path / "bad", ontology=ontology, layout="darknet")


def _sequence_release(tmp_path: Path) -> Path:
    """The corpus release plus a third sample: the same track id 1 as drive-01 (ids are per sample) and a
    second track that leaves after frame 0."""
    release = json.loads(_SEQUENCE_RELEASE.read_text(encoding="utf-8"))
    samples = release["dataset"]["samples"]
    third = copy.deepcopy(samples[0])
    third["uuid"], third["name"] = "5e6d0000-0000-4000-8000-0000000000f3", "drive-03"
    for n, frame in enumerate(third["attributes"]["frames"]):
        frame["image"]["url"] = f"https://segmentsai-prod.s3.eu-west-2.amazonaws.com/assets/frames/d3-{n}.jpg"
    frames = third["labels"]["ground-truth"]["attributes"]["frames"]
    extra = copy.deepcopy(frames[0]["annotations"][0])
    extra.update(id=2, track_id=2, points=[[5.0, 6.0], [20.0, 30.0]])
    frames[0]["annotations"].append(extra)
    samples.append(third)
    path = tmp_path / "release.json"
    path.write_text(json.dumps(release), encoding="utf-8")
    return path


def _segments_tracks(path: Path) -> dict[str, dict[int, dict[int, tuple[float, ...]]]]:
    """sample name -> frame -> track id -> (x, y, w, h) in pixels, from the release JSON."""
    release = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, dict[int, dict[int, tuple[float, ...]]]] = {}
    for sample in release["dataset"]["samples"]:
        frames = sample["labels"]["ground-truth"]["attributes"]["frames"]
        per_frame = found.setdefault(sample["name"], {})
        for n, frame in enumerate(frames):
            for a in frame["annotations"]:
                (x0, y0), (x1, y1) = a["points"]
                per_frame.setdefault(n, {})[a["track_id"]] = (
                    min(x0, x1),
                    min(y0, y1),
                    abs(x1 - x0),
                    abs(y1 - y0),
                )
    return found


def test_segments_sequence_release_becomes_image_sequences_with_tracks(tmp_path: Path) -> None:
    source = _sequence_release(tmp_path)
    media = make_media("segments", source, tmp_path / "media")
    out = tmp_path / "out"
    report = convert(source, "encord", out, media_dir=media, cache_dir=tmp_path / "cache")
    written, ontology = _written(out)
    expected = _segments_tracks(source)
    assert [(r["data_type"], r["is_image_sequence"], r["data_title"]) for r in written] == [
        ("img_group", True, name) for name in expected
    ]
    seen_hashes: set[str] = set()
    for row in written:
        frames = expected[row["data_title"]]
        units = sorted(row["data_units"].values(), key=lambda u: int(u["data_sequence"]))
        assert [int(u["data_sequence"]) for u in units] == list(range(len(units)))
        loaded = _sdk_objects(row, ontology)
        by_track: dict[int, set[str]] = {}
        for (frame, object_hash), geometry in loaded.items():
            assert geometry[0] == "box"
            x, y, w, h = geometry[1]
            pixels = (x * 64, y * 48, w * 64, h * 48)  # make_media's images are 64x48
            track = next(t for t, box in frames[frame].items() if _close(box, pixels))
            by_track.setdefault(track, set()).add(object_hash)
        assert sum(len(objects) for objects in frames.values()) == len(loaded)
        assert all(len(hashes) == 1 for hashes in by_track.values()), "one objectHash per track"
        hashes = {h for hs in by_track.values() for h in hs}
        assert not hashes & seen_hashes, "track 1 of two samples became one object"
        seen_hashes |= hashes
    assert not [loss for loss in report.losses if loss.what in ("media item", "track")]


def test_grouped_encord_output_converts_onward_to_coco_with_unique_ids(tmp_path: Path) -> None:
    labels, ontology, _ = _encord_export(tmp_path, "video", "img_group", "img_sequence")
    convert(labels, "encord", tmp_path / "enc", ontology=ontology)
    written, _ = _written(tmp_path / "enc")
    objects = sum(  # COCO has no polylines (dropped, reported); everything else is one annotation
        sum(o["shape"] != "polyline" for o in blob["objects"])
        for row in written
        for unit in row["data_units"].values()
        for blob in (unit["labels"].values() if row["data_type"] == "video" else [unit["labels"]])
    )
    out = tmp_path / "coco.json"
    convert(
        tmp_path / "enc" / "labels.json", "coco-instance", out, ontology=tmp_path / "enc" / "ontology.json"
    )
    coco = json.loads(out.read_text(encoding="utf-8"))
    ids = [a["id"] for a in coco["annotations"]]
    assert len(ids) == len(set(ids)) == objects
    assert len({i["id"] for i in coco["images"]}) == len(coco["images"])


def test_data_group_video_space_is_a_video_row_and_volume_slices_say_they_are_flattened(
    tmp_path: Path,
) -> None:
    labels, ontology, rows = _encord_export(tmp_path, "group", "dicom")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology)
    written, written_ontology = _written(tmp_path / "out")
    space = rows[0]["spaces"]["video-space"]
    slices = sorted(int(k) for k in next(iter(rows[1]["data_units"].values()))["labels"])
    assert [r["data_type"] for r in written] == ["video", "image"] + ["image"] * len(slices)
    (unit,) = written[0]["data_units"].values()
    title = (space.get("child_info") or {}).get("file_name", "video-space")  # the SDK may leave it out
    assert (unit["data_title"], unit["width"], unit["height"]) == (title, space["width"], space["height"])
    assert sorted(map(int, unit["labels"])) == sorted(map(int, space["labels"]))
    source = {
        (int(frame), obj["objectHash"]): _source_geometry(obj)
        for frame, blob in space["labels"].items()
        for obj in blob["objects"]
    }
    assert_same_objects(source, _sdk_objects(written[0], written_ontology))
    flattened = [loss for loss in report.losses if loss.what == "media item"]
    assert len(flattened) == len(slices) and all("DICOM" in loss.reason for loss in flattened)


def test_segments_multisensor_camera_is_an_image_sequence_and_the_lidar_is_reported(tmp_path: Path) -> None:
    source = CORPUS / "segments" / "multisensor-sequence-release.json"
    media = make_media("segments", source, tmp_path / "media")
    report = convert(source, "encord", tmp_path / "out", media_dir=media, cache_dir=tmp_path / "cache")
    written, ontology = _written(tmp_path / "out")
    release = json.loads(source.read_text(encoding="utf-8"))
    sample = release["dataset"]["samples"][0]
    camera = next(
        s for s in sample["labels"]["ground-truth"]["attributes"]["sensors"] if s["name"] == "camera-front"
    )
    frames = camera["attributes"]["frames"]
    (row,) = written  # camera-rear has no label (an empty list): reported, not written
    assert (row["data_type"], row["is_image_sequence"]) == ("img_group", True)
    assert sorted(int(u["data_sequence"]) for u in row["data_units"].values()) == list(range(len(frames)))
    loaded = _sdk_objects(row, ontology)
    assert sorted(frame for frame, _ in loaded) == [
        n for n, frame in enumerate(frames) for _ in frame["annotations"]
    ]
    dropped = {(loss.what, loss.reason.split(",")[0]) for loss in report.losses if loss.kind == "dropped"}
    assert any(what == "point-cloud media item" for what, _ in dropped)
    assert any(what == "sensor" for what, _ in dropped)


def test_encord_layout_choice_on_the_command_line(cli: list[str], tmp_path: Path) -> None:
    labels, ontology, _ = _encord_export(tmp_path, "video")
    done = subprocess.run(
        [*cli, "convert", str(labels), "--to", "encord", "-o", str(tmp_path / "out"), "--ontology",
         str(ontology), "--layout", "images"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written, _ = _written(tmp_path / "out")
    assert {r["data_type"] for r in written} == {"image"} and len(written) > 1
    refused = subprocess.run(
        [*cli, "convert", str(labels), "--to", "encord", "-o", str(tmp_path / "x"), "--ontology",
         str(ontology), "--layout", "darknet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (
        refused.returncode == 2 and "the encord target has the layouts sequences and images" in refused.stderr
    )
    assert not (tmp_path / "x").exists()


def _frame(n: int, size: tuple[int, int] = (40, 30), group: str = "v") -> MediaItem:
    return MediaItem(
        f"{group}@{n}", f"{group}_{n:06d}.jpg", *size, kind="frame", sequence_id=group, frame_index=n
    )


@pytest.mark.parametrize(
    ("media", "group", "data_type", "what"),
    [
        # a duration that ends before the last labelled frame: data_duration is left out
        ([_frame(0), _frame(5)], MediaGroup("v", "video", "v.mp4", fps=1.0, duration=2.0), "video",
         "video duration"),
        # frames of different sizes cannot be one video
        ([_frame(0), _frame(1, (50, 30))], MediaGroup("v", "video", "v.mp4"), "img_group", "video"),
        # frames without distinct numbers: a sequence numbered in order
        ([_frame(3), replace(_frame(4), frame_index=3)], MediaGroup("v", "image_sequence", "v"), "img_group",
         "image sequence"),
    ],
)  # fmt: skip
def test_groups_the_writer_cannot_keep_exactly_are_reported(
    media: list[MediaItem], group: MediaGroup, data_type: str, what: str, tmp_path: Path
) -> None:
    from labelspec.convert.registry import WriteOptions
    from labelspec.convert.writers.encord import WRITER

    boxes = (
        Annotation(f"b{n}", m.id, "car", Box(1.0 + n, 2, 10, 5), track_id="t1") for n, m in enumerate(media)
    )
    dataset = LabelledDataset(tuple(media), (Category("car", "car"),), tuple(boxes), groups=(group,))
    report = ConversionReport("test", "encord")
    WRITER.write(dataset, tmp_path / "out", WriteOptions(), report)  # validated strict by the conftest
    (row,) = json.loads((tmp_path / "out" / "labels.json").read_text(encoding="utf-8"))
    assert row["data_type"] == data_type
    assert [loss.what for loss in report.losses] == [what]
    hashes = {o["objectHash"] for u in row["data_units"].values() for b in (
        u["labels"].values() if data_type == "video" else [u["labels"]]) for o in b["objects"]}  # fmt: skip
    assert len(hashes) == 1  # one track, one object


_KEPT_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point", "bitmask")


def _frames_of(row: dict[str, Any]) -> dict[int, int]:
    """frame -> number of objects of shapes the writer keeps, from a row's JSON (frame = data_sequence in
    image and image-group rows)."""
    counts: dict[int, int] = {}
    for unit in row["data_units"].values():
        labels = unit["labels"]
        blobs = (
            {int(unit["data_sequence"]): labels}
            if row["data_type"] in ("image", "img_group")
            else {int(k): v for k, v in labels.items()}
        )
        for frame, blob in blobs.items():
            kept = sum(obj.get("shape") in _KEPT_SHAPES for obj in blob.get("objects") or ())
            counts[frame] = counts.get(frame, 0) + kept
    return counts


@settings(max_examples=examples(15), deadline=None)
@given(
    generators.encord_export_with_ontology(
        profile="lenient", data_types=["video", "img_group", "image"], max_size=48, max_items=3
    )
)
def test_generated_video_and_group_rows_stay_what_they_are(pair: Any) -> None:
    rows, ontology = pair
    with tempfile.TemporaryDirectory() as folder:
        source, onto, out = Path(folder, "rows.json"), Path(folder, "ontology.json"), Path(folder, "out")
        source.write_text(json.dumps(rows))
        onto.write_text(json.dumps(ontology))
        convert(source, "encord", out, ontology=onto, statuses=["all"])  # strict-valid: conftest
        written, written_ontology = _written(out)
    # a video row whose frames carry no labels has no media item in the model, hence no row; a second row
    # of the same data is not read (reported)
    first = {}
    for r in rows:
        first.setdefault((r["data_type"], r["data_hash"], *sorted(r["data_units"])), r)
    kept = [r for r in first.values() if r["data_type"] != "video" or _frames_of(r)]
    assert [r["data_type"] for r in written] == [r["data_type"] for r in kept]
    for source_row, row in zip(kept, written, strict=True):
        if row["data_type"] == "img_group":
            assert row["is_image_sequence"] is bool(source_row.get("is_image_sequence"))
        loaded: dict[int, int] = {}
        for frame, _ in _sdk_objects(row, written_ontology):
            loaded[frame] = loaded.get(frame, 0) + 1
        expected = {frame: n for frame, n in _frames_of(source_row).items() if n}
        assert loaded == expected


def test_range_classifications_of_sdk_rows_are_kept_on_their_labelled_frames(tmp_path: Path) -> None:
    """encord 0.1.211 writes a classification only as a classification_answers entry with its frame
    range (the frames' classification lists stay empty); each labelled frame in the range keeps it."""
    labels, ontology, rows = _encord_export(tmp_path, "video")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology)
    written, written_ontology = _written(tmp_path / "out")
    source = rows[0]
    labelled = {int(k) for u in source["data_units"].values() for k in u["labels"]}
    expected = {
        (answer["name"], frame)
        for entry in source["classification_answers"].values()
        for answer in entry["classifications"]
        for start, end in entry["range"]
        for frame in labelled
        if start <= frame <= end
    }
    assert expected
    label_row = build_label_row(written[0], written_ontology)
    label_row.from_labels_dict(written[0])
    found = {
        (instance.ontology_item.attributes[0].name, annotation.frame)
        for instance in label_row.get_classification_instances()
        for annotation in instance.get_annotations()
    }
    assert found == expected
    unplaced = [loss for loss in report.losses if loss.what == "classification"]
    assert len(unplaced) == len(source["classification_answers"])  # frames 2-4 have no labelled object


def test_a_second_row_of_the_same_data_is_reported_not_read_twice(tmp_path: Path) -> None:
    """Two projects' exports of one dataset put together: each row is a whole labelling of its data."""
    labels, ontology, rows = _encord_export(tmp_path, "video", "image")
    again = [copy.deepcopy(row) for row in rows]
    for n, row in enumerate(again):
        row["label_hash"] = f"00000000-0000-4000-8000-0000000000f{n}"
    labels.write_text(json.dumps(rows + again), encoding="utf-8")
    for target in ("encord", "coco-instance"):
        out = tmp_path / target
        report = convert(labels, target, out, ontology=ontology, statuses=["all"])
        dropped = [loss.where for loss in report.losses if loss.what == "label row"]
        assert dropped == ["/2", "/3"]
    written, written_ontology = _written(tmp_path / "encord")
    assert [r["data_type"] for r in written] == ["video", "image"]
    for source, row in zip(rows, written, strict=True):
        assert_same_objects(_source_objects(source), _sdk_objects(row, written_ontology))


def _object_answers(row: dict[str, Any]) -> dict[str, set[tuple[str, Any]]]:
    """objectHash -> (attribute name, answer option names or text) of its static answers, from the JSON."""
    found: dict[str, set[tuple[str, Any]]] = {}
    for object_hash, entry in row["object_answers"].items():
        for answer in entry["classifications"]:
            given = answer["answers"]
            value = tuple(sorted(a["name"] for a in given)) if isinstance(given, list) else given
            found.setdefault(object_hash, set()).add((answer["name"], value))
    return found


def test_answers_to_nested_attributes_are_kept_and_the_flattening_reported(tmp_path: Path) -> None:
    """The SDK ontology asks '<shape> detail' (a checklist) under the radio option 'big' of '<shape> size'."""
    labels, ontology, rows = _encord_export(tmp_path, "image")
    report = convert(labels, "encord", tmp_path / "out", ontology=ontology, statuses=["all"])
    (written,), written_ontology = _written(tmp_path / "out")
    assert sdk_loads_without_loss(written, written_ontology)[0]
    tracks = assert_same_objects(_source_objects(rows[0]), _sdk_objects(written, written_ontology))
    source, ours = _object_answers(rows[0]), _object_answers(written)
    nested = {name for answers in source.values() for name, _ in answers if name.endswith(" detail")}
    assert nested, "the SDK rows answer nested attributes"
    for source_hash, written_hash in tracks.items():
        assert ours.get(written_hash, set()) == source.get(source_hash, set())
    flattened = {loss.reason.split("'")[1] for loss in report.losses if loss.what == "nested attribute"}
    assert nested <= flattened
    assert not [loss for loss in report.losses if loss.what == "object attribute"]
