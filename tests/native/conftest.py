"""The native extension for the tests of tests/native (CI builds it: LABELSPEC_REQUIRE_NATIVE=1 turns a
missing extension into a failure instead of a skip)."""

from __future__ import annotations

import os
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def native() -> ModuleType:
    try:
        from labelspec import _native  # type: ignore[attr-defined]
    except ImportError as exc:
        if os.environ.get("LABELSPEC_REQUIRE_NATIVE") == "1":
            pytest.fail(f"the native extension is not built: {exc}")
        pytest.skip("the native extension is not built")
    module: ModuleType = _native
    return module
