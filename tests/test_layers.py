"""The validator's layers (named in validator/__init__.py): no module imports from a layer above its own, and
no module hides a cycle behind an import inside a function."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = ROOT / "validator"
PACKAGE = "labelspec.validator"

# Module (dotted, below labelspec.validator; a package stands for all its modules) -> layer, lowest first.
LAYERS = {
    "report": 1,
    "numbers": 1,
    "progress": 1,
    "compiler": 1,
    "detect": 1,
    "envelope": 1,
    "single_item": 1,
    "locate": 1,
    "yolo_text": 1,
    "folders": 1,
    "inputs": 1,
    "structural": 2,
    "rules": 2,
    "engine": 3,
    "scale.split": 4,
    "scale.pool": 4,
    "scale.streaming": 4,
    "scale.sections": 4,
    "native": 5,
    "api": 6,
    "scale.parallel": 6,
    "reporters": 6,
    "sarif": 6,
    "explain": 6,
    "examples": 6,
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(VALIDATOR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(name: str) -> int | None:
    """The layer of a module name below labelspec.validator (None: the package itself)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:end]))
        if layer is not None:
            return layer
    return None


MODULES = sorted(p for p in VALIDATOR.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The labelspec.validator modules an import statement names (below the package)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.module == PACKAGE:  # from labelspec.validator import yolo_text
        names = [f"{PACKAGE}.{alias.name}" for alias in node.names]
    else:
        names = [node.module or ""]
    return [n[len(PACKAGE) + 1 :] for n in names if n.startswith(PACKAGE + ".")]


def test_every_module_has_a_layer() -> None:
    missing = [_name(p) for p in MODULES if p.name != "__init__.py" and _layer(_name(p)) is None]
    assert not missing, f"name their layer in LAYERS (and validator/__init__.py): {missing}"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(VALIDATOR)) for p in MODULES])
def test_imports_go_down_and_sit_at_module_level(path: Path) -> None:
    name = _name(path)
    own = _layer(name)
    if own is None:  # a package's __init__ that is not itself a layer (validator/, scale/): its docstring
        assert path.name == "__init__.py"
        own = 99
    tree = ast.parse(path.read_text(), str(path))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for target in _imported(node):
            assert id(node) in top, (
                f"{path.name}:{node.lineno} imports {target} inside a function: a cycle to break by moving "
                "code down a layer"
            )
            layer = _layer(target)
            assert layer is not None and layer <= own, (
                f"{path.name}:{node.lineno}: {name} (layer {own}) imports {target} (layer {layer}), above it"
            )


def test_every_module_of_the_package_imports() -> None:
    """After a move, an import of an old path fails here (mypy ignores missing imports: it is silent)."""
    import labelspec

    failed = {}
    for module in pkgutil.walk_packages(labelspec.__path__, "labelspec."):
        if module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # report every module that does not import
            failed[module.name] = repr(exc)
    assert not failed, failed
