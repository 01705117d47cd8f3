"""Every strict-only error of the `encord` profile is data encord 0.1.211 rejects or loses (differential).

Strict means "the current SDK loads it with no loss". For each error that strict adds to lenient, a row
the SDK itself wrote (``encord_sdk_build``, produced at test time) or an interop case it loads is broken
by construction (a mutant operator, a deleted key), labelspec's strict profile is asked, and the SDK
(``LabelRowV2.from_labels_dict`` + ``to_encord_dict``, judged by ``encord_sdk.sdk_loads_without_loss``) is
asked too: wherever strict reports a strict-only error, the SDK must raise or lose data. A strict-only rule
without a construction here fails ``test_every_strict_only_rule_is_proven``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest

import labelspec
from labelspec import audit
from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.mutants.core import Subject
from labelspec.validator.rules import all_rules

pytestmark = pytest.mark.interop

from encord.exceptions import LabelRowError  # noqa: E402
from encord.objects.ontology_labels_impl import LabelRowV2  # noqa: E402
from encord_sdk import make_metadata, make_ontology, sdk_loads_without_loss  # noqa: E402
from encord_sdk_build import BUILDERS, written_row  # noqa: E402

CASES = Path(__file__).resolve().parent / "encord_cases"
STRICT_ONLY_RULES = sorted(
    spec.id
    for spec in all_rules("encord")
    if spec.severity.get("strict") == "error" and spec.severity.get("lenient") != "error"
)
# Rules broken by their mutant operator on rows the SDK wrote.
BY_MUTANT = (
    "ENC-OBJECT-ANSWER-ORPHAN",
    "ENC-OBJECT-ACTION-ORPHAN",
    "ENC-IMAGE-LABELS-FRAME-KEYED",
    "ENC-ANSWER-SPACE-UNKNOWN",
)
# Rules proven by the dedicated tests below.
BY_HAND = (
    "ENC-FRAME-CLASSIFICATION-UNANSWERED",
    "ENC-CLASSIFICATION-RANGE-MISSING",
    "ENC-FRAME-BEYOND-DURATION",
    "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION",
)


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


@pytest.fixture(scope="module")
def written() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {kind: written_row(kind) for kind in BUILDERS}


def _errors(document: Any, profile: str, ontology: Any = None) -> set[str]:
    report = labelspec.validate(document, format="encord", profile=profile, ontology=ontology)
    return {f.rule for f in report.files[-1].findings if f.severity == "error"}


def test_every_strict_only_rule_is_proven() -> None:
    assert sorted(BY_MUTANT + BY_HAND) == STRICT_ONLY_RULES


@pytest.mark.parametrize("rule_id", BY_MUTANT)
def test_strict_only_rule_marks_sdk_loss(written: dict[str, Any], rule_id: str) -> None:
    proven = []
    for kind, (row, ontology) in written.items():
        assert sdk_loads_without_loss(row, ontology)[0], kind  # the SDK's own row is the baseline
        subject = Subject("encord", "strict", [row], ontology)
        for number, candidate in enumerate(
            mutants.candidates(RandomDraw(f"{rule_id}-{kind}"), subject, rule_id)
        ):
            if number >= 3:
                break
            broken = candidate.subject.document
            if rule_id not in _errors(broken, "strict", ontology) or rule_id in _errors(broken, "lenient"):
                continue
            loaded, reason = sdk_loads_without_loss(broken[0], ontology)
            assert not loaded, f"{rule_id} on a {kind} row, but encord loads it without loss"
            proven.append((kind, reason))
            break
    assert proven, f"{rule_id}: no SDK-written row has a site for the operator"


def _deletions(
    node: Any, names: set[str], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names:
                yield path, key
            yield from _deletions(value, names, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _deletions(value, names, (*path, index))


def _strict_only_required() -> set[str]:
    lenient = {site.id: site for site in audit.sites("encord", "lenient")}
    names: set[str] = set()
    for site in audit.sites("encord", "strict"):
        if site.keyword == "required":
            before = lenient.get(site.id)
            names |= set(site.value) - set(before.value if before is not None else [])
    return names


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_keys_only_strict_requires_are_read_by_the_sdk(written: dict[str, Any], kind: str) -> None:
    """Delete, one at a time, each key that only strict requires from a row the SDK wrote: wherever strict
    then reports an error that lenient does not, the SDK raises or loses data."""
    row, ontology = written[kind]
    names = _strict_only_required()
    checked = 0
    for path, key in _deletions(row, names):
        broken = copy.deepcopy(row)
        parent = broken
        for token in path:
            parent = parent[token]
        del parent[key]
        strict, lenient = _errors(broken, "strict"), _errors(broken, "lenient")
        if not strict or lenient:
            continue
        loaded, _ = sdk_loads_without_loss(broken, ontology)
        assert not loaded, (
            f"strict requires {'/'.join(map(str, (*path, key)))} but encord loads the row without it"
        )
        checked += 1
    assert checked, f"{kind}: no strict-only key to delete"


def _case(name: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads((CASES / name).read_text(encoding="utf-8"))[0]
    return row


def _placed(row: dict[str, Any]) -> dict[str, Any]:
    """The case row with its classification placed on frame 0 (how encord 0.1.211 writes it)."""
    placed = copy.deepcopy(row)
    for entry in placed["classification_answers"].values():
        entry["range"] = [[0, 0]]
    return placed


def test_frame_classifications_without_range_or_answers_are_lost() -> None:
    ontology = json.loads((CASES / "ontology.json").read_text(encoding="utf-8"))
    row = _case("reject-frame-classification-without-range.json")
    base = _placed(row)
    assert sdk_loads_without_loss(base, ontology)[0] and not _errors([base], "strict")
    # the older platform form: the answer entry has no range
    assert "ENC-CLASSIFICATION-RANGE-MISSING" in _errors([row], "strict") - _errors([row], "lenient")
    assert not sdk_loads_without_loss(row, ontology)[0]
    # the frame lists a classification that classification_answers does not hold
    unanswered = copy.deepcopy(base)
    unanswered["classification_answers"] = {}
    assert "ENC-FRAME-CLASSIFICATION-UNANSWERED" in _errors([unanswered], "strict")
    assert not sdk_loads_without_loss(unanswered, ontology)[0]


def test_a_video_frame_beyond_the_duration_is_refused(written: dict[str, Any]) -> None:
    """With the metadata the SDK derives for a video (number_of_frames = ceil(fps * duration),
    LabelRowV2 from_media_metadata), an object on a frame beyond the duration raises LabelRowError."""
    row, ontology = written["video"]
    unit = next(iter(row["data_units"].values()))
    frames = math.ceil(unit["data_fps"] * unit["data_duration"])
    broken = copy.deepcopy(row)
    labels = next(iter(broken["data_units"].values()))["labels"]
    labels[str(frames)] = labels.pop(next(iter(labels)))
    assert "ENC-FRAME-BEYOND-DURATION" in _errors([broken], "strict") - _errors([broken], "lenient")
    assert not _errors([row], "strict")

    def load(document: dict[str, Any]) -> None:
        metadata = dataclasses.replace(make_metadata(document), number_of_frames=frames)
        LabelRowV2(metadata, Mock(), make_ontology(ontology)).from_labels_dict(document)

    load(row)
    with pytest.raises(LabelRowError):
        load(broken)


def test_an_audio_space_range_beyond_duration_ms_is_refused() -> None:
    spec = next(s for s in all_rules("encord") if s.id == "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION")
    ontology = {
        "objects": [
            {"id": "1", "name": "Speech", "color": "#D33115", "shape": "audio", "featureNodeHash": "objSpk01"}
        ],
        "classifications": [],
    }
    broken, fine = spec.example[0], spec.passing_example[0]
    assert "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION" in _errors([broken], "strict") - _errors(
        [broken], "lenient"
    )
    assert not _errors([fine], "strict")
    assert sdk_loads_without_loss(fine, ontology)[0]
    loaded, reason = sdk_loads_without_loss(broken, ontology)
    assert not loaded and "LabelRowError" in reason
