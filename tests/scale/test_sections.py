"""COCO files validated section by section (validator/scale/sections.py) give exactly the findings of the
whole parsed document (the in-memory reference path), in the same order.

The streamed path reads the items of images, categories and annotations a small batch at a time (batches
of 1 to 3 items here, so every cross-item comparison crosses batches) and gives the rules an index built
item by item; the oracle is the reference path on the whole parsed document, which builds the same index
from the document. Compared on: a mutant of every operator of both COCO formats in both profiles (PNG
rules included), generated documents concatenated so that duplicate ids span sections' batches, and
hypothesis documents (hostile numbers, ids that collide, edits of the corpus).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants import Subject, build_subject, mutate, operators_for, variants
from labelspec.validator import progress
from labelspec.validator.api import validate
from labelspec.validator.compiler import PROFILES
from labelspec.validator.engine import validate_in_memory
from labelspec.validator.scale import parallel, streaming
from labelspec.validator.scale.sections import SectionTask, plan_sections, validate_sections
from labelspec.validator.scale.streaming import Fallback
from tests.conftest import examples
from tests.json_strategies import mutated_documents
from tests.native.test_coco_decider import coco_documents, nearly_clean_documents

FORMATS = ("coco-instance", "coco-panoptic")


@contextmanager
def _batches_of(items: int) -> Iterator[None]:
    before = streaming.BATCH_ITEMS
    streaming.BATCH_ITEMS = items
    try:
        yield
    finally:
        streaming.BATCH_ITEMS = before


def _write(folder: Path, subject: Subject) -> tuple[Path, Path | None]:
    path = folder / "coco.json"
    text = subject.text
    path.write_bytes(text.encode() if text is not None else orjson.dumps(subject.document))
    pngs = None
    if subject.pngs:
        pngs = folder / "pngs"
        pngs.mkdir(exist_ok=True)
        for name, data in subject.pngs.items():
            target = pngs / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return path, pngs


def _same(path: Path, format: str | None, profile: str, png_dir: Path | None = None, batch: int = 2) -> Any:
    """The streamed report, after checking it equals the whole document's (None: not streamable)."""
    whole = validate_in_memory(str(path), format, profile, None, png_dir)[0].to_json()
    plan = plan_sections(path, format, profile, png_dir=png_dir)
    if plan is None:
        return None
    try:
        with _batches_of(batch):
            streamed = validate_sections(plan).to_json()
    except Fallback:
        return None
    assert streamed == whole
    return streamed


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", FORMATS)
def test_mutant_of_every_rule_reports_as_the_whole_document(
    format_id: str, profile: str, tmp_path: Path
) -> None:
    missing, streamed = [], 0
    for operator_id in operators_for(format_id, profile):
        mutant = None
        for attempt, knobs in enumerate(variants(format_id) * 2):
            draw = RandomDraw(f"sections-{operator_id}-{profile}-{attempt}")
            mutant = mutate(draw, build_subject(draw, format_id, profile, **knobs), operator_id)
            if mutant is not None:
                break
        if mutant is None:
            missing.append(operator_id)
            continue
        path, pngs = _write(tmp_path, mutant.subject)
        for batch in (1, 3):
            report = _same(path, format_id, profile, pngs, batch)
            if report is not None:
                assert report["findings"], operator_id
                streamed += batch == 1
            _same(path, None, profile, pngs, batch)
    assert not [m for m in missing if not m.startswith("schema.")], missing
    # a mutant that breaks the file's shape (an item that is not an object) is left to the in-memory path
    assert streamed >= len(operators_for(format_id, profile)) // 2


@pytest.mark.parametrize("format_id", FORMATS)
def test_concatenated_documents_repeat_ids_across_batches(format_id: str, tmp_path: Path) -> None:
    """Several generated documents in one: ids and image references repeat far apart."""
    merged: dict[str, Any] = {}
    for number in range(4):
        subject = build_subject(RandomDraw(f"concat-{format_id}-{number}"), format_id, "lenient", min_items=3)
        for key, value in subject.document.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            else:
                merged.setdefault(key, value)
    path = tmp_path / "merged.json"
    path.write_text(json.dumps(merged, indent=1))
    for profile in PROFILES:
        for batch in (1, 2, 64):
            report = _same(path, format_id, profile, batch=batch)
            assert report is not None
            assert any("DUPLICATE" in f["rule"] for f in report["findings"])


def test_validate_streams_large_coco_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`validate` takes the sectioned path for COCO files over the stream threshold (or --stream), and its
    report is the in-memory one's."""
    subject = build_subject(RandomDraw("route"), "coco-instance", "lenient", min_items=4)
    document = subject.document
    document["annotations"][0]["area"] = -1
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(document))
    called: list[str] = []
    original = validate_sections

    def spy(plan: Any) -> Any:
        called.append(plan.format)
        return original(plan)

    monkeypatch.setattr("labelspec.validator.scale.sections.validate_sections", spy)
    whole = validate(path, stream=False).to_json()
    assert called == []
    assert validate(path, stream=True).to_json() == whole
    assert called == ["coco-instance"]
    assert any(f["rule"] == "COCO-AREA-NOT-POSITIVE" for f in whole["files"][0]["findings"])


