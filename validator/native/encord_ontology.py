"""Tables of an Encord ontology for the native ontology-rule decider (labelspec/native/encord_ontology.c).

The decider answers, for one label row, "none of the ontology-aware Encord rules fires" (or "not sure").
It must index the ontology exactly as the reference does, so the tables are built from the reference's own
index (:func:`labelspec.validator.rules.encord_ontology.ontology_index`): the same first-wins choices,
depth limit, wrapped ``{"structure": ...}`` form and tolerance of malformed nodes. Every string is
interned once (``strings``); the rest refers to strings by their index (a *sid*) and to attributes by
their index.

Layout (``version`` 2)::

    {
      "version": 1,
      "present": bool,                # False: no ontology, none of the rules runs (the decider says clean)
      "rules": [rule id, ...],        # every catalogued rule that needs an ontology: one the C code does not
                                      # mirror (LONTO_RULE_IDS) makes the decider answer "not sure"
      "strings": [bytes, ...],        # UTF-8; sid = position
      "objects": [(sid, owner)],      # ontology.objects: featureNodeHash -> owner index
      "classifications": [(sid, owner)],
      "owners": [(shape_sid | -1,     # the class's shape (-1: none)
                  [attr, ...],        # top-level attributes (every one, duplicates included)
                  [(sid, attr)],      # attributes by featureNodeHash (the first of each hash)
                  [(option_sid, [attr, ...])],  # attributes nested under a radio option
                  -1 | (count, [sid, ...]))],   # skeleton template: point count, point featureHashes
      "attributes": [(hash_sid, type, required, dynamic, parent_option_sid | -1, [option_sid, ...])],
    }

``type`` is one of :data:`ATTRIBUTE_TYPES` (0: any other type, or none).
"""

from __future__ import annotations

from typing import Any

from labelspec.validator.rules import catalogue
from labelspec.validator.rules.encord_ontology import Attribute, Owner, ontology_index

TABLES_VERSION = 2
ATTRIBUTE_TYPES = {"radio": 1, "checklist": 2, "text": 3, "numeric": 4}


class _Unmodelled(Exception):
    """The ontology holds something the native decider does not model."""


class _Strings:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.encoded: list[bytes] = []

    def sid(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:  # lone surrogates: a label row's strings never equal them
                raise _Unmodelled from exc
            found = self.ids[text] = len(self.encoded)
            self.encoded.append(data)
        return found


def ontology_rules() -> list[str]:
    """Every catalogued Encord rule that runs only with an ontology (``needs: [ontology]``)."""
    return [spec.id for spec in catalogue("encord") if "ontology" in spec.needs]


def ontology_tables(
    ontology_document: Any, profile: str, rules: list[str] | None = None
) -> dict[str, Any] | None:
    """The decider's tables for ``ontology_document`` (the parsed ontology the reference path receives as
    ``RuleContext.ontology``; None when absent or unreadable), or None when it cannot be modelled.
    ``rules``: :func:`ontology_rules`, when the caller has them already (from the shipped tables).

    ``profile`` does not change these rules (their catalogue gives both profiles the same behaviour; only
    severities differ, and any finding makes a row unclean).
    """
    del profile
    if ontology_document is None:
        return {"version": TABLES_VERSION, "present": False}
    try:
        return _tables(ontology_document, ontology_rules() if rules is None else rules)
    except _Unmodelled:
        return None


def _tables(ontology_document: Any, rules: list[str]) -> dict[str, Any]:
    index = ontology_index(ontology_document)
    strings = _Strings()
    attribute_ids: dict[int, int] = {}  # id(Attribute) -> position in ``attributes``
    attributes: list[tuple[int, int, bool, bool, int, list[int]]] = []

    def attribute_id(attribute: Attribute) -> int:
        found = attribute_ids.get(id(attribute))
        if found is None:
            found = attribute_ids[id(attribute)] = len(attributes)
            attributes.append(
                (
                    strings.sid(attribute.hash),
                    ATTRIBUTE_TYPES.get(attribute.type or "", 0),
                    attribute.required,
                    attribute.dynamic,
                    -1 if attribute.parent_option is None else strings.sid(attribute.parent_option),
                    sorted(strings.sid(option) for option in attribute.options),
                )
            )
        return found

    owners: list[tuple[Any, ...]] = []

    def owner_id(owner: Owner, skeleton: tuple[str, frozenset[str], int] | None) -> int:
        owners.append(
            (
                -1 if owner.shape is None else strings.sid(owner.shape),
                [attribute_id(a) for a in owner.top],
                [(strings.sid(h), attribute_id(a)) for h, a in owner.attributes.items()],
                [(strings.sid(o), [attribute_id(a) for a in nested]) for o, nested in owner.nested.items()],
                -1 if skeleton is None else (skeleton[2], sorted(strings.sid(h) for h in skeleton[1])),
            )
        )
        return len(owners) - 1

    objects = [
        (strings.sid(h), owner_id(owner, index.skeletons.get(h))) for h, owner in index.objects.items()
    ]
    classifications = [(strings.sid(h), owner_id(owner, None)) for h, owner in index.classifications.items()]
    return {
        "version": TABLES_VERSION,
        "present": True,
        "rules": rules,
        "strings": strings.encoded,
        "objects": objects,
        "classifications": classifications,
        "owners": owners,
        "attributes": attributes,
    }
