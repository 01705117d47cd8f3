"""Generated Encord rows answer the ontology's global classifications as encord 0.1.211 writes them.

``labelspec generate encord`` draws ontologies with global classifications (``level: "global"``) and rows
that answer them once, without frames. The oracle is the SDK itself: ``LabelRowV2.from_labels_dict`` must
turn every such answer into a global ``ClassificationInstance`` (``is_global()``) holding the same answers,
and ``to_encord_dict`` must write it back the way the generator wrote it (``range: []``, ``spaces: {}``,
no frame lists it). The generated folders are valid under both profiles, checked through the CLI.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from encord_sdk import build_label_row, sdk_loads_without_loss, sdk_round_trip

from labelspec.generators.fixtures.encord import DATA_TYPES

pytestmark = pytest.mark.interop

COUNT = 24


def _generate(cli: list[str], out: Path, profile: str, data_type: str, seed: int) -> None:
    options = ["--count", str(COUNT), "--seed", str(seed), "--profile", profile, "--data-type", data_type]
    done = subprocess.run(
        [*cli, "generate", "encord", *options, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _validate(cli: list[str], folder: Path, profile: str) -> list[Any]:
    done = subprocess.run(
        [*cli, "validate", str(folder), "--profile", profile, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    report = json.loads(done.stdout)
    assert report["files"] and all(file["profile"] == profile for file in report["files"])
    return [f for file in report["files"] for f in file["findings"]]


def _global_features(ontology: dict[str, Any]) -> set[str]:
    return {c["featureNodeHash"] for c in ontology["classifications"] if c.get("level") == "global"}


def _frame_listed(row: dict[str, Any]) -> set[str]:
    """Classification hashes the frames' ``labels`` list (every data unit, every frame, every space)."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "classificationHash" in node:
                found.add(node["classificationHash"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit({"units": row["data_units"], "spaces": row.get("spaces") or {}})
    return found


def _answers(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(attribute featureHash, answer) atoms of a ``classifications`` list."""
    atoms = set()
    for entry in entries:
        answers = entry["answers"]
        for answer in answers if isinstance(answers, list) else [answers]:
            atoms.add(
                (entry["featureHash"], answer["featureHash"] if isinstance(answer, dict) else str(answer))
            )
    return atoms


def _global_entries(row: dict[str, Any], ontology: dict[str, Any]) -> dict[str, dict[str, Any]]:
    globals_ = _global_features(ontology)
    return {k: e for k, e in row["classification_answers"].items() if e["featureHash"] in globals_}


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_generated_global_answers_load_in_the_sdk(
    data_type: str, cli: list[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="encord")
    out = tmp_path / data_type
    _generate(cli, out, "strict", data_type, 13)
    for profile in ("strict", "lenient"):
        assert _validate(cli, out, profile) == [], profile
    answered = 0
    for path in sorted(out.glob("encord-*[0-9].json")):
        rows = json.loads(path.read_text())
        ontology = json.loads(path.with_suffix(".ontology.json").read_text())
        for row in rows:
            entries = _global_entries(row, ontology)
            if not entries:
                continue
            answered += len(entries)
            assert not set(entries) & _frame_listed(row), "a global classification is never on a frame"
            assert all(e["range"] == [] and e["spaces"] == {} for e in entries.values())
            assert len({e["featureHash"] for e in entries.values()}) == len(entries), "one per classification"
            loaded, reason = sdk_loads_without_loss(row, ontology)
            assert loaded, reason
            label_row = build_label_row(row, ontology)
            label_row.from_labels_dict(row)
            held = [*label_row.get_classification_instances()]  # the row's, and a root layer's (groups)
            held += [i for space in label_row.get_spaces() for i in space.get_classification_instances()]
            instances = {i.classification_hash: i for i in held}
            for key in entries:
                assert key in instances, f"the SDK dropped global classification {key}"
                assert instances[key].is_global()
            written, reason = sdk_round_trip(row, ontology)
            assert written is not None, reason
            for key, entry in entries.items():
                again = written["classification_answers"][key]
                assert again["range"] == [] and again["spaces"] == {}
                assert _answers(again["classifications"]) == _answers(entry["classifications"])
    assert answered >= 3, f"only {answered} global answers on {data_type} rows: the test lost its subject"


def test_lenient_generated_global_answers_are_valid(cli: list[str], tmp_path: Path) -> None:
    out = tmp_path / "lenient"
    _generate(cli, out, "lenient", "video", 14)
    assert _validate(cli, out, "lenient") == []
    seen = 0
    for path in out.glob("encord-*[0-9].json"):
        ontology = json.loads(path.with_suffix(".ontology.json").read_text())
        seen += sum(len(_global_entries(row, ontology)) for row in json.loads(path.read_text()))
    assert seen >= 3
