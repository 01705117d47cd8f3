"""Label statuses are carried from every vendor source to every vendor target (issue 14).

Inputs: Encord image rows written by encord 0.1.211 (``LabelRowV2.to_encord_dict``) given every
``encord.orm.label_row.LabelStatus`` and the workflow's RETURNED; the DataGym corpus image-project export
(completed, reviewed and skipped tasks); a Segments release whose samples carry every
``segments.typing.LabelStatus`` of segments-ai 1.33.0.

Oracles, independent of labelspec's readers: Encord outputs are loaded with the encord SDK
(``LabelRowV2.from_labels_dict``; ``label_status`` / ``annotation_task_status`` read back); Segments outputs
are filtered by status with the segments-ai SDK's ``SegmentsDataset(filter_by=...)`` (offline, no images)
and checked with its typing models; DataGym statuses are read from the output JSON. The expected statuses
are the tables below, written from the SDK enums' documentation, not from labelspec's mapping module.
Every output is validated under the strict profile (conftest).
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from encord.orm.label_row import AnnotationTaskStatus, LabelStatus
from segments.dataset import SegmentsDataset
from segments.typing import LabelStatus as SegmentsStatus

from labelspec.convert.api import convert
from labelspec.convert.model import ConversionReport
from tests.conftest import CORPUS
from tests.convert.test_convert_corpus import make_media
from tests.convert.test_convert_encord_groups import _encord_export, _written
from tests.interop.encord_sdk import build_label_row
from tests.interop.test_segments_sdk import sdk_accepts

# Encord source (label_status, annotation_task_status) -> what each target must hold, and whether the
# target has an equivalent (False: the report must say so)
ENCORD_CASES: list[tuple[tuple[str, str | None], tuple[str, bool], tuple[str, bool]]] = [
    # (source), (Segments, exact), (DataGym, exact)
    (("NOT_LABELLED", None), ("UNLABELED", True), ("skipped", False)),
    (("LABEL_IN_PROGRESS", "ASSIGNED"), ("LABELING_IN_PROGRESS", True), ("completed", False)),
    (("LABELLED", "COMPLETED"), ("LABELED", True), ("completed", True)),
    (("REVIEW_IN_PROGRESS", "IN_REVIEW"), ("REVIEWING_IN_PROGRESS", True), ("completed", False)),
    (("REVIEWED", None), ("REVIEWED", True), ("reviewed", True)),
    (("REVIEWED_TWICE", None), ("VERIFIED", False), ("reviewed", False)),
    (("LABEL_IN_PROGRESS", "RETURNED"), ("REJECTED", True), ("completed", False)),
]

# Segments source status -> (Encord label_status, annotation_task_status, exact)
SEGMENTS_CASES: dict[str, tuple[str, str | None, bool]] = {
    "UNLABELED": ("NOT_LABELLED", None, True),
    "PRELABELED": ("LABEL_IN_PROGRESS", None, False),
    "LABELING_IN_PROGRESS": ("LABEL_IN_PROGRESS", None, True),
    "LABELED": ("LABELLED", None, True),
    "REVIEWING_IN_PROGRESS": ("REVIEW_IN_PROGRESS", None, True),
    "REVIEWED": ("REVIEWED", None, True),
    "VERIFIED": ("REVIEWED_TWICE", None, False),
    "REJECTED": ("LABEL_IN_PROGRESS", "RETURNED", True),
    "SKIPPED": ("NOT_LABELLED", None, False),
}


def _status_losses(report: ConversionReport) -> list[str]:
    return [loss.where for loss in report.losses if loss.what == "label status"]


def _sdk_statuses(labels: Path, ontology: Path) -> list[tuple[LabelStatus, Any]]:
    """(label_status, annotation_task_status) of every written row, as encord 0.1.211 loads them."""
    rows, structure = _written(labels.parent) if labels.is_file() else _written(labels)
    found = []
    for row in rows:
        label_row = build_label_row(row, structure)
        label_row.from_labels_dict(row)
        # the property asserts a workflow status; to_encord_dict writes back what the SDK kept (or None)
        found.append((label_row.label_status, label_row.to_encord_dict()["annotation_task_status"]))
    return found


def _segments_by_status(release: Path) -> dict[str, list[str]]:
    """SDK status -> names of the samples SegmentsDataset(filter_by=status) yields (offline)."""
    found = {}
    for status in SegmentsStatus:
        dataset = SegmentsDataset(
            str(release), filter_by=[status.value], segments_dir=None, load_images=False
        )
        found[status.value] = [sample["name"] for sample in dataset.samples]
    return {k: v for k, v in found.items() if v}


def _encord_statuses(tmp_path: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    """One SDK-written image row per case, each with its case's statuses and its own title."""
    labels, ontology, rows = _encord_export(tmp_path, *["image"] * len(ENCORD_CASES))
    for n, (row, ((label_status, task_status), _, _)) in enumerate(zip(rows, ENCORD_CASES, strict=True)):
        row["label_status"] = label_status
        row["annotation_task_status"] = task_status
        row["data_title"] = f"still-{n}.png"
        for unit in row["data_units"].values():
            unit["data_title"] = row["data_title"]
    labels.write_text(json.dumps(rows), encoding="utf-8")
    return labels, ontology, rows


