"""Regression tests for conversions that broke on inputs the formats allow: Encord image groups, label
branches, data groups and PDF pages, points and skeletons, statuses, point clouds and multi-sensor releases,
report counts and messages, YOLO output layouts.

Inputs are real or realistic: the corpus documents (platform-shaped exports), rows written by Encord's own
SDK (``LabelRowV2.to_encord_dict`` via ``tests.interop.encord_sdk``), and variants built from them by
construction. Outputs are checked with pycocotools and the strict profile (see ``conftest.py``).
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from labelspec.convert.api import convert
from labelspec.convert.registry import ConversionError
from labelspec.validator.api import validate
from tests.conftest import CORPUS, ROOT
from tests.convert.test_convert_corpus import make_media

CASES = ROOT / "tests" / "interop" / "encord_cases"
ONTOLOGY = CASES / "ontology.json"
IMAGE_GROUP = CASES / "img-group-image-group.json"
UNIT_0, UNIT_2 = "aa000000-0000-4000-8000-000000000000", "aa000002-0000-4000-8000-000000000000"


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120)


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _coco(path: Path) -> Any:
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = json.loads(path.read_text(encoding="utf-8"))
    coco.createIndex()
    return coco


def _sdk_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as Encord's SDK writes it back (``LabelRowV2.from_labels_dict`` + ``to_encord_dict``)."""
    pytest.importorskip("encord")
    from tests.interop.encord_sdk import sdk_round_trip

    written, why = sdk_round_trip(row, json.loads(ONTOLOGY.read_text(encoding="utf-8")))
    assert written is not None, why
    return written


def _group_row_with_one_object_on_two_images() -> dict[str, Any]:
    """The image group of the interop cases with one object instance on images 0 and 2 (as the SDK
    writes an ObjectInstance placed on two frames: the same objectHash in two data units)."""
    row = copy.deepcopy(json.loads(IMAGE_GROUP.read_text(encoding="utf-8"))[0])
    row["data_units"][UNIT_2]["labels"]["objects"][0]["objectHash"] = "veh00000"
    return _sdk_row(row)


# ----------------------------------------------------------------------------- Encord image groups


def test_one_object_on_several_images_of_a_group_gets_one_annotation_per_image(tmp_path: Path) -> None:
    row = _group_row_with_one_object_on_two_images()
    hashes = [
        o["objectHash"] for unit in row["data_units"].values() for o in unit["labels"].get("objects", [])
    ]
    assert hashes == ["veh00000", "veh00000"]  # the SDK keeps one hash across the two images
    source = _write(tmp_path / "rows.json", [row])
    out = tmp_path / "coco.json"
    report = convert(source, "coco-instance", out, ontology=ONTOLOGY)
    coco = _coco(out)
    annotations = coco.loadAnns(coco.getAnnIds())
    assert len(annotations) == 2 and len({a["id"] for a in annotations}) == 2
    assert len({a["image_id"] for a in annotations}) == 2
    assert set(report.mappings["annotation_id"]) == {f"veh00000@{UNIT_0}", f"veh00000@{UNIT_2}"}


# ----------------------------------------------------------------------------------- label branches