def test_odd_files_are_left_to_the_in_memory_path(tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("odd-sections"), "coco-instance", "lenient", min_items=2)
    text = orjson.dumps(subject.document)
    cases = {
        "repeated-array.json": (text[:-1] + b',"images":[{"id": 1}]}', False),
        "later-scalar.json": (text[:-1] + b',"images": 3}', False),
        "earlier-scalar.json": (b'{"images": 3,' + text[1:], True),
        "scalar-item.json": (text.replace(b'"images":[', b'"images":[7,', 1), False),
        "list.json": (b"[" + text + b"]", False),
        "trailing.json": (text + b"x", False),
        "no-items.json": (b'{"images": [], "annotations": [], "categories": []}', False),
    }
    for name, (data, streamable) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert (_same(path, None, "lenient") is not None) == streamable, name
        assert validate(path, stream=True).to_json() == validate(path, stream=False).to_json(), name


@settings(max_examples=examples(60))
@given(st.one_of(coco_documents(), nearly_clean_documents()), st.sampled_from(PROFILES), st.integers(1, 3))
def test_edited_documents_report_as_the_whole_document(document: Any, profile: str, batch: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coco.json"
        path.write_bytes(orjson.dumps(document))
        _same(path, "coco-instance", profile, batch=batch)
        _same(path, None, profile, batch=batch)


@settings(max_examples=examples(60))
@given(mutated_documents(frozenset(FORMATS)), st.sampled_from(PROFILES))
def test_randomly_edited_corpus_files_report_as_the_whole_document(
    case: tuple[str, Any], profile: str
) -> None:
    format_id, document = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coco.json"
        path.write_text(json.dumps(document))  # json: numbers past 64 bits too
        _same(path, format_id, profile, batch=1)
        _same(path, None, profile, batch=2)


def test_progress_moves_forward_although_sections_are_read_out_of_file_order(tmp_path: Path) -> None:
    subject = build_subject(RandomDraw("progress"), "coco-instance", "lenient", min_items=6)
    # the file order of COCO itself: images, annotations, categories (read: images, categories, annotations)
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(subject.document))
    plan = plan_sections(path, None, "lenient")
    assert plan is not None and [key for key, _ in plan.sections] == ["images", "categories", "annotations"]
    offsets: list[int] = []
    with _batches_of(1), progress.listening(offsets.append):
        validate_sections(plan)
    assert offsets == sorted(offsets) and len(offsets) >= 6
    assert offsets[-1] <= path.stat().st_size


def _recorded(seen: list[Any]) -> Any:
    """A mapper (this process) that records the tasks it runs."""

    def run(function: Any, tasks: list[Any]) -> Any:
        seen.extend(tasks)
        return map(function, tasks)

    return run


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("format_id", FORMATS)
def test_pieces_for_several_processes_report_as_one_process(
    format_id: str, profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several workers a COCO file is cut into its context sections and ranges of annotations, each
    validated on its own (its own index) and joined: the report is the whole document's, on a mutant of
    every operator (2 or 3 faults each, so that ranges hold faults and duplicates cross ranges)."""
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 0)
    ranged = 0
    for operator_id in operators_for(format_id, profile):
        draw = RandomDraw(f"pieces-{operator_id}-{profile}")
        subject = build_subject(draw, format_id, profile, min_items=5)
        for _ in range(3):
            mutant = mutate(draw, subject, operator_id)
            subject = mutant.subject if mutant is not None else subject
        path, pngs = _write(tmp_path, subject)
        whole = validate_in_memory(str(path), format_id, profile, None, pngs)[0].to_json()
        seen: list[Any] = []
        with _batches_of(2):
            report = parallel.validate_paths(
                [path], format_id, profile, png_dir=pngs, jobs=3, mapper=_recorded(seen)
            )
        assert report.files[-1].to_json() == whole, operator_id
        ranged += any(isinstance(task, SectionTask) and task.first >= 0 for task in seen)
    assert ranged >= len(operators_for(format_id, profile)) // 2, ranged


def test_jobs_split_one_coco_file_with_the_findings_of_one_process(cli: list[str], tmp_path: Path) -> None:
    """`labelspec validate --jobs 2 big.json` (through the CLI, a real process pool) reports what
    `--jobs 1` reports: faults in many annotations, duplicate ids across the ranges."""
    subject = build_subject(RandomDraw("jobs-cli"), "coco-instance", "lenient", min_items=40)
    document = subject.document
    annotations = document["annotations"]
    for number, annotation in enumerate(annotations):
        if number % 3 == 0:
            annotation["area"] = -1
        if number % 7 == 0:
            annotation["bbox"] = "x"
    annotations[-1]["id"] = annotations[0]["id"]
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(document))
    environment = {**os.environ, "LABELSPEC_PARALLEL_THRESHOLD": "0", "LABELSPEC_DEBUG": "1"}
    reports = []
    for jobs in ("1", "2"):
        args = [*cli, "validate", "--jobs", jobs, "--output", "json", str(path)]
        result = subprocess.run(args, capture_output=True, text=True, env=environment, timeout=300)
        assert result.returncode == 1, result.stderr
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1]
    rules = {f["rule"] for f in reports[0]["files"][0]["findings"]}
    assert {"schema.minimum", "schema.type", "COCO-ANNOTATION-ID-DUPLICATE"} <= rules, rules
