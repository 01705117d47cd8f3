"""The native Encord rule decider (labelspec/native/encord_rules.c) against the reference rules.

SOUNDNESS: whenever the reference (validate_document on a one-row document, without ontology) reports a
finding for a structurally valid row, the decider must answer "not certainly clean" for it. Rows come from
the corpus, the documented examples, the rule catalogue's examples, generated exports of every data type,
every semantic mutant operator of the rules the decider covers, and random perturbations of those rows.
COMPLETENESS: generated rows without findings are decided clean (all data types, both profiles), and the
datetime and RLE checks agree exactly with the reference in both directions.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelspec import generators
from labelspec.codecs.encord_bitmask import RleError, decode_rle_string, encode_rle_string
from labelspec.generators.fixtures import encord as encord_fixtures
from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.compiler import PROFILES
from labelspec.validator.engine import validate_document
from labelspec.validator.native.encord_rows import COORDINATE_EPS, decider_config
from labelspec.validator.report import Finding
from labelspec.validator.rules import catalogue
from labelspec.validator.rules import encord_rows as encord_rules
from tests.conftest import examples

ROOT = Path(__file__).resolve().parents[2]
Row = dict[str, Any]
ONTOLOGY_RULES = {spec.id for spec in catalogue("encord") if "ontology" in spec.needs}
DECIDED_RULES = [r for r in decider_config("lenient")["rules"] if r.startswith("ENC-")]
DATA_TYPES = encord_fixtures.DATA_TYPES + encord_fixtures.LENIENT_ONLY_DATA_TYPES
DECIDERS: dict[str, Any] = {}  # profile -> labelspec._native.EncordRules, made by the fixture below


@pytest.fixture(autouse=True, scope="module")
def _deciders(native: ModuleType) -> None:
    for profile in PROFILES:
        DECIDERS.setdefault(profile, native.EncordRules(decider_config(profile)))


def few(limit: int) -> settings:
    """At most ``limit`` examples (fewer when the active hypothesis profile asks for fewer)."""
    return settings(
        max_examples=examples(limit),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def decided_clean(row: Any, profile: str) -> bool:
    return bool(DECIDERS[profile].row_clean(orjson.dumps(row)))


def reference(row: Any, profile: str) -> tuple[bool, list[Finding]]:
    """(structurally valid, rule findings) of the one-row document, as the reference path reports them."""
    document = orjson.loads(orjson.dumps([row]))
    findings = validate_document(document, format="encord", profile=profile).findings
    structural = [f for f in findings if f.rule.startswith(("schema.", "input."))]
    return not structural, [f for f in findings if f not in structural]


def check_sound(row: Any, profile: str) -> bool | None:
    """Fail when the decider calls a row with findings clean. None: structurally invalid (never decided);
    else whether the reference found nothing."""
    valid, findings = reference(row, profile)
    if not valid:
        return None
    clean = decided_clean(row, profile)
    assert not (clean and findings), f"decided clean despite {[(f.rule, f.pointer) for f in findings]}"
    return not findings


def rows_of(document: Any) -> list[Any]:
    return document if isinstance(document, list) else [document]


# ----------------------------------------------------------------------------------------------- config


def test_config_names_every_rule_that_runs_without_ontology() -> None:
    for profile in PROFILES:
        config = decider_config(profile)
        expected = {spec.id for spec in catalogue("encord") if not spec.needs}
        assert set(config["rules"]) == expected
        assert not set(config["rules"]) & ONTOLOGY_RULES
        assert config["eps"] == encord_rules.EPS == COORDINATE_EPS
    with pytest.raises(ValueError):
        decider_config("fussy")


ROW_RULES = [spec.id for spec in catalogue("encord") if not spec.needs]


@pytest.mark.parametrize("rule_id", ROW_RULES)
def test_every_row_rule_has_a_twin_or_makes_the_decider_unsure(native: ModuleType, rule_id: str) -> None:
    """The exact guard: a catalogued rule that needs no ontology is mirrored in C (encord_rules.c RULE_IDS,
    listed by row_rule_ids()), or the decider, given it in its config, answers "not sure" for every row."""
    assert rule_id in decider_config("lenient")["rules"], f"{rule_id} is not announced to the row decider"
    if rule_id in native.row_rule_ids():
        return
    row = json.loads((ROOT / "tests/corpus/encord/video-row.json").read_text())[0]
    decider = native.EncordRules({**decider_config("lenient"), "rules": [rule_id]})
    assert not decider.row_clean(orjson.dumps(row)), (
        f"{rule_id} has no C twin in labelspec/native/encord_rules.c, yet the row decider certifies rows"
    )


def test_the_row_twins_are_catalogued_rules_without_ontology(native: ModuleType) -> None:
    """No C twin of a rule that is gone or now needs an ontology (it would be dead code)."""
    assert set(native.row_rule_ids()) <= {*ROW_RULES, "JSON-DUPLICATE-KEY"}


def test_unknown_rule_is_never_clean_and_bad_configs_raise(native: ModuleType) -> None:
    row = json.loads((ROOT / "tests/corpus/encord/video-row.json").read_text())[0]
    assert decided_clean(row, "lenient")
    config = decider_config("lenient")
    unknown = native.EncordRules({**config, "rules": [*config["rules"], "ENC-SOMETHING-NEW"]})
    assert not unknown.row_clean(orjson.dumps(row))
    bad_configs: list[Any] = [[], {"rules": "ENC-RANGE-REVERSED", "eps": 1e-6}, {"rules": [1], "eps": 1e-6}]
    for bad in [*bad_configs, {"rules": []}]:
        with pytest.raises((TypeError, ValueError)):
            native.EncordRules(bad)


# ------------------------------------------------------------------------------------ documented rows


def documented_rows() -> Iterator[tuple[str, Any]]:
    for path in sorted((ROOT / "tests/corpus/encord").glob("*.json")):
        for row in rows_of(json.loads(path.read_text())):
            yield path.name, row
    for path in sorted((ROOT / "schemas/encord/examples").glob("*.json")):
        document = json.loads(path.read_text())
        if isinstance(document, list):  # label rows (the other files are fragments)
            yield from ((path.name, row) for row in document)
    for entry in yaml.safe_load((ROOT / "schemas/encord/rules.yaml").read_text()):
        for key in ("example", "passing_example"):
            if isinstance(entry.get(key), list):
                yield from ((f"{entry['id']} {key}", row) for row in entry[key])


def test_documented_rows() -> None:
    fired: set[str] = set()
    for profile in PROFILES:
        clean = decided = 0
        for name, row in documented_rows():
            valid, findings = reference(row, profile)
            if not valid:
                continue
            verdict = decided_clean(row, profile)
            assert not (verdict and findings), f"{name}: decided clean despite {[f.rule for f in findings]}"
            fired |= {f.rule for f in findings}
            clean += not findings
            decided += verdict
        assert decided == clean  # every clean documented row is recognised
    assert fired >= set(DECIDED_RULES)  # the failing examples exercise every rule


# ----------------------------------------------------------------------------------- generated rows


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_rows_are_decided_clean(profile: str) -> None:
    """Every data type the profile allows, drawn by the hypothesis strategies."""
    kinds = DATA_TYPES if profile == "lenient" else encord_fixtures.DATA_TYPES

    @few(12)
    @given(
        st.sampled_from(kinds).flatmap(
            lambda kind: generators.encord_export(
                profile=profile, data_types=[kind], max_items=2, max_frames=6
            )
        )
    )
    def check(rows: list[Row]) -> None:
        for row in rows:
            assert check_sound(row, profile) is True  # generated rows have no finding without ontology
            assert decided_clean(row, profile)

    check()


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_rows_of_every_data_type_are_decided_clean(profile: str) -> None:
    draw = RandomDraw(f"encord-decider-generated-{profile}")
    kinds = DATA_TYPES if profile == "lenient" else encord_fixtures.DATA_TYPES
    for kind in kinds:
        rows, _ = encord_fixtures.build_export(
            draw, profile=profile, data_types=[kind], min_items=8, max_items=8, max_frames=8, max_objects=5
        )
        for row in rows:
            assert check_sound(row, profile) is True
            assert decided_clean(row, profile), kind


@pytest.mark.parametrize("profile", PROFILES)
def test_benchmark_like_video_rows_are_decided_clean(profile: str) -> None:
    """Rows as benchmarks/run.py draws them (long videos, many objects, every shape)."""
    draw = RandomDraw(f"encord-decider-{profile}")
    ontology = encord_fixtures.build_ontology(draw, profile=profile)
    for _ in range(3):
        row = encord_fixtures.build_row(
            draw, ontology, profile=profile, data_type="video", max_frames=100, max_objects=10
        )
        assert check_sound(row, profile) is True
        assert decided_clean(row, profile)


# ------------------------------------------------------------------------------------------ mutants


def mutant_subjects(profile: str) -> list[mutants.Subject]:
    draw = RandomDraw(f"encord-decider-mutants-{profile}")
    ontology = encord_fixtures.build_ontology(draw, profile=profile)
    while sum(o["shape"] == "bounding_box" for o in ontology["objects"]) < 2:  # twins for FEATURE-CHANGES
        ontology = encord_fixtures.build_ontology(draw, profile=profile)
    subjects = []
    for data_types in (
        ["video", "image", "img_group"],
        ["img_group", "group", "scene"],
        ["audio", "plain_text", "pdf", "dicom", "nifti"],
    ):
        for _ in range(3):
            rows, _ = encord_fixtures.build_export(
                draw,
                ontology,
                profile=profile,
                data_types=data_types,
                min_items=4,
                max_items=4,
                max_objects=6,
            )
            subjects.append(mutants.Subject("encord", profile, rows, ontology=ontology))
    return subjects


def test_rule_mutants() -> None:
    """Every mutant operator of the decided rules (a few candidate sites each, unverified: any row with a
    finding counts), in both profiles."""
    caught: set[str] = set()
    for profile in PROFILES:
        draw = RandomDraw(f"encord-decider-candidates-{profile}")
        subjects = mutant_subjects(profile)
        for rule_id in DECIDED_RULES:
            for subject in subjects:
                for number, candidate in enumerate(mutants.candidates(draw, subject, rule_id)):
                    if number >= 4:
                        break
                    for row in rows_of(candidate.subject.document):
                        valid, findings = reference(row, profile)
                        if not valid or not findings:
                            continue
                        assert not decided_clean(row, profile), (rule_id, [f.rule for f in findings])
                        caught |= {f.rule for f in findings}
    assert caught >= set(DECIDED_RULES)


# ------------------------------------------------------------------------------------------ fuzzing

NUMBERS: list[Any] = [0, 1, -1, 0.5, 1.0, -0.0, 1.000001, 1.0000011, 1.0000009, -0.000001, -0.0000011, -1e-7]
NUMBERS += [2, 3.0, 640, 640.0, 480, 1e300, 2**53 + 1, 2**63 - 1, -(2**63), 5, 6, 100]
STRINGS: list[Any] = ["", "0", "00", "3", "12", "007", "99999999999999999999", "abc", " 1", "1\n", "-1"]
STRINGS += ["frame", "html", "x", "\u0663", "02220N:0F20N", "06", "o", "p", "0o", "O", "2023-02-29 10:00:00"]
STRINGS += [
    "2024-02-29 10:00:00",
    "2023-01-01 10:00:00\n",
    "Mon, 29 Feb 2023 10:00:00 GMT",
    "2023-01-01T24:00",
]
STRINGS += ["2023-01-01T10:00+23:60", "2023-04-31", "Sun, 31 Apr 2024 10:00:00 GMT"]
VALUES: list[Any] = [None, True, False, [], {}, [0, 1], [1, 0], [[1, 0]], [["3", "2"]], [[2.0, 1.0]]]
VALUES += [{"x": 0.5, "y": 0.5}, {"x": 0.5, "y": 0.5, "z": 1}, {"x": 1.5, "y": 0.5}, [{"x": 0.5, "y": 0.5}]]
VALUES += [
    [[[0.1, 0.1, 0.2, 0.2]]],
    [[[0.1, 0.1, 0.2, 0.2, 0.3, 0.3]]],
    [[[]]],
    {"type": "frame", "range": [[3, 1]]},
]


def _sites(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _sites(value, (*path, key))


def perturb(rng: random.Random, row: Row) -> Row:
    """One to three random edits: a value swapped for an interesting one or another value of the row, a key
    renamed or dropped, a list item duplicated or dropped."""
    row = copy.deepcopy(row)
    for _ in range(rng.choice((1, 1, 2, 3))):
        sites = list(_sites(row))[1:]
        if not sites:
            break
        path, value = rng.choice(sites)
        parent: Any = row
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        leaves = [v for _, v in sites if not isinstance(v, (dict, list))]
        roll = rng.random()
        if roll < 0.4:
            if isinstance(value, str):
                pool: list[Any] = STRINGS
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                pool = NUMBERS
            else:
                pool = VALUES
            parent[key] = copy.deepcopy(rng.choice([*pool, *leaves[:50]]))
        elif roll < 0.55 and isinstance(parent, dict):
            del parent[key]
        elif roll < 0.7 and isinstance(parent, dict):
            renamed = rng.choice([p[-1] for p, _ in sites if p and isinstance(p[-1], str)] + STRINGS[:8])
            if renamed not in parent:
                parent[renamed] = parent.pop(key)
        elif isinstance(parent, list) and roll < 0.85:
            parent.insert(rng.randrange(len(parent) + 1), copy.deepcopy(rng.choice(parent)))
        elif isinstance(parent, list) and len(parent) > 1:
            parent.pop(rng.randrange(len(parent)))
        else:
            parent[key] = copy.deepcopy(rng.choice(leaves)) if leaves else None
    return row


def _base_rows() -> list[Row]:
    rows = [r for _, r in documented_rows() if isinstance(r, dict)]
    for profile in PROFILES:
        draw = RandomDraw(f"encord-decider-fuzz-{profile}")
        for data_type in encord_fixtures.DATA_TYPES:
            exported, _ = encord_fixtures.build_export(
                draw, profile=profile, data_types=[data_type], max_items=1, max_frames=5, max_objects=4
            )
            rows.extend(exported)
    return rows


BASE_ROWS = _base_rows()


@few(300)
@given(st.randoms(use_true_random=False), st.sampled_from(PROFILES))
def test_perturbed_rows_are_sound(rng: random.Random, profile: str) -> None:
    check_sound(perturb(rng, rng.choice(BASE_ROWS)), profile)


# ------------------------------------------------------------------------------- datetimes and RLE

_MINIMAL_ROW: Row = {
    "label_hash": "lr-1",
    "branch_name": "main",
    "created_at": None,
    "last_edited_at": None,
    "dataset_hash": "ds-1",
    "dataset_title": "Rules",
    "data_title": "item",
    "data_hash": "du-1",
    "data_type": "video",
    "label_status": "LABELLED",
    "data_units": {},
    "object_answers": {},
    "classification_answers": {},
    "object_actions": {},
}


def datetime_error(text: str) -> str | None:
    """What ENC-DATETIME-INVALID reports for a datetime field holding ``text`` (None: nothing)."""
    if encord_rules.SURELY_REAL_DATETIME.fullmatch(text) or not encord_rules.DATETIME_PATTERN.match(text):
        return None
    return encord_rules.datetime_error(text)


def random_datetime(rng: random.Random) -> str:
    def number(low: int, high: int, width: int) -> str:
        roll = rng.random()
        if roll < 0.7:
            return str(rng.randint(low, high)).zfill(width)
        if roll < 0.9:
            return str(rng.choice([low - 1, high + 1, 0, 99])).zfill(width)[-width:]
        return "".join(rng.choice("0123456789:a") for _ in range(width))

    year, month, day = number(1, 9999, 4), number(1, 12, 2), number(1, 31, 2)
    hour, minute, second = number(0, 23, 2), number(0, 59, 2), number(0, 59, 2)
    fraction = "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 9)))
    form = rng.random()
    if form < 0.3:
        text = f"{year}-{month}-{day} {hour}:{minute}:{second}" + (fraction if rng.random() < 0.3 else "")
    elif form < 0.6:
        weekday = rng.choice(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mun"])
        name = rng.choice([*encord_rules.MONTHS, "Jax"])
        text = f"{weekday}, {day} {name} {year} {hour}:{minute}:{second} {rng.choice(['GMT', 'UTC', 'CET'])}"
    else:
        text = f"{year}-{month}-{day}"
        if rng.random() < 0.85:
            text += f"T{hour}:{minute}"
            if rng.random() < 0.7:
                text += f":{second}" + (fraction if rng.random() < 0.3 else "")
            zone = rng.random()
            if zone < 0.3:
                text += "Z"
            elif zone < 0.5:
                text += rng.choice("+-") + number(0, 30, 2)
            elif zone < 0.7:
                text += rng.choice("+-") + number(0, 30, 2) + rng.choice([":", ""]) + number(0, 99, 2)
    if rng.random() < 0.05:
        text += "\n"
    if rng.random() < 0.03:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(" x\n:.-+Z0") + text[at:]
    return text


def test_datetimes_agree_with_the_reference_exactly() -> None:
    rng = random.Random(20250107)
    decider = DECIDERS["lenient"]
    for _ in range(20000):
        text = random_datetime(rng)
        clean = decider.row_clean(orjson.dumps({**_MINIMAL_ROW, "created_at": text}))
        error = datetime_error(text)
        if text.endswith("\n"):  # `$` before a final newline: left to the reference
            assert not (clean and error), text
        else:
            assert clean == (error is None), (text, error)


def _bitmask_row(rle: str, width: int, height: int) -> Row:
    obj: Row = {"objectHash": "obj00001", "featureHash": "f", "shape": "bitmask"}
    obj["bitmask"] = {"rleString": rle, "top": 0, "left": 0, "width": width, "height": height}
    unit: Row = {"data_hash": "du-1", "data_title": "item", "data_type": "video/mp4", "data_sequence": 0}
    unit.update(width=width, height=height, labels={"0": {"objects": [obj], "classifications": []}})
    answers = {"obj00001": {"objectHash": "obj00001", "classifications": []}}
    return {**_MINIMAL_ROW, "data_units": {"du-1": unit}, "object_answers": answers}


def random_rle(rng: random.Random) -> str:
    if rng.random() < 0.5:
        counts = [rng.randint(0, rng.choice([5, 100, 5000])) for _ in range(rng.randint(0, 12))]
        text = encode_rle_string(counts)
        if text and rng.random() < 0.3:
            at = rng.randrange(len(text))
            text = text[:at] + chr(rng.randint(40, 120)) + text[at + 1 :]
        return text
    length = rng.randint(0, rng.choice([4, 20, 300]))
    return "".join(chr(rng.randint(48, 111)) for _ in range(length))


def test_rle_agrees_with_the_codec_exactly() -> None:
    rng = random.Random(6)
    decider = DECIDERS["strict"]
    for number in range(4000):
        text = random_rle(rng)
        width, height = rng.choice([(4, 4), (10, 10), (100, 50), (0, 0), (640, 480)])
        try:
            fits = sum(decode_rle_string(text)) <= width * height
        except RleError:
            fits = False
        row = _bitmask_row(text, width, height)
        assert decider.row_clean(orjson.dumps(row)) == fits, text
        if number % 20 == 0:  # the rule itself says the same (the codec is its reference)
            _, findings = reference(row, "strict")
            assert (not findings) == fits, text


# ------------------------------------------------------------------------------------- small cases


def _video_row(objects: list[Row], **extra: Any) -> Row:
    unit = {"data_hash": "du-1", "data_title": "item", "data_type": "video/mp4", "data_sequence": 0}
    unit["data_link"] = "https://storage.example.com/item"
    unit.update(width=640, height=480, labels={"0": {"objects": objects, "classifications": []}})
    answers = {o["objectHash"]: {"objectHash": o["objectHash"], "classifications": []} for o in objects}
    return {**_MINIMAL_ROW, "data_units": {"du-1": unit}, "object_answers": answers, **extra}


EDGE_OBJECTS: list[tuple[str, Row]] = [
    (
        "box right edge at 1 + eps",
        {"shape": "bounding_box", "boundingBox": {"x": 0.5, "y": 0, "w": 0.500001, "h": 0}},
    ),
    (
        "box right edge past 1 + eps",
        {"shape": "bounding_box", "boundingBox": {"x": 0.5, "y": 0, "w": 0.5000011, "h": 0}},
    ),
    ("box of integers", {"shape": "bounding_box", "boundingBox": {"x": 0, "y": 0, "w": 1, "h": 1}}),
    ("negative zero width", {"shape": "bounding_box", "boundingBox": {"x": 0.1, "y": 0, "w": -0.0, "h": 0}}),
    (
        "rotated box, negative w",
        {
            "shape": "rotatable_bounding_box",
            "rotatableBoundingBox": {"x": 0.1, "y": 0.1, "w": -2, "h": 0.1, "theta": 3},
        },
    ),
    (
        "polygon dict out of order",
        {
            "shape": "polygon",
            "polygon": {"1": {"x": 0.2, "y": 0.2}, "0": {"x": 0.1, "y": 0.1}, "2": {"x": 0.3, "y": 0.1}},
            "polygons": [[[0.1, 0.1, 0.2, 0.2, 0.3, 0.1]]],
        },
    ),
    (
        "polygon forms within 1e-9",
        {
            "shape": "polygon",
            "polygon": [{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.2}, {"x": 0.3, "y": 0.1}],
            "polygons": [[[0.1000000001, 0.1, 0.2, 0.2, 0.3, 0.1]]],
        },
    ),
    (
        "polygon 3-D vertex",
        {
            "shape": "polygon",
            "polygon": [{"x": 0.1, "y": 0.1, "z": 3}, {"x": 0.2, "y": 0.2}, {"x": 3, "y": 0.1}],
            "polygons": [[[0.1, 0.1]]],
        },
    ),
    ("empty ring", {"shape": "polygon", "polygons": [[[]]]}),
    (
        "polyline all 3-D",
        {"shape": "polyline", "polyline": [{"x": 5, "y": 5, "z": 1}, {"x": 5, "y": 5, "z": 2}]},
    ),
    (
        "skeleton outside",
        {"shape": "skeleton", "name": "Body", "skeleton": {"0": {"x": 1.5, "y": 0.1, "name": "a"}}},
    ),
    (
        "cuboid_2d outside",
        {"shape": "cuboid_2d", "cuboid_2d": {"front": [0, 0, 1.2, 0], "offset": {"x": 0, "y": 0}}},
    ),
    (
        "cuboid in world units",
        {"shape": "cuboid", "cuboid": {"position": [5, 5, 5], "orientation": [0, 0, 0], "size": [9, 9, 9]}},
    ),
    (
        "bitmask of another size",
        {"shape": "bitmask", "bitmask": {"rleString": "06", "top": 0, "left": 0, "width": 3, "height": 2}},
    ),
]


@pytest.mark.parametrize(("name", "payload"), EDGE_OBJECTS, ids=[name for name, _ in EDGE_OBJECTS])
def test_edge_objects(name: str, payload: Row) -> None:
    obj = {"objectHash": "obj00001", "featureHash": "f", "createdAt": None, **payload}
    for profile in PROFILES:
        row = _video_row([obj])
        clean = check_sound(row, profile)
        assert clean is not None, name
        assert decided_clean(row, profile) == clean, name
