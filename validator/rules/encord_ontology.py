"""Semantic rules about Encord ontologies: label rows checked against their ontology (``ENC-…`` with
``needs: [ontology]``), and the ontology document itself (``ENCO-…``).

Catalogued in ``schemas/encord/rules.yaml`` and ``schemas/encord-ontology/rules.yaml``. The row rules read
the row index (:mod:`labelspec.validator.rules.encord_index`) and one index of the ontology
(:func:`ontology_index`). Native twin of the row rules: ``labelspec/native/encord_ontology.c`` (the
ontology decider), whose every site names the rule id and the function here that it mirrors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from labelspec.validator.envelope import unwrap
from labelspec.validator.report import to_pointer
from labelspec.validator.rules.base import Hit, RuleContext, rule
from labelspec.validator.rules.encord_index import (
    RANGE_TYPES,
    Path,
    Row,
    as_dict,
    as_list,
    as_str,
    label_rows,
    object_hash_of,
)

# ------------------------------------------------------------------------------------------ ontology index


@dataclass(slots=True)
class Attribute:
    hash: str
    name: str
    type: str | None
    required: bool
    dynamic: bool
    options: set[str] = field(default_factory=set)
    parent_option: str | None = None  # the radio option this attribute is nested under


@dataclass(slots=True)
class Owner:
    """An ontology object class or classification with every attribute of its tree."""

    hash: str
    name: str
    shape: str | None
    attributes: dict[str, Attribute] = field(default_factory=dict)
    top: list[Attribute] = field(default_factory=list)
    nested: dict[str, list[Attribute]] = field(default_factory=dict)  # option hash -> attributes under it


@dataclass(slots=True)
class Ontology:
    objects: dict[str, Owner] = field(default_factory=dict)
    classifications: dict[str, Owner] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # any node hash -> what it is
    # skeleton class hash -> (template path label, point featureHashes of its template, number of points)
    skeletons: dict[str, tuple[str, frozenset[str], int]] = field(default_factory=dict)
    global_classifications: set[str] = field(default_factory=set)  # level "global": range-only

    def kind_hint(self, feature_hash: str) -> str | None:
        kind = self.kinds.get(feature_hash)
        return f'"{feature_hash}" is an {kind} of the ontology' if kind else None


# The last ontology indexed, held (so its id is not reused) with its index; valid while it is the same object.
_LAST_ONTOLOGY: list[Any] = []


def ontology_of(ctx: RuleContext) -> Ontology | None:
    if ctx.ontology is None:
        return None
    return ctx.memo(_index_ontology)


def _index_ontology(ctx: RuleContext) -> Ontology:
    # item-by-item validation checks every label row against the same ontology object, each row in a
    # context of its own: the index outlives the context, for as long as the ontology object is the same
    if _LAST_ONTOLOGY and _LAST_ONTOLOGY[0] is ctx.ontology:
        cached: Ontology = _LAST_ONTOLOGY[1]
        return cached
    index = ontology_index(ctx.ontology)
    _LAST_ONTOLOGY[:] = [ctx.ontology, index]
    return index


def ontology_index(structure: Any) -> Ontology:
    index = Ontology()
    if isinstance(structure, dict) and "objects" not in structure:
        for key in ("structure", "editor"):  # a project ontology, an API response (ENCO-D08)
            if isinstance(structure.get(key), dict):
                structure = structure[key]
                break
    if not isinstance(structure, dict):
        return index
    for kind, items, target in (
        ("object", structure.get("objects"), index.objects),
        ("classification", structure.get("classifications"), index.classifications),
    ):
        for item in as_list(items):
            feature = as_str(as_dict(item).get("featureNodeHash"))
            if feature is None or feature in target:
                continue
            owner = Owner(feature, str(item.get("name", "")), as_str(item.get("shape")))
            target[feature] = owner
            if kind == "classification" and item.get("level") == "global":
                index.global_classifications.add(feature)
            index.kinds.setdefault(feature, f"{kind} class" if kind == "object" else kind)
            for attribute in as_list(item.get("attributes")):
                added = _add_attribute(index, owner, attribute, None, depth=0)
                if added is not None:
                    owner.top.append(added)
    _add_skeleton_templates(index, structure)
    return index


def _add_skeleton_templates(index: Ontology, structure: dict[str, Any]) -> None:
    """The template of each skeleton class: linked by feature_node_hash, else by name (as the editor finds
    it; ENCO-SKELETON-OBJECT-WITHOUT-TEMPLATE)."""
    by_hash: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, Any]] = {}
    for entry in as_list(structure.get("skeleton_templates")):
        template = as_dict(entry).get("template")
        if not isinstance(template, dict) or not isinstance(template.get("skeleton"), dict):
            continue
        feature, name = as_str(template.get("feature_node_hash")), as_str(template.get("name"))
        if feature is not None:
            by_hash.setdefault(feature, template)
        if name is not None:
            by_name.setdefault(name, template)
    for feature, owner in index.objects.items():
        if owner.shape != "skeleton":
            continue
        template = by_hash.get(feature) or by_name.get(owner.name)
        if template is None:
            continue
        points = [p for p in template["skeleton"].values() if isinstance(p, dict)]
        hashes = frozenset(
            h
            for p in points
            if (h := as_str(p.get("featureHash")) or as_str(p.get("feature_hash"))) is not None
        )
        index.skeletons[feature] = (str(template.get("name", "")), hashes, len(template["skeleton"]))


def _add_attribute(
    index: Ontology, owner: Owner, node: Any, parent_option: str | None, depth: int
) -> Attribute | None:
    feature = as_str(as_dict(node).get("featureNodeHash"))
    if feature is None or depth > 50:
        return None
    attribute = Attribute(
        feature,
        str(node.get("name", "")),
        as_str(node.get("type")),
        node.get("required") is True,
        node.get("dynamic") is True,
        parent_option=parent_option,
    )
    owner.attributes.setdefault(feature, attribute)
    index.kinds.setdefault(feature, "attribute")
    for option in as_list(node.get("options")):
        option_hash = as_str(as_dict(option).get("featureNodeHash"))
        if option_hash is None:
            continue
        attribute.options.add(option_hash)
        index.kinds.setdefault(option_hash, "option")
        if attribute.type != "radio":
            continue  # the SDK reads nested attributes under radio options only
        for nested in as_list(option.get("options")):
            added = _add_attribute(index, owner, nested, option_hash, depth + 1)
            if added is not None:
                owner.nested.setdefault(option_hash, []).append(added)
    return attribute


# ------------------------------------------------------------------------------------- ontology-aware rules


def _range_object_answers(row: Row) -> Iterator[tuple[Path, dict[str, Any]]]:
    """object_answers entries that are objects themselves (audio, text, HTML, objects placed via spaces)."""
    for key, entry in as_dict(row.row.get("object_answers")).items():
        if isinstance(entry, dict) and (as_str(entry.get("objectHash")) or key) in row.range_objects:
            yield (*row.path, "object_answers", key), entry


@rule("ENC-OBJECT-FEATURE-UNKNOWN")
def object_feature_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    if ontology is None:
        return
    for row in label_rows(ctx):
        candidates = [(item.path, item.obj) for item in row.objects]
        candidates += [(p, e) for p, e in _range_object_answers(row) if row.data_type in RANGE_TYPES]
        for path, obj in candidates:
            feature = as_str(obj.get("featureHash"))
            if feature is not None and feature not in ontology.objects:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'featureHash "{feature}" of object "{obj.get("objectHash")}" is not an object class of '
                    "the "
                    "ontology (the SDK raises OntologyError)",
                    ontology.kind_hint(feature) or "",
                )


@rule("ENC-CLASSIFICATION-FEATURE-UNKNOWN")
def classification_feature_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    if ontology is None:
        return
    for row in label_rows(ctx):
        candidates = list(row.classifications)
        for key, entry in as_dict(row.row.get("classification_answers")).items():
            if isinstance(entry, dict):
                candidates.append(((*row.path, "classification_answers", key), entry))
        for path, item in candidates:
            feature = as_str(item.get("featureHash"))
            if feature is not None and feature not in ontology.classifications:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'featureHash "{feature}" of classification "{item.get("classificationHash")}" is not a '
                    "classification of the ontology (the SDK raises OntologyError)",
                    ontology.kind_hint(feature) or "",
                )


@rule("ENC-SHAPE-MISMATCH")
def shape_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    if ontology is None:
        return
    for row in label_rows(ctx):
        for item in row.objects:
            owner = ontology.objects.get(str(item.obj.get("featureHash")))
            shape = item.obj.get("shape")
            if owner is None or owner.shape is None or not isinstance(shape, str) or shape == owner.shape:
                continue
            yield (
                to_pointer((*item.path, "shape")),
                f'object "{item.obj.get("objectHash")}" is a {shape} but its ontology class "{owner.name}" '
                "is drawn "
                f"as {owner.shape} (the SDK raises LabelRowError)",
            )
        if row.data_type not in RANGE_TYPES:
            continue
        expected = "audio" if row.data_type == "audio" else "text"
        for path, entry in _range_object_answers(row):
            owner = ontology.objects.get(str(entry.get("featureHash")))
            if owner is not None and owner.shape is not None and owner.shape != expected:
                yield (
                    to_pointer((*path, "featureHash")),
                    f'object "{entry.get("objectHash")}" of a {row.data_type} row belongs to the class '
                    f'"{owner.name}", drawn as {owner.shape}; expected a class of shape {expected}',
                )


@rule("ENC-SKELETON-TEMPLATE-MISMATCH")
def skeleton_template_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    if ontology is None or not ontology.skeletons:
        return
    for row in label_rows(ctx):
        for item in row.objects:
            linked = ontology.skeletons.get(str(item.obj.get("featureHash")))
            points = item.obj.get("skeleton")
            if linked is None or item.obj.get("shape") != "skeleton" or not isinstance(points, dict):
                continue
            name, hashes, count = linked
            if len(points) != count:
                yield (
                    to_pointer((*item.path, "skeleton")),
                    f"skeleton has {len(points)} point(s) but its template {name!r} has {count}: the editor "
                    "draws the template's points and edges",
                )
                continue
            for key, point in points.items():
                feature = as_str(as_dict(point).get("featureHash"))
                if feature is not None and hashes and feature not in hashes:
                    yield (
                        to_pointer((*item.path, "skeleton", key, "featureHash")),
                        f'skeleton point featureHash "{feature}" is not a point of the template {name!r}',
                    )


@dataclass(slots=True)
class _AnswerList:
    path: Path
    answers: list[Any]
    owner: Owner
    dynamic: bool  # object_actions
    static_objects: bool  # object_answers of an object


def _answer_lists(row: Row, ontology: Ontology) -> Iterator[_AnswerList]:
    for section, list_key in (("object_answers", "classifications"), ("object_actions", "actions")):
        for key, entry in as_dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            object_hash = as_str(entry.get("objectHash")) or key
            feature = row.object_features.get(object_hash) or as_str(entry.get("featureHash"))
            owner = ontology.objects.get(feature) if feature else None
            answers = entry.get(list_key)
            if owner is not None and isinstance(answers, list):
                yield _AnswerList(
                    (*row.path, section, key, list_key),
                    answers,
                    owner,
                    dynamic=section == "object_actions",
                    static_objects=section == "object_answers",
                )
    for key, entry in as_dict(row.row.get("classification_answers")).items():
        if not isinstance(entry, dict):
            continue
        feature = as_str(entry.get("featureHash")) or row.classification_features.get(key)
        owner = ontology.classifications.get(feature) if feature else None
        answers = entry.get("classifications")
        if owner is not None and isinstance(answers, list):
            yield _AnswerList(
                (*row.path, "classification_answers", key, "classifications"),
                answers,
                owner,
                dynamic=False,
                static_objects=False,
            )


_Answered = tuple[_AnswerList, int, dict[str, Any], Attribute | None]


def _answered(ctx: RuleContext) -> list[_Answered]:
    """Every answer of every list whose owner is known, with its ontology attribute (None if unknown).

    Built once per document: seven rules read it."""
    return ctx.memo(_collect_answered)


def _collect_answered(ctx: RuleContext) -> list[_Answered]:
    ontology = ontology_of(ctx)
    if ontology is None:
        return []
    answered: list[_Answered] = []
    append = answered.append
    for row in label_rows(ctx):
        for answer_list in _answer_lists(row, ontology):
            attributes = answer_list.owner.attributes
            for n, answer in enumerate(answer_list.answers):
                if type(answer) is dict or isinstance(answer, dict):
                    feature = answer.get("featureHash")
                    if isinstance(feature, str):
                        append((answer_list, n, answer, attributes.get(feature)))
    return answered


@rule("ENC-ATTRIBUTE-UNKNOWN")
def attribute_unknown(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None and ontology is not None:
            feature = answer["featureHash"]
            yield (
                to_pointer((*answer_list.path, n, "featureHash")),
                f'answer to attribute "{feature}", which is not an attribute of "{answer_list.owner.name}" '
                "in the "
                "ontology (the SDK raises LabelRowError)",
                ontology.kind_hint(feature) or "",
            )


@rule("ENC-OPTION-UNKNOWN")
def option_unknown(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None or attribute.type not in ("radio", "checklist"):
            continue
        for m, option in enumerate(as_list(answer.get("answers"))):
            feature = as_str(as_dict(option).get("featureHash"))
            if feature is not None and feature not in attribute.options:
                yield (
                    to_pointer((*answer_list.path, n, "answers", m, "featureHash")),
                    f'option "{feature}" is not an option of the {attribute.type} attribute '
                    f'"{attribute.name}" '
                    "(the SDK raises OntologyError)",
                )


_EXPECTED_FORM = {
    "radio": "a list holding one option",
    "checklist": "a list of options",
    "text": "a string",
    "numeric": "a number",
}


def _form_fits(attribute_type: str, answers: Any) -> bool:
    if attribute_type in ("radio", "checklist"):
        return isinstance(answers, list)
    if attribute_type == "text":
        return isinstance(answers, str)
    return isinstance(answers, (int, float)) and not isinstance(answers, bool)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


@rule("ENC-ANSWER-TYPE-MISMATCH")
def answer_type_mismatch(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None or attribute.type not in _EXPECTED_FORM or "answers" not in answer:
            continue
        value = answer["answers"]
        if _form_fits(attribute.type, value):
            continue
        consequence = {
            "radio": "the SDK silently ignores it (or raises TypeError on a 1-character string)",
            "checklist": "the SDK raises TypeError",
            "text": "the SDK stores it unchecked",
            "numeric": "the SDK raises LabelRowError",
        }[attribute.type]
        yield (
            to_pointer((*answer_list.path, n, "answers")),
            f'{attribute.type} attribute "{attribute.name}" is answered with {_describe(value)}; expected '
            f"{_EXPECTED_FORM[attribute.type]} ({consequence})",
        )


@rule("ENC-RADIO-ANSWER-COUNT")
def radio_answer_count(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        value = answer.get("answers")
        if (
            attribute is not None
            and attribute.type == "radio"
            and isinstance(value, list)
            and len(value) != 1
        ):
            yield (
                to_pointer((*answer_list.path, n, "answers")),
                f'radio attribute "{attribute.name}" has {len(value)} options selected; a radio answer holds '
                "exactly one (the SDK silently ignores any other count)",
            )


@rule("ENC-NESTED-ANSWER-UNSELECTED")
def nested_answer_unselected(ctx: RuleContext) -> Iterator[Hit]:
    selected_by_list: dict[int, set[str]] = {}
    for answer_list, n, _answer, attribute in _answered(ctx):
        if attribute is None or attribute.parent_option is None or answer_list.dynamic:
            continue
        selected = selected_by_list.get(id(answer_list.answers))
        if selected is None:
            selected = {
                feature
                for item in answer_list.answers
                if isinstance(item, dict)
                for option in as_list(item.get("answers"))
                if (feature := as_str(as_dict(option).get("featureHash"))) is not None
            }
            selected_by_list[id(answer_list.answers)] = selected
        if attribute.parent_option not in selected:
            yield (
                to_pointer((*answer_list.path, n)),
                f'nested attribute "{attribute.name}" is answered, but the option '
                f'"{attribute.parent_option}" it '
                "hangs under is not selected in the same answer list",
            )


@rule("ENC-DYNAMIC-ANSWER-STATIC")
def dynamic_answer_static(ctx: RuleContext) -> Iterator[Hit]:
    for answer_list, n, answer, attribute in _answered(ctx):
        if answer_list.static_objects and attribute is not None and attribute.dynamic:
            if "range" in answer:  # 0.1.211 reads only the range (trackHash is never read)
                continue
            yield (
                to_pointer((*answer_list.path, n)),
                f'dynamic attribute "{attribute.name}" is answered in object_answers without a range '
                "(the SDK raises KeyError); dynamic answers belong in object_actions",
            )


def _frame_pairs(value: Any) -> list[tuple[int, int]] | None:
    """The inclusive (start, end) pairs of a dynamic answer's ``range``, or None when it is not readable."""
    if not isinstance(value, list):
        return None
    pairs = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)):
            return None
        pairs.append((pair[0], pair[1]))
    return pairs


