"""The documentation site: built with ``mkdocs build --strict`` from the schemas, rules and CLI.

The site is built once per session into a temporary folder. Every property of every compiled schema, every
rule id and every discrepancy id must appear in the built HTML; the CLI page shows every command; a format
page renders in headless Chromium (the screenshot is kept under ``test-artifacts/docs/``).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labelspec import audit, docsite
from labelspec.cli import build_parser
from labelspec.validator.compiler import PROFILES, compile_schema, format_metadata, list_formats
from labelspec.validator.examples import documented_examples
from labelspec.validator.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "docs"
BROWSER_FORMAT = "encord"


# ---------------------------------------------------------------------------------------------------------
# The build


@functools.cache
def generated_uris() -> tuple[str, ...]:
    return tuple(docsite.site_pages(ROOT))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[docs]')")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build(tmp_path_factory.mktemp("site"))
    # Under pytest-xdist the workers share one build: the parent of their temp folders is this run's.
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent / "labelspec-docs-site"
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = shared.with_suffix(".ok")
        if not marker.is_file():
            shutil.rmtree(shared, ignore_errors=True)
            _build(shared)
            marker.touch()
    return shared


def _build(out: Path) -> Path:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def page(site: Path, uri: str) -> str:
    """The HTML of a page given by its source path (``formats/encord.md`` → ``formats/encord/index.html``)."""
    stem = uri.removesuffix(".md")
    target = site / "index.html" if stem == "index" else site / stem.removesuffix("/index") / "index.html"
    assert target.is_file(), f"{uri} was not built ({target})"
    return target.read_text(encoding="utf-8")


def property_names(node: Any) -> Iterator[str]:
    """Every key of every ``properties`` map of a schema (root, definitions, branches, nested objects)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("examples", "default", "const", "enum", "x-format"):
                continue
            if key == "properties" and isinstance(value, dict):
                yield from value
                for sub in value.values():
                    yield from property_names(sub)
            elif key in ("definitions", "patternProperties", "dependencies") and isinstance(value, dict):
                for sub in value.values():
                    yield from property_names(sub)
            else:
                yield from property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from property_names(item)


def _appears(name: str, text: str) -> bool:
    return name in text or html.escape(name, quote=False) in text or html.escape(name) in text


def test_site_builds_strictly_with_every_generated_page(site: Path) -> None:
    for uri in generated_uris():
        page(site, uri)
    for fmt in list_formats():
        for profile in PROFILES:
            assert (site / "schemas" / fmt / f"{profile}.json").is_file()
    for hand_written in ("index.md", "guides/ci.md", "guides/fixtures.md", "guides/convert.md",
                         "guides/large-exports.md", "guides/inspect.md"):  # fmt: skip
        page(site, hand_written)
    assert (site / "search" / "search_index.json").is_file()
    assert not (site / "hooks").exists(), "the hook module must not be published"


