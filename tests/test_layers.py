"""The validator's layers (named in validator/__init__.py): no module imports from a layer above its own, and
no module hides a cycle behind an import inside a function. A format's own modules (its rules, its native
fast path) are imported on first use through the registry of format ids (``labelspec.format_ids.load``),
the one sanctioned lazy import: nowhere else does a validator module import labelspec code dynamically."""

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
    "paths": 1,
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


def _type_only(tree: ast.Module) -> list[ast.stmt]:
    """The statements of the module's top-level ``if TYPE_CHECKING:`` blocks (read by mypy, never run)."""
    return [
        statement
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
    ]


def _dynamic_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) of each ``importlib.import_module(...)`` / ``__import__(...)`` call that may import
    labelspec code: its argument names a labelspec module, or is computed (cannot be told)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        dynamic = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
            isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
        )
        if not dynamic:
            continue
        names = _literal_names(node.args[0])
        if names is not None and all(name.split(".")[0] != "labelspec" for name in names):
            continue  # a third-party or standard module (numpy, jsonschema) imported on first use
        found.append((node.lineno, ast.unparse(node.args[0])))
    return found


def _literal_names(expression: ast.expr) -> list[str] | None:
    """The module names a literal (or a choice between literals) gives; None when computed otherwise."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return [expression.value]
    if isinstance(expression, ast.IfExp):
        body, orelse = _literal_names(expression.body), _literal_names(expression.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


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
    top = set(map(id, tree.body)) | set(map(id, _type_only(tree)))
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


REGISTRY = ROOT / "labelspec" / "format_ids.py"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(VALIDATOR)) for p in MODULES])
def test_only_the_registry_imports_validator_modules_lazily(path: Path) -> None:
    """A lazy import elsewhere would hide a cycle (or an upward import) from the test above; a format's own
    modules are loaded through ``labelspec.format_ids.load``, which names them in the registry."""
    found = _dynamic_imports(ast.parse(path.read_text(), str(path)))
    assert not found, (
        f"{path.name}: dynamic imports {found}: use labelspec.format_ids.load (a format's module)"
    )


def test_the_registry_imports_only_the_validator_packages_of_a_format() -> None:
    """``load`` imports below the packages it names, and only modules the registry lists for a format."""
    from labelspec import format_ids

    found = _dynamic_imports(ast.parse(REGISTRY.read_text(), str(REGISTRY)))
    assert found, "labelspec.format_ids.load no longer imports lazily: update this test"
    for entry in format_ids.FORMATS:
        for part, package in format_ids._PACKAGES.items():
            for name in getattr(entry, part):
                module = format_ids.load(entry.id, part, name)  # type: ignore[arg-type]
                assert module.__name__ == f"{package}.{name}"
                assert _layer(module.__name__.removeprefix(PACKAGE + ".")) is not None, module.__name__
    with pytest.raises(KeyError, match="no native module"):
        format_ids.load("encord", "native", "coco")
