"""The package data of :mod:`labelspec.validator.native.shipped`: every format's schema program and decider
tables, per profile, as ``labelspec codegen`` writes them (``--check``: compares without writing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from labelspec.validator.compiler import PROFILES, compile_schema, list_formats
from labelspec.validator.native import datagym_rules, encord_rows, segments
from labelspec.validator.native.encord_ontology import ontology_rules
from labelspec.validator.native.schema_program import IR_MAGIC, IR_VERSION, NotCompilable, compile_program
from labelspec.validator.native.shipped import FOLDER, VERSION, path


def _deciders(format_id: str, profile: str) -> dict[str, Any]:
    if format_id == "encord":
        return {"rows": encord_rows.decider_config(profile), "ontology_rules": ontology_rules()}
    if format_id == "datagym":
        return {"rows": datagym_rules.decider_config(profile)}
    return {}


def render(format_id: str, profile: str) -> str | None:
    """The text of the shipped file of ``format_id``/``profile`` (None: its schema is not compilable);
    ``segments-samples``: the program of Segments samples (:data:`segments.SAMPLES`)."""
    try:
        if format_id == segments.SAMPLES:
            schema = compile_schema(segments.FORMAT, profile)
            program = compile_program(segments.samples_schema(schema, segments.task_type_branches(schema)))
        else:
            program = compile_program(compile_schema(format_id, profile))
    except NotCompilable:
        return None
    magic, version, nodes, constants, patterns = program.ir
    assert (magic, version) == (IR_MAGIC, IR_VERSION)
    head = {
        "format": format_id,
        "profile": profile,
        "version": VERSION,
        "entries": program.entries,
        "items_mode": program.items_mode,
        "items_blocked_by": list(program.items_blocked_by),
        "constants": constants.decode(),
        "patterns": [
            [source, None if tables is None else tables.blob.hex()] for source, _compiled, tables in patterns
        ],
        "deciders": _deciders(format_id, profile),
    }
    lines = orjson.dumps(head).decode()[:-1] + ',"nodes":['
    body = ",\n".join(orjson.dumps(node).decode() for node in nodes)
    return f"{lines}\n{body}\n]}}\n"


def rendered() -> dict[str, str]:
    """``{file name: text}`` of every shipped file (formats whose schema compiles, and Segments' samples,
    both profiles)."""
    out: dict[str, str] = {}
    for format_id in [*list_formats(), segments.SAMPLES]:
        for profile in PROFILES:
            text = render(format_id, profile)
            if text is not None:
                out[path(format_id, profile).name] = text
    return out


def stale_files(folder: Path = FOLDER) -> list[str]:
    """Shipped files that differ from what the sources give (or are missing, or left over)."""
    wanted = rendered()
    stale = [name for name, text in wanted.items() if _read(folder / name) != text]
    extra = sorted(p.name for p in folder.glob("*.json") if p.name not in wanted) if folder.is_dir() else []
    return stale + extra


def write_files(folder: Path = FOLDER) -> list[str]:
    """Write the shipped files that changed (and remove left-over ones); returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = rendered()
    changed = []
    for name, text in wanted.items():
        if _read(folder / name) == text:
            continue
        partial = folder / f".{name}.tmp"
        partial.write_text(text, encoding="utf-8")
        partial.replace(folder / name)
        changed.append(name)
    for left in folder.glob("*.json"):
        if left.name not in wanted:
            left.unlink()
            changed.append(left.name)
    return changed


def _read(file: Path) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except OSError:
        return None
