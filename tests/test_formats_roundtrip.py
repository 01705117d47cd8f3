"""The generated readers/writers (labelspec.formats.<format>): lossless round trips, typed access,
construction, atomic writes and streaming in bounded memory."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import labelspec
from labelspec.formats import FORMATS_MODULES, _runtime, datagym, encord, module, segments, yolo
from labelspec.formats._runtime import MissingPropertyError
from labelspec.validator.compiler import definition_schema, list_formats
from labelspec.validator.examples import DocumentedExample, documented_examples
from tests.conftest import examples

CORPUS = Path(__file__).resolve().parent / "corpus"


def _corpus() -> list[tuple[str, Path]]:
    out = []
    for index in sorted(CORPUS.glob("*/index.yaml")):
        for entry in yaml.safe_load(index.read_text()) or []:
            out.append((index.parent.name, index.parent / entry["file"]))
    return out


CORPUS_FILES = _corpus()
EXAMPLES = list(documented_examples())


def _same_json(before: Any, after: Any) -> None:
    assert after == before
    assert _runtime.dump_json(after) == _runtime.dump_json(before)  # key order and int/float kept


def _root_fits(fmt: str, document: Any) -> bool:
    mod = module(fmt)
    return (
        isinstance(document, list)
        if issubclass(mod.Document, _runtime.ListView)
        else isinstance(document, dict)
    )


def test_every_format_has_a_module() -> None:
    assert set(FORMATS_MODULES) == set(list_formats())
    for fmt in list_formats():
        mod = module(fmt)
        for name in ("read", "write", "from_json", "to_json", "Document"):
            assert hasattr(mod, name), f"{fmt}: {name}"


@pytest.mark.parametrize(("fmt", "path"), CORPUS_FILES, ids=lambda v: str(v).rsplit("corpus/", 1)[-1])
def test_corpus_round_trip(fmt: str, path: Path, tmp_path: Path) -> None:
    mod = module(fmt)
    if fmt == "yolo":
        document = mod.read(path)
        mod.write(document, tmp_path / "copy")
        _same_json(document.to_json(), mod.read(tmp_path / "copy").to_json())
        mod.write(document, tmp_path / "copy.json")
        _same_json(document.to_json(), mod.read(tmp_path / "copy.json").to_json())
        return
    original = orjson.loads(path.read_bytes())
    if not _root_fits(fmt, original):
        with pytest.raises(TypeError):
            mod.read(path)
        return
    document = mod.read(path)
    _same_json(original, mod.to_json(document))
    _same_json(original, mod.to_json(mod.from_json(orjson.loads(path.read_bytes()))))
    target = tmp_path / "out.json"
    mod.write(document, target)
    _same_json(original, orjson.loads(target.read_bytes()))
    _same_json(original, mod.read(target).to_json())


def _walk(view: Any, depth: int = 0) -> int:
    """Touch every typed property below ``view`` (reading must never fail on lenient-valid data)."""
    if depth > 12:
        return 0
    touched = 0
    if isinstance(view, _runtime.JsonObject):
        for cls in type(view).__mro__:
            for name, attr in vars(cls).items():
                if isinstance(attr, property) and name != "pointer":
                    try:
                        value = getattr(view, name)
                    except MissingPropertyError:
                        continue
                    touched += 1 + _walk(value, depth + 1)
    elif isinstance(view, _runtime.ListView):
        for item in view:
            touched += _walk(item, depth + 1)
    elif isinstance(view, _runtime.MapView):
        for item in view.values():
            touched += _walk(item, depth + 1)
    return touched


@pytest.mark.parametrize(("fmt", "path"), CORPUS_FILES, ids=lambda v: str(v).rsplit("corpus/", 1)[-1])
def test_corpus_typed_access_never_changes_the_document(fmt: str, path: Path) -> None:
    mod = module(fmt)
    document = mod.read(path) if fmt == "yolo" or _root_fits(fmt, orjson.loads(path.read_bytes())) else None
    if document is None:
        return
    before = orjson.dumps(document.to_json())
    _walk(document)
    assert orjson.dumps(document.to_json()) == before


def _example_id(example: DocumentedExample) -> str:
    return f"{example.format}/{example.file}"


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_documented_example_round_trip(example: DocumentedExample) -> None:
    mod = module(example.format)
    original = orjson.loads(example.path.read_bytes())
    if example.definition:
        view = mod.from_json_as(example.definition, orjson.loads(example.path.read_bytes()))
        if isinstance(view, _runtime.JsonObject):
            assert example.definition == view.SCHEMA_NAME
        _same_json(original, _runtime.to_raw(view))
        _walk(view)
        return
    if not _root_fits(example.format, original):
        return
    document = mod.from_json(orjson.loads(example.path.read_bytes()))
    _walk(document)
    _same_json(original, mod.to_json(document))


# --------------------------------------------------------------------------------- property tests

# Small, non-recursive definitions (hypothesis-jsonschema cannot unroll recursive references).
PROPERTY_DEFINITIONS = [
    ("encord", "bounding_box"),
    ("encord", "skeleton_point"),
    ("encord", "bitmask"),
    ("encord", "frame_classification"),
    ("encord", "classification_answer"),
    ("encord", "object_action"),
    ("datagym", "label_class"),
    ("datagym", "point_xy"),
    ("segments", "category"),
    ("segments", "vector_annotation"),
    ("segments", "cuboid_annotation"),
    ("coco-instance", "annotation"),
    ("coco-panoptic", "segment_info"),
]


@pytest.mark.parametrize(("fmt", "definition"), PROPERTY_DEFINITIONS)
def test_generated_documents_round_trip(fmt: str, definition: str) -> None:
    mod = module(fmt)
    strategy = from_schema(definition_schema(fmt, definition, "lenient"))

    @settings(max_examples=examples(25, cap=False), deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(document: Any) -> None:
        copy = _runtime.load_json(_runtime.dump_json(document))
        view = mod.from_json_as(definition, copy)
        _walk(view)
        _same_json(document, _runtime.to_raw(view))
        _same_json(document, _runtime.load_json(_runtime.dump_json(view)))

    check()


@settings(max_examples=examples(30, cap=False), deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
        max_leaves=20,
    )
)
def test_unknown_content_is_kept(extra: Any) -> None:
    row = {"label_hash": "l", "data_type": "image", "data_units": {}, "zz_unknown": extra, "a_first": 1.0}
    view = encord.from_json([row])
    view[0].label_hash = "changed"
    assert list(view.to_json()[0]) == ["label_hash", "data_type", "data_units", "zz_unknown", "a_first"]
    assert _runtime.dump_json(view.to_json()[0]["zz_unknown"]) == _runtime.dump_json(extra)
    assert type(view.to_json()[0]["a_first"]) is float


# ------------------------------------------------------------------------------------ typed access


def test_encord_typed_access() -> None:
    rows = encord.read(CORPUS / "encord" / "image-row.json")
    row = rows[0]
    assert isinstance(row, encord.LabelRowImage)
    unit = next(iter(row.data_units.values()))
    assert isinstance(unit, encord.ImageDataUnit)
    assert isinstance(unit.labels, encord.ImageLabels)
    objects = unit.labels.objects
    assert objects is not None
    boxes = [o for o in objects if o.shape == "bounding_box"]
    assert boxes and all(isinstance(o, encord.FrameObjectBoundingBox) for o in boxes)
    box = boxes[0].bounding_box
    assert isinstance(box, encord.BoundingBox)
    assert isinstance(box.x, float)
    assert box.pointer.endswith("/boundingBox")
    assert unit.labels.objects is objects  # wrapped once, cached


def test_encord_subclass_per_data_type() -> None:
    seen: dict[str, set[str]] = {}
    for path in sorted((CORPUS / "encord").glob("*.json")):
        raw = orjson.loads(path.read_bytes())
        if not isinstance(raw, list):
            continue
        for row in encord.from_json(raw):
            if isinstance(row.to_json().get("data_units"), dict):
                for unit in row.data_units.values():
                    if isinstance(unit, encord.DataUnit):
                        seen.setdefault(str(row.to_json().get("data_type")), set()).add(type(unit).__name__)
    assert seen["image"] == {"ImageDataUnit"}
    assert seen["video"] == {"VideoDataUnit"}
    for data_type, classes in seen.items():
        assert len(classes) == 1, (data_type, classes)


def test_unknown_discriminator_keeps_base_class() -> None:
    obj = encord.FrameObject.from_json({"objectHash": "o", "featureHash": "f", "shape": "hologram", "x": 1})
    assert type(obj) is encord.FrameObject
    assert obj.to_json() == {"objectHash": "o", "featureHash": "f", "shape": "hologram", "x": 1}


def test_missing_required_names_the_pointer() -> None:
    rows = encord.from_json([{"data_type": "image"}])
    with pytest.raises(MissingPropertyError) as caught:
        _ = rows[0].label_hash
    assert caught.value.pointer == "/0/label_hash"
    assert rows[0].branch_name is None  # optional and absent


def test_segments_variants_narrow_nested_attributes() -> None:
    path = next(
        p for p in sorted((CORPUS / "segments").glob("*.json")) if b'"segmentation-bitmap"' in p.read_bytes()
    )
    release = segments.read(path)
    dataset = release.dataset
    assert dataset is not None
    assert isinstance(dataset, segments.DatasetSegmentationBitmap)
    label = next(iter(dataset.samples[0].labels.values()))
    assert label is not None
    assert isinstance(label.attributes, segments.ImageSegmentationLabelAttributes)


def test_setters_and_create_validate() -> None:
    box = encord.BoundingBox.create(h=0.5, w=0.25, x=0.1, y=0.2)
    obj = encord.FrameObjectBoundingBox.create(
        object_hash="o1", feature_hash="f1", bounding_box=box, name="cat", value="cat", color="#ff0000"
    )
    assert list(obj.to_json())[:3] == ["objectHash", "featureHash", "shape"]
    assert obj.shape == "bounding_box"
    labels = encord.ImageLabels.create(objects=[obj], classifications=[])
    unit = encord.ImageDataUnit.create(
        data_hash="d1",
        data_title="a.jpg",
        data_type="image/jpeg",
        data_sequence=0,
        width=10,
        height=10,
        labels=labels,
    )
    row = encord.LabelRowImage.create(
        label_hash="l1",
        dataset_hash="ds",
        dataset_title="t",
        data_title="a.jpg",
        data_hash="d1",
        label_status="LABELLED",
        created_at="2024-01-01 00:00:00",
        last_edited_at="2024-01-01 00:00:00",
        data_units={"d1": unit},
        object_answers={"o1": {"objectHash": "o1", "classifications": []}},
        classification_answers={},
        object_actions={},
    )
    assert row.data_type == "image"
    document = encord.from_json([row.to_json()])
    report = labelspec.validate(document.to_json(), format="encord")
    assert report.valid, [(f.pointer, f.message) for f in report.findings]
    assert isinstance(document[0].data_units["d1"].labels.objects[0], encord.FrameObjectBoundingBox)  # type: ignore[union-attr,index]
    document[0].data_units["d1"].labels.objects[0].bounding_box.x = 0.3  # type: ignore[union-attr,index]
    assert document.to_json()[0]["data_units"]["d1"]["labels"]["objects"][0]["boundingBox"]["x"] == 0.3
    document[0].branch_name = None  # nullable (NIfTI rows carry null): stored as JSON null
    assert document.to_json()[0]["branch_name"] is None
    document[0].is_valid = True
    document[0].is_valid = None  # optional, not nullable: removed
    assert "is_valid" not in document.to_json()[0]


def test_datagym_create_validates() -> None:
    cls = datagym.LabelClass.create(class_name="car", geometry_type="rectangle")
    element = datagym.LabelClassesElement.create(label_classes=[cls])
    task = datagym.Task.create(
        internal_media_id="m1",
        external_media_id="a.jpg",
        labeler=None,
        status="completed",
        global_classifications={},
        labels={},
    )
    report = labelspec.validate([element.to_json(), task.to_json()], format="datagym")
    assert report.valid, [(f.pointer, f.message) for f in report.findings]


# ----------------------------------------------------------------------------------------- writing


def test_write_is_atomic_and_refuses_what_json_cannot_hold(tmp_path: Path) -> None:
    target = tmp_path / "rows.json"
    rows = encord.from_json([{"label_hash": "l", "data_type": "image"}])
    encord.write(rows, target)
    before = target.read_bytes()
    rows.to_json()[0]["bad"] = float("nan")
    with pytest.raises(ValueError):
        encord.write(rows, target)
    rows.to_json()[0]["bad"] = object()
    with pytest.raises(TypeError):
        encord.write(rows, target)
    with pytest.raises(ValueError):
        rows[0].priority = float("inf")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]  # no temporary files left


def test_write_gzip_and_read_bytes(tmp_path: Path) -> None:
    path = CORPUS / "encord" / "image-row.json"
    rows = encord.read(path.read_bytes())
    encord.write(rows, tmp_path / "rows.json.gz")
    assert gzip.decompress((tmp_path / "rows.json.gz").read_bytes())[:1] == b"["
    _same_json(orjson.loads(path.read_bytes()), encord.read(tmp_path / "rows.json.gz").to_json())


def test_yolo_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    document = yolo.from_json(
        {"names": None, "names_file": None, "labels": {"../x.txt": [[0, 0.5, 0.5, 0.1, 0.1]]}}
    )
    with pytest.raises(ValueError):
        yolo.write(document, tmp_path / "ds")
    assert not (tmp_path / "x.txt").exists()


def test_formats_read_detects(tmp_path: Path) -> None:
    from labelspec import formats

    assert isinstance(formats.read(CORPUS / "encord" / "image-row.json"), encord.Document)
    assert isinstance(formats.read(CORPUS / "yolo" / "darknet"), yolo.Document)


# --------------------------------------------------------------------------------------- streaming


def test_streaming_readers_match_in_memory() -> None:
    path = CORPUS / "encord" / "image-row.json"
    assert [r.to_json() for r in encord.iter_label_rows(path)] == encord.read(path).to_json()
    assert [r.pointer for r in encord.iter_label_rows(path)] == [
        f"/{i}" for i in range(len(encord.read(path)))
    ]
    for path in sorted((CORPUS / "datagym").glob("*.json")):
        raw = orjson.loads(path.read_bytes())
        if isinstance(raw, list) and raw:
            assert [t.to_json() for t in datagym.iter_tasks(path)] == raw[1:]
            first = datagym.read_label_classes(path)
            assert first is not None and first.to_json() == raw[0]
    for path in sorted((CORPUS / "segments").glob("*.json")):
        raw = orjson.loads(path.read_bytes())
        samples = (raw.get("dataset") or {}).get("samples") if isinstance(raw, dict) else None
        if isinstance(samples, list):
            streamed = list(segments.iter_samples(path))
            assert [s.to_json() for s in streamed] == samples
            assert all(
                orjson.dumps(a.to_json()) == orjson.dumps(b) for a, b in zip(streamed, samples, strict=True)
            )


_STREAM_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from labelspec.formats import encord
    path = sys.argv[1]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    count = 0
    for row in encord.iter_label_rows(path):
        count += len(row.data_units)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"count": count, "growth_kb": peak - base, "seconds": elapsed}))
    """
)


@pytest.mark.slow
def test_streaming_large_file_bounded_memory(tmp_path: Path) -> None:
    template = orjson.loads((CORPUS / "encord" / "image-row.json").read_bytes())[0]
    path = tmp_path / "big.json"
    size = 0
    count = 0
    with path.open("wb") as out:
        out.write(b"[")
        while size < 50_000_000:
            row = dict(template, label_hash=f"row-{count}")
            chunk = (b"," if count else b"") + orjson.dumps(row)
            out.write(chunk)
            size += len(chunk)
            count += 1
        out.write(b"]")
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", _STREAM_SCRIPT, str(path)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    measured = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert measured["count"] == count * len(template["data_units"])
    # The whole file is 50 MB (several hundred MB as Python objects); streaming stays far below.
    assert measured["growth_kb"] < 40_000, measured
