"""One Encord label row alone (a JSON object, as ``LabelRowV2.to_encord_dict()`` and the API return it).

Every row of the Encord corpus, written alone to a file, is detected as ``encord`` and gets, in both
profiles, the findings it gets as the only item of a list, with pointers relative to the row (the list's
findings with their ``/0`` removed); the native fast path hands such a file to the reference path with the
same report; the generated reader reads it (and writes it back alone), its streaming reader yields it, and
``labelspec convert`` converts it. Also the row-level forms of issue 12: ``branch_name: null``,
``video_link: false`` and older API rows without ``data_hash`` / ``created_at`` / ``last_edited_at``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

import labelspec
from labelspec.formats import encord
from labelspec.validator.compiler import PROFILES
from labelspec.validator.detect import detect_format
from labelspec.validator.native import fastpath
from tests.conftest import CORPUS
from tests.native.equivalence import reference_report


def _corpus_rows() -> list[Any]:
    entries = yaml.safe_load((CORPUS / "encord" / "index.yaml").read_text(encoding="utf-8"))
    params = []
    for entry in entries:
        document = json.loads((CORPUS / "encord" / entry["file"]).read_text(encoding="utf-8"))
        if isinstance(document, list):
            for index, row in enumerate(document):
                if isinstance(row, dict):
                    params.append(pytest.param(row, id=f"{entry['file']}[{index}]"))
    return params


def _findings(document: Any, profile: str) -> list[tuple[str, str, str, str]]:
    report = labelspec.validate(document, format="encord", profile=profile)
    return [(f.rule, f.severity, f.pointer, f.message) for f in report.files[0].findings]


@pytest.mark.parametrize("row", _corpus_rows())
@pytest.mark.parametrize("profile", PROFILES)
def test_a_row_alone_has_the_findings_it_has_in_a_list(row: dict[str, Any], profile: str) -> None:
    assert detect_format(row) == "encord"
    in_list = _findings([row], profile)
    alone = _findings(row, profile)
    relative = [(r, s, p.removeprefix("/0") if p.startswith("/0") else p, m) for r, s, p, m in in_list]
    assert alone == relative


def _reference(path: Path, profile: str) -> dict[str, Any]:
    return reference_report(path, profile=profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_fast_path_reports_a_row_file_as_the_reference_path(tmp_path: Path, profile: str) -> None:
    """The fast path certifies root lists only: a row file goes to the reference path, same report."""
    rows = [row.values[0] for row in _corpus_rows()][:12]
    for n, row in enumerate(rows):
        path = tmp_path / f"row-{n}.json"
        path.write_bytes(orjson.dumps(row))
        for given_format in (None, "encord"):
            fast = labelspec.validate(path, format=given_format, profile=profile).to_json()
            assert fast == _reference(path, profile)
            assert fast["files"][0]["format"] == "encord"
        assert fastpath.uncertified_items(path, "encord", profile) is None  # not a list: not certified


def _image_row() -> dict[str, Any]:
    document = json.loads((CORPUS / "encord" / "image-row.json").read_text(encoding="utf-8"))
    row: dict[str, Any] = document[0]
    return row


def test_reader_reads_and_writes_back_a_lone_row(tmp_path: Path) -> None:
    row = _image_row()
    source = tmp_path / "row.json"
    source.write_bytes(orjson.dumps(row))
    document = encord.read(source)
    assert document.single and len(document) == 1
    assert document[0].to_json() == row
    assert document[0].label_hash == row["label_hash"]
    target = tmp_path / "again.json"
    encord.write(document, target)
    assert json.loads(target.read_text(encoding="utf-8")) == row  # still one row, not a list
    streamed = list(encord.iter_label_rows(source))
    assert [r.to_json() for r in streamed] == [row]
    listed = tmp_path / "rows.json"
    listed.write_bytes(orjson.dumps([row, row]))
    assert not encord.read(listed).single
    assert len(list(encord.iter_label_rows(listed))) == 2
    with pytest.raises(TypeError, match="JSON array or one label_row object"):
        encord.from_json("not a row")


def test_convert_reads_a_lone_row(tmp_path: Path) -> None:
    row = _image_row()
    source = tmp_path / "row.json"
    source.write_bytes(orjson.dumps(row))
    out = tmp_path / "coco.json"
    done = subprocess.run(
        [sys.executable, "-m", "labelspec", "convert", str(source), "--to", "coco-instance", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    coco = json.loads(out.read_text(encoding="utf-8"))
    listed = tmp_path / "rows.json"
    listed.write_bytes(orjson.dumps([row]))
    out_list = tmp_path / "coco-list.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "labelspec",
            "convert",
            str(listed),
            "--to",
            "coco-instance",
            "-o",
            str(out_list),
        ],
        check=True,
        capture_output=True,
    )
    assert coco == json.loads(out_list.read_text(encoding="utf-8"))
    assert coco["annotations"], "the row's objects were converted"


def test_cli_points_into_a_lone_row(tmp_path: Path) -> None:
    row = _image_row()
    unit = next(iter(row["data_units"].values()))
    unit["width"] = "wide"
    source = tmp_path / "row.json"
    source.write_bytes(orjson.dumps(row))
    done = subprocess.run(
        [sys.executable, "-m", "labelspec", "validate", str(source), "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    pointers = [f["pointer"] for f in json.loads(done.stdout)["files"][0]["findings"]]
    assert f"/data_units/{unit['data_hash']}/width" in pointers


@pytest.mark.parametrize("profile", PROFILES)
def test_branch_name_null_and_video_link_false_are_valid(profile: str) -> None:
    row = _image_row()
    row["branch_name"] = None
    row["video_link"] = False
    assert labelspec.validate(row, format="encord", profile=profile).valid
    assert labelspec.validate([row], format="encord", profile=profile).valid


def test_older_api_rows_without_data_hash_and_timestamps() -> None:
    """Lenient accepts them (older API responses); strict names each key the SDK reads by index."""
    row = _image_row()
    for key in ("data_hash", "created_at", "last_edited_at"):
        del row[key]
    assert labelspec.validate(row, format="encord", profile="lenient").valid
    strict = labelspec.validate(row, format="encord", profile="strict")
    assert not strict.valid
    messages = " ".join(f.message for f in strict.files[0].findings if f.rule == "schema.required")
    assert all(key in messages for key in ("data_hash", "created_at", "last_edited_at"))
