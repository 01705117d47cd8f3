"""The rule catalogue: every rule is catalogued, implemented, and caught by its own examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import labelspec
from labelspec import format_ids
from labelspec.validator.compiler import PROFILES, list_formats, load_format_yaml
from labelspec.validator.rules import all_rules, implementation, load_checks, schema_entries

PREFIXES = {f.id: f.rule_prefix for f in format_ids.FORMATS}
RULES = [spec for fmt in list_formats() for spec in all_rules(fmt) if spec.format == fmt]


def _id(spec: Any) -> str:
    return str(spec.id)


def test_every_format_catalogues_rules() -> None:
    for fmt in ("datagym", "segments", "encord", "coco-instance", "coco-panoptic", "yolo"):
        assert load_format_yaml(fmt, "rules.yaml"), f"{fmt} has no rules.yaml"


def test_rule_ids_are_unique_and_prefixed() -> None:
    seen: set[str] = set()
    for spec in RULES:
        assert spec.id not in seen, f"duplicate rule id {spec.id}"
        seen.add(spec.id)
        assert spec.id.startswith(PREFIXES[spec.format]), spec.id


@pytest.mark.parametrize("spec", RULES, ids=_id)
def test_rule_is_catalogued_completely(spec: Any) -> None:
    load_checks(spec.format)
    assert implementation(spec.id) is not None, f"{spec.id} is catalogued but not implemented"
    assert set(spec.severity) == set(PROFILES) and set(spec.severity.values()) <= {"error", "warning"}
    assert spec.title and spec.rationale
    assert spec.example is not None, "a failing example is required"
    assert spec.passing_example is not None, "a passing example is required"


def _draw_pngs(described: dict[str, Any], folder: Path) -> None:
    """The catalogue's example PNG folder, drawn here: ids become colours R + 256*G + 65536*B."""
    for name, png in described.items():
        ids = np.zeros((png["height"], png["width"]), dtype=np.uint32)
        for x, y, w, h, segment in png.get("rectangles", []):
            ids[y : y + h, x : x + w] = segment
        rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)
        Image.fromarray(rgb, "RGB").convert(png.get("mode", "RGB")).save(folder / name, format="PNG")


def _validate(spec: Any, document: Any, profile: str, tmp_path: Path) -> labelspec.Report:
    entry = next(e for e in load_format_yaml(spec.format, "rules.yaml") if e["id"] == spec.id)
    ontology = entry.get("example_ontology")
    png_dir = None
    if "png_dir" in spec.needs:
        assert entry.get("example_pngs"), f"{spec.id} needs a PNG folder: describe it in example_pngs"
        _draw_pngs(entry["example_pngs"], tmp_path)
        png_dir = str(tmp_path)
    return labelspec.validate(
        document, format=spec.format, profile=profile, ontology=ontology, png_dir=png_dir
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("spec", RULES, ids=_id)
def test_failing_example_triggers_the_rule(spec: Any, profile: str, tmp_path: Path) -> None:
    report = _validate(spec, spec.example, profile, tmp_path)
    document_report = report.files[-1]
    hits = [f for f in document_report.findings if f.rule == spec.id]
    assert hits, f"{spec.id} not raised by its example; findings: {document_report.findings}"
    assert all(f.severity == spec.severity[profile] for f in hits)
    structural = [f for f in document_report.findings if f.rule.startswith("schema.")]
    if profile == "lenient":
        assert not structural, f"the example should fail only semantically: {structural}"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("spec", RULES, ids=_id)
def test_passing_example_does_not_trigger_the_rule(spec: Any, profile: str, tmp_path: Path) -> None:
    report = _validate(spec, spec.passing_example, profile, tmp_path)
    hits = [f for f in report.files[-1].findings if f.rule == spec.id]
    assert not hits, hits


def test_every_implementation_is_catalogued() -> None:
    from labelspec.validator.rules.base import CHECKS

    for fmt in list_formats():
        load_checks(fmt)
    catalogued = {spec.id for fmt in list_formats() for spec in all_rules(fmt)}
    assert set(CHECKS) <= catalogued, sorted(set(CHECKS) - catalogued)


# Structural findings with a fix: rules.yaml entries with `schema_finding:` (no check of their own).
STRUCTURAL = [spec for fmt in list_formats() for spec in schema_entries(fmt)]


def test_structural_entries_are_catalogued_completely() -> None:
    assert STRUCTURAL, "the catalogue names no structural finding"
    rule_ids = {spec.id for spec in RULES}
    for spec in STRUCTURAL:
        assert spec.id not in rule_ids and spec.id.startswith(PREFIXES[spec.format]), spec.id
        assert spec.schema_finding is not None and spec.schema_finding.rule.startswith("schema.")
        assert set(spec.severity) <= set(PROFILES) and set(spec.severity.values()) == {"error"}
        assert spec.title and spec.rationale and spec.example is not None and spec.passing_example is not None
        assert implementation(spec.id) is None, f"{spec.id} is reported by the schema, not by a check"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("spec", STRUCTURAL, ids=_id)
def test_structural_examples_fail_only_where_the_schema_reports_them(spec: Any, profile: str) -> None:
    assert spec.schema_finding is not None
    failing = labelspec.validate(spec.example, format=spec.format, profile=profile).files[-1]
    hits = [f for f in failing.findings if spec.schema_finding.matches(f)]
    if profile in spec.severity:
        assert hits and all(f.severity == spec.severity[profile] for f in hits), failing.findings
        assert len(failing.findings) == len(hits), f"the example fails only as {spec.id}: {failing.findings}"
    else:
        assert not hits, hits
    passing = labelspec.validate(spec.passing_example, format=spec.format, profile=profile).files[-1]
    assert not passing.findings, passing.findings
