"""The pre-commit snippets of the README and the CI guide name hooks that exist and a revision that exists
(or the placeholder the text explains)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "COMMIT-SHA"


def _snippets(path: Path) -> list[dict]:  # type: ignore[type-arg]
    blocks = re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S)
    return [doc for doc in map(yaml.safe_load, blocks) if isinstance(doc, dict) and "repos" in doc]


@pytest.mark.parametrize("page", ["README.md", "docs/guides/ci.md"])
def test_pre_commit_snippet_names_existing_hooks_and_revision(page: str) -> None:
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    snippets = _snippets(ROOT / page)
    assert snippets, f"{page} has no .pre-commit-config.yaml snippet"
    tags = subprocess.run(["git", "tag"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    for snippet in snippets:
        for repo in snippet["repos"]:
            assert {hook["id"] for hook in repo["hooks"]} <= hooks
            rev = str(repo["rev"])
            if rev == PLACEHOLDER:  # the text must say what to put there
                assert "no release tag" in (ROOT / page).read_text().replace("\n", " ")
            else:
                assert rev in tags, f"{page}: rev {rev} is not a tag of this repository"


def test_the_hooks_file_example_names_a_revision_that_exists() -> None:
    """The usage example in .pre-commit-hooks.yaml's comment follows the same rule as the pages."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    revs = re.findall(r"^#\s+rev:\s*(\S+)", text, re.M)
    tags = subprocess.run(["git", "tag"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert revs and all(rev == PLACEHOLDER or rev in tags for rev in revs), revs
    if PLACEHOLDER in revs:
        assert "no release is tagged" in text.replace("\n#", "")


def test_hooks_run_an_existing_command() -> None:
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        command = hook["entry"].split()
        assert command[0] == "labelspec" and command[1] in {"validate", "fix"}
