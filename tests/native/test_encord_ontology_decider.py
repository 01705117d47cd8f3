"""The native decider of the ontology-aware Encord rules (labelspec/native/encord_ontology.c).

SOUNDNESS, the contract: whenever the reference path (``validate_document`` on a one-row document, with
the ontology) reports a finding of one of these rules, the decider says "not clean". Checked on the corpus
rows (with the catalogue's example ontology, every corpus ontology, and an ontology derived from the row
itself so that the answer rules are reached), on generated rows with their ontologies, on every candidate
of the rule mutants and on randomly scrambled rows and ontologies.

COMPLETENESS: the decider mirrors the reference exactly, so it also says "clean" whenever the reference
reports nothing of these rules; the only documented exception is an owner lookup by ``str()`` of a
featureHash that is a float, list or object (structurally invalid anyway), where it says "not clean".
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from labelspec import generators
from labelspec.generators.fixtures import encord, mutants
from labelspec.generators.fixtures.common import RandomDraw
from labelspec.validator.compiler import load_format_yaml
from labelspec.validator.engine import validate_document
from labelspec.validator.native.encord_ontology import ontology_tables
from labelspec.validator.rules import catalogue, implementation, load_checks
from tests.conftest import examples

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("lenient", "strict")
ONTOLOGY_RULES = frozenset(
    {
        "ENC-OBJECT-FEATURE-UNKNOWN",
        "ENC-CLASSIFICATION-FEATURE-UNKNOWN",
        "ENC-SHAPE-MISMATCH",
        "ENC-ATTRIBUTE-UNKNOWN",
        "ENC-OPTION-UNKNOWN",
        "ENC-ANSWER-TYPE-MISMATCH",
        "ENC-RADIO-ANSWER-COUNT",
        "ENC-NESTED-ANSWER-UNSELECTED",
        "ENC-DYNAMIC-ANSWER-STATIC",
        "ENC-DYNAMIC-ANSWER-OVERRIDDEN",
        "ENC-REQUIRED-ATTRIBUTE-UNANSWERED",
        "ENC-SKELETON-TEMPLATE-MISMATCH",
    }
)
EXAMPLE_ONTOLOGY = next(
    e["example_ontology"] for e in load_format_yaml("encord", "rules.yaml") if "example_ontology" in e
)


def few(limit: int) -> settings:
    return settings(
        max_examples=examples(limit),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ------------------------------------------------------------------------------------------ the oracle


def reference_hits(row: Any, ontology: Any, profile: str) -> set[str]:
    report = validate_document([row], format="encord", profile=profile, ontology=ontology)
    return {f.rule for f in report.findings} & ONTOLOGY_RULES


def _unmodelled(row: Any) -> bool:
    """The decider's documented conservative cases: a featureHash it would have to str() but does not, and
    a ranged answer in object_answers (ENC-DYNAMIC-ANSWER-OVERRIDDEN compares it with object_actions: the
    decider is not sure of a ranged dynamic answer there and leaves it to the reference)."""
    return any(
        isinstance(node, dict) and isinstance(node.get("featureHash"), (float, list, dict))
        for _, node in mutants.walk(row)
    ) or any(
        isinstance(answer, dict) and "range" in answer
        for entry in (_as_dict(row).get("object_answers") or {}).values()
        if isinstance(entry, dict) and isinstance(entry.get("classifications"), list)
        for answer in entry["classifications"]
    )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Checker:
    """Decides rows with one decider per (ontology, profile) and compares with the reference."""

    def __init__(self, native: ModuleType) -> None:
        self.native = native
        self.rows = 0
        self.flagged = 0  # rows the reference reports one of the rules on
        self.hit_rules: set[str] = set()

    def decider(self, ontology: Any, profile: str) -> Any:
        tables = ontology_tables(ontology, profile)
        assert tables is not None, "these ontologies are all modelled"
        return self.native.EncordOntology(tables)

    def check(self, row: Any, ontology: Any, profile: str, decider: Any = None) -> set[str]:
        decider = decider or self.decider(ontology, profile)
        clean = decider.row_clean(orjson.dumps(row))
        hits = reference_hits(row, ontology, profile)
        self.rows += 1
        self.flagged += bool(hits)
        self.hit_rules |= hits
        assert not (clean and hits), f"decided clean but the reference reports {sorted(hits)}"
        if not clean and not _unmodelled(row):
            assert hits, "decided not clean but the reference reports none of the rules (inexact)"
        return hits


@pytest.fixture(scope="module")
def checker(native: ModuleType) -> Checker:
    if not hasattr(native, "EncordOntology"):
        pytest.skip("the extension has no EncordOntology")
    return Checker(native)


# ---------------------------------------------------------------------------------------- the rule set


# Rules that read the ontology only to exempt what they would otherwise report: the ontology-free decider
# (encord_rules.c) decides them, its twin ignoring the exemption (so it is at worst "not sure").
EXEMPTING_ONLY = frozenset({"ENC-CLASSIFICATION-RANGE-MISSING"})


def test_the_decided_rules_are_the_ontology_aware_ones() -> None:
    """Every Encord rule whose check reads the ontology index is decided here, and no other (but the rules
    that read it only for an exemption)."""
    load_checks("encord")
    reading = set()
    for spec in catalogue("encord"):
        check = implementation(spec.id)
        if check is not None and (
            "ontology_of(ctx)" in (source := inspect.getsource(check)) or "_answered(" in source
        ):
            reading.add(spec.id)
    assert reading == ONTOLOGY_RULES | EXEMPTING_ONLY
    assert not {spec.id for spec in catalogue("encord") if "ontology" in spec.needs} & EXEMPTING_ONLY


NEEDING_AN_ONTOLOGY = [spec.id for spec in catalogue("encord") if "ontology" in spec.needs]


@pytest.mark.parametrize("rule_id", NEEDING_AN_ONTOLOGY)
def test_every_ontology_rule_has_a_twin_or_makes_the_decider_unsure(checker: Checker, rule_id: str) -> None:
    """The exact guard: a catalogued rule that needs an ontology is mirrored in C (LONTO_RULE_IDS), or
    the decider, told about it by its tables, answers "not sure" for every row (even a clean one)."""
    tables = ontology_tables(EXAMPLE_ONTOLOGY, "lenient")
    assert tables is not None
    assert rule_id in tables["rules"], f"{rule_id} is not announced to the native ontology decider"
    if rule_id in checker.native.ontology_rule_ids():
        return
    row = _clean_row_for_the_example_ontology(checker)
    assert not checker.native.EncordOntology(tables).row_clean(orjson.dumps(row)), (
        f"{rule_id} needs an ontology and has no C twin, yet the native decider certifies rows as clean"
    )


def test_a_rule_without_twin_makes_every_row_unsure(checker: Checker) -> None:
    """The mechanism the guard relies on, with a rule the C code cannot know."""
    tables = ontology_tables(EXAMPLE_ONTOLOGY, "lenient")
    assert tables is not None
    row = _clean_row_for_the_example_ontology(checker)
    assert checker.native.EncordOntology(tables).row_clean(orjson.dumps(row))
    unknown = dict(tables, rules=[*tables["rules"], "ENC-A-RULE-WITHOUT-C-TWIN"])
    assert not checker.native.EncordOntology(unknown).row_clean(orjson.dumps(row))


def test_the_c_twins_are_catalogued_ontology_rules(checker: Checker) -> None:
    """No C twin of a rule that is gone or no longer needs an ontology (it would be dead code)."""
    assert set(checker.native.ontology_rule_ids()) <= set(NEEDING_AN_ONTOLOGY)


def _clean_row_for_the_example_ontology(checker: Checker) -> Any:
    """A corpus row the decider certifies under the catalogue's example ontology (the row's objects and
    classifications removed, so nothing refers to a feature)."""
    row = copy.deepcopy(json.loads((ROOT / "tests/corpus/encord/video-row.json").read_text())[0])
    for unit in row["data_units"].values():
        unit["labels"] = {}
    row["object_answers"], row["classification_answers"], row["object_actions"] = {}, {}, {}
    assert not reference_hits(row, EXAMPLE_ONTOLOGY, "lenient")
    return row


# ------------------------------------------------------------------------------------------ the tables


def test_without_an_ontology_every_row_is_clean(checker: Checker) -> None:
    tables = ontology_tables(None, "lenient")
    assert tables == {"version": 2, "present": False}
    decider = checker.native.EncordOntology(tables)
    row = json.loads((ROOT / "tests/corpus/encord/video-row.json").read_text())[0]
    assert decider.row_clean(orjson.dumps(row))
    assert not reference_hits(row, None, "lenient")


@pytest.mark.parametrize("ontology", [[], 1, "x", {"objects": 1, "classifications": [1]}, {}])
def test_a_malformed_ontology_is_an_empty_one(checker: Checker, ontology: Any) -> None:
    """The reference indexes whatever it is given (nothing of a malformed one): every feature is unknown."""
    for name in ("video-row.json", "audio-row.json", "html-row.json"):
        row = json.loads((ROOT / "tests/corpus/encord" / name).read_text())[0]
        assert checker.check(row, ontology, "lenient")
    empty = {"label_hash": "x", "data_type": "video", "data_units": {}, "object_answers": {}}
    checker.check(empty, ontology, "lenient")


def test_a_wrapped_ontology_is_its_structure(checker: Checker) -> None:
    row = json.loads((ROOT / "tests/corpus/encord/video-row.json").read_text())[0]
    derived = derived_ontology(row)
    assert not checker.check(row, derived, "lenient")
    assert not checker.check(row, {"title": "project", "structure": derived}, "lenient")
    assert not checker.check(row, {"title": "project", "editor": derived}, "lenient")  # an API response


def test_strings_a_row_cannot_hold_are_not_modelled() -> None:
    assert (
        ontology_tables({"objects": [{"featureNodeHash": "\ud800", "shape": "polygon"}]}, "lenient") is None
    )


@pytest.mark.parametrize(
    "tables",
    [
        {},
        {"version": 2, "present": True},
        {  # version 1 had owners of four members
            "version": 1,
            "present": True,
            "strings": [b"a"],
            "objects": [(0, 0)],
            "classifications": [],
            "owners": [(-1, [], [], [])],
            "attributes": [],
        },
        {
            "version": 2,
            "present": True,
            "strings": [b"a"],
            "objects": [(0, 0)],
            "classifications": [],
            "owners": [(-1, [], [], [], (2, [5]))],  # a point sid beyond the strings
            "attributes": [],
        },
        {
            "version": 2,
            "present": True,
            "strings": [b"a", b"a"],
            "objects": [],
            "classifications": [],
            "owners": [],
            "attributes": [],
        },
        {
            "version": 2,
            "present": True,
            "strings": [b"a"],
            "objects": [(0, 3)],
            "classifications": [],
            "owners": [],
            "attributes": [],
        },
        {
            "version": 2,
            "present": True,
            "strings": ["a"],
            "objects": [],
            "classifications": [],
            "owners": [],
            "attributes": [],
        },
    ],
)
def test_bad_tables_are_refused(checker: Checker, tables: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        checker.native.EncordOntology(tables)


# -------------------------------------------------------------------------------------------- corpus


def derived_ontology(row: Any) -> dict[str, Any]:
    """An ontology that knows the row's own classes, attributes and options (so the answer rules are
    reached on corpus rows): attribute types follow the answers' forms, actions make dynamic attributes."""
    objects: dict[str, dict[str, Any]] = {}
    classes: dict[str, dict[str, Any]] = {}
    object_features: dict[str, str] = {}
    for _, node in mutants.walk(row):
        if not isinstance(node, dict) or not isinstance(node.get("featureHash"), str):
            continue
        if "objectHash" in node and isinstance(node.get("shape"), str):
            objects.setdefault(
                node["featureHash"], {"featureNodeHash": node["featureHash"], "shape": node["shape"]}
            )
            object_features.setdefault(str(node["objectHash"]), node["featureHash"])
        elif "classificationHash" in node and "answers" not in node:
            classes.setdefault(node["featureHash"], {"featureNodeHash": node["featureHash"]})

    def attach(owner: dict[str, Any], answers: Any, dynamic: bool) -> None:
        known = {a["featureNodeHash"]: a for a in owner.setdefault("attributes", [])}
        for answer in answers if isinstance(answers, list) else []:
            if not isinstance(answer, dict) or not isinstance(answer.get("featureHash"), str):
                continue
            value = answer.get("answers")
            options = (
                [o["featureHash"] for o in value if isinstance(o, dict)] if isinstance(value, list) else []
            )
            # radio only where every answer is one option (with a trackHash when dynamic)
            radio = isinstance(value, list) and len(value) == 1 and (not dynamic or "trackHash" in answer)
            kind = ("radio" if radio else "checklist") if isinstance(value, list) else "text"
            if not isinstance(value, (list, str)):
                kind = "numeric"
            attribute = known.get(answer["featureHash"])
            if attribute is None:
                attribute = {"featureNodeHash": answer["featureHash"], "type": kind, "dynamic": dynamic}
                attribute["options"] = []
                known[answer["featureHash"]] = attribute
                owner["attributes"].append(attribute)
            elif attribute["type"] == "radio" and kind == "checklist":
                attribute["type"] = kind
            for option in options:
                if isinstance(option, str) and {"featureNodeHash": option} not in attribute["options"]:
                    attribute["options"].append({"featureNodeHash": option})

    for section, key in (("object_answers", "classifications"), ("object_actions", "actions")):
        for name, entry in (row.get(section) or {}).items():
            if not isinstance(entry, dict):
                continue
            feature = object_features.get(str(entry.get("objectHash") or name)) or entry.get("featureHash")
            if isinstance(feature, str):
                owner = objects.setdefault(feature, {"featureNodeHash": feature})
                attach(owner, entry.get(key), section == "object_actions")
    for entry in (row.get("classification_answers") or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("featureHash"), str):
            owner = classes.setdefault(entry["featureHash"], {"featureNodeHash": entry["featureHash"]})
            attach(owner, entry.get("classifications"), False)
    return {"objects": list(objects.values()), "classifications": list(classes.values())}


