"""Read a YOLO dataset (text label files + class names) into the JSON form that ``schemas/yolo`` describes.

A YOLO dataset is a folder of ``<image stem>.txt`` label files, one object per line (``class cx cy w h``),
plus a file naming the classes: ``classes.txt`` / ``obj.names`` / ``*.names`` / ``_darknet.labels`` (one
name per line) or an ultralytics ``data.yaml`` / ``dataset.yaml`` (``names:`` list or mapping). The parsed
form is::

    {"names": [...] | {"0": ...} | None, "nc": 3, "names_file": "classes.txt" | None,
     "labels": {"labels/img1.txt": [[0, 0.5, 0.5, 0.2, 0.3], ...], ...}}

Malformed lines never raise: every whitespace-separated token that is not a number is kept as a string,
so the schema reports it at ``/labels/<file>/<line index>/<field index>``. :meth:`YoloParse.locate` (the
callback ``inputs.LoadedDocument.locate`` expects) and :meth:`YoloParse.source_location` turn such a
pointer back into ``labels/img1.txt line 4, field 2``.
Only an unreadable input (missing path, unreadable file, ``data.yaml`` that is not YAML) raises
:class:`YoloReadError`, which callers report as unreadable input (exit code 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from labelspec.validator.numbers import convertible, int_of_digits

__all__ = [
    "LabelValue",
    "SourceLocation",
    "YoloParse",
    "YoloReadError",
    "find_names_file",
    "is_yolo_source",
    "parse_label_text",
    "parse_names_text",
    "parse_token",
    "parse_yolo",
    "parse_yolo_dataset",
    "pointer_tokens",
]

LabelValue = int | float | str

# Files holding one class name per line, in order of preference.
NAMES_TEXT_FILES: tuple[str, ...] = ("classes.txt", "obj.names", "_darknet.labels")
# ultralytics dataset descriptions.
NAMES_YAML_FILES: tuple[str, ...] = ("data.yaml", "dataset.yaml", "data.yml", "dataset.yml")
# Text files of a darknet/ultralytics dataset folder that are not label files (image lists, read-mes).
NOT_LABEL_FILES: frozenset[str] = frozenset(
    {
        "classes.txt",
        "train.txt",
        "val.txt",
        "valid.txt",
        "test.txt",
        "readme.txt",
        "readme.dataset.txt",
        "readme.roboflow.txt",
        "labels.txt",
    }
)

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# A line of a short class index and decimal numbers, single spaces: parse_token would give exactly an int
# (few digits: always convertible) and floats (a '.'), so the line is read without a call per token.
_PLAIN_LINE = re.compile(r"[0-9]{1,18}(?: [0-9]+\.[0-9]+)+")
INTEGER_TOKEN = _INT  # a token parse_token reads as an int
NUMBER_TOKEN = _FLOAT  # a token it reads as a number (int or float)


class YoloReadError(OSError):
    """The input cannot be read at all (missing path, I/O error, a names YAML that does not parse).

    An :class:`OSError`, so ``inputs.load_path`` reports it as unreadable input (exit code 2) with
    ``str(exc)`` as the reason.
    """


@dataclass(frozen=True)
class SourceLocation:
    """Where a pointer of the parsed form comes from: a file (relative path), a 1-based line and field."""

    file: str | None
    line: int | None = None
    field: int | None = None

    def __str__(self) -> str:
        text = self.file if self.file is not None else "<dataset>"
        if self.line is not None:
            text += f" line {self.line}"
            if self.field is not None:
                text += f", field {self.field}"
        return text


@dataclass
class YoloParse:
    """The parsed JSON document and the source map that locates its pointers in the text files."""

    document: dict[str, Any]
    root: Path
    names_file: str | None = None
    # label file key -> the 1-based physical line number of each parsed (non-blank) line
    line_numbers: dict[str, list[int]] = field(default_factory=dict)
    # for a text names file: the 1-based line number of each name
    names_line_numbers: list[int] | None = None

    def source_location(self, pointer: str) -> SourceLocation:
        """Map an RFC 6901 pointer into :attr:`document` to a file, line and field."""
        tokens = pointer_tokens(pointer)
        if not tokens:
            return SourceLocation(None)
        head = tokens[0]
        if head == "labels" and len(tokens) >= 2:
            key = tokens[1]
            numbers = self.line_numbers.get(key)
            if numbers is None:
                return SourceLocation(key)
            line = _index(tokens, 2)
            if line is None or line >= len(numbers):
                return SourceLocation(key)
            column = _index(tokens, 3)
            return SourceLocation(key, numbers[line], None if column is None else column + 1)
        if head in ("names", "nc", "names_file"):
            if head == "names" and self.names_line_numbers is not None:
                position = _index(tokens, 1)
                if position is not None and position < len(self.names_line_numbers):
                    return SourceLocation(self.names_file, self.names_line_numbers[position])
            return SourceLocation(self.names_file)
        return SourceLocation(None)

    def format_location(self, pointer: str) -> str:
        """``labels/img1.txt line 4, field 2`` for ``/labels/labels~1img1.txt/3/1``."""
        return str(self.source_location(pointer))

    def locate(self, pointer: str) -> str | None:
        """Like :meth:`format_location`, but None when the pointer names no file (the document root)."""
        where = self.source_location(pointer)
        return None if where.file is None else str(where)


def pointer_tokens(pointer: str) -> list[str]:
    """The unescaped reference tokens of an RFC 6901 JSON Pointer (``""`` gives ``[]``)."""
    if pointer in ("", "#"):
        return []
    if pointer.startswith("#"):
        pointer = pointer[1:]
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _index(tokens: list[str], position: int) -> int | None:
    if position >= len(tokens) or not (tokens[position].isascii() and tokens[position].isdigit()):
        return None
    return int_of_digits(tokens[position])


def parse_token(token: str) -> LabelValue:
    """An int for an integer token, a float for a decimal one, otherwise the token itself (a string).

    An integer token too long for ``int()`` (see :mod:`labelspec.validator.numbers`) stays a string: the
    schema reports it at its line and field, as no trainer can read it either."""
    if not _FLOAT.fullmatch(token):
        return token
    if "." in token or "e" in token or "E" in token:
        return float(token)
    # a number token without '.' or exponent is exactly an _INT token
    return token if not convertible(token) else int(token)


def parse_label_text(text: str) -> tuple[list[list[LabelValue]], list[int]]:
    """The non-blank lines of a label file as lists of fields, and the 1-based line number of each."""
    rows: list[list[LabelValue]] = []
    numbers: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _PLAIN_LINE.fullmatch(line):  # the usual line, as writers write it: what parse_token gives
            first, *rest = line.split(" ")
            rows.append([int(first), *map(float, rest)])
            numbers.append(number)
            continue
        tokens = line.split()
        if not tokens:
            continue
        rows.append([parse_token(t) for t in tokens])
        numbers.append(number)
    return rows, numbers


def parse_names_text(text: str) -> tuple[list[str], list[int]]:
    """Class names of a one-name-per-line file and their line numbers.

    Surrounding whitespace is stripped. Trailing blank lines are dropped; a blank line between names is
    kept as an empty name, because darknet counts it as a class (the schema then rejects the empty name).
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.strip() for line in lines], list(range(1, len(lines) + 1))


