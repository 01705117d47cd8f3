"""``labelspec report`` opened in headless Chromium (Debian's chromium + chromium-driver, via selenium):
no console errors, nothing loaded from anywhere but the file itself, the page's counts equal ``labelspec
stats``, every geometry kind drawn, findings first and linked. Screenshots of the summary and the gallery
go to ``test-artifacts/report/``.

The media are made here: images of the exports' sizes, and Segments label bitmaps whose pixels carry the
release's instance ids (``R + 256·G + 65536·B``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT

ARTIFACTS = ROOT / "test-artifacts" / "report"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=300)


def _image(path: Path, width: int, height: int, seed: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    tint = rng.integers(60, 200, size=3)
    bands = [tint[c] + 40 * np.sin(xs / (17 + 9 * c)) + 30 * np.cos(ys / 23) for c in range(3)]
    pixels = np.stack(bands, -1)
    pixels = np.clip(pixels, 0, 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def _bitmap(path: Path, ids: list[int], width: int = 64, height: int = 48) -> None:
    """A Segments label bitmap: one band of pixels per instance id."""
    import numpy as np
    from PIL import Image

    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    for n, instance in enumerate(ids):
        band = slice(4 + n * 10, 12 + n * 10)
        rgba[band, 8 : width - 8, 0] = instance & 255
        rgba[band, 8 : width - 8, 1] = (instance >> 8) & 255
        rgba[band, 8 : width - 8, 2] = (instance >> 16) & 255
    Image.fromarray(rgba, "RGBA").save(path)


@pytest.fixture(scope="module")
def inputs(cli: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Exports covering every geometry kind, with their media under one folder."""
    base = tmp_path_factory.mktemp("report")
    media = base / "media"
    media.mkdir()
    generated = base / "generated"
    result = run(
        cli, "generate", "encord", "--count", "8", "--seed", "1", "--data-type", "image", "--out", generated
    )
    assert result.returncode == 0, result.stderr
    rows = [generated / f"encord-{n:04d}.json" for n in range(8)]
    # the eight generated documents' rows (together every Encord shape), one export, one ontology
    merged = base / "encord-rows.json"
    merged.write_text(json.dumps([row for path in rows for row in json.loads(path.read_text())]))
    ontology = generated / "encord-0000.ontology.json"
    ontology_doc = json.loads(ontology.read_text())
    for path in rows[1:]:  # every row's classes in one ontology
        other = json.loads(path.with_name(path.stem + ".ontology.json").read_text())
        ontology_doc["objects"] += other["objects"]
        ontology_doc["classifications"] += other["classifications"]
    ontology.write_text(json.dumps(ontology_doc))
    for n, row in enumerate(json.loads(merged.read_text())):
        for unit in row["data_units"].values():
            _image(media / unit["data_title"], int(unit["width"]), int(unit["height"]), n)
    _image(media / "cherries.jpg", 1024, 768, 7)
    release = json.loads((CORPUS / "segments" / "segmentation-bitmap-release.json").read_text())
    for sample in release["dataset"]["samples"]:
        _image(media / Path(sample["attributes"]["image"]["url"]).name, 64, 48, 3)
        for label in sample["labels"].values():
            if label and label["attributes"].get("segmentation_bitmap"):
                ids = [a["id"] for a in label["attributes"]["annotations"]]
                _bitmap(media / Path(label["attributes"]["segmentation_bitmap"]["url"]).name, ids)
    coco = json.loads((CORPUS / "coco-instance" / "export_coco-instance_jane_pets_v1.0.json").read_text())
    for image in coco["images"]:
        _image(media / image["file_name"], image["width"], image["height"], 5)
    return {
        "media": media,
        "ontology": ontology,
        "documents": [
            merged,
            CORPUS / "encord" / "image-row.json",
            CORPUS / "segments" / "segmentation-bitmap-release.json",
            CORPUS / "coco-instance" / "export_coco-instance_jane_pets_v1.0.json",
            CORPUS / "coco-instance" / "bad_polygon_two_points.json",
            CORPUS / "datagym" / "image-project.json",
            CORPUS / "yolo" / "ultralytics",
        ],
        "base": base,
    }


@pytest.fixture(scope="module")
def report(cli: list[str], inputs: dict[str, Any]) -> Path:
    out = inputs["base"] / "report.html"
    result = run(cli, "report", *inputs["documents"], "-o", out, "--media-dir", inputs["media"],
                 "--ontology", inputs["ontology"], "--samples", "50", "--offline")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        message = "chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs them")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="labelspec-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(browser: Any, report: Path) -> Any:
    browser.get(report.as_uri())
    return browser


def test_no_console_errors_and_nothing_loaded_from_outside(page: Any, report: Path) -> None:
    severe = [entry for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert severe == []
    resources = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith("data:") for name in resources), resources
    references = page.execute_script(
        "return [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || "
        "e.getAttribute('href'))"
    )
    assert all(ref.startswith(("data:", "#")) for ref in references), [
        r for r in references if r[:5] != "data:"
    ]


