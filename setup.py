"""Build of the native fast path (labelspec._native); everything else is declared in pyproject.toml."""

from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path("labelspec") / "native"

setup(
    ext_modules=[
        Extension(
            "labelspec._native",
            sources=sorted(str(path) for path in NATIVE.glob("*.c")),
            depends=sorted(str(path) for path in NATIVE.glob("*.h")),
            extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wextra", "-fno-strict-aliasing"],
            # Without a C compiler labelspec still works: every file then takes the reference path.
            optional=True,
        )
    ]
)
