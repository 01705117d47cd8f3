"""Every property test follows the hypothesis profile: a test that sets its own ``max_examples`` takes it
from ``tests.conftest.examples``, which `make fuzz` (profile "fuzz") widens to the profile's number. A
literal number would win over the profile and leave the test as narrow under fuzzing as in CI."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, examples

TESTS = ROOT / "tests"


def _budgets(path: Path) -> list[tuple[int, str]]:
    """(line, source) of every ``max_examples=`` keyword argument in a test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.value.lineno, ast.unparse(node.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "max_examples"
    ]


def test_every_own_budget_goes_through_the_profile() -> None:
    fixed = [
        f"{path.relative_to(ROOT)}:{line}: max_examples={source}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py"
        for line, source in _budgets(path)
        if not source.startswith("examples(")
    ]
    assert not fixed, "use tests.conftest.examples(...) so that `make fuzz` widens them:\n" + "\n".join(fixed)


def test_budgets_follow_the_active_profile() -> None:
    assert examples(10**6) <= 10**6 and examples(5) <= 5  # CI/dev: never more than asked (capped)
    assert examples(10**6, cap=False) == 10**6
    script = "from tests.conftest import examples; print(examples(6), examples(60, cap=False))"
    env = {**os.environ, "HYPOTHESIS_PROFILE": "fuzz", "HYPOTHESIS_FUZZ_EXAMPLES": "300"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["300", "300"]  # fuzzing widens every budget to the profile's number
