"""The YOLO text reader: parsed form, source map, and never raising on malformed lines."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from labelspec.validator.compiler import compile_schema
from labelspec.validator.yolo_text import (
    SourceLocation,
    YoloReadError,
    is_yolo_source,
    parse_label_text,
    parse_names_text,
    parse_token,
    parse_yolo,
    pointer_tokens,
)

CORPUS = Path(__file__).resolve().parent / "corpus" / "yolo"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize(
    ("token", "value"),
    [("0", 0), ("17", 17), ("+3", 3), ("-1", -1), ("0.5", 0.5), (".25", 0.25), ("1e-3", 0.001), ("1.", 1.0)],
)
def test_numbers_are_parsed(token: str, value: float) -> None:
    parsed = parse_token(token)
    assert parsed == value
    assert isinstance(parsed, int) == isinstance(value, int)


@pytest.mark.parametrize("token", ["abc", "nan", "inf", "1_0", "0x10", "0,5", "1.2.3", "\ufffd"])
def test_non_numbers_stay_strings(token: str) -> None:
    assert parse_token(token) == token


def test_label_text_skips_blank_lines_and_keeps_line_numbers() -> None:
    rows, numbers = parse_label_text("0 0.5 0.5 0.2 0.2\r\n\n   \n1 0.1 x 0.3 0.4\n")
    assert rows == [[0, 0.5, 0.5, 0.2, 0.2], [1, 0.1, "x", 0.3, 0.4]]
    assert numbers == [1, 4]


def test_names_text_keeps_inner_blank_lines_drops_trailing_ones() -> None:
    names, numbers = parse_names_text("car\n\n person \n\n\n")
    assert names == ["car", "", "person"]
    assert numbers == [1, 2, 3]


def test_folder_with_labels_tree_and_data_yaml() -> None:
    parsed = parse_yolo(CORPUS / "ultralytics")
    doc = parsed.document
    assert doc["names"] == {"0": "person", "1": "bicycle", "2": "car"}
    assert doc["nc"] == 3
    assert doc["names_file"] == "data.yaml"
    # images/train/README.txt is not a label file: only files under labels/ are
    assert sorted(doc["labels"]) == [
        "labels/train/000001.txt",
        "labels/train/000002.txt",
        "labels/val/000003.txt",
    ]
    assert doc["labels"]["labels/val/000003.txt"] == []
    assert doc["labels"]["labels/train/000002.txt"] == [[1, 0.5, 0.5, 0.25, 0.125]]


def test_darknet_folder_skips_names_and_image_lists() -> None:
    parsed = parse_yolo(CORPUS / "darknet")
    assert parsed.document["names"] == ["dog", "bicycle", "truck"]
    assert parsed.names_file == "obj.names"
    assert sorted(parsed.document["labels"]) == ["data/obj/img_0001.txt", "data/obj/img_0002.txt"]


def test_segments_sdk_folder_has_no_names() -> None:
    doc = parse_yolo(CORPUS / "segments_sdk").document
    assert doc["names"] is None and doc["names_file"] is None
    assert doc["labels"]["segments/jane_streets/v1.0/street_a.txt"][0] == [1, 0.375, 0.5, 0.5, 0.333333]


def test_source_map_of_a_bad_token() -> None:
    parsed = parse_yolo(CORPUS / "bad_token")
    pointer = "/labels/labels~1img1.txt/1/2"
    assert parsed.document["labels"]["labels/img1.txt"][1][2] == "abc"
    assert parsed.source_location(pointer) == SourceLocation("labels/img1.txt", 2, 3)
    assert parsed.format_location(pointer) == "labels/img1.txt line 2, field 3"
    assert parsed.locate(pointer) == "labels/img1.txt line 2, field 3"
    assert parsed.locate("/labels/labels~1img1.txt/1") == "labels/img1.txt line 2"
    assert parsed.locate("/labels/labels~1img1.txt") == "labels/img1.txt"
    assert parsed.locate("") is None


def test_source_map_counts_blank_lines(tmp_path: Path) -> None:
    _write(tmp_path / "classes.txt", "a\nb\n")
    _write(tmp_path / "labels" / "img1.txt", "\n0 0.5 0.5 0.2 0.3\n\n\n1 0.4 0.4 0.1\n")
    parsed = parse_yolo(tmp_path)
    assert parsed.format_location("/labels/labels~1img1.txt/1/3") == "labels/img1.txt line 5, field 4"
    assert parsed.format_location("/names/1") == "classes.txt line 2"
    assert parsed.format_location("/names") == "classes.txt"
    assert parsed.format_location("/labels/other.txt/0") == "other.txt"
    assert parsed.format_location("/labels/labels~1img1.txt/9") == "labels/img1.txt"


def test_single_label_file_finds_names_in_parent_folders(tmp_path: Path) -> None:
    _write(tmp_path / "data.yaml", "names: [cat, dog]\n")
    label = _write(tmp_path / "labels" / "train" / "x.txt", "1 0.5 0.5 0.1 0.1\n")
    parsed = parse_yolo(label)
    assert parsed.document["labels"] == {"x.txt": [[1, 0.5, 0.5, 0.1, 0.1]]}
    assert parsed.document["names"] == ["cat", "dog"]
    assert parsed.names_file == "../../data.yaml"
    assert parsed.format_location("/labels/x.txt/0/4") == "x.txt line 1, field 5"


def test_single_file_without_names(tmp_path: Path) -> None:
    label = _write(tmp_path / "x.txt", "0 0.5 0.5 0.1 0.1\n")
    doc = parse_yolo(label).document
    assert doc["names"] is None and doc["labels"] == {"x.txt": [[0, 0.5, 0.5, 0.1, 0.1]]}


def test_labelimg_classes_inside_labels_folder(tmp_path: Path) -> None:
    _write(tmp_path / "labels" / "classes.txt", "cat\n")
    _write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.1 0.1\n")
    parsed = parse_yolo(tmp_path)
    assert parsed.names_file == "labels/classes.txt"
    assert list(parsed.document["labels"]) == ["labels/a.txt"]


def test_undecodable_bytes_and_bom_do_not_raise(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf0 0.5 0.5 0.1 0.1\n1 \xff 0.5 0.1 0.1\n")
    rows = parse_yolo(tmp_path).document["labels"]["a.txt"]
    assert rows[0] == [0, 0.5, 0.5, 0.1, 0.1]
    assert rows[1][1] == "\ufffd"


def test_unreadable_input_raises_yolo_read_error(tmp_path: Path) -> None:
    with pytest.raises(YoloReadError):
        parse_yolo(tmp_path / "missing")
    _write(tmp_path / "data.yaml", "names: [a, b\n")
    with pytest.raises(YoloReadError, match="not valid YAML"):
        parse_yolo(tmp_path)
    assert issubclass(YoloReadError, OSError)


def test_data_yaml_without_names_mapping(tmp_path: Path) -> None:
    _write(tmp_path / "data.yaml", "- just a list\n")
    assert parse_yolo(tmp_path).document["names"] is None


def test_is_yolo_source(tmp_path: Path) -> None:
    assert is_yolo_source(_write(tmp_path / "a.txt", ""))
    assert is_yolo_source(tmp_path)
    assert not is_yolo_source(_write(tmp_path / "b.json", "{}"))
    assert not is_yolo_source(tmp_path / "nope")


def test_pointer_tokens_unescape() -> None:
    assert pointer_tokens("") == []
    assert pointer_tokens("/labels/a~1b~0c.txt/0") == ["labels", "a/b~c.txt", "0"]


@pytest.mark.parametrize("folder", ["ultralytics", "darknet", "labelimg", "segments_sdk", "bad_token"])
def test_parsed_form_validates_with_located_errors(folder: str) -> None:
    parsed = parse_yolo(CORPUS / folder)
    validator = jsonschema.Draft7Validator(compile_schema("yolo", "lenient"))
    errors = list(validator.iter_errors(parsed.document))
    if folder.startswith("bad_"):
        assert errors
        pointers = [
            "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in e.absolute_path)
            for e in errors
        ]
        where = {parsed.format_location(pointer) for pointer in pointers}
        assert where == {"labels/img1.txt line 2, field 3"}
    else:
        assert errors == []
