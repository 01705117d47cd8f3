"""An export as a stream of small canonical datasets, one per item, for ``stats``, ``report`` and ``diff``.

Encord exports (label rows), DataGym exports (tasks) and Segments releases (samples) that are plain JSON
files are split with the validator's byte scanner (:mod:`labelspec.validator.scale.split`): each item is
parsed on its own and read through the format's reader as a one-item document (with the context it needs: the
DataGym label classes, the Segments dataset header), so memory stays bounded by the largest item. Other
inputs (COCO, YOLO, gzip, zip members) are read whole, as one chunk.

Every chunk carries ``item``: the index of the item it came from in the document (``None`` for whole
documents), so findings (whose pointers name items) can be tied to media.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from labelspec import format_ids
from labelspec.convert.model import ConversionReport, LabelledDataset
from labelspec.convert.registry import READERS, ConversionError, ReadOptions

__all__ = ["Chunk", "Document", "InspectError", "Options", "item_of_pointer", "iter_documents"]

# Where the items of a list-shaped format are, and how many leading items are context (not items).
_CONTAINERS: dict[str, tuple[tuple[str, ...], int]] = {
    format_id: (items.container, items.context) for format_id, items in format_ids.list_shaped().items()
}


class InspectError(Exception):
    """An export that cannot be read into the model; the message says why (exit code 2)."""


@dataclass(frozen=True)
class Options:
    """What the three commands take from the command line to read exports."""

    format: str | None = None
    ontology: Path | None = None
    media_dir: Path | None = None
    labelset: str | None = None
    cache_dir: Path | None = None
    offline: bool = False


@dataclass
class Chunk:
    """A part of a document in the model; ``raw`` is the item's JSON (None for whole documents)."""

    dataset: LabelledDataset
    item: int | None
    raw: Any = None
    error: str | None = None  # the item could not be read (the dataset is then empty)


@dataclass
class Document:
    """One document of an input (a file, or a member of a zip), read lazily chunk by chunk."""

    name: str
    format: str | None
    error: str | None = None
    chunks: Iterator[Chunk] = field(default_factory=lambda: iter(()))
    raw_whole: Any = None  # the parsed document when it was read whole (findings need it)
    header: Any = None  # the document without its items (the Segments dataset header), or the whole
    container: tuple[str, ...] = ()
    context: int = 0


def _read_options(options: Options, source: Path, ontology: Any) -> ReadOptions:
    from labelspec.convert.api import default_cache_dir

    return ReadOptions(
        ontology=ontology,
        media_dir=options.media_dir,
        labelset=options.labelset,
        statuses=("all",),  # looking at an export: every item, skipped and unlabelled ones too
        source_path=source,
        cache_dir=options.cache_dir or default_cache_dir(),
        inspect=True,
        offline=options.offline,
    )


def _ontology(options: Options) -> Any:
    if options.ontology is None:
        return None
    from labelspec.validator.engine import iter_loaded

    for loaded in iter_loaded(options.ontology):
        if not loaded.readable:
            raise InspectError(f"ontology {options.ontology} is unreadable: {loaded.error}")
        return loaded.document
    raise InspectError(f"ontology {options.ontology} holds no document")


def _read(format_id: str, document: Any, read_options: ReadOptions) -> LabelledDataset:
    """The document in the model; an Encord ontology is read as the categories it defines."""
    from labelspec.convert.media import MediaError, UnsafeNameError

    report = ConversionReport(format_id, "model")
    try:
        if format_id == "encord-ontology":  # no media: the classes an export of it would use
            from dataclasses import replace

            return READERS["encord"].load()([], replace(read_options, ontology=document), report)
        if format_id == "coco-panoptic":  # no conversion source yet; read here for looking only
            from labelspec.convert.readers import coco_panoptic

            return coco_panoptic.read(document, read_options, report)
        if format_id not in READERS:
            raise InspectError(f"{format_id} has no reader")
        return READERS[format_id].load()(document, read_options, report)
    except InspectError:
        raise
    except (ConversionError, MediaError, UnsafeNameError, OSError) as exc:
        raise InspectError(str(exc)) from None
    except Exception as exc:  # a reader meeting a malformed document: say so, never a traceback
        raise InspectError(f"cannot read it as {format_id} ({type(exc).__name__}: {exc})") from None