def test_dom_counts_equal_stats(cli: list[str], page: Any, inputs: dict[str, Any]) -> None:
    result = run(cli, "stats", *inputs["documents"], "--media-dir", inputs["media"], "--ontology",
                 inputs["ontology"], "--output", "json", "--offline")  # fmt: skip
    files = json.loads(result.stdout)["files"]
    dom = page.execute_script(
        """
        return [...document.querySelectorAll('section.document')].map(s => ({
          stats: Object.fromEntries([...s.querySelectorAll('.cards [data-stat]')].map(
              e => [e.dataset.stat, e.textContent])),
          classes: Object.fromEntries([...s.querySelectorAll('tr[data-class]')].map(r => [r.dataset.class,
              {labels: +r.querySelector('[data-stat=class-labels]').textContent,
               media: +r.querySelector('[data-stat=class-media]').textContent}])),
          figures: [...s.querySelectorAll('figure.media')].map(f => ({
              labels: +f.dataset.labels, drawn: f.querySelectorAll('.label').length,
              findings: +f.dataset.findings, picture: f.dataset.picture})),
        }));
        """
    )
    assert len(dom) == len(files) == len(inputs["documents"])
    for section, entry in zip(dom, files, strict=True):
        assert int(section["stats"]["media"]) == entry["media"]
        assert int(section["stats"]["labels"]) == entry["labels"]
        assert section["classes"] == entry["classes"]
        figures = section["figures"]
        assert len(figures) == entry["media"]  # --samples 50 shows every media item of these exports
        assert sum(f["labels"] for f in figures) == entry["labels"]
        assert all(f["labels"] == f["drawn"] for f in figures)
        flags = [f["findings"] > 0 for f in figures]
        assert flags == sorted(flags, reverse=True), "media with findings come first"


def test_every_geometry_kind_is_drawn_in_class_colours(page: Any) -> None:
    kinds = set(
        page.execute_script("return [...document.querySelectorAll('.label')].map(e => e.dataset.geometry)")
    )
    assert {"box", "rotated box", "polygon", "polyline", "point", "skeleton", "mask"} <= kinds
    holes = page.execute_script(
        "return [...document.querySelectorAll('.label path[fill-rule=evenodd]')]"
        ".filter(p => (p.getAttribute('d').match(/M/g) || []).length > 1).length"
    )
    assert holes > 0, "a polygon with a hole is drawn as one even-odd path"
    masks = page.execute_script(
        "return [...document.querySelectorAll('.label[data-geometry=mask] image')]"
        ".map(i => i.getAttribute('href'))"
    )
    assert masks and all(m.startswith("data:image/png;base64,") for m in masks)
    # the export's colours: the Encord row's colour of the class
    colours = page.execute_script(
        "return [...document.querySelectorAll('.label[data-class=\"Cherry\"] rect')]"
        ".map(r => r.getAttribute('stroke'))"
    )
    rows = json.loads((CORPUS / "encord" / "image-row.json").read_text())
    cherry = next(
        o["color"].lower()
        for row in rows
        for unit in row["data_units"].values()
        for o in unit["labels"]["objects"]
        if o["name"] == "Cherry"
    )
    assert colours == [cherry]


def test_pictures_and_placeholders(page: Any) -> None:
    states = page.execute_script(
        "return [...document.querySelectorAll('section.document')].map(s => "
        "[...s.querySelectorAll('figure.media')]"
        ".map(f => [f.dataset.picture, f.querySelector('figcaption').textContent]))"
    )
    assert all(state == "yes" for state, _ in states[0] + states[1] + states[2] + states[3])
    yolo = states[-1]
    assert yolo and all(state == "no" and "is not under" in caption for state, caption in yolo)
    shown = page.execute_script("return document.querySelectorAll('.placeholder-note').length")
    assert shown >= len(yolo)


def test_pictures_link_to_their_findings(page: Any) -> None:
    links = page.execute_script(
        "return [...document.querySelectorAll('figure.media a.finding-link')]"
        ".map(a => a.getAttribute('href'))"
    )
    assert links, "the invalid COCO file's media carries findings"
    missing = page.execute_script(
        "return arguments[0].filter(h => !document.getElementById(h.slice(1)))", links
    )
    assert missing == []
    rules = page.execute_script(
        "return [...document.querySelectorAll('details.rule')].map(d => [d.dataset.rule, "
        "d.querySelector('.rationale').textContent.length])"
    )
    assert rules and all(length > 0 for _, length in rules)


def test_screenshots(page: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_window_size(1280, 900)
    page.execute_script("window.scrollTo(0, 0)")
    assert page.save_screenshot(str(ARTIFACTS / "summary.png"))
    page.execute_script("document.getElementById('gallery0').scrollIntoView()")
    assert page.save_screenshot(str(ARTIFACTS / "gallery.png"))
    for name in ("summary.png", "gallery.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


def test_the_sample_is_seeded(cli: list[str], inputs: dict[str, Any]) -> None:
    def shown(seed: str, name: str) -> list[str]:
        out = inputs["base"] / name
        result = run(cli, "report", inputs["documents"][0], "-o", out, "--samples", "2", "--seed", seed,
                     "--offline", "--ontology", inputs["ontology"])  # fmt: skip
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        return [part.split('"', 1)[0] for part in text.split('data-media-id="')[1:]]

    first, again = shown("1", "a.html"), shown("1", "b.html")
    assert first == again and len(first) == 2
    others = {tuple(shown(str(seed), f"s{seed}.html")) for seed in range(2, 7)}
    assert len(others | {tuple(first)}) > 1, "another seed draws another sample"


def test_existing_output_is_kept(cli: list[str], inputs: dict[str, Any]) -> None:
    out = inputs["base"] / "kept.html"
    out.write_text("mine")
    result = run(cli, "report", CORPUS / "encord" / "image-row.json", "-o", out, "--offline")
    assert result.returncode == 2 and out.read_text() == "mine"
    assert "--force" in result.stderr