def corpus_rows() -> Iterator[tuple[str, Any]]:
    for path in sorted((ROOT / "tests/corpus/encord").glob("*.json")):
        document = json.loads(path.read_text())
        for n, row in enumerate(document if isinstance(document, list) else [document]):
            yield f"{path.name}#{n}", row
    for path in sorted((ROOT / "schemas/encord/examples").glob("*.json")):
        document = json.loads(path.read_text())
        for n, row in enumerate(document if isinstance(document, list) else []):
            if isinstance(row, dict) and "data_units" in row:
                yield f"examples/{path.name}#{n}", row


CORPUS_ONTOLOGIES = [EXAMPLE_ONTOLOGY] + [
    json.loads(path.read_text()) for path in sorted((ROOT / "tests/corpus/encord-ontology").glob("*.json"))
]


def test_corpus_rows(checker: Checker) -> None:
    # the profile changes only severities of these rules: the corpus ontologies are tried under one each
    deciders = [checker.decider(ontology, PROFILES[n % 2]) for n, ontology in enumerate(CORPUS_ONTOLOGIES)]
    rng = random.Random(8)
    for _, row in corpus_rows():
        for n, ontology in enumerate(CORPUS_ONTOLOGIES):
            checker.check(row, ontology, PROFILES[n % 2], deciders[n])
        for profile in PROFILES:
            derived = derived_ontology(row)
            checker.check(row, derived, profile)
            for _ in range(2):
                checker.check(*scramble(rng, row, derived), profile)
    assert checker.flagged and checker.rows > checker.flagged


