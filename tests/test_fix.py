"""``labelspec fix``: every declared fix, applied by the installed CLI to a mutant of its rule (built by the
project's mutant operators), leaves no finding of that rule and no finding the valid original did not have."""

from __future__ import annotations

import gzip
import json
import subprocess
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec.fix.catalogue import all_fixes
from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants.core import Subject, clone, edit, walk, without

# Knobs under which each rule's operator finds a site (as in tests/generators/test_mutants.py).
KNOBS: dict[str, list[dict[str, Any]]] = {
    "encord": [{"data_types": [t], "min_items": 2, "max_items": 3} for t in ("video", "image", "img_group")],
    "coco-instance": [{"min_items": 2, "shapes": ["keypoints", "polygon"]}, {"min_items": 2}],
    "segments": [{"task_types": ["vector"], "min_items": 2}],
}
SEMANTIC_FIXES = sorted(f.id for f in all_fixes() if f.id == f.rule)
SCHEMA_FIXES = sorted(f.id for f in all_fixes() if f.id != f.rule)


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120)


def rules_of(subject: Subject, document: Any) -> Counter[str]:
    report = labelspec.validate(
        document, format=subject.format, profile=subject.profile, ontology=subject.ontology
    )
    return Counter(f.rule for f in report.files[-1].findings)


def fix_with_cli(cli: list[str], tmp_path: Path, subject: Subject, *extra: str) -> Any:
    source = tmp_path / "export.json"
    source.write_text(json.dumps(subject.document, indent=2))
    args: list[str | Path] = [
        "fix",
        source,
        "-o",
        tmp_path / "fixed.json",
        "--profile",
        subject.profile,
        *extra,
    ]
    if subject.ontology is not None:
        (tmp_path / "ontology.json").write_text(json.dumps(subject.ontology))
        args += ["--ontology", tmp_path / "ontology.json"]
    result = run(cli, *args)
    assert result.returncode in (0, 1), result.stderr
    assert (tmp_path / "fixed.json").exists(), result.stdout + result.stderr
    return json.loads((tmp_path / "fixed.json").read_text())


def _owner(rule_id: str) -> str:
    return next(f.format for f in all_fixes() if f.id == rule_id)


@pytest.mark.parametrize("fix_id", SEMANTIC_FIXES)
def test_fix_repairs_a_mutant_of_its_rule(cli: list[str], tmp_path: Path, fix_id: str) -> None:
    format_id = _owner(fix_id)
    for seed, knobs in enumerate(KNOBS[format_id] * 2):
        original = mutants.build_subject(RandomDraw(f"fix/{fix_id}/{seed}"), format_id, "lenient", **knobs)
        mutant = mutants.mutate(RandomDraw(f"fix/{fix_id}/{seed}"), original, fix_id)
        if mutant is None:
            continue
        assert rules_of(mutant.subject, mutant.subject.document)[fix_id]
        fixed = fix_with_cli(cli, tmp_path, mutant.subject, "--unsafe-fixes")
        after = rules_of(mutant.subject, fixed)
        assert not after[fix_id], after
        assert not after - rules_of(original, original.document), "the fix added findings"
        return
    pytest.fail(f"no mutant of {fix_id} found")


def _first(document: Any, accept: Any) -> tuple[Any, ...]:
    return next(path for path, value in walk(document) if accept(path, value))


def _encord_with(draw: RandomDraw, where: Any, data_type: str) -> Subject:
    """A strict Encord subject with a site ``where`` accepts (rows are drawn until one has it)."""
    for _ in range(40):
        subject = mutants.build_subject(draw, "encord", "strict", data_types=[data_type], min_items=2)
        if any(where(p, v) for p, v in walk(subject.document)):
            return subject
    raise AssertionError(f"no {data_type} export with the site")


