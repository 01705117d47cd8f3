"""Shared test set-up: hypothesis profiles and paths."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"

# Bounded for CI (HYPOTHESIS_PROFILE=ci, set by .ci/run); "dev" explores more locally.
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
# `make fuzz`: many random (not derandomised) examples; HYPOTHESIS_FUZZ_EXAMPLES sets how many.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("HYPOTHESIS_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(limit: int, *, cap: bool = True) -> int:
    """``max_examples`` of a property test that needs its own budget (a slow oracle, a cheap check).

    ``limit``, at most the active profile's number with ``cap``; under `make fuzz` (profile "fuzz") at least
    the profile's number, so that fuzzing widens every property test (tests/test_hypothesis_budgets.py
    checks that every ``max_examples`` goes through here)."""
    active = settings.default.max_examples
    if FUZZING:
        return max(active, limit)
    return min(active, limit) if cap else limit


def labelspec_command() -> list[str]:
    """The installed console script (tests run the real CLI, as users do)."""
    script = Path(sys.executable).parent / "labelspec"
    if script.exists():
        return [str(script)]
    found = shutil.which("labelspec")
    if found:
        return [found]
    return [sys.executable, "-m", "labelspec"]


@pytest.fixture(scope="session")
def cli() -> list[str]:
    return labelspec_command()
