"""Every citation in the repository resolves, and nothing points at papers outside it.

A rule whose evidence cannot be opened cannot be re-checked when a vendor SDK changes, so:

- every ``sources``/``source``/``documentation``/``notes`` value in ``schemas/**.yaml`` starts with a citation
  that resolves: an https URL on a vendor or documentation domain, an SDK reference

  (``<package> <version> <dotted.module>[.function]``), or a repository path that exists (with its anchors);
- every mention of ``schemas/<format>/notes.md#anchor`` anywhere in the repository names an anchor that the
  file defines;
- no text in the repository names the private working papers the project was started from.

The checks read the files as text; the oracle is the file system (does the path exist, does the anchor
occur as an ``id="…"`` in the target).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CITED_KEYS = ("sources", "source", "documentation", "notes")
# Vendor documentation, format specifications and the producers' public repositories.
ALLOWED_HOSTS = {
    "docs.datagym.ai",
    "docs.segments.ai",
    "segments.ai",
    "docs.encord.com",
    "cocodataset.org",
    "github.com",
    "docs.ultralytics.com",
    "pypi.org",
}
# Packages whose behaviour the catalogue cites, with the version the claim was read from.
SDK_PACKAGES = ("encord", "segments-ai", "pycocotools", "datumaro", "labelformat", "panopticapi", "datagym")
URL = re.compile(r"https://([a-z0-9.-]+)(/[^\s\"'`)]*)?")
_PACKAGE = "|".join(re.escape(p) for p in SDK_PACKAGES)
SDK_REF = re.compile(rf"^({_PACKAGE}) \d[\w.]*(?: / \d[\w.]*)? `?[a-z_][a-z0-9_]*(\.[A-Za-z_]\w*)*`?")
REPO_PATH = re.compile(r"^([\w.-]+(?:/[\w.-]+)+\.(?:md|ya?ml|py|json|c))((?:#[\w-]+)?)")
# A repo-relative notes citation, with the further anchors that may follow it ("#s1, #s4 to #s6").
NOTES_REF = re.compile(r"(schemas/[\w-]+/notes\.md)((?:#[\w-]+)(?:(?:,| to| and) #[\w-]+)*)?")
PRIVATE = re.compile(r"seed [0-9]{3}|seeds?/|notes/[a-z]+\.md|DESIGN\.md|shared/")
SCANNED = ("schemas", "validator", "labelspec", "generators", "docs", "tests", "benchmarks", "tools")
SCANNED_FILES = ("README.md", "Makefile", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".c", ".h", ".txt", ".css", ".js", ".json", ".cfg"}


def _anchors(path: Path) -> set[str]:
    return set(re.findall(r'id="([\w-]+)"', path.read_text(encoding="utf-8")))


def _cited_values(node: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CITED_KEYS:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        yield f"{pointer}/{key}", item
            else:
                yield from _cited_values(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _cited_values(item, f"{pointer}/{index}")


def _schema_citations() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "schemas").rglob("*.yaml")):
        for pointer, value in _cited_values(yaml.safe_load(path.read_text(encoding="utf-8"))):
            found.append((f"{path.relative_to(ROOT)}#{pointer}", value))
    return found


def _resolves(value: str) -> str | None:
    """None when ``value`` starts with a citation that resolves, else why it does not."""
    text = value.strip()
    url = URL.match(text)
    if url:
        return None if url.group(1) in ALLOWED_HOSTS else f"host {url.group(1)} is not a vendor/doc domain"
    if SDK_REF.match(text):
        return None
    path = REPO_PATH.match(text)
    if path:
        return _path_problem(path.group(1), path.group(2), text[path.end() :])
    return "neither an https URL, an SDK reference nor a repository path"


def _path_problem(rel: str, anchor: str, rest: str) -> str | None:
    target = ROOT / rel
    if not target.is_file():
        return f"{rel} does not exist"
    wanted = [anchor[1:]] if anchor else []
    if re.match(r"(?:,| to| and) #", rest):  # further anchors of the same file: "#s1, #s4 to #s6"
        wanted += re.findall(r"#([\w-]+)", rest.split("(")[0])
    missing = [a for a in wanted if a not in _anchors(target)]
    return f"{rel} has no anchor {missing}" if missing else None


CITATIONS = _schema_citations()


def test_the_catalogue_cites_something() -> None:
    # Guards the scan itself: if the keys were renamed, every other test here would pass on nothing.
    assert len(CITATIONS) > 200


@pytest.mark.parametrize(("where", "value"), CITATIONS, ids=[w for w, _ in CITATIONS])
def test_every_schema_citation_resolves(where: str, value: str) -> None:
    problem = _resolves(value)
    assert problem is None, f"{where}: {value!r}: {problem}"


def _repo_text_files() -> Iterator[Path]:
    for name in SCANNED_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
                yield path


def test_no_text_points_at_papers_outside_the_repo() -> None:
    me = Path(__file__).resolve()
    offenders = []
    for path in _repo_text_files():
        if path.resolve() == me:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if PRIVATE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "\n".join(offenders)


def test_every_notes_anchor_mentioned_anywhere_exists() -> None:
    problems = []
    mentions = 0
    me = Path(__file__).resolve()
    for path in _repo_text_files():
        if path.resolve() == me:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in NOTES_REF.finditer(text):
            mentions += 1
            target = ROOT / match.group(1)
            if not target.is_file():
                problems.append(f"{path.relative_to(ROOT)}: {match.group(1)} does not exist")
                continue
            for anchor in re.findall(r"#([\w-]+)", match.group(2) or ""):
                if anchor not in _anchors(target):
                    problems.append(f"{path.relative_to(ROOT)}: {match.group(1)} has no anchor #{anchor}")
    assert mentions > 100
    assert not problems, "\n".join(problems)


def test_the_checker_rejects_what_it_must() -> None:
    # The resolver itself, on citations built to fail: a missing anchor, a missing file, a foreign host,
    # a bare description.
    assert _resolves("schemas/encord/notes.md#s99") is not None
    assert _resolves("schemas/encord/nope.md") is not None
    assert _resolves("https://example.com/page") is not None
    assert _resolves("the vendor page") is not None
    assert _resolves("schemas/encord/notes.md#s5") is None
    assert _resolves("encord 0.1.211 encord.objects.coordinates") is None