def test_catalogue_examples(checker: Checker) -> None:
    """The failing and passing examples of every Encord rule, with the catalogue's example ontology."""
    for entry in load_format_yaml("encord", "rules.yaml"):
        ontology = entry.get("example_ontology", EXAMPLE_ONTOLOGY)
        for document in (entry["example"], entry["passing_example"]):
            for row in document if isinstance(document, list) else []:
                for profile in PROFILES:
                    hits = checker.check(row, ontology, profile)
                    if document is entry["example"] and entry["id"] in ONTOLOGY_RULES:
                        assert entry["id"] in hits


# ------------------------------------------------------------------------------------- generated rows


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_rows_are_decided_exactly(checker: Checker, profile: str) -> None:
    @few(15)
    @given(generators.encord_export_with_ontology(profile=profile, max_items=3))
    def check(pair: tuple[list[Any], dict[str, Any]]) -> None:
        rows, ontology = pair
        decider = checker.decider(ontology, profile)
        for row in rows:
            checker.check(row, ontology, profile, decider)

    check()


@pytest.mark.parametrize("data_type", encord.DATA_TYPES)
def test_every_generated_row_without_findings_is_clean(checker: Checker, data_type: str) -> None:
    """Completeness, measured over seeded rows of each data type (benchmark-like video rows included)."""
    clean = without = 0
    for seed in range(6):
        profile = PROFILES[seed % 2]
        rows, ontology = encord.build_export(
            RandomDraw(f"{data_type}-{seed}"),
            profile=profile,
            data_types=[data_type],
            min_items=2,
            max_items=2,
        )
        decider = checker.decider(ontology, profile)
        for row in rows:
            hits = checker.check(row, ontology, profile, decider)
            if not hits:
                without += 1
                clean += decider.row_clean(orjson.dumps(row))
    assert clean == without


