"""What the Encord SDK itself writes (encord 0.1.211, offline) is valid, readable and convertible.

``encord_sdk_build`` builds an ontology with the SDK's builders and, for every data type the SDK can make
offline, a label row through its API (``ObjectInstance`` / ``ClassificationInstance`` with every 2-D shape,
multi-region polygons with a hole, bitmasks, skeletons, audio / text / HTML ranges, cuboids, data-group
spaces; radio, checklist, text and nested answers, a dynamic answer), written with ``to_encord_dict()``
(one row, an object) and ``to_dict()``. Lenient and strict accept all of it, alone and as an export list;
the generated reader reads it; ``labelspec convert`` turns the rows with images into COCO, and says
clearly why the others have nothing to convert. These are produced at test time; nothing is stored.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import labelspec
from labelspec.formats import encord as encord_format
from labelspec.validator.compiler import PROFILES

pytestmark = pytest.mark.interop

pytest.importorskip("encord")

from encord_sdk import sdk_loads_without_loss  # noqa: E402  (needs the SDK)
from encord_sdk_build import BUILDERS, SDK_VERSION, written_row  # noqa: E402

# Shapes each kind of row is built with (so a builder that silently writes nothing fails here).
_FRAME_SHAPES = {
    "bounding_box",
    "rotatable_bounding_box",
    "polygon",
    "polyline",
    "point",
    "bitmask",
    "skeleton",
}
EXPECTED_SHAPES = {
    "image": _FRAME_SHAPES,
    "img_group": _FRAME_SHAPES,
    "video": _FRAME_SHAPES,
    "dicom": _FRAME_SHAPES,
    "nifti": _FRAME_SHAPES,
    "audio": {"audio"},
    "plain_text": {"text"},
    "html": {"text"},
    "pdf": {"bounding_box"},
    "scene": {"cuboid"},
    "group": {"bounding_box", "polygon"},
}
# Rows the COCO writer has images for; the others have no image representation (or no page size).
CONVERTIBLE = ("image", "img_group", "video", "dicom", "nifti", "group")


@pytest.fixture(autouse=True)
def _quiet_sdk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")


@pytest.fixture(scope="module")
def written() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {kind: written_row(kind) for kind in BUILDERS}


def test_the_sdk_is_the_targeted_version() -> None:
    assert metadata.version("encord") == SDK_VERSION == "0.1.211"


def _shapes(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("shape"), str):
            found.add(node["shape"])
        for value in node.values():
            found |= _shapes(value)
    elif isinstance(node, list):
        for item in node:
            found |= _shapes(item)
    return found


def _errors(document: Any, fmt: str, profile: str, ontology: Any = None) -> list[str]:
    report = labelspec.validate(document, format=fmt, profile=profile, ontology=ontology)
    return [
        f"{f.rule} at {f.pointer}: {f.message}"
        for file in report.files
        for f in file.findings
        if f.severity == "error"
    ]


def test_builders_cover_every_data_type_shape_and_answer_kind(written: dict[str, Any]) -> None:
    assert set(written) == set(EXPECTED_SHAPES)
    for kind, (row, _ontology) in written.items():
        assert _shapes(row) >= EXPECTED_SHAPES[kind], kind
    image, _ = written["image"]
    polygons = [
        obj["polygons"]
        for unit in image["data_units"].values()
        for obj in unit["labels"]["objects"]
        if obj["shape"] == "polygon"
    ]
    assert polygons and len(polygons[0]) == 2 and len(polygons[0][1]) == 2  # two regions, one with a hole
    answers = json.dumps(image["object_answers"]) + json.dumps(image["classification_answers"])
    for value in ("written by the SDK", "dented", "scratched", "bright", "blur", "a caption"):
        assert value in answers or value.replace(" ", "_") in answers, value
    video, _ = written["video"]
    assert any(entry["actions"] for entry in video["object_actions"].values())  # a dynamic answer
    html, _ = written["html"]
    assert any(entry.get("range_html") for entry in html["object_answers"].values())


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_sdk_written_row_is_valid(written: dict[str, Any], kind: str, profile: str) -> None:
    row, ontology = written[kind]
    assert not _errors(row, "encord", profile, ontology), kind  # one row, as to_encord_dict() returns it
    assert not _errors([row], "encord", profile, ontology), kind  # the same row in an export list
    assert not _errors(row, "encord", profile), kind  # without the ontology


@pytest.mark.parametrize("profile", PROFILES)
def test_sdk_written_ontology_is_valid(written: dict[str, Any], profile: str) -> None:
    _row, ontology = written["image"]
    assert not _errors(ontology, "encord-ontology", profile)


def test_sdk_written_rows_load_again_without_loss(written: dict[str, Any]) -> None:
    """The harness's own oracle agrees: each written row loads in the SDK with nothing lost."""
    for kind in ("image", "img_group", "video", "audio", "plain_text", "pdf", "dicom", "nifti"):
        row, ontology = written[kind]
        loaded, reason = sdk_loads_without_loss(row, ontology)
        assert loaded, f"{kind}: {reason}"


def test_sdk_written_rows_are_read(written: dict[str, Any], tmp_path: Path) -> None:
    export = [row for row, _ in written.values()]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    document = encord_format.read(path)
    assert [row.to_json() for row in document] == export
    for row, (raw, _) in zip(document, written.values(), strict=True):
        assert row.data_type == raw["data_type"]
        for unit in (row.data_units or {}).values():
            assert unit.data_hash in raw["data_units"]
    assert [row.to_json() for row in encord_format.iter_label_rows(path)] == export


def _convert(tmp_path: Path, kind: str, row: dict[str, Any], ontology: dict[str, Any]) -> Any:
    source, onto, out = tmp_path / f"{kind}.json", tmp_path / "ontology.json", tmp_path / f"{kind}.coco.json"
    source.write_text(json.dumps(row), encoding="utf-8")
    onto.write_text(json.dumps(ontology), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "labelspec",
        "convert",
        str(source),
        "--to",
        "coco-instance",
        "-o",
        str(out),
    ]
    return subprocess.run(
        [*command, "--ontology", str(onto)], capture_output=True, text=True, check=False
    ), out


@pytest.mark.parametrize("kind", CONVERTIBLE)
def test_sdk_written_row_converts_to_coco(written: dict[str, Any], kind: str, tmp_path: Path) -> None:
    row, ontology = written[kind]
    done, out = _convert(tmp_path, kind, row, ontology)
    assert done.returncode == 0, done.stderr
    coco = json.loads(out.read_text(encoding="utf-8"))
    assert coco["annotations"] and coco["images"], kind
    assert not _errors(coco, "coco-instance", "lenient")


@pytest.mark.parametrize("kind", sorted(set(BUILDERS) - set(CONVERTIBLE)))
def test_rows_without_images_say_so(written: dict[str, Any], kind: str, tmp_path: Path) -> None:
    """Audio, text, HTML and scene rows have no image to put in COCO; PDF pages have no size in the row:
    convert stops with a message (exit 1 or 2), never a traceback, and writes nothing."""
    row, ontology = written[kind]
    done, out = _convert(tmp_path, kind, row, ontology)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stderr
    assert "no image representation" in done.stderr or "size of data unit" in done.stderr
    assert not out.exists()