def test_demo_report_is_built_and_linked_from_the_index(site: Path) -> None:
    """The site carries ``labelspec report`` of bundled examples; its counts are those of ``stats``."""
    import json
    import subprocess

    from labelspec.docsite import DEMO_EXAMPLES
    from tests.conftest import ROOT, labelspec_command

    report = (site / "demo" / "report.html").read_text(encoding="utf-8")
    assert 'href="demo/report.html"' in (site / "index.html").read_text(encoding="utf-8")
    assert "report.html" in (site / "guides" / "inspect" / "index.html").read_text(encoding="utf-8")
    for image in ("report-summary.png", "report-gallery.png"):
        assert (site / "guides" / "img" / image).stat().st_size > 10_000
    paths = [ROOT / "schemas" / fmt / "examples" / name for fmt, name in DEMO_EXAMPLES]
    stats = subprocess.run(
        [*labelspec_command(), "stats", *map(str, paths), "--output", "json", "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    files = json.loads(stats.stdout)["files"]
    sections = report.split('<section class="document"')[1:]
    assert len(sections) == len(files)
    for section, entry in zip(sections, files, strict=True):
        assert f'data-stat="labels">{entry["labels"]}<' in section
        assert section.count('<figure class="media') == entry["media"]
        assert section.count('class="label"') == entry["labels"]


def test_generated_pages_are_not_written_into_docs() -> None:
    for uri in generated_uris():
        assert not (ROOT / "docs" / uri).exists(), f"docs/{uri} is generated by the build; do not commit it"


@pytest.mark.parametrize("fmt", list_formats())
def test_every_schema_property_appears_on_the_format_page(site: Path, fmt: str) -> None:
    text = page(site, f"formats/{fmt}.md")
    assert _appears(str(format_metadata(fmt)["title"]), text)
    names = {name for profile in PROFILES for name in property_names(compile_schema(fmt, profile))}
    assert names, f"{fmt}: no properties found"
    missing = sorted(n for n in names if not _appears(n, text))
    assert not missing, f"{fmt}: properties missing from the reference page: {missing}"
    definitions = compile_schema(fmt)["definitions"]
    missing_definitions = sorted(n for n in definitions if f'id="{docsite.anchor(n)}"' not in text)
    assert not missing_definitions, f"{fmt}: definitions without a section: {missing_definitions}"


@pytest.mark.parametrize("fmt", list_formats())
def test_documented_examples_appear_with_their_verdicts(site: Path, fmt: str) -> None:
    text = page(site, f"formats/{fmt}.md")
    for example in documented_examples(fmt):
        assert _appears(example.file, text), example.file
    assert "⚠️" not in text, f"{fmt}: a documented example's verdict differs from the expectation"


@pytest.mark.parametrize("fmt", list_formats())
def test_every_rule_id_appears_in_the_catalogue(site: Path, fmt: str) -> None:
    text = page(site, f"rules/{fmt}.md")
    missing = [spec.id for spec in all_rules(fmt) if f'id="{docsite.anchor(spec.id)}"' not in text]
    assert not missing, f"{fmt}: rules missing from the catalogue: {missing}"
    everywhere = page(site, "rules/index.md")
    own = [spec.id for spec in all_rules(fmt) if spec.format == fmt]
    assert all(rule_id in everywhere for rule_id in own)


@pytest.mark.parametrize("fmt", list_formats())
def test_every_discrepancy_appears_in_the_register(site: Path, fmt: str) -> None:
    text = page(site, f"discrepancies/{fmt}.md")
    missing = [
        e["id"] for e in docsite.discrepancies(fmt) if f'id="{docsite.anchor(str(e["id"]))}"' not in text
    ]
    assert not missing, f"{fmt}: discrepancies missing from the register: {missing}"


def test_cli_page_shows_every_command(site: Path) -> None:
    text = page(site, "cli.md")
    parser = build_parser()
    commands = [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]
    assert commands
    for name in commands:
        assert f"labelspec {name}" in text, name
        assert f'id="{docsite.anchor(name)}"' in text, name


def test_benchmarks_page_follows_the_results_file(site: Path) -> None:
    text = page(site, "benchmarks.md")
    if (ROOT / "benchmarks" / "RESULTS.md").is_file():
        assert "benchmarks/RESULTS.md" in text
    else:
        assert "No benchmark results yet" in text


# ---------------------------------------------------------------------------------------------------------
# Rendering helpers (no build needed)


def test_table_cells_escape_pipes_outside_code_spans() -> None:
    assert docsite.prose("a | b", cell=True) == "a \\| b"
    assert docsite.prose("`a|b` or c|d", cell=True) == "`a|b` or c\\|d"
    assert docsite.prose("<data hash> and [*]") == "&lt;data hash&gt; and \\[\\*\\]"
    assert docsite.prose("snake_case `snake_case`") == "snake\\_case `snake_case`"


def test_type_labels_link_definitions() -> None:
    assert docsite.type_label({"$ref": "#/definitions/label_row"}) == "[label_row](#label_row)"
    assert docsite.type_label({"type": ["string", "null"]}) == "string or null"
    assert docsite.type_label({"type": "array", "items": {"$ref": "#/definitions/x"}}) == "array of [x](#x)"
    assert docsite.type_label({"type": "object", "additionalProperties": {"type": "integer"}}) == (
        "map of integer"
    )
    assert docsite.type_label({"const": "bounding_box"}) == 'constant `"bounding_box"`'


def test_conditions_read_as_words() -> None:
    node = {
        "allOf": [
            {
                "if": {"properties": {"shape": {"const": "bounding_box"}}, "required": ["shape"]},
                "then": {"required": ["boundingBox"]},
            }
        ]
    }
    assert docsite.condition_lines(None, node, ()) == [
        "- **When** `shape` is `bounding_box`: requires `boundingBox`"
    ]


def test_profile_differences_are_found() -> None:
    lenient = {"definitions": {"row": {"required": ["a"], "properties": {"n": {"type": "array"}}}}}
    strict = {
        "definitions": {
            "row": {"required": ["a", "b"], "properties": {"n": {"type": "array", "minItems": 1}}}
        }
    }
    diffs = docsite.profile_diffs(lenient, strict)
    assert [(d.path, d.keyword) for d in diffs] == [
        (("definitions", "row"), "required"),
        (("definitions", "row", "properties", "n"), "minItems"),
    ]
    assert docsite.diff_change(diffs[0]) == "also requires `b`"


def test_printed_lines_are_the_text_reporters_lines() -> None:
    spec = next(s for s in all_rules("encord") if s.id == "JSON-DUPLICATE-KEY")
    lines = docsite.printed_lines(spec, "encord", "lenient")
    assert lines and all(line.startswith("  /") for line in lines if "hint:" not in line)
    assert "  error  JSON-DUPLICATE-KEY  " in lines[0]


# ---------------------------------------------------------------------------------------------------------
# The browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _run_chromium(binary: str, profile_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile_dir}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120)


def test_format_page_renders_in_headless_chromium(served: str, tmp_path: Path) -> None:
    binary = _chromium()
    # Never a skip: a docs page that no browser rendered is not tested (.ci/run installs chromium).
    assert binary is not None, (
        "chromium is not installed (apt-get install chromium); the browser check needs it"
    )
    url = f"{served}/formats/{BROWSER_FORMAT}/"
    title = str(format_metadata(BROWSER_FORMAT)["title"])
    known_property = "label_hash"

    dom = _run_chromium(binary, tmp_path / "dom-profile", "--dump-dom", url)
    text = dom.stdout.decode("utf-8", "replace")
    assert dom.returncode == 0, dom.stderr.decode("utf-8", "replace")[-2000:]
    assert "<h1" in text and _appears(title, text), "the page does not show the format's title"
    tables = text.split("<table")[1:]
    assert any(known_property in t.split("</table>")[0] for t in tables), "no property table with label_hash"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{BROWSER_FORMAT}.png"
    shot.unlink(missing_ok=True)
    result = _run_chromium(
        binary, tmp_path / "shot-profile", f"--screenshot={shot}", "--window-size=1280,2000", url
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr.decode("utf-8", "replace")[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "the screenshot is (nearly) blank"


# ---------------------------------------------------------------------------------------------------------
# Pictures and code blocks, in a real browser (selenium driving Debian's chromium + chromium-driver)

CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
# Each page with pictures drawn at build time, and the pictures it must show.
FIGURE_PAGES = {
    **{f"formats/{fmt}/": [f"tree-{fmt}.svg"] for fmt in list_formats()},
    "formats/segments/": ["tree-segments.svg", "segments-bitmap-ids.svg"],
    "guides/convert/": ["conversion-pipeline.svg", "coordinates.svg"],
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    binary = _chromium()
    # Never a skip: .ci/run installs chromium and chromium-driver.
    assert binary is not None and CHROMEDRIVER is not None, (
        "chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run")
    for flag in (*flags, "--window-size=1024,900", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


_IMAGES_JS = """
return [...document.querySelectorAll('article img')].map(i => ({
  src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth * i.naturalHeight,
  shown: i.getBoundingClientRect().width * i.getBoundingClientRect().height}));
"""


@pytest.mark.parametrize("page", sorted(FIGURE_PAGES))
def test_every_picture_renders(browser: Any, served: str, page: str) -> None:
    browser.get(f"{served}/{page}")
    images = browser.execute_script(_IMAGES_JS)
    shown = {Path(image["src"]).name for image in images}
    assert set(FIGURE_PAGES[page]) <= shown, f"{page} lacks pictures: {set(FIGURE_PAGES[page]) - shown}"
    broken = [
        image for image in images if not image["complete"] or image["natural"] == 0 or image["shown"] == 0
    ]
    assert not broken, f"{page}: broken or empty pictures {broken}"


def test_every_picture_is_non_empty_svg(site: Path) -> None:
    for name in {name for names in FIGURE_PAGES.values() for name in names}:
        text = (site / "figures" / name).read_text(encoding="utf-8")
        assert text.startswith("<svg") and text.count("<text") >= 3, name


_OVERFLOW_JS = """
const blocks = [...document.querySelectorAll('article pre > code')];
const overflowing = () => blocks.filter(c => c.scrollWidth > c.clientWidth + 1).length;
const now = overflowing();
blocks.forEach(c => c.style.whiteSpace = 'pre');
const unwrapped = overflowing();
blocks.forEach(c => c.style.whiteSpace = '');
return {blocks: blocks.length, now: now, unwrapped: unwrapped};
"""


def test_quick_start_code_is_not_cut_off(browser: Any, served: str) -> None:
    browser.get(f"{served}/")
    result = browser.execute_script(_OVERFLOW_JS)
    assert result["blocks"] >= 3
    # The page does have lines wider than the column (else this test could not fail) ...
    assert result["unwrapped"] >= 1, result
    # ... and none of them is cut off: every code block shows its whole width.
    assert result["now"] == 0, result


def test_every_evidence_link_on_the_site_opens_its_section(site: Path) -> None:
    import re

    links = 0
    for page in site.rglob("*.html"):
        for vendor, section in re.findall(
            r'href="[./]*evidence/([\w-]+)/#([\w-]+)"', page.read_text("utf-8")
        ):
            links += 1
            target = site / "evidence" / vendor / "index.html"
            assert target.is_file(), f"{page}: no evidence page for {vendor}"
            assert f'id="{section}"' in target.read_text("utf-8"), (
                f"{page}: evidence/{vendor} has no #{section}"
            )
    assert links > 100  # the discrepancy registers cite their evidence


@pytest.mark.parametrize("fmt", [f for f in list_formats() if audit.warning_sites(f)])
def test_register_renders_the_audit_and_the_warning_only_nodes(site: Path, fmt: str) -> None:
    """The built register page holds the audit (every error with the reason it is one, per profile) and the
    schema nodes whose failures only warn (x-severity), with what they still check and why."""
    text = html.unescape(page(site, f"discrepancies/{fmt}.md"))
    assert 'id="audit-lenient"' in text and 'id="audit-strict"' in text and 'id="audit-warnings"' in text
    warnings = text.split('id="audit-warnings"', 1)[1]
    checks = audit.warning_checks(fmt)
    for where, note in audit.warning_sites(fmt):
        assert where in warnings, f"{fmt}: {where} is not in the warnings table"
        assert " ".join(note.split()[:6]) in " ".join(warnings.split()), f"{fmt}: the note of {where}"
        for check in checks[where]:
            assert check in warnings, f"{fmt}: {where} checks {check}"
    strict = text.split('id="audit-strict"', 1)[1].split('id="audit-warnings"', 1)[0]
    for answer in audit.structural(fmt, "strict") + audit.semantic(fmt, "strict"):
        assert answer.subject in strict and answer.reason, f"{fmt}: {answer.subject}"