def _schema_mutant(fix_id: str) -> tuple[Subject, Subject]:
    """(valid original, mutant with the fault the fix repairs), built by tree edits."""
    draw = RandomDraw(f"fix/{fix_id}")
    if fix_id == "ENC-FIX-BRANCH-NAME":
        original = mutants.build_subject(draw, "encord", "strict", **KNOBS["encord"][0])
        return original, edit(original, (0,), without("branch_name"))
    if fix_id == "ENC-FIX-NULL-STRING":
        original = _encord_with(draw, lambda p, v: p and p[-1] == "multiframe_frame_number", "dicom")
        path = _first(original.document, lambda p, v: p and p[-1] == "multiframe_frame_number")
        return original, edit(original, path, lambda _: "null")
    if fix_id == "COCO-FIX-ISCROWD":
        original = mutants.build_subject(draw, "coco-instance", "strict", min_items=2, shapes=["polygon"])
        path = _first(
            original.document, lambda p, v: len(p) == 2 and p[0] == "annotations" and v.get("iscrowd") == 0
        )
        return original, edit(original, (*path, "iscrowd"), lambda _: "false")
    task = {
        "SEG-FIX-PCD-TYPE": "pointcloud-cuboid",
        "SEG-FIX-POINT-ANNOTATIONS": "pointcloud-segmentation-sequence",
        "SEG-FIX-SAMPLE-METADATA": "vector",
    }[fix_id]
    original = mutants.build_subject(draw, "segments", "strict", task_types=[task], min_items=1)
    key = {"SEG-FIX-PCD-TYPE": "type", "SEG-FIX-POINT-ANNOTATIONS": "point_annotations",
           "SEG-FIX-SAMPLE-METADATA": "metadata"}[fix_id]  # fmt: skip
    where = {
        "SEG-FIX-PCD-TYPE": lambda p, v: p and p[-1] == "pcd" and isinstance(v, dict) and "type" in v,
        "SEG-FIX-POINT-ANNOTATIONS": lambda p, v: (
            isinstance(v, dict) and "point_annotations" in v and "frames" in p
        ),
        "SEG-FIX-SAMPLE-METADATA": lambda p, v: p == ("dataset", "samples", 0),
    }[fix_id]
    return original, edit(original, _first(original.document, where), without(key))


@pytest.mark.parametrize("fix_id", SCHEMA_FIXES)
def test_schema_fix_repairs_its_fault(cli: list[str], tmp_path: Path, fix_id: str) -> None:
    original, mutant = _schema_mutant(fix_id)
    spec = next(f for f in all_fixes() if f.id == fix_id)
    report = labelspec.validate(
        mutant.document, format=mutant.format, profile=mutant.profile, ontology=mutant.ontology
    )
    assert any(spec.repairs(f) for f in report.files[-1].findings), report.files[-1].findings
    fixed = fix_with_cli(cli, tmp_path, mutant)
    after = labelspec.validate(fixed, format=mutant.format, profile=mutant.profile, ontology=mutant.ontology)
    assert not any(spec.repairs(f) for f in after.files[-1].findings)
    assert not Counter(f.rule for f in after.files[-1].findings) - rules_of(original, original.document)
    if fix_id == "ENC-FIX-BRANCH-NAME":
        assert fixed[0]["branch_name"] == "main"


def test_nothing_is_written_without_o_and_unsafe_fixes_need_asking(cli: list[str], tmp_path: Path) -> None:
    original = mutants.build_subject(RandomDraw("fix/cli"), "encord", "lenient", **KNOBS["encord"][0])
    mutant = mutants.mutate(RandomDraw("fix/cli"), original, "ENC-OBJECT-ANSWER-ORPHAN")
    assert mutant is not None
    source = tmp_path / "rows.json"
    text = json.dumps(mutant.subject.document)
    source.write_text(text)
    dry = run(cli, "fix", source, "--unsafe-fixes", "--diff")
    assert source.read_text() == text and list(tmp_path.iterdir()) == [source]
    assert "nothing written" in dry.stdout and dry.stdout.startswith("--- a/rows.json")
    assert any(line.startswith("-") and "object_answers" not in line for line in dry.stdout.splitlines()[2:])
    safe_only = run(cli, "fix", source, "-o", tmp_path / "same.json")
    assert "0 change(s)" in safe_only.stdout and not (tmp_path / "same.json").exists()
    unsafe = run(cli, "fix", source, "--unsafe-fixes", "--in-place", "--output", "json")
    report = json.loads(unsafe.stdout)
    [change] = report["changes"]
    assert change["fix"] == "ENC-OBJECT-ANSWER-ORPHAN" and change["pointer"].startswith("/")
    assert report["written"] == str(source)
    assert "ENC-OBJECT-ANSWER-ORPHAN" not in run(cli, "validate", source).stdout
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file