def _read_text(path: Path | str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise YoloReadError(f"cannot read {path}: {exc}") from exc
    # Undecodable bytes become U+FFFD: the token is then not a number and is reported where it is.
    return data.decode("utf-8-sig", errors="replace")


def _is_names_yaml(path: Path) -> bool:
    return path.name.lower() in NAMES_YAML_FILES or path.suffix.lower() in (".yaml", ".yml")


def find_names_file(folder: Path, *, ancestors: int = 0) -> Path | None:
    """The class-names file of a dataset folder (or, with ``ancestors``, of up to that many parents).

    Preference in each folder: ``data.yaml`` / ``dataset.yaml`` (and ``.yml``), then ``classes.txt``,
    ``obj.names``, ``_darknet.labels``, then any ``*.names``. For a folder, a ``labels/`` sub-folder is
    searched as well (LabelImg writes ``classes.txt`` next to the label files).
    """
    candidates = [folder]
    if ancestors == 0 and (folder / "labels").is_dir():
        candidates.append(folder / "labels")
    parent = folder
    for _ in range(ancestors):
        if parent.parent == parent:
            break
        parent = parent.parent
        candidates.append(parent)
    for directory in candidates:
        for name in NAMES_YAML_FILES:
            if (directory / name).is_file():
                return directory / name
        described = sorted(p for p in directory.glob("*.y*ml") if p.is_file() and _yaml_has_names(p))
        if described:
            return described[0]
        for name in NAMES_TEXT_FILES:
            if (directory / name).is_file():
                return directory / name
        extra = sorted(p for p in directory.glob("*.names") if p.is_file())
        if extra:
            return extra[0]
    return None


def _yaml_has_names(path: Path) -> bool:
    """Any YAML with a top-level ``names`` describes a dataset (ultralytics reads whatever YAML it is given;
    labelformat's examples call theirs ``example.yaml``)."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return False
    import yaml  # here: only YOLO datasets read YAML, and importing yaml costs every run start-up time

    try:
        data = yaml.safe_load(_read_text(path))
    except (YoloReadError, yaml.YAMLError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "names" in data


def _load_names(path: Path) -> tuple[dict[str, Any], list[int] | None]:
    """``names`` (and ``nc``) of a names file, plus the name line numbers for a text file."""
    text = _read_text(path)
    if not _is_names_yaml(path):
        names, numbers = parse_names_text(text)
        return {"names": names}, numbers
    import yaml  # see _yaml_has_names

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise YoloReadError(f"{path} is not valid YAML: {exc}") from exc
    out: dict[str, Any] = {"names": None}
    if not isinstance(data, dict):
        return out, None
    declared = data.get("names")
    if isinstance(declared, dict):
        # YAML keys may be ints; the JSON form has string keys (the schema checks they are digits).
        out["names"] = {str(k): v for k, v in declared.items()}
    elif declared is not None:
        out["names"] = declared
    if "nc" in data:
        out["nc"] = data["nc"]
    if "kpt_shape" in data:  # ultralytics pose: [keypoints per object, 2 (x y) or 3 (x y visibility)]
        out["kpt_shape"] = data["kpt_shape"]
    return out, None


def _label_files(root: Path, names_path: Path | None) -> list[Path]:
    """Every label ``.txt`` under ``root``: under ``labels/`` folders when there are any, else all of them."""
    found = sorted(p for p in root.rglob("*.txt") if p.is_file() and not _hidden(p.relative_to(root)))
    if names_path is not None:
        names_resolved = names_path.resolve()  # once: resolving every label file is slow on big datasets
        found = [p for p in found if p.name != names_path.name or p.resolve() != names_resolved]
    under_labels = [p for p in found if "labels" in p.relative_to(root).parts[:-1]]
    if under_labels:
        return under_labels
    return [p for p in found if p.name.lower() not in NOT_LABEL_FILES]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def is_yolo_source(path: Path) -> bool:
    """A cheap guess: a ``.txt`` file, or a folder holding ``.txt`` files or a YOLO names file."""
    if path.is_file():
        return path.suffix.lower() == ".txt"
    if path.is_dir():
        return find_names_file(path) is not None or any(path.rglob("*.txt"))
    return False


def parse_yolo(path: Path) -> YoloParse:
    """Parse a YOLO dataset folder, or one label ``.txt`` file, into the schema's JSON form.

    For a folder, the names file is looked up with :func:`find_names_file` and every label file with the
    rule of :func:`_label_files`; label keys are POSIX paths relative to the folder. For a single file, the
    key is the file name and the names file is looked for next to it and in up to two parent folders
    (``ds/labels/train/x.txt`` finds ``ds/data.yaml``). Raises :class:`YoloReadError` only when the input
    cannot be read.
    """
    if not path.exists():
        raise YoloReadError(f"{path} does not exist")
    if path.is_dir():
        root = path
        names_path = find_names_file(root)
        files = _label_files(root, names_path)
    else:
        root = path.parent
        names_path = find_names_file(root, ancestors=2)
        files = [path]
    return parse_yolo_dataset(root, files, names_path)


def parse_yolo_dataset(root: Path, files: Sequence[Path | str], names_path: Path | None) -> YoloParse:
    """The parsed form of the label ``files`` of the dataset at ``root`` with the given names file."""
    document: dict[str, Any] = {"names": None}
    names_lines: list[int] | None = None
    names_key: str | None = None
    if names_path is not None:
        loaded, names_lines = _load_names(names_path)
        document.update(loaded)
        names_key = _relative_key(names_path, root)
    document["names_file"] = names_key

    labels: dict[str, list[list[LabelValue]]] = {}
    line_numbers: dict[str, list[int]] = {}
    prefix = os.path.join(os.fspath(root), "")
    for label_path in files:
        key = _key_under(os.fspath(label_path), prefix) or _relative_key(Path(label_path), root)
        rows, numbers = parse_label_text(_read_text(label_path))
        labels[key] = rows
        line_numbers[key] = numbers
    document["labels"] = labels
    return YoloParse(
        document=document,
        root=root,
        names_file=names_key,
        line_numbers=line_numbers,
        names_line_numbers=names_lines,
    )


def _key_under(path: str, prefix: str) -> str | None:
    """The key of ``path`` when it is plainly under the folder ``prefix`` (ends with a separator): the
    rest of the string, when it has no empty, ``.`` or ``..`` part; else None (then the path is resolved).
    A string test, not a Path per file: a converted dataset has 100 000s of label files."""
    if os.sep != "/" or not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    return None if {"", ".", ".."} & set(rest.split("/")) else rest


def _relative_key(path: Path, root: Path) -> str:
    """POSIX path of ``path`` relative to ``root`` (``../data.yaml`` for a names file in a parent folder)."""
    if root in path.parents:  # found under root by rglob: no resolving needed (it is slow per file)
        return path.relative_to(root).as_posix()
    return PurePosixPath(*Path(os.path.relpath(path.resolve(), root.resolve())).parts).as_posix()
