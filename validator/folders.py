"""What a folder holds: the documents to validate, one by one, and every other file with why it is skipped.

A folder is validated file by file, never as a whole:

* every ``.json``, ``.json.gz`` and ``.zip`` file is a document of its own, of its own detected format;
* every YOLO dataset is one document. A dataset is a folder with a ``labels/`` folder, or with ``.txt``
  files whose lines parse as YOLO label lines; its class names come from ``data.yaml``, ``dataset.yaml``
  or any YAML with ``names``, or from ``classes.txt`` / ``obj.names``. A label file belongs to the
  deepest folder above it that has a names file, else to the folder holding its ``labels/`` folder, else
  to the folder given: datasets are never merged, and a text file that is not YOLO label lines (notes, a
  read-me, an image list) never turns a folder into a dataset;
* every other file is listed as skipped, with the reason (also the ``manifest.json`` of ``labelspec
  generate`` and the COCO results files it lists).

``format`` (``--format``) decides how files are read: with a JSON format every file (whatever its name) is
read as that format, media files aside; with ``yolo`` only YOLO datasets are read.
:class:`PathFilter` applies ``--include`` / ``--exclude`` globs before all that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from labelspec.validator import yolo_text
from labelspec.validator.paths import (  # what the user named, and what a folder gives
    OntologyChoice,
    PathFilter,
    Selection,
    Target,
    conventional_ontology,
    glob_matches,
)
from labelspec.validator.report import Skipped

__all__ = [
    "EXPORT_SUFFIXES",
    "OntologyChoice",
    "PathFilter",
    "Selection",
    "Target",
    "YoloDataset",
    "conventional_ontology",
    "glob_matches",
    "select",
]

EXPORT_SUFFIXES = (".json", ".json.gz", ".zip")
_MEDIA = "jpg jpeg png bmp gif tif tiff webp heic mp4 avi mov mkv webm dcm nii mp3 wav flac pdf pcd ply las"
MEDIA_SUFFIXES = frozenset("." + suffix for suffix in _MEDIA.split(" "))
YAML_SUFFIXES = (".yaml", ".yml")
_SNIFF_BYTES = 64 * 1024  # enough lines to tell YOLO label text from prose


@dataclass(frozen=True)
class YoloDataset:
    """One YOLO dataset of a folder: its root, its label files and its names file (absolute paths)."""

    root: str
    label_files: tuple[str, ...]
    names_file: str | None


# ------------------------------------------------------------------------------------- classification


def is_label_line(tokens: Sequence[str]) -> bool:
    """``class v1 v2 v3 v4 ...``: an integer class, then at least four numbers."""
    if len(tokens) < 5 or not yolo_text.INTEGER_TOKEN.fullmatch(tokens[0]):
        return False
    return all(yolo_text.NUMBER_TOKEN.fullmatch(t) for t in tokens[1:])


def label_text_verdict(path: Path) -> tuple[bool | None, str]:
    """(True, "") for YOLO label lines, (None, why) for a file without any line, (False, why) otherwise.

    Label lines are recognised when at least half of the first lines (64 KiB) are ``class`` + four or more
    numbers: a label file with a few malformed lines is still a label file, reported line by line."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        return False, f"cannot read: {exc.strerror or exc}"
    text = head.decode("utf-8-sig", errors="replace")
    if len(head) == _SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # the last line may be cut
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        return None, "an empty text file outside any YOLO dataset"
    good = sum(1 for tokens in lines if is_label_line(tokens))
    if good * 2 >= len(lines):
        return True, ""
    first = next(
        n for n, line in enumerate(text.splitlines(), 1) if line.strip() and not is_label_line(line.split())
    )
    return False, f"a text file that is not YOLO label lines (line {first} is not 'class x y w h ...')"


def names_yaml(path: Path) -> bool:
    """Whether a YAML file describes class names (a top-level ``names``), as ultralytics reads any YAML."""
    if path.name.lower() in yolo_text.NAMES_YAML_FILES:
        return True
    import yaml  # here: only YOLO folders read YAML files, and importing yaml costs start-up time

    try:
        data = yaml.safe_load(path.read_bytes()[: 4 * 1024 * 1024])
    except (OSError, yaml.YAMLError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "names" in data


def is_generator_manifest(path: Path) -> bool:
    """``manifest.json`` as ``labelspec generate`` writes it (``{"files": [{"path": ...}, ...]}``)."""
    return _manifest_entries(path) is not None


def _manifest_entries(path: Path) -> list[dict[str, Any]] | None:
    if path.name != "manifest.json":
        return None
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if isinstance(files, list) and all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in files):
        return files
    return None


