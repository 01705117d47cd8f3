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