def _split(path: Path, format_hint: str | None, options: Options, ontology: Any) -> Document | None:
    """The document of a plain JSON file read item by item, or None when it is not list-shaped."""
    from labelspec.validator.scale.split import FileBytes, scan_export
    from labelspec.validator.scale.streaming import with_container

    scanned = scan_export(path, format_hint)
    if scanned is None or scanned.layout.count < scanned.context:
        return None
    format_id, layout, shell, context = scanned.format, scanned.layout, scanned.shell, scanned.context
    container = layout.container
    read_options = _read_options(options, path, ontology)

    def chunks() -> Iterator[Chunk]:
        with FileBytes(str(path)) as data:
            head = [orjson.loads(data[layout.starts[i] : layout.ends[i]]) for i in range(context)]
            for index in range(context, layout.count):
                item = orjson.loads(data[layout.starts[index] : layout.ends[index]])
                yield _chunk(
                    format_id, with_container(shell, container, [*head, item]), read_options, index, item
                )

    return Document(
        path.as_posix(), format_id, chunks=chunks(), header=shell, container=container, context=context
    )


_EMPTY = LabelledDataset((), (), ())


def _chunk(format_id: str, document: Any, read_options: ReadOptions, index: int | None, item: Any) -> Chunk:
    try:
        return Chunk(_read(format_id, document, read_options), index, item)
    except InspectError as exc:
        return Chunk(_EMPTY, index, item, error=str(exc))


def _whole_chunks(format_id: str, document: Any, read_options: ReadOptions) -> Iterator[Chunk]:
    """A parsed document's chunks: one per item for the list-shaped formats, else the whole."""
    from labelspec.validator.scale.streaming import with_container

    container, context = _CONTAINERS.get(format_id, ((), -1))
    node = document
    for key in container:
        node = node.get(key) if isinstance(node, dict) else None
    if context < 0 or not isinstance(node, list) or len(node) < context:
        yield _chunk(format_id, document, read_options, None, None)
        return
    head = node[:context]
    for index in range(context, len(node)):
        item = node[index]
        yield _chunk(format_id, with_container(document, container, [*head, item]), read_options, index, item)


def iter_documents(path: str | os.PathLike[str], options: Options) -> Iterator[Document]:
    """The documents of one input path (several for a zip or a folder of exports)."""
    from labelspec.validator.detect import DetectionError, detect_format
    from labelspec.validator.engine import iter_loaded

    source = Path(path)
    if not source.exists():
        yield Document(source.as_posix(), None, error=f"{source} does not exist")
        return
    ontology = _ontology(options)
    split = _split(source, options.format, options, ontology)
    if split is not None:
        yield split
        return
    for loaded in iter_loaded(source):
        if not loaded.readable:
            yield Document(loaded.name, options.format, error=loaded.error)
            continue
        try:
            format_id = options.format or loaded.format_hint or detect_format(loaded.document)
        except DetectionError as exc:
            yield Document(loaded.name, None, error=str(exc))
            continue
        read_options = _read_options(options, Path(loaded.name.split("!")[0]), ontology)
        container, context = _CONTAINERS.get(format_id, ((), 0))
        yield Document(
            loaded.name,
            format_id,
            chunks=_whole_chunks(format_id, loaded.document, read_options),
            raw_whole=loaded.document,
            header=loaded.document,
            container=container,
            context=context,
        )


def item_of_pointer(pointer: str, container: tuple[str, ...]) -> int | None:
    """The index of the item a finding's JSON Pointer lies in (None: outside every item)."""
    parts = pointer.split("/")[1:]
    if len(parts) <= len(container) or tuple(parts[: len(container)]) != container:
        return None
    token = parts[len(container)]
    return int(token) if token.isdigit() else None


def media_of_pointer(format_id: str | None, document: Any, pointer: str) -> str | None:
    """For formats read whole (COCO, YOLO): the media id a finding's pointer lies in, when it names one."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if len(parts) < 2 or not isinstance(document, dict):
        return None
    if format_id in ("coco-instance", "coco-panoptic") and parts[1].isdigit():
        entries = document.get(parts[0])
        if not isinstance(entries, list) or int(parts[1]) >= len(entries):
            return None
        entry = entries[int(parts[1])]
        key = "id" if parts[0] == "images" else "image_id"
        if parts[0] in ("images", "annotations") and isinstance(entry, dict) and key in entry:
            return str(entry[key])
        return None
    if format_id == "yolo" and parts[0] == "labels":
        key = parts[1]
        return key[: -len(".txt")] if key.lower().endswith(".txt") else key
    return None
