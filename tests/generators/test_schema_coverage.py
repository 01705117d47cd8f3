"""Generator coverage: every optional property, enum value and oneOf/anyOf alternative of each compiled
schema is produced by the generator at least once over a fixed set of seeds.

The walk pairs each generated document with the schema (``$ref``, ``allOf``, ``if``/``then``/``else``,
``properties``, ``additionalProperties``, ``patternProperties``, ``items``, ``additionalItems``); an
alternative counts as produced when the value validates against it (python-jsonschema, not labelspec's
validator). A branch no real producer writes (or that no valid document can hold) is listed in
``schema_coverage_unreachable.txt`` with the reason; any other branch the generators do not produce fails,
and so does a listed branch that is produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from labelspec import format_ids
from labelspec.generators.fixtures import coco, mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.compiler import compile_schema

UNREACHABLE_FILE = Path(__file__).with_name("schema_coverage_unreachable.txt")
FORMATS = format_ids.IDS
SEEDS = range(16)
# Knob sets beyond the mutants' variants: layouts no operator needs a document of (the 2020 Segments
# release layout has no `dataset`, which every Segments rule indexes).
# labelformat's crowd masks (iscrowd true) and the HTML children of Encord data groups (about one child in
# 23) are drawn too rarely for 16 seeds.
COVERAGE_ONLY: dict[str, list[dict[str, Any]]] = {
    "encord": [{"data_types": ["group"], "min_items": 3, "max_items": 3}],
    "segments": [{"layout": "2020", "min_items": 2}],
    "coco-instance": [{"min_items": 2, "producer": "labelformat", "shapes": ["crowd", "rle", "polygon"]}],
}
CONDITIONS = ("if", "not", "propertyNames", "contains", "dependencies")


def _features(schema: dict[str, Any]) -> set[str]:
    """Every optional property, enum value and alternative of the schema, by schema pointer."""
    out: set[str] = set()

    def visit(node: Any, at: str) -> None:
        if isinstance(node, dict):
            required = set(node.get("required") or [])
            for name in node.get("properties") or {}:
                if name not in required:
                    out.add(f"property {at}/properties/{name}")
            for value in node.get("enum") or []:
                out.add(f"enum {at}/enum={value!r}")
            for keyword in ("oneOf", "anyOf"):
                for index in range(len(node.get(keyword) or [])):
                    out.add(f"alternative {at}/{keyword}/{index}")
            for key, value in node.items():
                # Conditions and negations describe what is tested, not what is written.
                if key not in ("examples", "x-format", "default", "const", "enum", *CONDITIONS):
                    visit(value, f"{at}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{at}/{index}")

    visit(schema, "#")
    return out


def _produced(schema: dict[str, Any], document: Any, start: str = "#") -> set[str]:
    """The features a document exercises: the schema (from the definition ``start``) is walked beside it."""
    validator = jsonschema.Draft7Validator(schema)
    out: set[str] = set()

    def resolve(node: dict[str, Any], at: str) -> tuple[dict[str, Any], str]:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            at = node["$ref"]
            target: Any = schema
            for token in at[2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node, at

    def fits(node: Any, value: Any) -> bool:
        return bool(validator.evolve(schema=node).is_valid(value))

    def visit(node: Any, at: str, value: Any, depth: int = 0) -> Iterator[None]:
        if not isinstance(node, dict) or depth > 60:
            return
        node, at = resolve(node, at)
        for index, part in enumerate(node.get("allOf") or []):
            yield from visit(part, f"{at}/allOf/{index}", value, depth + 1)
        if "if" in node:
            branch = "then" if fits(node["if"], value) else "else"
            if branch in node:
                yield from visit(node[branch], f"{at}/{branch}", value, depth + 1)
        for keyword in ("oneOf", "anyOf"):
            for index, part in enumerate(node.get(keyword) or []):
                if fits(part, value):
                    out.add(f"alternative {at}/{keyword}/{index}")
                    yield from visit(part, f"{at}/{keyword}/{index}", value, depth + 1)
        if "enum" in node and value in node["enum"]:
            out.add(f"enum {at}/enum={value!r}")
        if isinstance(value, dict):
            properties = node.get("properties") or {}
            for key, item in value.items():
                if key in properties:
                    out.add(f"property {at}/properties/{key}")
                    yield from visit(properties[key], f"{at}/properties/{key}", item, depth + 1)
                    continue
                matched = False
                for pattern, sub in (node.get("patternProperties") or {}).items():
                    if re.search(pattern, key):
                        matched = True
                        yield from visit(sub, f"{at}/patternProperties/{pattern}", item, depth + 1)
                extra = node.get("additionalProperties")
                if not matched and isinstance(extra, dict):
                    yield from visit(extra, f"{at}/additionalProperties", item, depth + 1)
        elif isinstance(value, list):
            items = node.get("items")
            for index, item in enumerate(value):
                if isinstance(items, dict):
                    yield from visit(items, f"{at}/items", item, depth + 1)
                elif isinstance(items, list) and index < len(items):
                    yield from visit(items[index], f"{at}/items/{index}", item, depth + 1)
                elif isinstance(node.get("additionalItems"), dict):
                    yield from visit(node["additionalItems"], f"{at}/additionalItems", item, depth + 1)

    for _ in visit({"$ref": start} if start != "#" else schema, "#", document):
        pass
    return out


def _documents(format_id: str, profile: str) -> Iterator[tuple[str, Any]]:
    """``(schema pointer, document)``: each generated document with the definition it is validated
    against (``#``: the root)."""
    for seed in SEEDS:
        for knobs in [*mutants.variants(format_id, profile), *COVERAGE_ONLY.get(format_id, [])]:
            draw = RandomDraw(f"coverage/{format_id}/{profile}/{seed}/{knobs}")
            try:
                subject = mutants.build_subject(draw, format_id, profile, **knobs)
            except ValueError:  # a knob variant the profile does not allow
                continue
            yield "#", subject.document
        yield from _side_documents(format_id, profile, seed)


def _side_documents(format_id: str, profile: str, seed: int) -> Iterator[tuple[str, Any]]:
    """Files validated against a definition of the format's schema rather than its root: COCO results
    files (``#/definitions/results_file``, what ``COCO.loadRes`` reads), one of each kind."""
    if format_id != "coco-instance":
        return
    for kind in coco.RESULT_KINDS:
        draw = RandomDraw(f"coverage/{format_id}/{profile}/{seed}/results/{kind}")
        shapes = ["keypoints", "polygon"] if kind == "keypoints" else None
        ground_truth = coco.build_instance(draw, profile="strict", shapes=shapes)
        yield "#/definitions/results_file", coco.build_results(draw, ground_truth, kind)


def _listed(path: Path) -> dict[str, str]:
    """``feature line -> reason`` of a list file (``<format> <profile> <feature>  # reason``)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    out: dict[str, str] = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            feature, _, reason = line.partition("  #")
            out[feature.strip()] = reason.strip()
    return out


def test_unreachable_branches_give_their_reason() -> None:
    listed = _listed(UNREACHABLE_FILE)
    assert listed, "the unreachable list is empty or missing"
    vague = sorted(f for f, reason in listed.items() if len(reason.split()) < 6)
    assert not vague, "an unreachable branch needs a real reason (why no producer writes it):\n" + "\n".join(
        vague
    )


@pytest.mark.parametrize("profile", ("lenient", "strict"))
@pytest.mark.parametrize("format_id", FORMATS)
def test_generators_produce_every_schema_branch(format_id: str, profile: str) -> None:
    schema = compile_schema(format_id, profile)
    produced: set[str] = set()
    for start, document in _documents(format_id, profile):
        produced |= _produced(schema, document, start)
    missing = {f"{format_id} {profile} {feature}" for feature in _features(schema) - produced}
    unreachable = {line for line in _listed(UNREACHABLE_FILE) if line.startswith(f"{format_id} {profile} ")}
    new = sorted(missing - unreachable)
    assert not new, (
        "never generated (make the generator produce it, or list it as unreachable with the reason):\n"
        + "\n".join(new)
    )
    done = sorted(unreachable - missing)
    assert not done, "generated, yet listed in schema_coverage_unreachable.txt:\n" + "\n".join(done)
