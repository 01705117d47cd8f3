"""The YOLO writer's output decider (labelspec/convert/writers/yolo_check.py) answers "certainly clean" only
when the reference validator finds nothing: checked on label files drawn around every rule's edge
(values at and past 0 and 1, boxes a hair past the border, zero sizes, class indexes at the number of
names, repeated lines, other number forms, blank lines, CRLF, byte-order marks)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from labelspec.convert.writers import yolo_check
from labelspec.validator.api import validate_dataset
from labelspec.validator.folders import YoloDataset

EDGES = ["0.000000", "0.000001", "0.000500", "0.499999", "0.500000", "0.500001", "0.999999", "1.000000"]
ODD = ["1.000001", "-0.000000", "0.5", ".5", "1e-3", "0.0000001", "2.000000", "nan", "x"]


def _value(rng: random.Random) -> str:
    return rng.choice(ODD) if rng.random() < 0.02 else rng.choice([*EDGES, f"{rng.random():.6f}"])


# (centre, size) pairs whose edges sit at, inside or a hair past the border (e.g. 0.000001 - 0.000006 / 2)
SPANS = [
    *[(0.5, 1.0), (0.25, 0.5), (0.3, 0.2), (0.000001, 0.000002), (0.999999, 0.000002), (0.0, 0.000002)],
    *[(0.000001, 0.000006), (0.999999, 0.000006), (0.5000005, 1.000001), (1.0, 0.000002), (0.0, 0.0)],
]


def _line(rng: random.Random, classes: int) -> str:
    cls = rng.randrange(classes) if rng.random() > 0.05 else rng.choice([classes, 12])
    if rng.random() < 0.6:  # the writer's form, boxes at the edges
        (cx, w), (cy, h) = rng.choice(SPANS), rng.choice(SPANS)
        return f"{cls} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
    text = str(cls) if rng.random() > 0.02 else rng.choice(["01", "-1", "1.0"])
    fields = [text] + [_value(rng) for _ in range(4 if rng.random() > 0.02 else rng.choice([3, 5, 6]))]
    return " ".join(fields)


def _file(rng: random.Random, classes: int) -> str:
    lines = [_line(rng, classes) for _ in range(rng.randrange(0, 4))]
    if lines and rng.random() < 0.05:
        lines.append(rng.choice(lines))  # a repeated line
    text = "".join(f"{line}\n" for line in lines)
    if rng.random() < 0.03:
        text = rng.choice(["\ufeff" + text, text.replace("\n", "\r\n"), text + "\n", text.rstrip("\n")])
    return text


def test_every_catalogued_yolo_rule_is_mirrored() -> None:
    """A new YOLO rule makes the decider "not sure" for every output (slower, never wrong) until mirrored."""
    assert yolo_check.unmirrored() == []


@pytest.mark.parametrize("seed", range(4))
def test_certified_label_files_have_no_finding(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    certified = rejected = 0
    for case in range(80):
        root = tmp_path / f"case{case}"
        (root / "labels").mkdir(parents=True)
        classes = rng.choice([1, 3, 12])
        (root / "data.yaml").write_text(
            f"nc: {classes}\nnames: [{', '.join(f'c{i}' for i in range(classes))}]\n"
        )
        files = []
        for index in range(rng.randrange(1, 3)):
            path = root / "labels" / f"img{index}.txt"
            path.write_bytes(_file(rng, classes).encode())
            files.append(str(path))
        clean = yolo_check.certainly_clean([Path(f).read_bytes() for f in files], classes)
        report = validate_dataset(
            YoloDataset(str(root), tuple(files), str(root / "data.yaml")), "yolo", "lenient"
        )
        if clean:
            certified += 1
            assert report.findings == [], [(f.rule, f.pointer, f.message) for f in report.findings]
        else:
            rejected += 1
    assert certified and rejected  # both answers occur: the edges are really drawn on both sides


def test_writer_form_lines_are_certified() -> None:
    text = b"0 0.500000 0.500000 1.000000 1.000000\n2 0.000001 0.999999 0.000002 0.000002\n"
    assert yolo_check.certainly_clean([text, b""], 3)
    assert not yolo_check.certainly_clean([text], 2)  # class 2 of 2 names
    assert not yolo_check.certainly_clean([text + text], 3)  # repeated lines
    assert yolo_check.names_classes({"names": {"0": "a", "1": "b"}}) == (True, 2)
    assert yolo_check.names_classes({"names": None}) == (True, None)
    assert yolo_check.names_classes({"names": ["a"], "kpt_shape": [17, 3]})[0] is False