def _declared_datasets(manifest: Path) -> set[Path]:
    """The YOLO dataset folders a generator manifest lists: each is one dataset, whatever its layout (a
    names-less one too), so its findings are named as the manifest names them."""
    folder = manifest.parent
    return {
        folder / entry["path"]
        for entry in _manifest_entries(manifest) or []
        if (folder / entry["path"]).is_dir()  # only YOLO datasets are written as folders
    }


def _declared_results(files: Sequence[Path]) -> set[Path]:
    """The COCO results files (``generate --results``) the generator manifests among ``files`` list: not
    exports (a results file is the ``results_file`` definition, with no format of its own)."""
    return {
        path.parent / entry["results"]
        for path in files
        if path.name.lower() == "manifest.json"
        for entry in _manifest_entries(path) or []
        if isinstance(entry.get("results"), str)
    }


def _names_rank(path: Path) -> tuple[int, str]:
    """Which names file of a folder wins: data.yaml, dataset.yaml, other YAML, classes.txt, obj.names, …"""
    name = path.name.lower()
    order = (*yolo_text.NAMES_YAML_FILES, "*.yaml", *yolo_text.NAMES_TEXT_FILES, "*.names")
    key = "*.yaml" if name.endswith(YAML_SUFFIXES) and name not in yolo_text.NAMES_YAML_FILES else name
    if name.endswith(".names") and name not in yolo_text.NAMES_TEXT_FILES:
        key = "*.names"
    return (order.index(key) if key in order else len(order), name)


# ------------------------------------------------------------------------------------------ selection


def select(root: Path, *, format: str | None = None, path_filter: PathFilter | None = None) -> Selection:
    """The documents under folder ``root`` and the files skipped (see the module's documentation)."""
    selection = Selection()
    files = list(_walk(root, path_filter or PathFilter(), selection.skipped))
    if format is not None and format != "yolo":
        for path in files:
            if path.suffix.lower() in MEDIA_SUFFIXES:
                selection.skipped.append(Skipped(str(path), "a media file (media is not validated)"))
            else:
                selection.targets.append(Target(str(path)))
        return selection
    texts: list[Path] = []
    names_candidates: list[Path] = []
    declared: set[Path] = set()
    results = _declared_results(files)
    for path in files:
        lower = path.name.lower()
        if lower == "manifest.json":
            declared |= _declared_datasets(path)
        if format is None and lower.endswith(EXPORT_SUFFIXES):
            if is_generator_manifest(path):
                selection.skipped.append(Skipped(str(path), "the manifest `labelspec generate` writes"))
            elif path in results:
                selection.skipped.append(
                    Skipped(str(path), "a COCO results file its generator manifest lists (not an export)")
                )
            else:
                selection.targets.append(Target(str(path)))
        elif lower.endswith(YAML_SUFFIXES) or lower in yolo_text.NAMES_TEXT_FILES or lower.endswith(".names"):
            names_candidates.append(path)
        elif lower.endswith(".txt"):
            texts.append(path)
        elif lower.endswith(EXPORT_SUFFIXES):
            selection.skipped.append(Skipped(str(path), "a JSON export, not read with --format yolo"))
        elif path.suffix.lower() in MEDIA_SUFFIXES:
            selection.skipped.append(Skipped(str(path), "a media file (media is not validated)"))
        else:
            selection.skipped.append(
                Skipped(str(path), "not an export (.json, .json.gz, .zip) nor part of a YOLO dataset")
            )
    _group_yolo(root, texts, names_candidates, format == "yolo", selection, declared)
    selection.targets.sort(key=lambda t: t.path)
    selection.skipped.sort(key=lambda s: s.path)
    return selection


