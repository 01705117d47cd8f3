"""What the user named: the inputs of a run (files, folders), the globs that filter them and the ontology of
each Encord export.

A file is validated as it is; a folder is walked by :func:`labelspec.validator.folders.select`, which knows
YOLO datasets and is imported only when a folder is given (through :func:`labelspec.format_ids.load`: it
reads YOLO label text, and a run over export files never needs it).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from labelspec import format_ids
from labelspec.validator.report import Skipped

if TYPE_CHECKING:  # made by the folder walker only
    from labelspec.validator.folders import YoloDataset


@dataclass(frozen=True)
class Target:
    """One document to validate: a file, or a YOLO dataset (``dataset`` set, ``path`` its root)."""

    path: str
    dataset: YoloDataset | None = None


@dataclass
class Selection:
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class PathFilter:
    """``--include`` / ``--exclude`` globs (``fnmatch``, ``*`` also crossing ``/``), matched against a file's
    path relative to the folder given (or as given, for a file named on the command line) and against its
    name. Excludes win; with includes, a file must match one of them. ``excluded``: a further test (the
    configuration's ``exclude``), given the file's path."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    excluded: Callable[[str], bool] | None = field(default=None, compare=False)

    def reason(self, relative: str, path: str | None = None) -> str | None:
        """Why the file at ``relative`` (POSIX) is left out, or None."""
        name = relative.rsplit("/", 1)[-1]
        for glob in self.exclude:
            if _matches(glob, relative, name):
                return f"excluded by --exclude {glob}"
        if self.excluded is not None and self.excluded(path or relative):
            return "excluded by the configuration's exclude"
        if self.include and not any(_matches(glob, relative, name) for glob in self.include):
            return f"matches no --include glob ({', '.join(self.include)})"
        return None


def _matches(glob: str, relative: str, name: str) -> bool:
    return fnmatch.fnmatchcase(relative, glob) or fnmatch.fnmatchcase(name, glob)


def glob_matches(glob: str, path: str | os.PathLike[str]) -> bool:
    """Whether ``glob`` matches ``path`` (as given, or any trailing part of it, or its name)."""
    posix = Path(path).as_posix()
    parts = posix.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[i:]), glob) for i in range(len(parts)))


def conventional_ontology(path: str | os.PathLike[str]) -> Path | None:
    """An export's ontology by convention: ``<stem>.ontology.json``, else ``ontology.json``, beside it."""
    export = Path(path)
    name = export.name
    for suffix in (".json.gz", ".json", ".zip"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(".ontology") or export.name == "ontology.json":
        return None  # an ontology itself
    for candidate in (export.with_name(f"{name}.ontology.json"), export.with_name("ontology.json")):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class OntologyChoice:
    """How each export finds its Encord ontology: ``--ontology GLOB=PATH`` (first matching glob), then a
    plain ``--ontology PATH``, then the convention of :func:`conventional_ontology`."""

    by_glob: tuple[tuple[str, str], ...] = ()
    default: str | None = None

    @classmethod
    def parse(cls, values: Iterable[str]) -> OntologyChoice:
        """From ``--ontology`` values: ``PATH`` (at most one) or ``GLOB=PATH``."""
        by_glob: list[tuple[str, str]] = []
        default: str | None = None
        for value in values:
            glob, sep, path = value.partition("=")
            if sep and glob and path and not Path(value).exists():
                by_glob.append((glob, path))
            elif default is not None:
                raise ValueError("--ontology PATH is given twice; use GLOB=PATH for several ontologies")
            else:
                default = value
        return cls(tuple(by_glob), default)

    def explicit(self) -> list[str]:
        """Every ontology named on the command line, in order, once each."""
        paths = [path for _, path in self.by_glob] + ([self.default] if self.default else [])
        return list(dict.fromkeys(paths))

    def for_export(self, path: str | os.PathLike[str]) -> str | None:
        for glob, ontology in self.by_glob:
            if glob_matches(glob, path):
                return ontology
        if self.default is not None:
            return self.default
        found = conventional_ontology(path)
        return None if found is None else str(found)


def select(root: Path, *, format: str | None = None, path_filter: PathFilter | None = None) -> Selection:
    """The documents of a folder and its skipped files (:func:`labelspec.validator.folders.select`)."""
    selection: Selection = format_ids.load("yolo", "inputs", "folders").select(
        root, format=format, path_filter=path_filter
    )
    return selection


def expand(
    paths: Iterable[str], *, format_for: Callable[[str], str | None], path_filter: PathFilter
) -> Selection:
    """The documents of the paths given (files as they are, folders by :func:`select`) and the skipped
    files. ``format_for``: the format a path is read as (None: detected)."""
    selection = Selection()
    for path in paths:
        if Path(path).is_dir():
            found = select(Path(path), format=format_for(path), path_filter=path_filter)
            # a folder with nothing to validate is itself reported (unreadable: nothing in it is an export)
            selection.targets.extend(found.targets or [Target(path)])
            selection.skipped.extend(found.skipped)
            continue
        why = path_filter.reason(Path(path).as_posix(), path)
        if why is not None:
            selection.skipped.append(Skipped(path, why))
        else:
            selection.targets.append(Target(path))
    return selection