def test_rows_of_other_label_branches_are_left_out_and_reported(cli: list[str], tmp_path: Path) -> None:
    main = json.loads(IMAGE_GROUP.read_text(encoding="utf-8"))[0]
    branch = copy.deepcopy(main)
    branch["branch_name"] = "review-2"
    branch["label_hash"] = "1f5a5e62-a3e0-4481-932f-1093f7c1d171"
    branch["data_units"][UNIT_0]["labels"]["objects"][0]["objectHash"] = "rev00000"
    branch["data_units"][UNIT_2]["labels"]["objects"] = []
    branch["object_answers"] = {}
    source = _write(tmp_path / "rows.json", [_sdk_row(main), _sdk_row(branch)])
    out, report_path = tmp_path / "main.json", tmp_path / "report.json"
    result = run(cli, "convert", source, "--ontology", ONTOLOGY, "--to", "coco-instance", "-o", out,
                 "--report", report_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    coco = json.loads(out.read_text())
    assert len(coco["images"]) == 3 and len(coco["annotations"]) == 2  # main only: no duplicate ids
    report = json.loads(report_path.read_text())
    skipped = [loss for loss in report["losses"] if loss["what"] == "label row"]
    reason = "on label branch 'review-2', not 'main' (--branch)"
    assert skipped == [{"kind": "dropped", "what": "label row", "reason": reason, "where": "/1"}]
    other = tmp_path / "review.json"
    result = run(cli, "convert", source, "--ontology", ONTOLOGY, "--to", "coco-instance", "-o", other,
                 "--branch", "review-2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(json.loads(other.read_text())["annotations"]) == 1


# ----------------------------------------------------------------------------- data groups and PDF


def test_data_group_image_and_video_spaces_are_converted(tmp_path: Path) -> None:
    source = CORPUS / "encord" / "group-row.json"
    document = json.loads(source.read_text(encoding="utf-8"))
    space = document[0]["spaces"]["sp-image"]
    obj = copy.deepcopy(document[0]["spaces"]["sp-video"]["labels"]["0"]["objects"][0])
    obj["objectHash"] = "Img+0001"
    space["labels"] = {"0": {"objects": [obj], "classifications": []}}
    out = tmp_path / "coco.json"
    convert(_write(tmp_path / "group.json", document), "coco-instance", out)
    coco = json.loads(out.read_text())
    images = {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    assert images == {"surgery_1_000000.jpg": (1280, 720), "overview.png": (800, 600)}
    by_image = {i["id"]: i["file_name"] for i in coco["images"]}
    boxes = {by_image[a["image_id"]]: a["bbox"] for a in coco["annotations"]}
    # the same normalised box (x 0.6, y 0.4, w 0.3, h 0.2) in pixels of each space
    assert boxes == {"surgery_1_000000.jpg": [768, 288, 384, 144], "overview.png": [480, 240, 240, 120]}


def test_pdf_pages_are_converted_with_sizes_from_the_rendered_pages(cli: list[str], tmp_path: Path) -> None:
    source = CORPUS / "encord" / "pdf-row.json"
    out = tmp_path / "coco.json"
    missing = run(cli, "convert", source, "--to", "coco-instance", "-o", out)
    assert (
        missing.returncode == 2
        and "contract_page0001.png" in missing.stderr
        and "--media-dir" in missing.stderr
    )
    media = tmp_path / "pages"
    media.mkdir()
    for page in (1, 4):  # pages 0 and 3 of the row are labelled
        Image.new("RGB", (612, 792)).save(media / f"contract_page{page:04d}.png")
    result = run(cli, "convert", source, "--to", "coco-instance", "-o", out, "--media-dir", media)
    assert result.returncode == 0, result.stderr
    coco = json.loads(out.read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == [
        "contract_page0001.png",
        "contract_page0004.png",
    ]
    (annotation,) = coco["annotations"]
    assert annotation["bbox"] == pytest.approx([0.7 * 612, 0.9 * 792, 0.2 * 612, 0.05 * 792])


# ---------------------------------------------------------------------------- points and skeletons


def test_points_and_skeletons_are_keypoints_of_a_keypoint_category(tmp_path: Path) -> None:
    for case, names in (("shape-point.json", ["point"]), ("shape-skeleton-visibility.json", None)):
        out = tmp_path / f"{case}.coco.json"
        report = convert(CASES / case, "coco-instance", out, ontology=ONTOLOGY)
        coco = _coco(out)
        (annotation,) = coco.loadAnns(coco.getAnnIds())
        category = coco.loadCats(annotation["category_id"])[0]
        declared = category["keypoints"]
        assert declared == names if names else len(declared) == len(annotation["keypoints"]) // 3
        assert annotation["num_keypoints"] == sum(1 for v in annotation["keypoints"][2::3] if v)
        assert annotation["area"] > 0  # COCOeval scales keypoint similarity by it
        # no region: the keypoints' bounding box stands in for it (said), so strict COCO holds it and
        # pycocotools rasterises it
        reasons = [loss.reason for loss in report.losses if loss.what == "keypoints annotation"]
        assert reasons and "bounding box" in reasons[0]
        x, y, w, h = annotation["bbox"]
        assert w >= 1 and h >= 1 and annotation["segmentation"] == [[x, y, x + w, y, x + w, y + h, x, y + h]]
        assert coco.annToMask(annotation).sum() >= 1
        checked = validate(out, format="coco-instance", profile="strict")
        assert checked.valid, [(f.rule, f.pointer) for f in checked.files[0].findings]


# ------------------------------------------------------------------------------------------ statuses


def test_skipped_datagym_tasks_are_not_written_as_empty_images(tmp_path: Path) -> None:
    source = CORPUS / "datagym" / "image-project.json"
    media = make_media("datagym", source, tmp_path / "media")
    out = tmp_path / "coco.json"
    report = convert(source, "coco-instance", out, media_dir=media)
    names = {i["file_name"] for i in json.loads(out.read_text())["images"]}
    assert "street_0002.jpg" not in names and len(names) == 3  # the skipped task
    assert report.counts["filtered_tasks"] == 1
    everything = tmp_path / "all.json"
    convert(source, "coco-instance", everything, media_dir=media, statuses=["all"])
    assert len(json.loads(everything.read_text())["images"]) == 4
    only = tmp_path / "reviewed.json"
    convert(source, "coco-instance", only, media_dir=media, statuses=["REVIEWED"])
    assert len(json.loads(only.read_text())["images"]) == 1


def test_not_labelled_encord_rows_are_left_out_by_default(cli: list[str], tmp_path: Path) -> None:
    labelled = json.loads((CASES / "shape-point.json").read_text(encoding="utf-8"))[0]
    unlabelled = copy.deepcopy(json.loads(IMAGE_GROUP.read_text(encoding="utf-8"))[0])
    unlabelled["label_status"] = "NOT_LABELLED"
    for unit in unlabelled["data_units"].values():
        unit["labels"] = {"objects": [], "classifications": []}
    unlabelled["object_answers"] = {}
    source = _write(tmp_path / "rows.json", [labelled, _sdk_row(unlabelled)])
    out = tmp_path / "coco.json"
    result = run(cli, "convert", source, "--ontology", ONTOLOGY, "--to", "coco-instance", "-o", out)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(out.read_text())["images"]) == 1
    assert "filtered         1 x rows: status not selected (--status)" in result.stderr
    result = run(cli, "convert", source, "--ontology", ONTOLOGY, "--to", "coco-instance", "-o", out,
                 "--force", "--status", "all")  # fmt: skip
    assert result.returncode == 0 and len(json.loads(out.read_text())["images"]) == 4


# ------------------------------------------------------------------------ point clouds, multi-sensor


@pytest.mark.parametrize(
    "target", ["semantic-png", "instance-png", "coco-panoptic", "encord", "coco-instance"]
)
def test_a_point_cloud_release_says_nothing_can_be_converted(
    cli: list[str], tmp_path: Path, target: str
) -> None:
    source = CORPUS / "segments" / "pointcloud-cuboid-release.json"
    out, report_path = tmp_path / "out", tmp_path / "report.json"
    result = run(cli, "convert", source, "--to", target, "-o", out, "--report", report_path)
    assert result.returncode == 1, result.stderr
    assert "nothing in" in result.stderr and "point-cloud media item" in result.stderr
    assert "image size" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
    report = json.loads(report_path.read_text())
    assert report["ok"] is False and report["lossless"] is False


def _rows(name: str) -> list[Any]:
    document = json.loads((CORPUS / "encord" / name).read_text(encoding="utf-8"))
    return document if isinstance(document, list) else [document]


def test_encord_rows_without_images_are_dropped_one_by_one_with_their_reason(
    cli: list[str], tmp_path: Path
) -> None:
    """Audio, text, HTML and scene rows (the SDK's own audio row among them) have no pixels: each is a
    dropped item named by its place; with no image row left the run is exit 1 and writes nothing."""
    pictureless = [
        row
        for name in ("audio-row.json", "plain-text-row.json", "html-row.json", "scene-row.json")
        for row in _rows(name)
    ]
    pictureless += [r for r in _rows("sdk-writer-rows.json") if r["data_type"] == "audio"]
    kinds = {row["data_type"] for row in pictureless}
    assert {"audio", "plain_text", "scene"} <= kinds
    source = _write(tmp_path / "no-images.json", pictureless)
    out, report_path = tmp_path / "coco.json", tmp_path / "report.json"
    result = run(cli, "convert", source, "--to", "coco-instance", "-o", out, "--report", report_path)
    assert result.returncode == 1 and not out.exists(), result.stderr
    assert "nothing in" in result.stderr and "Traceback" not in result.stderr
    losses = json.loads(report_path.read_text())["losses"]
    dropped = sorted(loss["where"] for loss in losses if loss["what"] == "label row")
    assert dropped == [f"/{i}" for i in range(len(pictureless))]
    for kind in kinds:
        assert f"data type {kind!r} has no image representation" in result.stderr
    # with an image row beside them: converted (exit 0), the others listed by place in the summary
    image = _rows("image-row.json")
    mixed = _write(tmp_path / "mixed.json", [*image, *pictureless])
    done = run(cli, "convert", mixed, "--to", "coco-instance", "-o", out, "--report", report_path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(out.read_text())["images"]) >= 1
    audio_places = [f"/{len(image) + i}" for i, row in enumerate(pictureless) if row["data_type"] == "audio"]
    line = next(x for x in done.stderr.splitlines() if "data type 'audio'" in x)
    assert all(place in line for place in audio_places), line


def test_a_multisensor_release_converts_its_cameras_and_reports_the_point_clouds(tmp_path: Path) -> None:
    source = CORPUS / "segments" / "multisensor-sequence-release.json"
    document = json.loads(source.read_text(encoding="utf-8"))
    media = make_media("segments", source, tmp_path / "media")
    out = tmp_path / "coco.json"
    report = convert(source, "coco-instance", out, media_dir=media)
    coco = json.loads(out.read_text())
    (sample,) = document["dataset"]["samples"]
    labels = {s["name"]: s["attributes"] for s in sample["labels"]["ground-truth"]["attributes"]["sensors"]}
    cameras = [
        s for s in sample["attributes"]["sensors"] if s["task_type"].startswith("image") and labels[s["name"]]
    ]  # cameras with labels (a sensor without labels has an empty list as its placeholder)
    frames = sum(len(s["attributes"]["frames"]) for s in cameras)
    assert cameras and len(coco["images"]) == frames
    assert all(i["file_name"].startswith("drive-multi-01-camera-front-") for i in coco["images"])
    dropped = {loss.what for loss in report.losses if loss.kind == "dropped"}
    assert {"point-cloud media item", "sensor"} <= dropped


# ------------------------------------------------------------------------------- reports, messages


@pytest.mark.parametrize("target", ["coco-panoptic", "encord", "datagym", "segments", "semantic-png"])
def test_summary_counts_are_not_doubled(cli: list[str], tmp_path: Path, target: str) -> None:
    source = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"
    images = len(json.loads(source.read_text())["images"])
    out = tmp_path / ("out.json" if target in ("datagym", "segments") else "out")
    report_path = tmp_path / "report.json"
    result = run(cli, "convert", source, "--to", target, "-o", out, "--report", report_path)
    assert result.returncode == 0, result.stderr
    assert f"read {images} media," in result.stderr
    assert json.loads(report_path.read_text())["counts"]["media"] == images


def test_the_coco_writer_reports_boxes_past_the_image(tmp_path: Path) -> None:
    source = CORPUS / "datagym" / "image-project.json"
    media = make_media("datagym", source, tmp_path / "media")  # 64 x 48 images: the polygons leave them
    report = convert(source, "coco-instance", tmp_path / "coco.json", media_dir=media)
    outside = [loss for loss in report.losses if "past the image border" in loss.reason]
    assert outside and all(loss.kind == "approximated" and loss.where for loss in outside)


def test_an_undetectable_input_is_explained_once_and_names_from(cli: list[str], tmp_path: Path) -> None:
    source = _write(tmp_path / "odd.json", {"hello": "world"})
    result = run(cli, "convert", source, "--to", "coco-instance", "-o", tmp_path / "o.json")
    assert result.returncode == 2
    assert result.stderr.count("cannot tell the format") == 1
    assert "--from FORMAT" in result.stderr and "--format" not in result.stderr


# ------------------------------------------------------------------------------------- YOLO output


def test_yolo_output_layouts(cli: list[str], tmp_path: Path) -> None:
    source = CORPUS / "coco-instance" / "pycocotools_ground_truth.json"
    coco = json.loads(source.read_text())
    names = [c["name"] for c in coco["categories"]]
    ultralytics = tmp_path / "ultralytics"
    assert run(cli, "convert", source, "--to", "yolo", "-o", ultralytics).returncode == 0
    data = yaml.safe_load((ultralytics / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(names)) and data["nc"] == len(names)
    assert data["train"] == "images" and "path" not in data  # resolved next to data.yaml by ultralytics
    stems = sorted(Path(i["file_name"]).stem for i in coco["images"])
    assert sorted(p.stem for p in (ultralytics / "labels").glob("*.txt")) == stems
    darknet = tmp_path / "darknet"
    assert run(cli, "convert", source, "--to", "yolo", "-o", darknet, "--layout", "darknet").returncode == 0
    assert (darknet / "obj.names").read_text().splitlines() == names
    settings = dict(line.split(" = ") for line in (darknet / "obj.data").read_text().splitlines())
    assert settings == {
        "classes": str(len(names)),
        "train": "train.txt",
        "names": "obj.names",
        "backup": "backup/",
    }
    listed = (darknet / "train.txt").read_text().splitlines()
    assert sorted(listed) == sorted(f"obj_train_data/{i['file_name']}" for i in coco["images"])
    # the label files themselves, beside where train.txt puts the images: the same lines as ultralytics'
    for stem in stems:
        darknet_label = (darknet / "obj_train_data" / f"{stem}.txt").read_text()
        assert darknet_label == (ultralytics / "labels" / f"{stem}.txt").read_text()
    for layout in (ultralytics, darknet):
        checked = run(cli, "validate", layout, "--format", "yolo", "--profile", "strict")
        assert checked.returncode == 0, checked.stdout
    with pytest.raises(ConversionError):
        convert(source, "yolo", tmp_path / "bad", layout="nonsense")


def test_yolo_output_check_reports_what_validating_the_folder_reports(tmp_path: Path) -> None:
    """The writer checks its ultralytics output as the dataset it wrote (no folder walk): the findings must
    be those of ``validate FOLDER``, also on a folder edited after writing (bad token, class out of range,
    box past the border, blank line)."""
    from labelspec.convert.model import ConversionReport
    from labelspec.convert.readers import coco as coco_reader
    from labelspec.convert.registry import ReadOptions, WriteOptions
    from labelspec.convert.writers.yolo import WRITER
    from labelspec.validator.api import validate

    source = json.loads((CORPUS / "coco-instance" / "pycocotools_ground_truth.json").read_text())
    report = ConversionReport("coco-instance", "yolo")
    dataset = coco_reader.read(source, ReadOptions(), report)
    out = tmp_path / "out"
    paths = WRITER.write(dataset, out, WriteOptions(), report)
    assert paths[0].name == "data.yaml" and len(paths) == 1 + len(source["images"])

    def findings(checked: Any) -> list[tuple[str, str, str]]:
        return [(f.rule, f.pointer, f.severity) for f in checked.files[0].findings]

    assert WRITER.validate_output(paths).valid
    assert findings(WRITER.validate_output(paths)) == findings(validate(out, format="yolo"))
    # the decider certified every file as it was written: nothing is left to read back
    assert paths.unchecked == []  # type: ignore[attr-defined]
    label = paths[1]
    label.write_text(label.read_text() + "\n9999 0.5 0.5 0.2 0.2\n0 1.5 0.5 0.2 0.2\n0 x 0.5 0.2 0.2\n")
    edited = WRITER.validate_output(list(paths))  # a plain list: every label file is read back
    assert not edited.valid and len(findings(edited)) >= 3
    assert findings(edited) == findings(validate(out, format="yolo"))


def test_yolo_output_files_the_decider_is_unsure_of_are_read_back(tmp_path: Path, monkeypatch: Any) -> None:
    """A chunk the write-time decider is not sure about is listed and validated from disk by the reference
    path, with the findings ``labelspec validate`` gives."""
    from labelspec.convert.model import ConversionReport
    from labelspec.convert.readers import coco as coco_reader
    from labelspec.convert.registry import ReadOptions, WriteOptions
    from labelspec.convert.writers import yolo_check
    from labelspec.convert.writers.yolo import WRITER
    from labelspec.validator.api import validate

    source = json.loads((CORPUS / "coco-instance" / "pycocotools_ground_truth.json").read_text())
    report = ConversionReport("coco-instance", "yolo")
    dataset = coco_reader.read(source, ReadOptions(), report)
    monkeypatch.setattr(yolo_check, "certainly_clean", lambda texts, classes: False)
    out = tmp_path / "out"
    paths = WRITER.write(dataset, out, WriteOptions(), report)
    assert sorted(paths.unchecked) == sorted(str(p) for p in paths[1:])  # type: ignore[attr-defined]
    label = paths[1]
    label.write_text(label.read_text() + "9999 0.5 0.5 0.2 0.2\n0 1.5 0.5 0.2 0.2\n0 x 0.5 0.2 0.2\n")
    checked = WRITER.validate_output(paths)
    assert not checked.valid and len(checked.files[0].findings) >= 3
    expected = validate(out, format="yolo").files[0].findings
    assert [(f.rule, f.pointer) for f in checked.files[0].findings] == [(f.rule, f.pointer) for f in expected]


# -------------------------------------------------------------------------------------- YOLO input


def _yolo_image(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(path)


def test_yolo_label_files_with_dots_find_their_own_images(tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    (dataset / "labels").mkdir(parents=True)
    (dataset / "data.yaml").write_text("names: [car]\n")
    roboflow = "street_01_jpg.rf.3f9c2a1b7e5d4c6a8b0e1f2d3c4b5a69"
    for stem in ("a.b", roboflow):
        (dataset / "labels" / f"{stem}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    _yolo_image(dataset / "images" / "a.b.jpg", (100, 40))
    _yolo_image(dataset / "images" / "a.jpg", (10, 10))  # the image a shorter stem would wrongly find
    _yolo_image(dataset / "images" / f"{roboflow}.jpg", (640, 640))
    _yolo_image(dataset / "images" / "street_01.jpg", (20, 20))  # Roboflow's original name: not this
    out = tmp_path / "coco.json"
    convert(dataset, "coco-instance", out, media_dir=dataset)
    coco = json.loads(out.read_text())
    sizes = {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    assert sizes == {"images/a.b.jpg": (100, 40), f"images/{roboflow}.jpg": (640, 640)}


@pytest.mark.parametrize(("kpt_shape", "points"), [((17, 3), 17), ((2, 3), 2), ((3, 2), 3)])
def test_yolo_pose_lines_are_read_by_kpt_shape(
    tmp_path: Path, kpt_shape: tuple[int, int], points: int
) -> None:
    count, dims = kpt_shape
    dataset = tmp_path / "pose"
    (dataset / "labels").mkdir(parents=True)
    # as ultralytics' pose datasets declare it (coco8-pose.yaml: kpt_shape: [17, 3])
    (dataset / "data.yaml").write_text(f"kpt_shape: [{count}, {dims}]\nnames:\n  0: person\n")
    values = ["0.5", "0.5", "0.4", "0.6"]
    for k in range(count):
        values += [f"{0.35 + 0.01 * k:.6f}", f"{0.3 + 0.02 * k:.6f}"] + (
            ["2" if k % 2 else "1"] if dims == 3 else []
        )
    (dataset / "labels" / "p1.txt").write_text("0 " + " ".join(values) + "\n")
    _yolo_image(dataset / "images" / "p1.jpg", (200, 100))
    out = tmp_path / "coco.json"
    report = convert(dataset, "coco-instance", out, media_dir=dataset)
    coco = _coco(out)
    (annotation,) = coco.loadAnns(coco.getAnnIds())
    assert annotation["bbox"] == pytest.approx([60, 20, 80, 60])  # the pose line's box, not a polygon's
    keypoints = annotation["keypoints"]
    assert len(keypoints) == 3 * points and annotation["num_keypoints"] == points
    assert keypoints[:2] == pytest.approx([0.35 * 200, 0.3 * 100])
    if dims == 3:
        assert keypoints[2::3] == [1 if k % 2 == 0 else 2 for k in range(count)]
    assert not [loss for loss in report.losses if "polygon" in loss.what]


# ----------------------------------------------------------------------------------- mask PNG ids


def test_mask_targets_take_the_sdk_format_names_and_keep_source_ids(cli: list[str], tmp_path: Path) -> None:
    # a COCO file written by the segments-ai SDK's exporter: category ids 0, 1, 2; annotation ids 1-3 on
    # the first image and 4 on the second
    source = CORPUS / "coco-instance" / "export_coco-instance_jane_pets_v1.0.json"
    coco = json.loads(source.read_text())
    semantic, instance = tmp_path / "semantic", tmp_path / "instance"
    clash = run(cli, "convert", source, "--to", "semantic", "-o", semantic)
    assert clash.returncode == 2 and "--id-increment 1" in clash.stderr and not semantic.exists()
    result = run(cli, "convert", source, "--to", "semantic", "-o", semantic, "--id-increment", "1")
    assert result.returncode == 0, result.stderr
    assert "-> semantic-png" in result.stderr  # the alias is reported by the target's own name
    classes = json.loads((semantic / "classes.json").read_text())["classes"]
    assert [c["value"] for c in classes] == [c["id"] + 1 for c in coco["categories"]]
    assert run(cli, "convert", source, "--to", "instance", "-o", instance).returncode == 0
    table = json.loads((instance / "instances.json").read_text())["images"]
    by_image = {i["id"]: Path(i["file_name"]).stem for i in coco["images"]}
    expected: dict[str, set[int]] = {}
    for annotation in coco["annotations"]:
        expected.setdefault(f"{by_image[annotation['image_id']]}.png", set()).add(annotation["id"])
    assert {m: {e["value"] for e in entries} for m, entries in table.items()} == expected
    for member, ids in expected.items():
        with Image.open(instance / member) as image:
            assert set(image.getdata()) - {0} <= ids


def test_one_object_hash_in_two_rows_gives_two_annotations(tmp_path: Path) -> None:
    first = json.loads((CASES / "shape-point.json").read_text(encoding="utf-8"))[0]
    second = copy.deepcopy(first)  # another image whose object got the same objectHash
    second["data_hash"] = "e3132c00-069f-4a95-8e21-30c13078d84e"
    second["label_hash"] = "2f5a5e62-a3e0-4481-932f-1093f7c1d172"
    (unit,) = second["data_units"].values()
    unit["data_hash"] = "e3132c00-069f-4a95-8e21-30c13078d84e"
    second["data_units"] = {unit["data_hash"]: unit}
    out = tmp_path / "coco.json"
    convert(_write(tmp_path / "rows.json", [first, second]), "coco-instance", out, ontology=ONTOLOGY)
    annotations = json.loads(out.read_text())["annotations"]
    assert len(annotations) == 2 and len({a["id"] for a in annotations}) == 2
    assert len({a["image_id"] for a in annotations}) == 2
