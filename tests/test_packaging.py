"""The wheel carries the whole namespace and the schemas; every package folder is listed in pyproject."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed() -> None:
    setuptools = _config()["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    listed = set(setuptools["packages"])
    expected = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            expected.add(".".join([package, *relative.parts]))
    missing = {name for name in expected if name not in listed}
    assert not missing, f"add to [tool.setuptools] packages: {sorted(missing)}"


@pytest.mark.slow
def test_wheel_carries_schemas_and_namespace(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=600,
        capture_output=True,
        text=True,
    )
    # setuptools warns when it takes files of a folder that is not a listed package as package data
    # ("Package 'labelspec.native' is absent from the `packages` configuration").
    assert "absent from the" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("labelspec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "labelspec/__init__.py",
        "labelspec/cli.py",
        "labelspec/validator/api.py",
        "labelspec/validator/native/fastpath.py",
        "labelspec/validator/scale/streaming.py",
        "labelspec/generators/__init__.py",
        "labelspec/schemas/encord/schema.yaml",
        "labelspec/schemas/datagym/discrepancies.yaml",
        "labelspec/schemas/segments/schema.yaml",
    ):
        assert required in names, f"{required} missing from the wheel"
    assert any(n.startswith("labelspec/schemas/encord/examples/") and n.endswith(".json") for n in names)
    assert not any(n.startswith(("tests/", "validator/", "schemas/")) for n in names)
    assert "labelspec/_native.pyi" in names
    assert not any(n.startswith("labelspec/native/") for n in names), "C sources belong to the sdist only"


def _requirement_names(requirements: list[str]) -> set[str]:
    import re

    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_hypothesis_extra_installs_what_the_strategies_import_and_nothing_more() -> None:
    """Every third-party module the strategies (generators/) import is a core dependency or in the extra."""
    import ast
    import importlib.metadata

    project = _config()["project"]
    extra = project["optional-dependencies"]["hypothesis"]
    core = _requirement_names(project["dependencies"])
    distributions = importlib.metadata.packages_distributions()
    imported: dict[bool, set[str]] = {False: set(), True: set()}  # media_av.py: extra "media"
    for path in (ROOT / "generators").rglob("*.py"):
        if path.name.startswith("codegen"):
            continue  # code generation, not the strategies
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            imported[path.name == "media_av.py"].update(name.split(".")[0] for name in names)

    def third_party(modules: set[str]) -> set[str]:
        return {
            dist.lower()
            for module in modules - set(sys.stdlib_module_names) - {"labelspec"}
            for dist in distributions.get(module, [module])
        }

    assert third_party(imported[False]) - core == _requirement_names(extra) == {"hypothesis"}
    # generate --with-media's video and audio: the extra "media", imported only when media are written
    media = _requirement_names(project["optional-dependencies"]["media"])
    assert third_party(imported[True]) - core == media == {"imageio-ffmpeg"}
    # the same range the test extra is run with
    tested = [r for r in project["optional-dependencies"]["test"] if r.startswith("hypothesis>")]
    assert extra == tested