def test_rule_selection_and_usage_errors(cli: list[str], tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.jpg"}],
           "categories": [{"id": 1, "name": "p", "supercategory": "x", "keypoints": ["a", "b"]}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 0,
                            "iscrowd": "false", "segmentation": [[0, 0, 2, 0, 2, 2]],
                            "keypoints": [1, 1, 2, 0, 0, 0], "num_keypoints": 2}]}  # fmt: skip
    source = tmp_path / "coco.json.gz"
    source.write_bytes(gzip.compress(json.dumps(doc).encode()))
    only = run(cli, "fix", source, "--rule", "COCO-NUM-KEYPOINTS-MISMATCH", "-o", tmp_path / "out.json.gz")
    fixed = json.loads(gzip.decompress((tmp_path / "out.json.gz").read_bytes()))
    assert fixed["annotations"][0]["num_keypoints"] == 1 and fixed["annotations"][0]["iscrowd"] == "false"
    assert only.returncode == 1  # the iscrowd error is left
    every = run(cli, "fix", source, "-o", tmp_path / "all.json")
    fixed = json.loads((tmp_path / "all.json").read_text())
    assert every.returncode == 0, every.stdout
    assert fixed["annotations"][0]["iscrowd"] == 0 and fixed["annotations"][0]["area"] > 0
    assert run(cli, "fix", source, "-o", tmp_path / "all.json").returncode == 2  # exists: never overwritten
    assert run(cli, "fix", source, "--rule", "COCO-NOPE").returncode == 2
    assert run(cli, "fix", tmp_path / "missing.json").returncode == 2
    assert run(cli, "fix", source, "--to-strict", "--profile", "lenient").returncode == 2


def test_fix_reads_the_configuration(cli: list[str], tmp_path: Path) -> None:
    """Profile and ontology per glob come from labelspec.toml, as for validate."""
    has_object = lambda p, v: isinstance(v, dict) and "objectHash" in v and "featureHash" in v  # noqa: E731
    original = _encord_with(RandomDraw("fix/config"), has_object, "image")
    rows = clone(original.document)
    del rows[0]["branch_name"]  # a strict-only finding: repaired only under the configured profile
    next(v for p, v in walk(rows) if has_object(p, v))["featureHash"] = "unknown1"  # seen with the ontology
    (tmp_path / "rows").mkdir()
    (tmp_path / "rows" / "a.json").write_text(json.dumps(rows))
    (tmp_path / "ontology.json").write_text(json.dumps(original.ontology))
    command = [*cli, "fix", "rows/a.json", "--output", "json"]
    lenient = json.loads(subprocess.run(command, capture_output=True, text=True, cwd=tmp_path).stdout)
    assert lenient["profile"] == "lenient" and not lenient["changes"]
    (tmp_path / "labelspec.toml").write_text(
        'profile = "strict"\n[ontology]\n"rows/*.json" = "ontology.json"\n'
    )
    strict = json.loads(subprocess.run(command, capture_output=True, text=True, cwd=tmp_path).stdout)
    assert strict["profile"] == "strict"
    assert [c["fix"] for c in strict["changes"]] == ["ENC-FIX-BRANCH-NAME"]
    assert {f["rule"] for f in strict["left"]} == {"ENC-OBJECT-FEATURE-UNKNOWN"}  # the configured ontology
    bad = (tmp_path / "labelspec.toml").write_text("profiel = 1\n")
    assert bad and subprocess.run(command, capture_output=True, text=True, cwd=tmp_path).returncode == 2


def _zip_with_faults(path: Path) -> dict[str, bytes]:
    """A zip of Encord rows without branch_name (strict finding), a COCO file with iscrowd "false", a
    valid member, an unreadable member and non-JSON members; returns every member's bytes."""
    rows_original, rows = _schema_mutant("ENC-FIX-BRANCH-NAME")
    _, coco = _schema_mutant("COCO-FIX-ISCROWD")
    members = {
        "notes.txt": b"not an export\n",
        "rows/a.json": json.dumps(rows.document, indent=2).encode(),
        "coco/instances.json.gz": gzip.compress(json.dumps(coco.document).encode(), mtime=0),
        "rows/valid.json": json.dumps(rows_original.document).encode(),
        "broken.json": b'{"images": [',
        "media/x.png": bytes(range(256)) * 4,
    }
    with zipfile.ZipFile(path, "w") as archive:
        for number, (name, data) in enumerate(members.items()):
            info = zipfile.ZipInfo(name, (2021, 3, 4, 5, 6, 2 * number))
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            info.external_attr = (0o640 + number) << 16
            archive.writestr(info, data)
        archive.comment = b"exported by hand"
    return members


