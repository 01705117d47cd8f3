"""What `labelspec validate` imports and compiles when the native fast path certifies an Encord export clean.

Start-up dominates a small export (benchmarks/: a 10 MB Encord export is checked in less time than Python
takes to import yaml, multiprocessing and jsonschema-rs), so a clean file must not pay for them: the schema
program and rule tables are shipped (validator/native/shipped.py), the ontology is certified without
jsonschema-rs, processes are imported only for --jobs > 1, archives only when one is read. The CLI runs in
a fresh interpreter and reports what it imported; an import added on this path fails here by name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from labelspec.generators.fixtures.common import RandomDraw
from labelspec.generators.fixtures.encord import build_ontology, build_row

PROBE = """
import io, json, sys
from labelspec.cli import main
from labelspec.validator import compiler
code = main(sys.argv[1:], io.StringIO())
print(json.dumps({"code": code, "modules": sorted(sys.modules),
                  "compiled": compiler._compiled.cache_info().currsize}))
"""
# Never needed to certify a clean file: YAML (the catalogues and schemas are shipped or cached), process
# pools, the schema validators of the reference path, numpy (COCO columns), archives, a configuration parser
# (no configuration file here), the Encord row rules (their tables are shipped).
NEVER = (
    "multiprocessing",
    "concurrent.futures",
    "jsonschema",
    "jsonschema_rs",
    "numpy",
    "zipfile",
    "gzip",
    "tomllib",
    "labelspec.validator.rules.encord_rows",
)
# The other formats' modules (labelspec.format_ids.load imports them for their own files): their rules, their
# native fast paths, the YOLO text reader and the folder walker (no folder is given here), item-by-item
# validation (no item is left to the reference path, no file is large), the documented examples (the
# 'examples' command), SARIF output, the compression modules shutil imports (argparse's terminal width).
OTHER_FORMATS = (
    "labelspec.validator.native.coco",
    "labelspec.validator.native.segments",
    "labelspec.validator.native.datagym_rules",
    "labelspec.validator.rules.coco",
    "labelspec.validator.rules.segments",
    "labelspec.validator.rules.datagym",
    "labelspec.validator.rules.yolo",
    "labelspec.validator.yolo_text",
    "labelspec.validator.folders",
    "labelspec.validator.scale.streaming",
    "labelspec.validator.scale.split",
    "labelspec.validator.scale.sections",
    "labelspec.validator.examples",
    "labelspec.validator.sarif",
    "shutil",
    "bz2",
    "lzma",
)


def _clean_export(folder: Path) -> tuple[Path, Path]:
    draw = RandomDraw("startup")
    ontology = build_ontology(draw, profile="lenient")
    rows = [build_row(draw, ontology, profile="lenient", data_type="video", max_frames=4) for _ in range(3)]
    export, ontology_path = folder / "rows.json", folder / "ontology.json"
    export.write_bytes(orjson.dumps(rows))
    ontology_path.write_bytes(orjson.dumps(ontology))
    return export, ontology_path


def _run(folder: Path, cache: Path, *args: str) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "LABELSPEC_CACHE_DIR": str(cache), "HOME": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _imported(modules: list[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


def test_a_clean_encord_export_imports_and_compiles_nothing_more(tmp_path: Path) -> None:
    export, ontology = _clean_export(tmp_path)
    cache = tmp_path / "cache"
    for run in ("cold cache", "warm cache"):
        result = _run(tmp_path, cache, "validate", "--ontology", str(ontology), str(export))
        assert result["code"] == 0, run
        assert result["compiled"] == 0, f"{run}: a schema was compiled"
        modules = result["modules"]
        assert "labelspec._native" in modules, run  # the fast path ran
        assert [name for name in NEVER if _imported(modules, name)] == [], run
        assert [name for name in OTHER_FORMATS if _imported(modules, name)] == [], run
    # Warm: the few YAML files still read (the ontology's rule catalogue, its x-format) come from the cache.
    assert not _imported(modules, "yaml")


def test_jobs_import_processes_only_when_asked(tmp_path: Path) -> None:
    export, ontology = _clean_export(tmp_path)
    result = _run(
        tmp_path, tmp_path / "cache", "validate", "--jobs", "2", "--ontology", str(ontology), str(export)
    )
    assert result["code"] == 0
    assert _imported(result["modules"], "multiprocessing")