# ------------------------------------------------------------------------------------------- mutants

MUTANT_SEARCH = [
    {"data_types": ["video"]},
    {"data_types": ["video"], "max_objects": 6, "max_frames": 8},  # dynamic answers: tracked objects only
    {"data_types": ["img_group"], "max_objects": 6, "max_frames": 8},
    {"data_types": ["image"]},
    {"data_types": ["audio"]},
    {"data_types": ["plain_text"]},
    {"data_types": ["group"]},
    {"data_types": ["img_group"]},
]


@pytest.mark.parametrize("operator", sorted(ONTOLOGY_RULES))
def test_rule_mutants(checker: Checker, operator: str) -> None:
    """Every candidate of the rule's mutant operator (verified or not) is decided soundly, and some of them
    do raise the rule."""
    raised = 0
    for (n, knobs), seed, profile in itertools.product(enumerate(MUTANT_SEARCH), range(3), PROFILES):
        name = f"{operator}-{n}-{seed}-{profile}"
        subject = mutants.build_subject(RandomDraw(name), "encord", profile, max_items=2, **knobs)
        for number, candidate in enumerate(
            mutants.candidates(RandomDraw(f"{name}-edits"), subject, operator)
        ):
            if number >= 6:
                break
            changed = candidate.subject
            decider = checker.decider(changed.ontology, profile)
            for row in changed.document:
                raised += operator in checker.check(row, changed.ontology, profile, decider)
    assert raised, f"no candidate of {operator} raised it"