def _answer_value(answer: dict[str, Any]) -> Any:
    """What an answer sets: its option featureHashes (radio, checklist) or its value (text, numeric)."""
    value = answer.get("answers")
    if isinstance(value, list):
        return frozenset(
            str(item.get("featureHash")) if isinstance(item, dict) else repr(item) for item in value
        )
    return repr(value)


def _overlap(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> bool:
    return any(max(a, c) <= min(b, d) for a, b in first for c, d in second)


@rule("ENC-DYNAMIC-ANSWER-OVERRIDDEN")
def dynamic_answer_overridden(ctx: RuleContext) -> Iterator[Hit]:
    # encord 0.1.211 reads a ranged dynamic answer in object_answers onto its frames, then object_actions
    # onto theirs: on a frame both answer differently, the object_actions answer replaces this one.
    actions: dict[tuple[Any, ...], list[tuple[list[tuple[int, int]], Any]]] = {}
    ranged: list[tuple[_AnswerList, int, dict[str, Any], Attribute, list[tuple[int, int]]]] = []
    for answer_list, n, answer, attribute in _answered(ctx):
        if attribute is None or not attribute.dynamic:
            continue
        pairs = _frame_pairs(answer.get("range"))
        if pairs is None:
            continue
        owner = (*answer_list.path[:-3], answer_list.path[-2], answer["featureHash"])
        if answer_list.dynamic:
            actions.setdefault(owner, []).append((pairs, _answer_value(answer)))
        elif answer_list.static_objects:
            ranged.append((answer_list, n, answer, attribute, pairs))
    for answer_list, n, answer, attribute, pairs in ranged:
        owner = (*answer_list.path[:-3], answer_list.path[-2], answer["featureHash"])
        value = _answer_value(answer)
        if any(other != value and _overlap(pairs, theirs) for theirs, other in actions.get(owner, [])):
            yield (
                to_pointer((*answer_list.path, n)),
                f'dynamic attribute "{attribute.name}" is answered in object_answers on frames where '
                "object_actions answers it differently: the SDK keeps the object_actions answer there and "
                "this one is lost",
            )


@rule("ENC-REQUIRED-ATTRIBUTE-UNANSWERED")
def required_attribute_unanswered(ctx: RuleContext) -> Iterator[Hit]:
    ontology = ontology_of(ctx)
    if ontology is None:
        return
    for row in label_rows(ctx):
        answered = _answered_features(row)
        seen: set[str] = set()
        for item in row.objects:
            object_hash = object_hash_of(item.obj)
            if object_hash is None or object_hash in seen:
                continue
            seen.add(object_hash)
            owner = ontology.objects.get(str(item.obj.get("featureHash")))
            if owner is not None:
                yield from _missing_required(
                    owner, answered.get(("o", object_hash), set()), item.path, object_hash
                )
        for path, entry in _range_object_answers(row):
            object_hash = as_str(entry.get("objectHash")) or str(path[-1])
            owner = ontology.objects.get(str(entry.get("featureHash")))
            if owner is not None and object_hash not in seen:
                seen.add(object_hash)
                yield from _missing_required(
                    owner, answered.get(("o", object_hash), set()), path, object_hash
                )
        seen_classes: set[str] = set()
        instances = [
            (path, c.get("classificationHash"), c.get("featureHash")) for path, c in row.classifications
        ]
        for key, entry in as_dict(row.row.get("classification_answers")).items():
            if isinstance(entry, dict) and "createdBy" in entry:
                instances.append(((*row.path, "classification_answers", key), key, entry.get("featureHash")))
        for path, class_hash, feature in instances:
            if not isinstance(class_hash, str) or class_hash in seen_classes:
                continue
            seen_classes.add(class_hash)
            owner = ontology.classifications.get(str(feature))
            if owner is not None:
                yield from _missing_required(owner, answered.get(("c", class_hash), set()), path, class_hash)


def _answered_features(row: Row) -> dict[tuple[str, str], set[str]]:
    answered: dict[tuple[str, str], set[str]] = {}
    sections = (("object_answers", "classifications", "o"), ("object_actions", "actions", "o"))
    for section, list_key, kind in (*sections, ("classification_answers", "classifications", "c")):
        for key, entry in as_dict(row.row.get(section)).items():
            if not isinstance(entry, dict):
                continue
            owner_hash = key if kind == "c" else (as_str(entry.get("objectHash")) or key)
            target = answered.setdefault((kind, owner_hash), set())
            for answer in as_list(entry.get(list_key)):
                if isinstance(answer, dict) and isinstance(answer.get("featureHash"), str):
                    target.add(answer["featureHash"])
                    for option in as_list(answer.get("answers")):
                        feature = as_str(as_dict(option).get("featureHash"))
                        if feature is not None:
                            target.add(feature)
    return answered


def _missing_required(owner: Owner, answered: set[str], path: Path, instance: str) -> Iterator[Hit]:
    pending = list(owner.top)
    while pending:
        attribute = pending.pop()
        if attribute.hash in answered:
            for option in attribute.options & answered:
                pending.extend(owner.nested.get(option, []))
        elif attribute.required:
            yield (
                to_pointer(path),
                f'required attribute "{attribute.name}" ({attribute.hash}) of "{owner.name}" is not '
                "answered for "
                f'instance "{instance}"',
            )


# -------------------------------------------------------------------------------------- encord-ontology rules


def _ontology_root(document: Any) -> tuple[dict[str, Any], Path]:
    """The ontology structure of an encord-ontology document and its path in the document (an API
    response holds it under ``editor``); an empty structure when the document is not an object."""
    inner, path = unwrap("encord-ontology", document)
    return (inner if isinstance(inner, dict) else {}), path


def _ontology_nodes(document: Any) -> Iterator[tuple[Path, dict[str, Any], bool]]:
    """Every object, classification, attribute and option of an ontology, as (path, node, dynamic-ok).

    ``dynamic-ok`` is true only for the top-level attributes of object classes.
    """
    structure, root = _ontology_root(document)
    stack: list[tuple[Path, Any, bool, int]] = []
    for section in ("objects", "classifications"):
        for n, item in enumerate(as_list(structure.get(section))):
            if isinstance(item, dict):
                yield (*root, section, n), item, False
                for a, attribute in enumerate(as_list(item.get("attributes"))):
                    stack.append(((*root, section, n, "attributes", a), attribute, section == "objects", 0))
    stack.reverse()
    while stack:
        path, node, dynamic_ok, depth = stack.pop()
        if not isinstance(node, dict) or depth > 100:
            continue
        yield path, node, dynamic_ok
        children: list[tuple[Path, Any, bool, int]] = []
        for o, option in enumerate(as_list(node.get("options"))):
            children.append(((*path, "options", o), option, False, depth + 1))
        stack.extend(reversed(children))


@dataclass(slots=True)
class _Node:
    """A node of the ontology tree as the SDK builds it."""

    path: Path
    hash: str | None
    kind: str  # object, classification, attribute, option
    depth: int  # 0 for objects and classifications


def _sdk_descendants(item: dict[str, Any], path: Path) -> list[_Node]:
    """The attributes and options under an object or classification, depth first in document order, as the
    SDK's _get_element_by_hash walks them: radio options hold nested attributes (NestableOption), checklist
    options none (FlatOption), text and numeric attributes no options (encord 0.1.211 attributes.py
    Attribute.from_dict, options.py)."""
    out: list[_Node] = []
    # (path, node, kind, depth, whether an option's `options` are nested attributes)
    stack: list[tuple[Path, Any, str, int, bool]] = [
        ((*path, "attributes", a), node, "attribute", 1, False)
        for a, node in reversed(list(enumerate(as_list(item.get("attributes")))))
    ]
    while stack:
        node_path, node, kind, depth, nestable = stack.pop()
        if not isinstance(node, dict) or depth > 100:
            continue
        out.append(_Node(node_path, as_str(node.get("featureNodeHash")), kind, depth))
        if kind == "attribute":
            child_kind, child_nestable = "option", node.get("type") == "radio"
            if node.get("type") not in ("radio", "checklist"):
                continue
        elif nestable:
            child_kind, child_nestable = "attribute", False
        else:
            continue
        children = as_list(node.get("options"))
        for o in range(len(children) - 1, -1, -1):
            stack.append(((*node_path, "options", o), children[o], child_kind, depth + 1, child_nestable))
    return out


def _shadowed(node: _Node, earlier: _Node, scope: str) -> Hit:
    consequence = (
        "rows naming it are read as that node"
        if earlier.kind == node.kind
        else f"the SDK finds a {earlier.kind} where it expects a {node.kind} and raises an error"
    )
    return (
        to_pointer((*node.path, "featureNodeHash")),
        f'featureNodeHash "{node.hash}" of this {node.kind} is also the hash of the {earlier.kind} at '
        f"{to_pointer(earlier.path)}, which the SDK finds first when it looks the hash up {scope}: "
        f"{consequence}",
    )


@rule("ENCO-FEATURE-NODE-HASH-DUPLICATE")
def feature_node_hash_duplicate(ctx: RuleContext) -> Iterator[Hit]:
    """A node whose hash an SDK lookup resolves to another node: object classes and classifications are
    looked up in the whole ontology (OntologyStructure.get_child_by_hash: the objects with their trees, then
    the classifications with theirs), attributes within their owner's tree (_get_attribute_by_hash), options
    within their attribute's subtree (Attribute.get_child_by_hash). Equal hashes in different scopes, such
    as attributes of two object classes, never meet."""
    structure, root = _ontology_root(ctx.document)
    everything: dict[str, _Node] = {}  # hash -> first node in the whole-ontology search order
    for section, kind in (("objects", "object"), ("classifications", "classification")):
        for n, item in enumerate(as_list(structure.get(section))):
            if not isinstance(item, dict):
                continue
            top = _Node((*root, section, n), as_str(item.get("featureNodeHash")), kind, 0)
            if top.hash is not None:
                first = everything.setdefault(top.hash, top)
                if first is not top:
                    yield _shadowed(top, first, "in the whole ontology (get_child_by_hash)")
            tree = _sdk_descendants(item, top.path)
            in_owner: dict[str, _Node] = {}
            for i, node in enumerate(tree):
                if node.hash is None:
                    continue
                everything.setdefault(node.hash, node)
                first = in_owner.setdefault(node.hash, node)
                if node.kind == "attribute":
                    if first is not node:
                        yield _shadowed(node, first, f"among the attributes of its {kind}")
                    yield from _shadowed_options(tree, i)


def _shadowed_options(tree: list[_Node], at: int) -> Iterator[Hit]:
    """Options of the attribute ``tree[at]`` whose hash an earlier node of the attribute's subtree has."""
    depth = tree[at].depth
    seen: dict[str, _Node] = {}
    for node in tree[at + 1 :]:
        if node.depth <= depth:
            break
        if node.hash is None:
            continue
        first = seen.setdefault(node.hash, node)
        if first is not node and node.kind == "option" and node.depth == depth + 1:
            yield _shadowed(node, first, "among the options of its attribute")


@rule("ENCO-DYNAMIC-NOT-TOP-LEVEL")
def dynamic_not_top_level(ctx: RuleContext) -> Iterator[Hit]:
    for path, node, dynamic_ok in _ontology_nodes(ctx.document):
        if node.get("dynamic") is True and not dynamic_ok and "type" in node:
            where = "a classification" if path[0] == "classifications" else "a nested attribute"
            yield (
                to_pointer((*path, "dynamic")),
                f'attribute "{node.get("name")}" is dynamic but is {where}; only top-level attributes of '
                "object "
                "classes can be dynamic",
            )


def _templates(document: Any) -> Iterator[tuple[Path, dict[str, Any]]]:
    structure, root = _ontology_root(document)
    for n, entry in enumerate(as_list(structure.get("skeleton_templates"))):
        template = as_dict(entry).get("template")
        if isinstance(template, dict):
            yield (*root, "skeleton_templates", n, "template"), template


@rule("ENCO-SKELETON-OBJECT-WITHOUT-TEMPLATE")
def skeleton_object_without_template(ctx: RuleContext) -> Iterator[Hit]:
    structure, root = _ontology_root(ctx.document)
    names: set[str | None] = set()
    hashes: set[str | None] = set()
    for _, template in _templates(ctx.document):
        names.add(as_str(template.get("name")))
        hashes.add(as_str(template.get("feature_node_hash")))
    for n, item in enumerate(as_list(structure.get("objects"))):
        if isinstance(item, dict) and item.get("shape") == "skeleton":
            if as_str(item.get("featureNodeHash")) in hashes or as_str(item.get("name")) in names:
                continue
            yield (
                to_pointer((*root, "objects", n)),
                f'skeleton class "{item.get("name")}" has no skeleton template (none with feature_node_hash '
                f'"{item.get("featureNodeHash")}" or name "{item.get("name")}"): its points cannot be drawn',
            )


@rule("ENCO-SKELETON-TEMPLATE-UNLINKED")
def skeleton_template_unlinked(ctx: RuleContext) -> Iterator[Hit]:
    structure, _ = _ontology_root(ctx.document)
    skeletons = {
        item["featureNodeHash"]: item.get("shape")
        for item in as_list(structure.get("objects"))
        if isinstance(item, dict) and isinstance(item.get("featureNodeHash"), str)
    }
    for path, template in _templates(ctx.document):
        feature = template.get("feature_node_hash")
        if not isinstance(feature, str):
            continue
        shape = skeletons.get(feature)
        if shape != "skeleton":
            what = "no object class" if feature not in skeletons else f"a {shape} class, not a skeleton class"
            yield (
                to_pointer((*path, "feature_node_hash")),
                f'skeleton template "{template.get("name")}" names feature_node_hash "{feature}", which is '
                f"{what}",
            )
