"""``labelspec stats``, ``labelspec report`` and ``labelspec diff``: looking at exports.

Importing this module is cheap (``labelspec`` imports it at every start); the work is imported when a
command runs. Exit codes: ``stats`` and ``report`` 0, or 2 when an input could not be read; ``diff`` 0
equal, 1 different, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from labelspec import format_ids
from labelspec.cliargs import fraction, whole

__all__ = ["register"]


def _reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=format_ids.IDS,
        metavar="F",
        help="the format of every input (default: detected per file)",
    )
    parser.add_argument("--ontology", metavar="FILE", help="Encord: the ontology the label rows refer to")
    parser.add_argument(
        "--labelset", metavar="NAME", help="Segments: the labelset to read (default: ground-truth)"
    )
    parser.add_argument(
        "--media-dir",
        metavar="DIR",
        help="folder with the media files (image sizes from their headers, Segments bitmaps, pictures)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never download media named by URL: only --media-dir, local paths and the fetch cache",
    )


def register(commands: Any) -> None:
    stats = commands.add_parser(
        "stats",
        help="count what is in exports: media, labels per class, statuses, attributes, sizes",
        description="Count what is in exports, read item by item through labelspec's canonical model: media, "
        "labels, labels and media per class, labels per media, geometries, statuses, data types, "
        "labelsets, attribute answers, image sizes and box sizes. Exit code 0; 1 when some items are too "
        "malformed to read (run validate); 2 when an input could not be read.",
    )
    stats.add_argument("paths", nargs="+", metavar="EXPORT", help="export files, archives or YOLO folders")
    stats.add_argument("--output", choices=("text", "json"), default="text", help="default: %(default)s")
    _reading_options(stats)
    stats.set_defaults(run=run_stats)

    report = commands.add_parser(
        "report",
        help="write a visual QA report (one self-contained HTML file)",
        description="Write one self-contained HTML file (works offline from file://): the verdict per file, "
        "the findings grouped by rule with their rationale, the stats as charts, and a gallery of media "
        "with their labels drawn in the export's class colours (media with findings first, then a seeded "
        "random sample). Exit code 0; 2 when an input could not be read or the output not written.",
    )
    report.add_argument("paths", nargs="+", metavar="EXPORT", help="export files, archives or YOLO folders")
    report.add_argument("-o", "--output", required=True, metavar="HTML", dest="out", help="the HTML file")
    report.add_argument(
        "--samples", type=whole(0), default=24, metavar="N", help="gallery size (default: 24)"
    )
    report.add_argument("--seed", type=int, default=0, metavar="S", help="random sample seed (default: 0)")
    report.add_argument("--profile", choices=("lenient", "strict"), default="lenient")
    report.add_argument("--force", action="store_true", help="overwrite an existing output")
    _reading_options(report)
    report.set_defaults(run=run_report)

    diff = commands.add_parser(
        "diff",
        help="compare two exports (any formats) label by label",
        description="Compare two exports through labelspec's canonical model: media added and removed; per "
        "media, labels added, removed and changed (class, attributes, or geometry below the IoU "
        "threshold), matched by id when both exports are of the same format, else by class and IoU; "
        "class-count deltas. Exit code 0: equal; 1: different; 2: bad input.",
    )
    diff.add_argument("a", metavar="A", help="the first export")
    diff.add_argument("b", metavar="B", help="the second export")
    diff.add_argument(
        "--output", choices=("text", "json", "html"), default="text", help="default: %(default)s"
    )
    diff.add_argument(
        "--iou",
        type=fraction,
        default=0.5,
        metavar="T",
        help="geometry changed below this IoU (default: 0.5)",
    )
    diff.add_argument("--format-a", metavar="F", help="the format of A (default: detected)")
    diff.add_argument("--format-b", metavar="F", help="the format of B (default: detected)")
    diff.add_argument("--ontology", metavar="FILE", help="Encord: the ontology the label rows refer to")
    diff.add_argument("--labelset", metavar="NAME", help="Segments: the labelset to read")
    diff.add_argument("--media-dir", metavar="DIR", help="folder with the media files (sizes, bitmaps)")
    diff.add_argument("--offline", action="store_true", help="never download media named by URL")
    diff.set_defaults(run=run_diff)


def _options(args: argparse.Namespace, format: str | None = None) -> Any:
    from labelspec.inspect.source import Options

    return Options(
        format=format,
        ontology=Path(args.ontology) if args.ontology else None,
        media_dir=Path(args.media_dir) if args.media_dir else None,
        labelset=args.labelset,
        offline=args.offline,
    )


def run_stats(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.inspect.stats import gather, write_text

    files = gather(args.paths, _options(args, args.format))
    entries = [f.to_json() for f in files]
    if args.output == "json":
        out.write(json.dumps({"files": entries}, indent=2, ensure_ascii=False) + "\n")
    else:
        write_text(entries, out)
    if any(f.error for f in files):
        return 2
    return 1 if any(f.unreadable_items for f in files) else 0


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.inspect.report import build_report

    return build_report(
        args.paths,
        Path(args.out),
        _options(args, args.format),
        samples=args.samples,
        seed=args.seed,
        profile=args.profile,
        force=args.force,
        log=sys.stderr,
    )


def run_diff(args: argparse.Namespace, out: TextIO) -> int:
    from labelspec.inspect.diff import DiffInputError, diff_paths, write_html, write_text

    try:
        result = diff_paths(
            args.a,
            args.b,
            _options(args, args.format_a),
            _options(args, args.format_b),
            iou=args.iou,
        )
    except DiffInputError as exc:
        sys.stderr.write(f"labelspec diff: error: {exc}\n")
        return 2
    if args.output == "json":
        out.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif args.output == "html":
        write_html(result, out)
    else:
        write_text(result, out)
    return 0 if result.equal else 1