def _walk(root: Path, path_filter: PathFilter, skipped: list[Skipped]) -> Iterator[Path]:
    """Every regular file under ``root`` in path order; hidden ones and filtered ones are skipped."""
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        for sub in sorted(subfolders):
            if sub.startswith("."):
                skipped.append(Skipped(str(here / sub), "a hidden folder (not searched)"))
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                skipped.append(Skipped(str(path), "a hidden file"))
                continue
            if not path.is_file():
                skipped.append(Skipped(str(path), "not a regular file (a broken link, a pipe, …)"))
                continue
            relative = PurePosixPath(*path.relative_to(root).parts).as_posix()
            why = path_filter.reason(relative, str(path))
            if why is not None:
                skipped.append(Skipped(str(path), why))
                continue
            yield path


def _group_yolo(
    root: Path,
    texts: list[Path],
    names_candidates: list[Path],
    said_yolo: bool,
    selection: Selection,
    declared: AbstractSet[Path] = frozenset(),
) -> None:
    """Split the text files into YOLO datasets (one target each) and skipped files. ``said_yolo`` (--format
    yolo): a names file without label files is a dataset with no label files yet, not a skipped file."""
    names_of: dict[Path, Path] = {}  # folder -> its names file
    for path in sorted(names_candidates, key=_names_rank):
        lower = path.name.lower()
        if lower.endswith(YAML_SUFFIXES) and not names_yaml(path):
            selection.skipped.append(Skipped(str(path), "a YAML file without `names` (no YOLO dataset)"))
            continue
        folder = path.parent
        if folder.name == "labels" and folder != root and folder.parent not in names_of:
            folder = folder.parent  # LabelImg may write classes.txt beside the label files in labels/
        names_of.setdefault(folder, path)
    used_names: set[Path] = set()
    labels: dict[Path, list[Path]] = {}
    empties: list[Path] = []
    for path in texts:
        relative = path.relative_to(root).parts
        lower = path.name.lower()
        if lower in yolo_text.NOT_LABEL_FILES:
            selection.skipped.append(Skipped(str(path), "an image list or read-me, not label lines"))
            continue
        under_labels = "labels" in relative[:-1]
        verdict, why = (True, "") if under_labels else label_text_verdict(path)
        if verdict is None:
            empties.append(path)
        elif verdict:
            labels.setdefault(_dataset_root(root, path, names_of, declared), []).append(path)
        else:
            selection.skipped.append(Skipped(str(path), why))
    for path in empties:  # an image without objects: beside other label files, or in a named dataset
        home = _dataset_root(root, path, names_of, declared)
        beside = any(p.parent == path.parent for p in labels.get(home, ()))
        if beside or (home in names_of and (path.parent == home or "labels" in path.relative_to(home).parts)):
            labels.setdefault(home, []).append(path)
        else:
            selection.skipped.append(Skipped(str(path), "an empty text file outside any YOLO dataset"))
    for home, files in labels.items():
        names = names_of.get(home) or yolo_text.find_names_file(home, ancestors=2 if home == root else 0)
        if names is not None:
            used_names.add(names)
        selection.targets.append(
            Target(str(home), YoloDataset(str(home), tuple(str(p) for p in sorted(files)), _str(names)))
        )
    for home, path in names_of.items():
        if path not in used_names and said_yolo:
            selection.targets.append(Target(str(home), YoloDataset(str(home), (), str(path))))
        elif path not in used_names:
            selection.skipped.append(
                Skipped(str(path), "a class names file of no YOLO dataset (no label files)")
            )


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _dataset_root(
    root: Path, path: Path, names_of: dict[Path, Path], declared: AbstractSet[Path] = frozenset()
) -> Path:
    """The deepest folder above ``path`` with a names file; else the folder holding its ``labels/``; else
    the dataset folder a generator manifest declares; else the folder given (all within ``root``)."""
    ancestors = [path.parent, *path.parent.parents]
    ancestors = ancestors[: ancestors.index(root) + 1] if root in ancestors else [path.parent]
    for folder in ancestors:
        if folder in names_of:
            return folder
    for folder in ancestors:
        if folder.name == "labels" and folder != root:
            return folder.parent
    for folder in ancestors:
        if folder in declared:
            return folder
    # No names file and no labels/ folder marks a boundary (the Segments.ai SDK writes such datasets, in
    # <owner>_<dataset>/<release>/ folders): the label files found below the folder given are one dataset.
    return root if root in ancestors else path.parent
