"""The site's pictures, drawn as SVG at build time from the compiled schemas and the code.

Nothing here is a committed image: each figure is computed when the site is built, so a schema change or a
codec change redraws it. The figures are plain SVG text (no fonts or scripts loaded from anywhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

import numpy as np

from labelspec.codecs.segments_bitmap import ids_to_rgba, rgba_to_ids
from labelspec.validator.compiler import compile_schema, list_formats

FONT = "font-family='Menlo, Consolas, monospace' font-size='12'"
_TREE_DEPTH = 4
_TREE_CHILDREN = 40
_ROW = 18


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title, quote=True)}'>"
        f"<title>{escape(title)}</title><rect width='100%' height='100%' fill='white'/>"
        + "".join(body)
        + "</svg>\n"
    )


def _text(
    x: float, y: float, text: str, fill: str = "#222", anchor: str = "start", bold: bool = False
) -> str:
    weight = " font-weight='bold'" if bold else ""
    return (
        f"<text x='{x:g}' y='{y:g}' {FONT} fill='{fill}' text-anchor='{anchor}'{weight}>{escape(text)}</text>"
    )


# ---------------------------------------------------------------------------------------------------------
# Document trees, from the compiled (lenient) schema


def _resolve(schema: dict[str, Any], node: Any) -> tuple[Any, str | None]:
    name = None
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        name = node["$ref"].rsplit("/", 1)[-1]
        target: Any = schema
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node, name


def _kind(node: Any) -> str:
    if not isinstance(node, dict):
        return "any"
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind:
        return str(kind)
    for key in ("oneOf", "anyOf"):
        if key in node:
            return f"{key} ({len(node[key])})"
    if "const" in node:
        return f"= {node['const']!r}"
    if "enum" in node:
        return "enum"
    return "any"


def _children(schema: dict[str, Any], node: Any) -> Iterator[tuple[str, Any]]:
    """The named parts of a node: its properties, its pattern properties, its array items."""
    node, _ = _resolve(schema, node)
    if not isinstance(node, dict):
        return
    for name, sub in (node.get("properties") or {}).items():
        yield name, sub
    for pattern, sub in (node.get("patternProperties") or {}).items():
        yield f"<{pattern}>", sub
    if isinstance(node.get("additionalProperties"), dict):
        yield "<any key>", node["additionalProperties"]
    items = node.get("items")
    if isinstance(items, list):
        for index, sub in enumerate(items):
            yield f"[{index}]", sub
        if isinstance(node.get("additionalItems"), dict):
            yield f"[{len(items)}…]", node["additionalItems"]
    elif isinstance(items, dict):
        yield "[]", items
    for key in ("oneOf", "anyOf"):
        alternatives = node.get(key)
        if isinstance(alternatives, list) and not node.get("properties"):
            for sub in alternatives:
                resolved, name = _resolve(schema, sub)
                if isinstance(resolved, dict) and (resolved.get("properties") or resolved.get("items")):
                    yield f"{key}: {name or _kind(resolved)}", sub


def tree_rows(fmt: str) -> list[tuple[int, str, str]]:
    """(depth, name, type) of each row of the document tree of ``fmt``, in document order."""
    schema = compile_schema(fmt, "lenient")
    rows: list[tuple[int, str, str]] = [(0, fmt, _kind(_resolve(schema, schema)[0]))]
    seen: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        if depth > _TREE_DEPTH:
            return
        children = list(_children(schema, node))
        for name, sub in children[:_TREE_CHILDREN]:
            resolved, ref = _resolve(schema, sub)
            label = _kind(resolved) + (f" ({ref})" if ref else "")
            rows.append((depth, name, label))
            if ref and ref in seen:  # a definition is drawn once; later uses name it only
                continue
            if ref:
                seen.add(ref)
            walk(sub, depth + 1)
        if len(children) > _TREE_CHILDREN:
            rows.append((depth, f"… {len(children) - _TREE_CHILDREN} more", ""))

    walk(schema, 1)
    return rows


def tree_svg(fmt: str) -> str:
    rows = tree_rows(fmt)
    body: list[str] = []
    width = 0
    for index, (depth, name, kind) in enumerate(rows):
        x, y = 12 + depth * 20, 20 + index * _ROW
        if depth:
            body.append(f"<path d='M{x - 14} {y - _ROW + 6} V{y - 4} H{x - 3}' stroke='#9aa' fill='none'/>")
        body.append(_text(x, y, name, "#1a237e", bold=depth == 0))
        body.append(_text(x + 8 * len(name) + 10, y, kind, "#666"))
        width = max(width, x + 8 * (len(name) + len(kind)) + 30)
    return _svg(max(width, 300), 20 + len(rows) * _ROW, body, f"Document tree of {fmt}")


# ---------------------------------------------------------------------------------------------------------
# One box in three coordinate conventions

IMAGE_W, IMAGE_H = 320, 200
BOX = (80.0, 50.0, 120.0, 80.0)  # pixel x, y (top-left corner), width, height


def box_conventions(box: tuple[float, float, float, float] = BOX) -> dict[str, list[float]]:
    """One box as Encord (normalised top-left x/y/w/h), COCO (pixel x/y/w/h), YOLO (normalised centre)."""
    x, y, w, h = box
    return {
        "encord": [x / IMAGE_W, y / IMAGE_H, w / IMAGE_W, h / IMAGE_H],
        "coco": [x, y, w, h],
        "yolo": [(x + w / 2) / IMAGE_W, (y + h / 2) / IMAGE_H, w / IMAGE_W, h / IMAGE_H],
    }


def _num(value: float) -> str:
    return f"{value:.4g}"


def coordinates_svg() -> str:
    conv = box_conventions()
    panels = [
        ("Encord boundingBox", "normalised, top-left", conv["encord"], False,
         "{{x: {}, y: {}, w: {}, h: {}}}"),
        ("COCO bbox", "pixels, top-left", conv["coco"], False, "[{}, {}, {}, {}]"),
        ("YOLO line", "normalised, centre", conv["yolo"], True, "0 {} {} {} {}"),
    ]  # fmt: skip
    body: list[str] = []
    scale = 0.75
    for index, (title, how, values, centre, pattern) in enumerate(panels):
        ox, oy = 20 + index * 280, 50
        iw, ih = IMAGE_W * scale, IMAGE_H * scale
        x, y, w, h = (v * scale for v in BOX)
        body.append(_text(ox, 22, title, "#1a237e", bold=True))
        body.append(_text(ox, 38, how, "#666"))
        body.append(f"<rect x='{ox}' y='{oy}' width='{iw:g}' height='{ih:g}' fill='#eef' stroke='#889'/>")
        body.append(
            f"<rect x='{ox + x:g}' y='{oy + y:g}' width='{w:g}' height='{h:g}' fill='#ffcc80' "
            "fill-opacity='0.6' stroke='#e65100' stroke-width='2'/>"
        )
        px, py = (ox + x + w / 2, oy + y + h / 2) if centre else (ox + x, oy + y)
        body.append(f"<circle cx='{px:g}' cy='{py:g}' r='4' fill='#b71c1c'/>")
        body.append(_text(ox, oy + ih + 18, f"image {IMAGE_W}×{IMAGE_H} px, origin top-left", "#666"))
        body.append(_text(ox, oy + ih + 38, pattern.format(*(_num(v) for v in values)), "#222"))
    body.append(
        _text(
            20,
            270,
            "The red dot is the point that x and y name; w and h are the full width and height.",
            "#444",
        )
    )
    return _svg(860, 285, body, "One box in Encord, COCO and YOLO coordinates")


# ---------------------------------------------------------------------------------------------------------
# The Segments.ai bitmap id encoding, computed by the codec the readers and writers use

BITMAP_IDS = ((0, 0, 1, 1), (0, 300, 300, 1), (70000, 300, 0, 0))


def bitmap_svg() -> str:
    ids = np.array(BITMAP_IDS, dtype=np.uint32)
    rgba = ids_to_rgba(ids)
    assert (rgba_to_ids(rgba) == ids).all()  # the picture shows only what the codec round-trips
    body: list[str] = [_text(20, 22, "Segments.ai label PNG: instance id = R + 256·G + 65536·B (alpha 255)",
                             "#1a237e", bold=True)]  # fmt: skip
    cell = 56
    for r, row in enumerate(BITMAP_IDS):
        for c, value in enumerate(row):
            red, green, blue, _ = (int(v) for v in rgba[r, c])
            x, y = 20 + c * cell, 40 + r * cell
            body.append(
                f"<rect x='{x}' y='{y}' width='{cell}' height='{cell}' fill='rgb({red},{green},{blue})' "
                "stroke='#555'/>"
            )
            body.append(
                _text(x + cell / 2, y + cell / 2 + 4, str(value), "#fff" if value else "#999", "middle")
            )
    seen: list[int] = []
    for value in (v for row in BITMAP_IDS for v in row):
        if value not in seen:
            seen.append(value)
    for index, value in enumerate(seen):
        position = np.argwhere(ids == value)[0]
        red, green, blue, alpha = (int(v) for v in rgba[position[0], position[1]])
        channels = f"R {red:>3}  G {green:>3}  B {blue:>3}  A {alpha}"
        line = f"id {value:>5} → {channels}   {red} + 256·{green} + 65536·{blue} = {value}"
        body.append(_text(270, 62 + index * 22, line, "#222"))
    body.append(_text(270, 62 + len(seen) * 22 + 8, "id 0 is unlabelled; ids name annotations[].id", "#666"))
    return _svg(860, 220, body, "The Segments.ai bitmap id encoding")


# ---------------------------------------------------------------------------------------------------------
# The conversion pipeline


def pipeline_svg() -> str:
    from labelspec.convert.registry import READERS, WRITERS

    steps = [
        ("export", "any source format", "#eceff1"),
        ("validate", "source spec (lenient)", "#c8e6c9"),
        ("reader", f"{len(READERS)} readers", "#bbdefb"),
        ("canonical model", "media, labels, classes", "#fff9c4"),
        ("writer", f"{len(WRITERS)} writers", "#bbdefb"),
        ("validate", "target spec", "#c8e6c9"),
        ("output", "written atomically", "#eceff1"),
    ]
    body: list[str] = []
    box_w, gap = 128, 18
    for index, (name, detail, colour) in enumerate(steps):
        x = 12 + index * (box_w + gap)
        body.append(
            f"<rect x='{x}' y='30' width='{box_w}' height='56' rx='8' fill='{colour}' stroke='#555'/>"
        )
        body.append(_text(x + box_w / 2, 54, name, "#111", "middle", bold=True))
        body.append(_text(x + box_w / 2, 72, detail, "#444", "middle"))
        if index:
            ax = x - gap
            body.append(f"<path d='M{ax + 2} 58 H{x - 4}' stroke='#333' stroke-width='2' fill='none'/>")
            body.append(f"<path d='M{x - 9} 53 L{x - 3} 58 L{x - 9} 63 Z' fill='#333'/>")
    body.append(_text(12, 114, "Readers: " + ", ".join(READERS), "#444"))
    writers = list(WRITERS)
    body.append(_text(12, 132, "Writers: " + ", ".join(writers[:5]) + ",", "#444"))
    body.append(_text(12, 150, "         " + ", ".join(writers[5:]), "#444"))
    body.append(
        _text(12, 168, "A failed validation at either end is an error; every loss is reported.", "#444")
    )
    return _svg(12 + len(steps) * (box_w + gap), 182, body, "The conversion pipeline")


def figures() -> dict[str, str]:
    """Every picture of the site: path relative to ``docs/`` → SVG text."""
    out = {f"figures/tree-{fmt}.svg": tree_svg(fmt) for fmt in list_formats()}
    out["figures/coordinates.svg"] = coordinates_svg()
    out["figures/segments-bitmap-ids.svg"] = bitmap_svg()
    out["figures/conversion-pipeline.svg"] = pipeline_svg()
    return out
