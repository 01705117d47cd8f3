"""Atomic outputs: a file is written to a temporary sibling and renamed; a whole output (a folder, or a
file with its side files) is written into a private staging folder next to the target and moved into
place only when it is complete and valid. Nothing is overwritten without ``force``.

Inside a staging folder nobody else sees, files are written directly (no temporary sibling, no fsync per
file: with 100 000 YOLO label files the fsyncs took most of a conversion's time). Publishing renames, so
what becomes visible is complete; when it replaces an existing output (``--force``), the file system is
synced first, so that a crash cannot leave the user with neither the old output nor the new one on disk.
A new output is not synced (as no peer converter does: ``os.sync`` flushes every file of the machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "OutputExistsError",
    "StagedOutput",
    "check_writable",
    "output_target",
    "write_bytes",
    "write_json",
    "write_many",
]


class OutputExistsError(FileExistsError):
    """The output exists and ``force`` was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists; pass --force to overwrite it")
        self.path = path


def check_writable(path: Path, force: bool) -> None:
    """Refuse an existing ``path`` (file, folder or link) unless ``force``."""
    if not force and (path.exists() or path.is_symlink()):
        raise OutputExistsError(path)


def output_target(
    source: Path, out: str | os.PathLike[str] | None, *, in_place: bool = False, force: bool = False
) -> Path | None:
    """Where a command that rewrites ``source`` writes (``convert``'s and ``fix``'s ``-o``/``--in-place``
    /``--force`` in one place): ``source`` itself with ``in_place`` (its own input, replaced atomically),
    else ``out``, else None (nothing is written). An existing ``out`` (file, folder or link) is refused
    with :class:`OutputExistsError` unless ``force``."""
    if in_place:
        return source
    if out is None:
        return None
    target = Path(out)
    check_writable(target, force)
    return target


# the private staging folder of the conversion running in this context, if any
_STAGING: ContextVar[Path | None] = ContextVar("labelspec_staging", default=None)


def write_bytes(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, rename); parents are created.

    Inside the active staging folder (see :class:`StagedOutput`) the file is written directly: the
    staging folder is published as a whole."""
    check_writable(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _STAGING.get()
    if staging is not None and staging in path.parents:
        with open(path, "wb") as out:
            out.write(data)
        return path
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def _write_new(path: str, data: bytes, flags: int) -> None:
    """One file, with plain system calls (no buffered file object: they cost more than the write itself
    for 100 000 small label files)."""
    fd = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_many(files: Iterable[tuple[Path | str, bytes]], *, force: bool = False) -> list[Path]:
    """Write many files (e.g. one YOLO label file per image): each folder is created once, and inside the
    active staging folder every file is written directly; elsewhere each one with :func:`write_bytes`."""
    staging = _STAGING.get()
    prefix = os.path.join(staging, "") if staging is not None else None
    staged: dict[str, bool] = {}  # folder -> inside the staging folder (created)
    written: list[Path] = []
    # O_EXCL without force: two items never share one file
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL) | getattr(os, "O_BINARY", 0)
    for given, data in files:
        path = os.fspath(given)
        parent = os.path.dirname(path)
        inside = staged.get(parent)
        if inside is None:
            inside = prefix is not None and os.path.join(parent, "").startswith(prefix)
            if inside:
                os.makedirs(parent, exist_ok=True)
            staged[parent] = inside
        if not inside:
            written.append(write_bytes(Path(path), data, force=force))
            continue
        _write_new(path, data, flags)
        written.append(Path(path))
    return written


def write_json(path: Path, value: Any, *, force: bool = False, indent: bool = False) -> Path:
    """Serialise ``value`` (refusing NaN and infinities) and write it atomically."""
    from labelspec.formats._runtime import dump_json

    return write_bytes(path, dump_json(value, indent=indent), force=force)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class StagedOutput:
    """A staging area for one conversion output, published with renames.

    ``with StagedOutput(out, "file" | "folder", force) as stage:`` gives ``stage.path``: where the writer
    writes (``<staging>/<out.name>``, a file or a folder). ``stage.publish(paths)`` moves the result to
    ``out`` (a folder is renamed as a whole; a file target moves every written file to its place next to
    ``out``); leaving the block removes the staging folder, so a failure leaves nothing behind and an
    existing output untouched.
    """

    def __init__(self, out: Path, kind: Literal["file", "folder"], force: bool = False) -> None:
        self.out = out
        self.kind = kind
        self.force = force
        self.staging: Path | None = None

    def __enter__(self) -> StagedOutput:
        check_writable(self.out, self.force)
        if self.out.exists() and self.kind == "file" and self.out.is_dir():
            raise IsADirectoryError(f"{self.out} is a folder; the output of this target is a file")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(
            tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.", suffix=".staging")
        )
        self._token = _STAGING.set(self.staging)
        return self

    @property
    def path(self) -> Path:
        assert self.staging is not None, "use StagedOutput as a context manager"
        return self.staging / self.out.name

    def final_path(self, staged: Path) -> Path:
        """Where a staged path ends up once published (string work: ``relative_to`` per file is slow)."""
        assert self.staging is not None
        text, prefix = os.fspath(staged), os.path.join(self.staging, "")
        if not text.startswith(prefix):
            raise ValueError(f"{staged} is not in the staging folder {self.staging}")
        return Path(os.path.join(self.out.parent, text[len(prefix) :]))

    def publish(self, paths: Sequence[Path]) -> int:
        """Move the staged output into place; the number of files published."""
        assert self.staging is not None
        if self.kind == "folder":
            if _exists(self.out):
                os.sync()  # what replaces the user's output is on disk before the old one goes
            self._replace(self.path, self.out)
            return len(paths)
        moves = [(p, self.final_path(p)) for p in paths]
        for _, final in moves:
            check_writable(final, self.force)
        if any(_exists(final) for _, final in moves):
            os.sync()
        for staged, final in moves:
            final.parent.mkdir(parents=True, exist_ok=True)
            self._replace(staged, final)
        return len(moves)

    def _replace(self, staged: Path, final: Path) -> None:
        if final.exists() or final.is_symlink():
            if not self.force:
                raise OutputExistsError(final)
            if final.is_dir() and not final.is_symlink():
                # a folder cannot be replaced by rename: move the old one aside, then remove it
                assert self.staging is not None
                aside = self.staging / ".replaced"
                os.replace(final, aside)
                os.replace(staged, final)
                return
        os.replace(staged, final)

    def __exit__(self, *exc: object) -> None:
        if self.staging is not None:
            _STAGING.reset(self._token)
            _remove(self.staging)
            self.staging = None
