"""``labelspec convert``: the command line of :func:`labelspec.convert.api.convert`.

Exit codes: 0 converted; 1 invalid input or output, a loss under ``--strict``, or nothing in the input
the target can hold (every item dropped: audio, text, HTML or scene rows, point clouds, ...; nothing is
written); 2 unreadable input, missing media or bad usage. Dropped items are listed in the summary with
where they are (the first few per reason; all of them in ``--report``). A summary of the conversion
report goes to stderr, the whole report (JSON) to ``--report FILE``. Importing this module is cheap
(``labelspec`` imports it at every start); the converters are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

__all__ = ["register", "run", "write_summary"]


def register(commands: Any) -> None:
    from labelspec.convert.registry import ALIASES, READERS, WRITERS

    parser = commands.add_parser(
        "convert",
        help="convert an export to another format (validated on both ends)",
        description="Convert an export to another format through labelspec's canonical model. The input "
        "is validated against its specification first, the output against the target's after; every "
        "dropped or approximated item is reported. Exit code 0: converted; 1: invalid input or output, or "
        "a loss under --strict, or nothing in the input the target can hold (every item dropped, each "
        "one reported with its reason); 2: unreadable input, missing media or bad usage.",
    )
    parser.add_argument(
        "input", metavar="INPUT", help="the export (.json, .json.gz, a one-document .zip, a YOLO folder)"
    )
    parser.add_argument(
        "--to",
        required=True,
        choices=[*WRITERS, *ALIASES],
        metavar="TARGET",
        dest="target",
        help=f"target format: {', '.join(WRITERS)}; the segments-ai SDK's names "
        f"{', '.join(ALIASES)} are aliases of the mask PNG targets",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        dest="out",
        help="output file (coco-instance, datagym, segments) or folder (the other targets)",
    )
    parser.add_argument(
        "--from",
        choices=list(READERS),
        metavar="F",
        dest="source_format",
        help=f"source format (default: detected): {', '.join(READERS)}",
    )
    parser.add_argument("--ontology", metavar="FILE", help="Encord: the ontology the label rows refer to")
    parser.add_argument(
        "--media-dir",
        metavar="DIR",
        help="folder with the media files (image sizes from their headers; Segments bitmaps)",
    )
    parser.add_argument(
        "--labelset", metavar="NAME", help="Segments: the labelset to read (default: ground-truth)"
    )
    parser.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="S",
        dest="statuses",
        help="DataGym, Segments, Encord: only items with this status (repeatable, case-insensitive; 'all' "
        "= every status): the vendor's own (e.g. LABELED, REVIEWED_TWICE, RETURNED, skipped) or labelspec's "
        "name, which selects the same items of every vendor (unlabelled, prelabelled, labelling, labelled, "
        "reviewing, reviewed, reviewed_twice, verified, rejected, skipped). Default: every status but "
        "DataGym skipped/reviewed_skip tasks, Segments SKIPPED "
        "samples and Encord NOT_LABELLED rows (counted as filtered)",
    )
    parser.add_argument(
        "--branch",
        default="main",
        metavar="NAME",
        help="Encord: the label branch to read (default: main); rows of other branches are reported",
    )
    parser.add_argument(
        "--id-increment",
        type=int,
        default=0,
        metavar="N",
        help="semantic-png: pixel value = category id + N (default 0), as the segments-ai SDK's export",
    )
    parser.add_argument(
        "--layout",
        choices=["ultralytics", "darknet", "sequences", "images"],
        help="YOLO target: ultralytics (default: data.yaml, images/ and labels/ per split) or darknet "
        "(obj.names, obj.data, train.txt, obj_train_data/); Encord target: sequences (default: a video as "
        "a video row, an image sequence or image group as an img_group row) or images (every media item "
        "as an image row of its own); Segments target: sequences (default: an image-vector-sequence or "
        "image-segmentation-sequence release when the dataset has videos or image sequences) or images "
        "(image samples only)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never touch the network: media from --media-dir, local paths and the cache only",
    )
    parser.add_argument(
        "--allow-private-network",
        action="store_true",
        help="let the export's media URLs reach loopback, private and link-local addresses (refused by "
        "default: an export can come from anyone)",
    )
    parser.add_argument("--strict", action="store_true", help="any dropped or approximated item is an error")
    parser.add_argument("--report", metavar="FILE", help="write the conversion report (JSON) to FILE")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.set_defaults(run=run)


def write_summary(report: Any, stream: TextIO, *, out: str | None = None) -> None:
    counts = report.counts
    read = ", ".join(f"{counts[k]} {k}" for k in ("media", "categories", "annotations") if k in counts)
    where = f" -> {out}" if out else ""
    stream.write(f"{report.source_format} -> {report.target_format}{where}: read {read or 'nothing'}\n")
    for key in sorted(k for k in counts if k.startswith("filtered_")):
        what = key.removeprefix("filtered_").replace("_", " ")
        stream.write(f"  filtered     {counts[key]:>5} x {what}: status not selected (--status)\n")
    summary = report.summary()
    if not summary:
        stream.write("  lossless: nothing dropped or approximated\n")
    places = _dropped_places(report)
    for (kind, what, reason), count in sorted(summary.items()):
        at = places.get((what, reason), [])
        shown = ""
        if kind == "dropped" and at:  # which items: the first few places (all in --report)
            more = f", … ({len(at)} in all)" if len(at) > _PLACES else ""
            shown = f" [{', '.join(at[:_PLACES])}{more}]"
        stream.write(f"  {kind:<12} {count:>5} x {what}: {reason}{shown}\n")
    for name, mapping in report.mappings.items():
        shown = ", ".join(f"{k} -> {v}" for k, v in list(mapping.items())[:8])
        more = f", … ({len(mapping)} in all)" if len(mapping) > 8 else ""
        stream.write(f"  mapping {name}: {shown}{more}\n")


_PLACES = 5  # places of dropped items the summary names per kind of loss


def _dropped_places(report: Any) -> dict[tuple[str, str], list[str]]:
    """(what, reason) -> where each dropped item was (a JSON Pointer or media id), in report order."""
    places: dict[tuple[str, str], list[str]] = {}
    for loss in report.losses:
        if loss.kind == "dropped" and loss.where:
            places.setdefault((loss.what, loss.reason), []).append(loss.where)
    return places


def _write_report(path: str, report: Any, error: str | None) -> None:
    from pathlib import Path

    from labelspec.convert.atomic import write_bytes

    data = report.to_json()
    data["ok"] = error is None
    data["lossless"] = error is None and report.lossless  # a failed conversion carried nothing over
    if error is not None:
        data["error"] = error
    write_bytes(Path(path), (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), force=True)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.convert.api import convert
    from labelspec.convert.registry import ConversionError
    from labelspec.validator.reporters import write_text

    err = sys.stderr
    try:
        report = convert(
            args.input,
            args.target,
            args.out,
            source_format=args.source_format,
            ontology=args.ontology,
            media_dir=args.media_dir,
            labelset=args.labelset,
            statuses=args.statuses,
            branch=args.branch,
            layout=args.layout,
            id_increment=args.id_increment,
            offline=args.offline,
            allow_private_network=args.allow_private_network,
            strict=args.strict,
            force=args.force,
        )
    except ConversionError as exc:
        if exc.validation is not None and exc.exit_code == 1:
            write_text(exc.validation, err, quiet=True)
        if exc.conversion is not None and exc.conversion.losses:
            write_summary(exc.conversion, err)
        err.write(f"labelspec convert: error: {exc}\n")
        if args.report and exc.conversion is not None:
            _write_report(args.report, exc.conversion, str(exc))
        return exc.exit_code
    write_summary(report, err, out=args.out)
    if args.report:
        _write_report(args.report, report, None)
    return 0
