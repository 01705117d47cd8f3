"""Conversion speed and memory of labelspec against peer converters, as whole processes, in one run.

    python benchmarks/convert.py [--images 20000] [--repeat 1] [--train2017] [--out benchmarks/RESULTS.md]

Input: a COCO instance file generated at a fixed seed into ``benchmarks/.cache/`` (not committed; reused
when present): ``--images`` images (default 20 000, about 6.7 objects each, 80 categories), every object
with a polygon, its bbox and area, as COCO writes them. ``--train2017`` adds a file of train2017's size
(118 000 images) and measures labelspec's peak memory on it.

Tools, each its own process, timed from outside (best of ``--repeat``), peak RSS of the process:

- ``labelspec convert coco.json --to yolo`` (validation of the input and of the output included);
- labelformat (the ``bench`` extra): ``labelformat convert --task object-detection --input-format coco
  --output-format yolov8``, which neither validates its input nor its output.

The results replace the conversion section of ``benchmarks/RESULTS.md`` (between the
``<!-- conversions -->`` markers; ``benchmarks/run.py`` keeps that section when it rewrites the file), which
the documentation site includes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CACHE, PYTHON, measured, peak_rss  # noqa: E402  (the validation benchmark's process runner)

BEGIN, END = "<!-- conversions -->", "<!-- /conversions -->"
SEED = 14


def coco_input(images: int) -> Path:
    path = CACHE / f"coco-{images}.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    out: dict[str, list[dict[str, object]]] = {"images": [], "annotations": []}
    next_id = 1
    for image_id in range(1, images + 1):
        width, height = rng.choice([(640, 480), (640, 427), (500, 375), (1280, 720)])
        out["images"].append(
            {"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": width, "height": height}
        )
        for _ in range(rng.choice([2, 4, 6, 7, 8, 9, 11])):
            x, y = rng.uniform(0, width - 20), rng.uniform(0, height - 20)
            w, h = rng.uniform(5, width - x), rng.uniform(5, height - y)
            polygon: list[float] = []
            for _ in range(rng.randint(4, 12)):
                polygon += [round(x + rng.uniform(0, w), 2), round(y + rng.uniform(0, h), 2)]
            out["annotations"].append(
                {
                    "id": next_id,
                    "image_id": image_id,
                    "category_id": rng.randint(1, 80),
                    "segmentation": [polygon],
                    "area": round(w * h * 0.6, 2),
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "iscrowd": 0,
                }
            )
            next_id += 1
    document = {
        "info": {"description": "labelspec benchmark"},
        "images": out["images"],
        "annotations": out["annotations"],
        "categories": [{"id": i, "name": f"class_{i}", "supercategory": "thing"} for i in range(1, 81)],
    }
    path.write_text(json.dumps(document))
    return path


def _labelformat() -> str | None:
    found = shutil.which("labelformat", path=str(Path(PYTHON).parent))
    return found or shutil.which("labelformat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--train2017", action="store_true", help="also measure memory at 118 000 images")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, float, int]] = []
    inputs = [args.images] + ([118_000] if args.train2017 else [])
    for images in inputs:
        source = coco_input(images)
        document = json.loads(source.read_text())
        objects, megabytes = len(document["annotations"]), source.stat().st_size / 1e6
        label = f"COCO {images} images / {objects} objects ({megabytes:.0f} MB)"
        del document
        out = CACHE / "out-labelspec"
        shutil.rmtree(out, ignore_errors=True)
        command = [
            PYTHON,
            "-m",
            "labelspec",
            "convert",
            str(source),
            "--to",
            "yolo",
            "-o",
            str(out),
            "--force",
        ]
        seconds, _, code = measured(command, args.repeat)
        assert code == 0, f"labelspec convert failed ({code})"
        rss = peak_rss(command)  # in a wrapper of its own: ru_maxrss of children is a maximum so far
        rows.append((label, "labelspec convert --to yolo (validates input and output)", seconds, rss))
        tool = _labelformat()
        if tool is not None and images == args.images:
            target = CACHE / "out-labelformat"
            shutil.rmtree(target, ignore_errors=True)
            peer = [tool, "convert", "--task", "object-detection", "--input-format", "coco", "--input-file",
                    str(source), "--output-format", "yolov8", "--output-file", str(target / "data.yaml"),
                    "--output-split", "train"]  # fmt: skip
            seconds, _, code = measured(peer, args.repeat)
            assert code == 0, f"labelformat failed ({code})"
            rss = peak_rss(peer)
            rows.append((label, "labelformat convert (coco -> yolov8, no validation)", seconds, rss))
    write_results(args.out, rows, " ".join(["python", "benchmarks/convert.py", *(argv or sys.argv[1:])]))
    return 0


def section(rows: list[tuple[str, str, float, int]], command: str) -> str:
    lines = [
        BEGIN,
        "",
        "## Conversions",
        "",
        f"Measured {dt.date.today().isoformat()}, Python {platform.python_version()}; command: `{command}`. "
        "Whole processes, best of the runs, peak RSS of the process. The machine is shared: compare tools "
        "within one table, not across dates.",
        "",
        "| input | tool | seconds | peak RSS |",
        "|---|---|---:|---:|",
        *(
            f"| {label} | {tool} | {seconds:.2f} | {rss / 2**20:.0f} MiB |"
            for label, tool, seconds, rss in rows
        ),
        "",
        END,
    ]
    return "\n".join(lines)


def write_results(out: Path, rows: list[tuple[str, str, float, int]], command: str) -> None:
    text = out.read_text() if out.exists() else "# Benchmark results\n"
    block = section(rows, command)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
