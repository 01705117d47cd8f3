"""The registry of format ids (labelspec.format_ids) and the folders and modules it names agree."""

from __future__ import annotations

import importlib
import json

import pytest

import labelspec
from labelspec import format_ids
from labelspec.validator import detect
from labelspec.validator.compiler import list_formats, load_format_yaml, schemas_root
from labelspec.validator.rules import all_rules
from tests.conftest import CORPUS, ROOT

# The formats the project's design requires (an independent list: the registry must hold at least these).
DESIGNED = {"datagym", "segments", "encord", "encord-ontology", "coco-instance", "coco-panoptic", "yolo"}
FORMATS = format_ids.FORMATS


def test_every_schema_folder_is_registered_and_every_registered_format_has_one() -> None:
    folders = {p.name for p in schemas_root().iterdir() if (p / "schema.yaml").is_file()}
    assert folders == set(format_ids.IDS), (
        f"schemas/ without a registry entry: {sorted(folders - set(format_ids.IDS))}; "
        f"registered without schemas/<id>/: {sorted(set(format_ids.IDS) - folders)}"
    )
    assert list_formats() == format_ids.IDS
    assert set(format_ids.IDS) >= DESIGNED


@pytest.mark.parametrize("entry", FORMATS, ids=[f.id for f in FORMATS])
def test_each_entry_names_modules_that_exist(entry: format_ids.FormatId) -> None:
    assert entry.id == importlib.import_module(f"labelspec.formats.{entry.module}").FORMAT_ID
    for module in entry.rules:
        assert (ROOT / "validator" / "rules" / f"{module}.py").is_file()
    for module in entry.native:
        assert (ROOT / "validator" / "native" / f"{module}.py").is_file()
    assert (ROOT / "generators" / "fixtures" / "mutants" / f"{entry.mutants}.py").is_file()
    own = [spec.id for spec in all_rules(entry.id) if spec.format == entry.id]
    if load_format_yaml(entry.id, "rules.yaml"):
        assert own and all(rule_id.startswith(entry.rule_prefix) for rule_id in own), own


def test_detection_tests_exactly_the_formats_registered_as_detected() -> None:
    assert set(detect._DETECTORS) == {f.id for f in FORMATS if f.detected}


@pytest.mark.parametrize("format_id", sorted(format_ids.list_shaped()))
def test_list_shaped_exports_have_their_items_where_the_registry_says(format_id: str) -> None:
    items = format_ids.list_shaped()[format_id]
    exports = [
        p
        for p in sorted((CORPUS / format_id).glob("*.json"))
        if labelspec.validate(p, format=format_id).valid
    ]
    sizes = []
    for path in exports:
        node = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(node, dict) and not items.container:
            continue  # a lone Encord label row (x-format.single_item)
        for key in items.container:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:  # (a Segments dataset without samples, say)
            assert isinstance(node, list), path
            sizes.append(len(node))
    assert any(size > items.context for size in sizes), sizes


def test_unknown_ids_are_named() -> None:
    with pytest.raises(KeyError, match="known formats: datagym"):
        format_ids.get("pascal-voc")
