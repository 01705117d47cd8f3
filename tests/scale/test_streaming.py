"""Item-by-item validation (streaming, --jobs, parts) gives exactly the in-memory findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labelspec.validator.api import validate
from labelspec.validator.inputs import find_duplicate_keys
from labelspec.validator.scale import streaming
from labelspec.validator.scale.parallel import validate_paths
from labelspec.validator.scale.streaming import merge, plan_file, validate_part
from tests.scale.conftest import FORMATS


def _same(path: str, ontology: str | None, profile: str) -> None:
    whole = validate(path, ontology=ontology, profile=profile, stream=False)
    assert plan_file(path, None, profile) is not None, path
    streamed = validate(path, ontology=ontology, profile=profile, stream=True)
    assert streamed.to_json() == whole.to_json()


@pytest.mark.parametrize("invalid", [False, True], ids=["valid", "mutants"])
@pytest.mark.parametrize("format_id", FORMATS)
def test_streaming_equals_in_memory(fixtures: Any, format_id: str, invalid: bool) -> None:
    for entry in fixtures[(format_id, invalid)]:
        for profile in ("lenient", "strict"):
            _same(entry["path"], entry.get("ontology"), profile)


def _concatenated(entries: list[dict[str, str]], format_id: str, out: Path) -> Path:
    """One large export made of the generated ones (so cross-item rules see repeats across parts)."""
    docs = [json.loads(Path(e["path"]).read_text()) for e in entries]
    if format_id == "encord":
        merged: Any = [row for doc in docs for row in doc]
    elif format_id == "datagym":
        merged = [docs[0][0]] + [task for doc in docs for task in doc[1:]] * 2  # repeated media ids
    else:
        merged = docs[0]
        merged["dataset"]["samples"] = [s for doc in docs for s in doc["dataset"]["samples"]] * 2
    out.write_text(json.dumps(merged, indent=1))
    return out


@pytest.mark.parametrize("format_id", FORMATS)
def test_parts_and_jobs_equal_in_memory(
    fixtures: Any, format_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = fixtures[(format_id, False)] + fixtures[(format_id, True)]
    path = str(_concatenated(entries, format_id, tmp_path / f"{format_id}.json"))
    whole = validate(path, stream=False)
    plan = plan_file(path, None, "lenient")
    assert plan is not None
    for parts, batch in ((1, 64), (2, 1), (5, 3)):  # items validated together, `batch` at a time
        monkeypatch.setattr(streaming, "BATCH_ITEMS", batch)
        merged = merge(plan, [validate_part(plan, a, b) for a, b in plan.ranges(parts)])
        assert [f.to_json() for f in merged.findings] == [f.to_json() for f in whole.files[0].findings]
    assert validate_paths([path], stream=True, jobs=2).to_json() == whole.to_json()


def test_jobs_over_many_files(fixtures: Any) -> None:
    paths = [e["path"] for key in sorted(fixtures) for e in fixtures[key]]
    one = validate_paths(paths, jobs=1)
    assert validate_paths(paths, jobs=2).to_json() == one.to_json()
    assert validate_paths(paths, jobs=2, stream=True).to_json() == one.to_json()


def test_cli_jobs_and_stream(fixtures: Any, tmp_path: Path) -> None:
    path = str(_concatenated(fixtures[("encord", True)], "encord", tmp_path / "rows.json"))

    def run(*extra: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "labelspec", "validate", path, "--output", "json", *extra],
            capture_output=True,
            text=True,
        )
        return done.returncode, done.stdout

    reference = run("--no-stream")
    assert reference[0] == 1
    assert run("--stream") == reference
    assert run("--stream", "--jobs", "2") == reference
    assert run("--jobs", "0") == reference


def test_duplicate_keys_exact() -> None:
    import orjson

    cases = {
        b'{"a": 1, "a": 2}': ["/a"],
        b'{"a\\"": 1, "a\\u0022": 2}': ['/a"'],
        b'{"a\\\\": 1, "a\\u005c": 2, "b": "x:y"}': ["/a\\"],
        b'{"\\u00e9": 1, "\xc3\xa9": 2}': ["/\u00e9"],
        b'{"k": {"n": [{"x": 1, "x": {"y": 1}}]}}': ["/k/n/0/x"],
        b'{"a": "\\u003a", "a": 1}': ["/a"],
        b'{"a": "\\u003a:", "b": 1}': [],
        b'{"a:": 1, "b": {"a:": 2}}': [],
        b'{"a/b~": 1, "a/b~": 2}': ["/a~1b~0"],
    }
    for text, expected in cases.items():
        assert find_duplicate_keys(text, orjson.loads(text)) == expected, text
        assert find_duplicate_keys(text) == expected, text


def test_streamed_duplicate_keys(tmp_path: Path) -> None:
    rows = json.loads(Path("tests/corpus/encord").joinpath(_first_json("tests/corpus/encord")).read_text())
    text = json.dumps(rows * 3)
    text = text.replace('"label_hash"', '"label_hash": "x", "label_hash"', 2)
    path = tmp_path / "dup.json"
    path.write_text("[" + text[1:-1] + "]")
    assert (
        validate(str(path), format="encord", stream=True).to_json()
        == validate(str(path), format="encord", stream=False).to_json()
    )
    streamed = validate(str(path), format="encord", stream=True)
    assert any(f.rule == "JSON-DUPLICATE-KEY" for f in streamed.findings)


def _first_json(folder: str) -> str:
    import yaml

    for entry in yaml.safe_load(Path(folder, "index.yaml").read_text()):
        if entry["file"].endswith(".json") and entry["verdict"]["lenient"] == "valid":
            return str(entry["file"])
    raise AssertionError("no valid corpus file")
