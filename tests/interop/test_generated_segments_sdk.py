"""Generated strict Segments.ai releases validate with the segments.typing models of their task type.

The SDK verdict is the one ``test_segments_sdk`` builds (the SDK sub-models chosen per task type inside
the envelope ``SegmentsDataset`` needs; notes/segments.md §11).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from labelspec import generators
from labelspec.generators.fixtures.segments import TASK_TYPES

pytestmark = pytest.mark.interop

pytest.importorskip("segments.typing")

from test_segments_sdk import Rejected, _check_sdk  # noqa: E402  (needs the SDK)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_generated_strict_releases_validate_with_the_sdk_models(task_type: str) -> None:
    @settings(
        max_examples=min(settings.default.max_examples, 8),
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
