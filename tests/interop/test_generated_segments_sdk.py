"""Generated strict Segments.ai releases validate with the segments.typing models of their task type.

The SDK verdict is the one ``test_segments_sdk`` builds (the SDK sub-models chosen per task type inside
the envelope ``SegmentsDataset`` needs; schemas/segments/notes.md#s11).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import labelspec
from labelspec import generators
from labelspec.generators.fixtures.segments import TASK_TYPES
from tests.conftest import examples

pytestmark = pytest.mark.interop

pytest.importorskip("segments.typing")

from test_segments_sdk import Rejected, _check_sdk  # noqa: E402  (needs the SDK)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_generated_strict_releases_validate_with_the_sdk_models(task_type: str) -> None:
    @settings(
        max_examples=examples(8),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(generators.segments_release(profile="strict", task_types=[task_type]))
    def check(release: dict[str, Any]) -> None:
        try:
            _check_sdk(release)
        except Rejected as exc:
            pytest.fail(f"segments.typing rejects a generated {task_type} release: {exc}")

    check()


# ------------------------------------------------------------------ what the SDK's models write
#
# The other direction: segments-ai 1.33.0's own typing models serialise the samples, labels, labelsets
# and task attributes (``model_dump(mode="json")``, what the SDK sends and what ``json.dumps`` of a
# fetched object gives, with every optional field written as null). Lenient must accept all of it.


def _sdk_written(release: dict[str, Any]) -> dict[str, Any]:
    from test_segments_sdk import MODELS, typing_

    dataset = release["dataset"]
    task_type = dataset["task_type"]
    sample_model, label_model = MODELS[task_type]
    stamp = {"created_at": "2024-01-01T00:00:00Z", "created_by": "sdk"}
    dataset["task_attributes"] = typing_.TaskAttributes.model_validate(dataset["task_attributes"]).model_dump(
        mode="json"
    )
    dataset["labelsets"] = [
        typing_.Labelset.model_validate({"description": "", **labelset}).model_dump(mode="json")
        for labelset in dataset["labelsets"]
    ]
    samples = []
    for sample in dataset["samples"]:
        written = typing_.Sample(
            uuid=sample["uuid"],
            name=sample["name"],
            attributes=sample_model.model_validate(sample["attributes"]),
            metadata=sample["metadata"],
            priority=0.0,
            **stamp,
        ).model_dump(mode="json")
        labels = {}
        for labelset, label in sample["labels"].items():
            labels[labelset] = (
                None
                if label is None
                else typing_.Label(
                    sample_uuid=sample["uuid"],
                    label_type=task_type,
                    label_status=label["label_status"],
                    labelset=labelset,
                    attributes=label_model.model_validate(label["attributes"]),
                    updated_at=stamp["created_at"],
                    **stamp,
                ).model_dump(mode="json")
            )
        samples.append({**written, "labels": labels})
    dataset["samples"] = samples
    return release


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_what_the_sdk_models_write_is_lenient_valid(task_type: str) -> None:
    @settings(
        max_examples=examples(5),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(generators.segments_release(profile="strict", task_types=[task_type]))
    def check(release: dict[str, Any]) -> None:
        document = _sdk_written(release)
        report = labelspec.validate(document, format="segments", profile="lenient")
        errors = [f for f in report.files[-1].findings if f.severity == "error"]
        assert errors == [], f"lenient rejects what segments.typing writes for {task_type}: {errors}"

    check()
