"""``convert``: validate the input, read it into the canonical model, write the target, validate the output.

Nothing half-done reaches the output path: the writer writes into a private staging folder next to it,
the output is validated there, and only then moved into place (renames). An invalid input or output, or
any loss under ``strict``, raises :class:`ConversionError` (exit code 1) and leaves nothing behind;
unreadable inputs, missing media and bad usage raise it with exit code 2.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

from labelspec.convert.model import ConversionReport
from labelspec.convert.registry import LAYOUTS, ConversionError, ReadOptions, WriteOptions, reader, writer
from labelspec.convert.statuses import STATUS_TARGETS, unfinished

__all__ = ["ConversionError", "convert", "default_cache_dir"]

PathArg = str | os.PathLike[str]


def default_cache_dir() -> Path:
    """Where fetched media are cached: ``$LABELSPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/labelspec/media``."""
    explicit = os.environ.get("LABELSPEC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labelspec" / "media"


def _load_one(path: Path, what: str) -> Any:
    """The loaded document of ``path`` (exactly one), else ConversionError(2)."""
    from labelspec.validator.engine import iter_loaded

    if not path.exists():
        raise ConversionError(f"{what} {path} does not exist", 2)
    loaded = list(iter_loaded(path))
    if not loaded:
        raise ConversionError(f"{what} {path} holds no document to convert", 2)
    if len(loaded) > 1:
        raise ConversionError(
            f"{what} {path} holds {len(loaded)} documents ({loaded[0].name}, …); convert one at a time", 2
        )
    document = loaded[0]
    if not document.readable:
        raise ConversionError(f"{what} {path} is unreadable: {document.error}", 2)
    return document


def _input_report(source: Path, loaded: Any, format_id: str, ontology_document: Any) -> Any:
    """The lenient report of the input: from the native fast path when it can certify the file (its
    findings are the reference path's, as for ``labelspec validate``), else from the reference path."""
    from labelspec.validator.engine import report_for_loaded
    from labelspec.validator.native.fastpath import native_report

    if source.is_file() and source.name.lower().endswith(".json") and format_id != "yolo":
        fast = native_report(source, format_id, "lenient", ontology_document)
        if fast is not None:
            return fast
    return report_for_loaded(loaded, format_id, "lenient", ontology_document)


def _first_errors(report: Any, limit: int = 5) -> str:
    errors = [f for f in report.findings if f.severity == "error"]
    shown = "; ".join(f"{f.pointer or '/'}: {f.message}" for f in errors[:limit])
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return shown + more


def _refuse_nothing(source: Path, target: str, report: ConversionReport) -> None:
    """ConversionError(1) when the reader (or the status filter) left nothing the target can hold.

    An input that holds no media at all converts to an empty output; one whose every item was dropped or
    filtered out would give an output that looks like an empty dataset, so it is refused and explained."""
    dropped = [loss for loss in report.losses if loss.kind == "dropped"]
    filtered = {k: v for k, v in report.counts.items() if k.startswith("filtered_") and v}
    if not dropped and not filtered:
        return
    reasons = sorted({f"{loss.what}: {loss.reason}" for loss in dropped})
    reasons += [
        f"{count} {key.removeprefix('filtered_')} filtered out by status" for key, count in filtered.items()
    ]
    shown = "; ".join(reasons[:4]) + (f"; … ({len(reasons)} reasons)" if len(reasons) > 4 else "")
    raise ConversionError(
        f"nothing in {source} can be converted to {target} ({shown}); nothing was written",
        1,
        conversion=report,
    )


def _detect(source: Path, document: Any) -> str:
    """The one format ``document`` can be read as, else ConversionError(2) saying to pass ``--from``."""
    from labelspec.convert.registry import READERS
    from labelspec.validator.detect import candidate_formats

    found = [f for f in candidate_formats(document) if f in READERS]
    if len(found) == 1:
        return found[0]
    why = (
        f"it matches several formats ({', '.join(found)})"
        if found
        else "it looks like none of the formats labelspec reads"
    )
    raise ConversionError(
        f"cannot tell the format of {source}: {why}; pass --from FORMAT ({', '.join(READERS)})", 2
    )


_F = TypeVar("_F", bound=Callable[..., Any])


def _collector_paused(function: _F) -> _F:
    """Run ``function`` with Python's cyclic garbage collector paused, as validation does: a conversion
    builds millions of small objects that hold no cycles, and the collector's passes over them took a
    large share of a conversion's time."""

    @functools.wraps(function)
    def paused(*args: Any, **kwargs: Any) -> Any:
        from labelspec.validator.engine import collector_paused

        with collector_paused():
            return function(*args, **kwargs)

    return cast(_F, paused)


@_collector_paused
def convert(
    input: PathArg,
    target: str,
    out: PathArg,
    *,
    source_format: str | None = None,
    ontology: PathArg | None = None,
    media_dir: PathArg | None = None,
    labelset: str | None = None,
    statuses: Iterable[str] = (),
    branch: str = "main",
    layout: str | None = None,
    id_increment: int = 0,
    offline: bool = False,
    allow_private_network: bool = False,
    strict: bool = False,
    force: bool = False,
    cache_dir: PathArg | None = None,
) -> ConversionReport:
    """Convert the export ``input`` to ``target`` at ``out`` and return the conversion report.

    ``out`` is a file for single-file targets (coco-instance, datagym, segments) and a folder for the
    others (yolo, coco-panoptic, mask PNGs, encord). Raises :class:`ConversionError` (``exit_code`` 1 for
    an invalid input or output or a loss under ``strict``, 2 for unreadable input, missing media or bad
    usage); its ``validation`` / ``conversion`` attributes carry the reports.
    """
    from labelspec.convert.media import MediaError, UnsafeNameError
    from labelspec.convert.writers import image_items
    from labelspec.validator.engine import report_for_loaded
    from labelspec.validator.report import Report

    writer_spec = writer(target)
    target = writer_spec.target_id  # an alias (the segments-ai SDK's format names) is reported by its name
    if layout is not None and layout not in LAYOUTS.get(target, ()):
        raise ConversionError(
            f"layout {layout!r}: "
            + "; ".join(f"the {t} target has the layouts {' and '.join(ls)}" for t, ls in LAYOUTS.items()),
            2,
        )
    if source_format is not None:
        reader(source_format)
    try:
        writer_impl = writer_spec.load()
    except (ImportError, AttributeError):
        raise ConversionError(f"the {target} writer is not available in this version", 2) from None
    source = Path(input)
    output = Path(out)
    options = ReadOptions(
        media_dir=Path(media_dir) if media_dir is not None else None,
        labelset=labelset,
        statuses=tuple(statuses),
        branch=branch,
        offline=offline,
        allow_private_network=allow_private_network,
        source_path=source,
        cache_dir=Path(cache_dir) if cache_dir is not None else default_cache_dir(),
    )
    write_options = WriteOptions(media_dir=options.media_dir, layout=layout, id_increment=id_increment)
    columns = _certified_coco(source, source_format, ontology, writer_impl)
    if columns is None:
        columns = _validated_coco(source, source_format, ontology, writer_impl, target)
    if columns is not None:
        from labelspec.convert.writers import NotStreamable

        try:
            return _convert_streamed(
                source,
                columns,
                writer_impl,
                writer_spec,
                output,
                options,
                write_options,
                strict=strict,
                force=force,
            )
        except NotStreamable:
            pass  # the writer needs the whole dataset after all (its staged output is gone): in memory
    loaded = _load_one(source, "input")
    format_id = source_format or loaded.format_hint or _detect(source, loaded.document)
    read_spec = reader(format_id)
    report = ConversionReport(format_id, target)

    validation = Report()
    ontology_document: Any = None
    if ontology is not None:
        loaded_ontology = _load_one(Path(ontology), "ontology")
        validation.files.append(report_for_loaded(loaded_ontology, "encord-ontology", "lenient"))
        ontology_document = loaded_ontology.document
    validation.files.append(_input_report(source, loaded, format_id, ontology_document))
    if not validation.valid:
        raise ConversionError(
            f"the input is not valid {format_id}: {_first_errors(validation)}; nothing was written",
            1,
            validation=validation,
            conversion=report,
        )

    options = replace(options, ontology=ontology_document)
    try:
        dataset = read_spec.load()(loaded.document, options, report)
    except ConversionError as exc:
        exc.conversion = exc.conversion or report
        raise
    except (MediaError, OSError) as exc:
        raise ConversionError(f"cannot read the media of {source}: {exc}", 2, conversion=report) from None
    except UnsafeNameError as exc:
        raise ConversionError(str(exc), 1, conversion=report) from None

    dataset = image_items(dataset, target, report)
    if target not in STATUS_TARGETS:
        for item in dataset.media:
            unfinished(item, target, report)
    if not dataset.media:
        _refuse_nothing(source, target, report)
    if writer_spec.needs_sizes:
        from labelspec.convert.sizes import resolve_sizes

        dataset = resolve_sizes(dataset, options, report)
    return _write_checked(
        lambda path: writer_impl.write(dataset, path, write_options, report),
        writer_impl,
        writer_spec,
        output,
        report,
        strict=strict,
        force=force,
    )


def _write_checked(
    write: Callable[[Path], list[Path]],
    writer_impl: Any,
    writer_spec: Any,
    output: Path,
    report: ConversionReport,
    *,
    strict: bool,
    force: bool,
) -> ConversionReport:
    """Write into a staging folder (``write(path)``), validate the output there, then publish it."""
    from labelspec.convert.atomic import OutputExistsError, StagedOutput
    from labelspec.convert.media import MediaError, UnsafeNameError

    target = writer_spec.target_id
    try:
        with StagedOutput(output, writer_spec.output, force) as stage:
            paths = write(stage.path)
            checked = writer_impl.validate_output(paths)
            if not checked.valid:
                raise ConversionError(
                    f"the {target} output failed its specification ({_first_errors(checked)}); nothing was "
                    "written. This is a defect of labelspec's converter: please report it",
                    1,
                    validation=checked,
                    conversion=report,
                )
            if strict and not report.lossless:
                raise ConversionError(
                    f"--strict: the conversion would lose {len(report.losses)} item(s); nothing was written",
                    1,
                    conversion=report,
                )
            published = stage.publish(paths)
    except OutputExistsError as exc:
        raise ConversionError(str(exc), 2, conversion=report) from None
    except UnsafeNameError as exc:
        raise ConversionError(f"{exc}; nothing was written", 1, conversion=report) from None
    except (MediaError, OSError) as exc:
        raise ConversionError(f"cannot write {output}: {exc}", 2, conversion=report) from None
    report.counts["written_files"] = published
    return report


def _certified_coco(
    source: Path, source_format: str | None, ontology: PathArg | None, writer_impl: Any
) -> Any:
    """The certified columns of a COCO instance input that can be converted streamed, else None.

    Streamed: a plain JSON file the native checks certify a clean COCO instance file (its lenient report
    has no finding), every element's offsets and every image's size known, and a writer that writes media
    item by media item (``write_groups``: YOLO, COCO instance). Anything else takes the in-memory path."""
    if (
        source_format not in (None, "coco-instance")
        or ontology is not None
        or not hasattr(writer_impl, "write_groups")
        or not source.name.lower().endswith(".json")
        or not source.is_file()
    ):
        return None
    from labelspec.convert.readers.coco_stream import usable
    from labelspec.validator.native.fastpath import certified_coco

    columns = certified_coco(source, "lenient")
    return columns if columns is not None and usable(columns) else None


def _validated_coco(
    source: Path, source_format: str | None, ontology: PathArg | None, writer_impl: Any, target: str
) -> Any:
    """The columns of a COCO instance file the native checks did not certify, validated by the streamed
    section reference path (bounded memory) instead of in memory, or None (convert in memory).

    Taken for ``--from coco-instance`` and for a large file (the validator's streaming threshold) whose
    format the streamed validation detects as COCO instance; an invalid file is refused as in memory."""
    from labelspec.validator.inputs import wants_stream

    if (
        (source_format is None and not wants_stream(source, None))
        or source_format not in (None, "coco-instance")
        or ontology is not None
        or not hasattr(writer_impl, "write_groups")
        or not source.name.lower().endswith(".json")
        or not source.is_file()
    ):
        return None
    from labelspec.convert.readers.coco_sections import section_columns
    from labelspec.convert.readers.coco_stream import usable
    from labelspec.validator.api import validate

    validation = validate(source, format=source_format, profile="lenient", stream=True)
    if not validation.files or validation.files[0].format != "coco-instance":
        return None
    if not validation.valid:
        raise ConversionError(
            f"the input is not valid coco-instance: {_first_errors(validation)}; nothing was written",
            1,
            validation=validation,
            conversion=ConversionReport("coco-instance", target),
        )
    columns = section_columns(source)
    return columns if columns is not None and usable(columns) else None


def _convert_streamed(
    source: Path,
    columns: Any,
    writer_impl: Any,
    writer_spec: Any,
    output: Path,
    options: ReadOptions,
    write_options: WriteOptions,
    *,
    strict: bool,
    force: bool,
) -> ConversionReport:
    """:func:`convert` of a certified COCO instance file, one image at a time (see
    :mod:`labelspec.convert.readers.coco_stream`): the input check was the native pass that certified it."""
    from labelspec.convert.media import MediaError
    from labelspec.convert.readers.coco_stream import stream

    report = ConversionReport("coco-instance", writer_spec.target_id)
    try:
        streamed = stream(source, columns, options, report)
    except (MediaError, OSError) as exc:
        raise ConversionError(f"cannot read the media of {source}: {exc}", 2, conversion=report) from None
    if not streamed.media:
        _refuse_nothing(source, writer_spec.target_id, report)
    return _write_checked(
        lambda path: writer_impl.write_groups(
            streamed.categories,
            streamed.groups(),
            path,
            write_options,
            report,
            media=streamed.media,
            info=streamed.info,
        ),
        writer_impl,
        writer_spec,
        output,
        report,
        strict=strict,
        force=force,
    )