# ------------------------------------------------------------------------------------ scrambled rows

_VALUES: list[Any] = [None, 0, 1, 1.5, "", "x", [], {}, True, False, "None", "True", 7, [[0, 1]], {"a": 1}]


def _hashes(ontology: Any) -> list[str]:
    return [
        node["featureNodeHash"]
        for _, node in mutants.walk(ontology)
        if isinstance(node, dict) and isinstance(node.get("featureNodeHash"), str)
    ]


def scramble(rng: random.Random, row: Any, ontology: Any) -> tuple[Any, Any]:
    """A few random edits of a row and its ontology, aimed at what the rules read: features swapped for
    other ontology hashes (of other kinds too), keys dropped, values of other types, answers duplicated
    or moved between lists, instance hashes changed, attribute flags, types and shapes flipped."""
    row, ontology = copy.deepcopy(row), copy.deepcopy(ontology)
    hashes = [*_hashes(ontology), "unknown1", "", "None"]
    for _ in range(rng.randint(1, 3)):
        nodes = list(mutants.walk(row))
        dicts = [v for p, v in nodes if isinstance(v, dict) and p]
        edit = rng.randrange(10)
        if edit == 0:
            featured = [v for v in dicts if "featureHash" in v]
            if featured:
                rng.choice(featured)["featureHash"] = rng.choice(hashes)
        elif edit == 1 and dicts:
            node = rng.choice(dicts)
            if node:
                del node[rng.choice(list(node))]
        elif edit == 2 and dicts:
            node = rng.choice(dicts)
            key = rng.choice([*node, "trackHash", "range", "answers", "createdBy", "spaces", "range_html"])
            node[key] = copy.deepcopy(rng.choice(_VALUES))
        elif edit == 3:
            lists = [v for _, v in nodes if isinstance(v, list) and v]
            if lists:
                chosen = rng.choice(lists)
                chosen.append(copy.deepcopy(rng.choice(chosen)))
        elif edit == 4:
            owners = [v for v in dicts if "objectHash" in v or "classificationHash" in v]
            if owners:
                node = rng.choice(owners)
                key = "objectHash" if "objectHash" in node else "classificationHash"
                node[key] = rng.choice([*(v.get(key) for v in owners), "", None, "zz"])
        elif edit == 5:
            classes = [v for _, v in mutants.walk(ontology) if isinstance(v, dict) and "featureNodeHash" in v]
            if classes:
                node = rng.choice(classes)
                flag = rng.choice(["required", "dynamic", "type", "shape", "featureNodeHash"])
                node[flag] = {
                    "required": not node.get("required"),
                    "dynamic": not node.get("dynamic"),
                    "type": rng.choice(["radio", "checklist", "text", "numeric", "other", None]),
                    "shape": rng.choice(["polygon", "bounding_box", "audio", "text", None]),
                    "featureNodeHash": rng.choice(hashes),
                }[flag]
        elif edit == 6:
            answered = [v for v in dicts if isinstance(v.get("answers"), list)]
            if answered:
                rng.choice(answered)["answers"] = [{"featureHash": rng.choice(hashes)}] * rng.randint(0, 2)
        elif edit == 7:
            lists = [
                v
                for p, v in nodes
                if isinstance(v, list) and p and p[-1] in ("classifications", "actions") and v
                if isinstance(v[0], dict) and "answers" in v[0]
            ]
            if lists:
                rng.choice(lists).append(copy.deepcopy(rng.choice(rng.choice(lists))))
        elif edit == 8:
            tracked = [v for v in dicts if "trackHash" in v or "range" in v]
            if tracked:
                node = rng.choice(tracked)
                for key in rng.choice([["trackHash"], ["range"], ["trackHash", "range"]]):
                    node.pop(key, None)
        else:  # a dynamic answer given as a static one
            actions, answers = row.get("object_actions"), row.get("object_answers")
            for key, entry in actions.items() if isinstance(actions, dict) else []:
                target = answers.get(key) if isinstance(answers, dict) else None
                answerable = isinstance(target, dict) and isinstance(target.get("classifications"), list)
                if isinstance(entry, dict) and entry.get("actions") and answerable:
                    action = copy.deepcopy(rng.choice(entry["actions"]))
                    if rng.random() < 0.5:
                        action.pop("range", None)
                    target["classifications"].append(action)
                    break
    return row, ontology


@pytest.mark.parametrize("profile", PROFILES)
def test_scrambled_rows(checker: Checker, profile: str) -> None:
    rng = random.Random(f"scramble-{profile}")
    flagged = checker.flagged
    for seed in range(60):
        rows, ontology = encord.build_export(
            RandomDraw(f"scramble-{profile}-{seed}"),
            profile=profile,
            max_items=2,
            max_frames=4,
            max_objects=3,
        )
        for row in rows:
            for _ in range(3):
                checker.check(*scramble(rng, row, ontology), profile)
    assert checker.flagged > flagged