def test_encord_statuses_reach_segments_datagym_and_encord(tmp_path: Path) -> None:
    labels, ontology, rows = _encord_statuses(tmp_path)
    titles = [row["data_title"] for row in rows]

    report = convert(labels, "segments", tmp_path / "seg.json", ontology=ontology, statuses=["all"])
    release = json.loads((tmp_path / "seg.json").read_text(encoding="utf-8"))
    assert sdk_accepts(release)
    expected: dict[str, list[str]] = {}
    for title, (_, (status, _), _) in zip(titles, ENCORD_CASES, strict=True):
        expected.setdefault(status, []).append(title)
    assert _segments_by_status(tmp_path / "seg.json") == expected
    inexact = [title for title, (_, (_, exact), _) in zip(titles, ENCORD_CASES, strict=True) if not exact]
    assert len(_status_losses(report)) == len(inexact)

    report = convert(labels, "datagym", tmp_path / "dg.json", ontology=ontology, statuses=["all"])
    tasks = json.loads((tmp_path / "dg.json").read_text(encoding="utf-8"))[1:]
    assert [t["status"] for t in tasks] == [case[2][0] for case in ENCORD_CASES]
    assert len(_status_losses(report)) == sum(not case[2][1] for case in ENCORD_CASES)

    report = convert(labels, "encord", tmp_path / "enc", ontology=ontology, statuses=["all"])
    loaded = _sdk_statuses(tmp_path / "enc", ontology)
    # Encord to Encord: the label status is the source's; of the workflow status only RETURNED is carried
    assert [(s.value, t) for s, t in loaded] == [
        (label, task if task == AnnotationTaskStatus.RETURNED.value else None)
        for (label, task), _, _ in ENCORD_CASES
    ]
    assert not _status_losses(report)
    # the other workflow states are said to be lost, each where its row is
    workflow = sorted(loss.where for loss in report.losses if loss.what == "workflow status")
    assert workflow == [
        f"/{n}" for n, ((_, task), _, _) in enumerate(ENCORD_CASES) if task not in (None, "RETURNED")
    ]


def test_default_status_filter_leaves_out_not_labelled_rows_and_counts_them(tmp_path: Path) -> None:
    labels, ontology, _ = _encord_statuses(tmp_path)
    report = convert(labels, "segments", tmp_path / "seg.json", ontology=ontology)
    assert report.counts["filtered_rows"] == 1  # the NOT_LABELLED row
    assert "UNLABELED" not in _segments_by_status(tmp_path / "seg.json")


def test_segments_statuses_reach_encord(tmp_path: Path) -> None:
    source = _segments_release_with_every_status(tmp_path)
    assert set(_segments_by_status(source)) == {s.value for s in SegmentsStatus}  # every SDK status is there
    media = make_media("segments", source, tmp_path / "media")

    report = convert(source, "encord", tmp_path / "enc", media_dir=media, statuses=["all"])
    loaded = _sdk_statuses(tmp_path / "enc", tmp_path / "enc" / "ontology.json")
    assert [(s.value, t) for s, t in loaded] == [(label, task) for label, task, _ in SEGMENTS_CASES.values()]
    assert len(_status_losses(report)) == sum(not exact for _, _, exact in SEGMENTS_CASES.values())

    # Segments to Segments keeps every status exactly
    report = convert(source, "segments", tmp_path / "seg.json", media_dir=media, statuses=["all"])
    assert _segments_by_status(tmp_path / "seg.json") == _segments_by_status(source)
    assert not _status_losses(report)