def test_zip_members_are_fixed_and_the_rest_kept(cli: list[str], tmp_path: Path) -> None:
    source = tmp_path / "export.zip"
    members = _zip_with_faults(source)
    before = source.read_bytes()
    dry = run(cli, "fix", source, "--to-strict")
    assert source.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]
    assert dry.returncode == 2, dry.stdout  # the broken member is unreadable
    assert f"{source}!broken.json: cannot read" in dry.stdout
    out = tmp_path / "fixed.zip"
    result = run(cli, "fix", source, "--to-strict", "-o", out, "--output", "json")
    report = json.loads(result.stdout)
    assert report["written"] == str(out)
    documents = report["documents"]
    changes = {d["path"].split("!")[1]: [c["fix"] for c in d.get("changes") or []] for d in documents}
    assert changes == {"rows/a.json": ["ENC-FIX-BRANCH-NAME"], "coco/instances.json.gz": ["COCO-FIX-ISCROWD"],
                       "rows/valid.json": [], "broken.json": []}  # fmt: skip
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out) as new:
        assert new.comment == old.comment
        assert [i.filename for i in new.infolist()] == [i.filename for i in old.infolist()]
        for info in old.infolist():
            copy = new.getinfo(info.filename)
            assert (copy.date_time, copy.compress_type, copy.external_attr) == (
                info.date_time, info.compress_type, info.external_attr)  # fmt: skip
            if info.filename not in ("rows/a.json", "coco/instances.json.gz"):
                assert new.read(info.filename) == members[info.filename], info.filename
        rows_text = new.read("rows/a.json")
        coco_text = gzip.decompress(new.read("coco/instances.json.gz"))
    rows, coco = json.loads(rows_text), json.loads(coco_text)
    assert rows[0]["branch_name"] == "main" and coco["annotations"][0]["iscrowd"] == 0
    assert b'\n    "label_hash"' in rows_text and b"\n" not in coco_text.strip()  # the style is kept
    strict = json.loads(run(cli, "validate", out, "--profile", "strict", "--output", "json").stdout)
    verdicts = {f["path"].split("!")[1]: f["valid"] for f in strict["files"] if "broken" not in f["path"]}
    assert verdicts == {"rows/a.json": True, "coco/instances.json.gz": True, "rows/valid.json": True}
    assert run(cli, "fix", source, "--to-strict", "-o", out).returncode == 2  # exists: never overwritten
    kind = run(cli, "fix", source, "-o", tmp_path / "fixed.json")
    assert kind.returncode == 2 and "a zip archive is repaired into a .zip" in kind.stderr
    in_place = run(cli, "fix", source, "--to-strict", "--in-place")
    assert in_place.returncode == 2 and zipfile.ZipFile(source).read("rows/a.json") != members["rows/a.json"]
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic writes left no temporary file


def test_formats_without_fixes_are_refused(cli: list[str], tmp_path: Path) -> None:
    """YOLO and DataGym declare no fix: fix says so and exits 2, writing nothing."""
    for format_id in ("yolo", "datagym"):
        made = run(cli, "generate", format_id, "--count", "1", "--out", tmp_path / format_id)
        assert made.returncode == 0, made.stderr
    dataset = next(p for p in (tmp_path / "yolo").iterdir() if p.is_dir())
    label_file = next(dataset.rglob("*.txt"))
    export = next((tmp_path / "datagym").glob("datagym-*.json"))
    for target in (dataset, label_file, export):
        before = sorted(tmp_path.rglob("*"))
        result = run(cli, "fix", target, "--in-place")
        assert result.returncode == 2 and "declares no fix for" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and sorted(tmp_path.rglob("*")) == before
    archive = tmp_path / "datagym.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(export, "a.json")
    result = run(cli, "fix", archive, "--in-place")
    assert result.returncode == 2 and "declares no fix for datagym" in result.stderr


def test_a_refused_pass_puts_back_every_item_it_edited() -> None:
    """The engine edits the document in place (one copy of a large export in memory) and copies each
    item a pass touches first; a pass whose result has a new finding is undone item by item."""
    from dataclasses import replace

    from labelspec.fix import engine
    from labelspec.fix.catalogue import fixes
    from labelspec.validator.report import Finding

    _, mutant = _schema_mutant("ENC-FIX-BRANCH-NAME")
    rows = clone(mutant.document)
    for row in rows[1:]:
        del row["branch_name"]
    report = labelspec.validate(rows, format="encord", profile="strict").files[-1]
    todo = [(spec, f) for f in report.findings for spec in fixes("encord") if spec.repairs(f)]
    assert len(todo) == len(rows) >= 2
    before = clone(rows)
    added = Finding("ENC-SOMETHING-NEW", "error", "/0", "a finding the pass would add")
    refused = engine._attempt(rows, todo, lambda _: replace(report, findings=[added]), report)
    assert refused is None and rows == before
    kept = engine._attempt(rows, todo, lambda _: replace(report, findings=[]), report)
    assert kept is not None and all(row["branch_name"] == "main" for row in rows)
