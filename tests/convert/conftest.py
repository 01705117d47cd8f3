"""Every converter output written by a test of this folder is validated under the target's strict profile.

The writers validate their output before it is published (strict for coco-panoptic, datagym, encord and
segments; lenient for coco-instance and yolo, whose strict profiles name what pycocotools / ultralytics
misread). This autouse fixture wraps every registered writer so that, in the tests, an output that
passes the writer's own check is also validated with ``profile="strict"``: it must be valid, or the
conversion report must say which items strict cannot hold and why (a loss whose reason names strict).
Mask PNG targets have no JSON specification; their PNG checks are the writer's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from labelspec.convert.model import ConversionReport
from labelspec.convert.registry import WRITERS, WriterSpec


def strict_target(spec: WriterSpec, paths: Sequence[Path]) -> Path | None:
    """The file or folder of ``paths`` that the strict validation reads, None for PNG-only targets."""
    if spec.validates_as is None or not paths:
        return None
    if spec.target_id == "yolo":
        return paths[0].parent  # the names file is written first, at the top of the folder
    names = {"encord": "labels.json", "coco-panoptic": "panoptic.json"}
    wanted = names.get(spec.target_id)
    return next((p for p in paths if p.name == wanted), paths[0]) if wanted else paths[0]


def explained(report: ConversionReport) -> bool:
    """Whether the report says that some items cannot be held under the strict profile."""
    return any("strict" in loss.reason for loss in report.losses)


def check_strict(spec: WriterSpec, paths: Sequence[Path], report: ConversionReport | None) -> None:
    from labelspec.validator.api import validate

    target = strict_target(spec, paths)
    if target is None:
        return
    options: dict[str, Any] = {}
    if spec.target_id == "encord":
        options["ontology"] = target.parent / "ontology.json"
    if spec.target_id == "coco-panoptic":
        options["png_dir"] = target.parent / "panoptic"
    checked = validate(target, format=spec.validates_as, profile="strict", **options)
    if checked.valid:
        return
    errors = [
        f"{f.pointer}: {f.rule}: {f.message}"
        for r in checked.files
        for f in r.findings
        if f.severity == "error"
    ]
    assert report is not None and explained(report), (
        f"{spec.target_id} output is not strict-valid and the report does not say why: {errors[:5]}"
    )


@pytest.fixture(autouse=True)
def strict_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for spec in WRITERS.values():
        if spec.validates_as is None or not spec.available():
            continue  # PNG-only targets: their PNG checks are the writer's own
        writer = spec.load()
        state: dict[str, ConversionReport] = {}

        def write(
            dataset: Any,
            out: Path,
            options: Any,
            report: ConversionReport,
            _write: Any = writer.write,
            _state: dict[str, ConversionReport] = state,
        ) -> list[Path]:
            _state["report"] = report
            paths: list[Path] = _write(dataset, out, options, report)
            return paths

        def validate_output(
            paths: Sequence[Path],
            _validate: Any = writer.validate_output,
            _spec: WriterSpec = spec,
            _state: dict[str, ConversionReport] = state,
        ) -> Any:
            checked = _validate(paths)
            if checked.valid:
                check_strict(_spec, paths, _state.get("report"))
            return checked

        monkeypatch.setattr(writer, "write", write)
        monkeypatch.setattr(writer, "validate_output", validate_output)
    yield