def test_datagym_skipped_tasks_stay_skipped_or_not_labelled_and_say_so(
    cli: list[str], tmp_path: Path
) -> None:
    source = CORPUS / "datagym" / "image-project.json"
    tasks = json.loads(source.read_text(encoding="utf-8"))[1:]
    skipped = [t["external_media_ID"] for t in tasks if t["status"] == "skipped"]
    assert skipped, "the corpus export has a skipped task"
    media = make_media("datagym", source, tmp_path / "media")

    # the installed CLI, every status
    out = tmp_path / "enc"
    run = subprocess.run(
        [*cli, "convert", str(source), "--to", "encord", "-o", str(out), "--media-dir", str(media),
         "--status", "all", "--report", str(tmp_path / "report.json")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows, _ = _written(out)
    loaded = _sdk_statuses(out, out / "ontology.json")
    by_title = {row["data_title"]: status for row, (status, _) in zip(rows, loaded, strict=True)}
    expected = {
        "completed": LabelStatus.LABELLED,
        "reviewed": LabelStatus.REVIEWED,
        "skipped": LabelStatus.NOT_LABELLED,
    }
    assert by_title == {t["external_media_ID"]: expected[t["status"]] for t in tasks}
    summary = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]
    assert any(s["what"] == "label status" and "skipped" in s["reason"] for s in summary)
    # and a default read of that output leaves the skipped (NOT_LABELLED) row out, as DataGym's did
    again = convert(out / "labels.json", "segments", tmp_path / "again.json", ontology=out / "ontology.json")
    assert again.counts["filtered_rows"] == len(skipped)

    convert(source, "segments", tmp_path / "seg.json", media_dir=media, statuses=["all"])
    assert _segments_by_status(tmp_path / "seg.json")["SKIPPED"] == skipped

    convert(source, "datagym", tmp_path / "dg.json", media_dir=media, statuses=["all"])
    written = json.loads((tmp_path / "dg.json").read_text(encoding="utf-8"))[1:]
    assert [t["status"] for t in written] == [t["status"] for t in tasks]


@pytest.mark.parametrize("target", ["coco-instance", "yolo"])
def test_targets_without_statuses_report_unfinished_items(target: str, tmp_path: Path) -> None:
    source = CORPUS / "datagym" / "image-project.json"
    tasks = json.loads(source.read_text(encoding="utf-8"))[1:]
    media = make_media("datagym", source, tmp_path / "media")
    out = tmp_path / ("out.json" if target == "coco-instance" else "out")
    report = convert(source, target, out, media_dir=media, statuses=["all"])
    assert len(_status_losses(report)) == sum(t["status"] == "skipped" for t in tasks)
    report = convert(source, target, tmp_path / f"default-{out.name}", media_dir=media)
    assert not _status_losses(report)  # skipped tasks are not read by default


def _segments_release_with_every_status(tmp_path: Path) -> Path:
    release = json.loads((CORPUS / "segments" / "bboxes-release.json").read_text(encoding="utf-8"))
    template = release["dataset"]["samples"][0]
    samples = []
    for n, status in enumerate(SEGMENTS_CASES):
        sample = copy.deepcopy(template)
        sample["uuid"] = f"5e6d0000-0000-4000-8000-0000000001{n:02d}"
        sample["name"] = f"{status.lower()}.jpg"
        sample["attributes"]["image"]["url"] = f"https://example.com/{status.lower()}.jpg"
        sample["labels"]["ground-truth"]["label_status"] = status
        samples.append(sample)
    release["dataset"]["samples"] = samples
    source = tmp_path / "release.json"
    source.write_text(json.dumps(release), encoding="utf-8")
    return source


# labelspec's status name -> the source statuses it selects, per vendor (from the SDK enums' meaning)
NAMED = {
    "rejected": {"encord": {("LABEL_IN_PROGRESS", "RETURNED")}, "segments": {"REJECTED"}, "datagym": set()},
    "labelled": {"encord": {("LABELLED", "COMPLETED")}, "segments": {"LABELED"}, "datagym": {"completed"}},
    "reviewed": {"encord": {("REVIEWED", None)}, "segments": {"REVIEWED"}, "datagym": {"reviewed"}},
    "skipped": {"encord": set(), "segments": {"SKIPPED"}, "datagym": {"skipped"}},
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_one_status_name_selects_the_same_items_of_every_vendor(name: str, tmp_path: Path) -> None:
    labels, ontology, rows = _encord_statuses(tmp_path)
    wanted = NAMED[name]
    titles = {
        r["data_title"] for r in rows if (r["label_status"], r["annotation_task_status"]) in wanted["encord"]
    }
    if titles:
        convert(labels, "segments", tmp_path / "e.json", ontology=ontology, statuses=[name])
        written = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["dataset"]["samples"]
        assert {s["name"] for s in written} == titles

    source = _segments_release_with_every_status(tmp_path)
    convert(source, "segments", tmp_path / "s.json", statuses=[name])
    written = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["dataset"]["samples"]
    assert {s["name"] for s in written} == {f"{s.lower()}.jpg" for s in wanted["segments"]}

    dg = CORPUS / "datagym" / "image-project.json"
    tasks = json.loads(dg.read_text(encoding="utf-8"))[1:]
    if wanted["datagym"]:
        convert(dg, "datagym", tmp_path / "d.json", statuses=[name])
        written = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))[1:]
        expected = [t["external_media_ID"] for t in tasks if t["status"] in wanted["datagym"]]
        assert [t["external_media_ID"] for t in written] == expected


def test_outputs_with_every_status_pass_the_installed_strict_validator(
    cli: list[str], tmp_path: Path
) -> None:
    source = _segments_release_with_every_status(tmp_path)
    media = make_media("segments", source, tmp_path / "media")
    convert(source, "encord", tmp_path / "enc", media_dir=media, statuses=["all"])
    convert(source, "datagym", tmp_path / "dg.json", media_dir=media, statuses=["all"])
    convert(source, "segments", tmp_path / "seg.json", media_dir=media, statuses=["all"])
    for args in (
        [str(tmp_path / "enc" / "labels.json"), "--ontology", str(tmp_path / "enc" / "ontology.json")],
        [str(tmp_path / "dg.json")],
        [str(tmp_path / "seg.json")],
    ):
        done = subprocess.run(
            [*cli, "validate", *args, "--profile", "strict"], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
