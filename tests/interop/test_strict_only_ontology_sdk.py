"""Every strict-only error of the `encord-ontology` profile is an ontology encord 0.1.211 refuses or loses.

Strict means "the current SDK loads it with no loss". The ontology is built with the SDK's own builders and
written with ``OntologyStructure.to_dict`` (``encord_sdk_build.ontology_dict``, at test time); each proof
below breaks it in exactly the way one strict-only constraint (a schema site only the strict profile has,
``labelspec.audit.sites``) or rule forbids, checks that strict reports an error and lenient does not, and
shows that ``OntologyStructure.from_dict`` raises or that ``to_dict`` of what it read has lost the part.
A strict-only site or rule without a proof here fails ``test_every_strict_only_error_is_proven``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.interop

from encord.objects.ontology_structure import OntologyStructure  # noqa: E402
from encord_sdk_build import ontology_dict  # noqa: E402
from strict_only import errors, strict_only_errors  # noqa: E402

FORMAT = "encord-ontology"


def _errors(document: Any, profile: str) -> set[tuple[str, str]]:
    return errors(document, FORMAT, profile)


def _sdk(document: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """What the SDK writes back after reading ``document`` (None and why when it raises)."""
    try:
        return json.loads(json.dumps(OntologyStructure.from_dict(document).to_dict())), ""
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"


def _first(document: dict[str, Any], attribute_type: str) -> dict[str, Any]:
    for owner in document["objects"] + document["classifications"]:
        for attribute in owner.get("attributes", []):
            if attribute["type"] == attribute_type:
                return attribute
    raise AssertionError(f"the SDK-built ontology has no {attribute_type} attribute")


def _nested_attribute() -> dict[str, Any]:
    return {
        "id": "9.9",
        "name": "extra",
        "type": "text",
        "featureNodeHash": "extraTxt",
        "required": False,
        "dynamic": False,
    }


def _options_on_a_checklist_option(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    _first(document, "checklist")["options"][0]["options"] = [_nested_attribute()]
    return lambda written: "extraTxt" not in json.dumps(written)


def _options_on_a_text_attribute(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    _first(document, "text")["options"] = [
        {"id": "9.9.1", "label": "x", "value": "x", "featureNodeHash": "extraOpt"}
    ]
    return lambda written: "extraOpt" not in json.dumps(written)


def _attribute_without_required(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    del _first(document, "radio")["required"]
    return lambda written: True  # from_dict reads it by key: no output expected


def _unknown_level(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    document["classifications"][0]["level"] = "frame"
    return lambda written: written["classifications"][0].get("level") != "frame"


def _classification_without_attributes(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    document["classifications"][0]["attributes"] = []
    return lambda written: True  # attributes[0]: no output expected


def _sibling_options_sharing_a_hash(document: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    radio = next(
        a
        for a in (o for c in document["objects"] for o in c.get("attributes", []))
        if len(a.get("options", [])) > 1
    )
    first, second = radio["options"][0], radio["options"][1]
    second["featureNodeHash"] = first["featureNodeHash"]
    structure = OntologyStructure.from_dict(document)
    found = structure.get_child_by_hash(first["featureNodeHash"])
    # the SDK resolves the hash to one option only: an answer naming the second cannot be expressed
    return lambda written: getattr(found, "label", None) == first["label"]


# strict-only site (or rule) -> how to break the SDK-written ontology that way, returning the loss check
PROOFS: dict[str, Callable[[dict[str, Any]], Callable[[dict[str, Any]], bool]]] = {
    "flat_option.options maxItems": _options_on_a_checklist_option,
    "ontology_attribute/allOf/2/then.options maxItems": _options_on_a_text_attribute,
    "ontology_attribute required": _attribute_without_required,
    "ontology_classification.level enum": _unknown_level,
    "ontology_classification.attributes minItems": _classification_without_attributes,
    "ENCO-FEATURE-NODE-HASH-DUPLICATE": _sibling_options_sharing_a_hash,
}


def test_every_strict_only_error_is_proven() -> None:
    assert set(PROOFS) == strict_only_errors(FORMAT)


@pytest.mark.parametrize("error", sorted(PROOFS))
def test_strict_only_error_is_refused_or_lost_by_the_sdk(error: str) -> None:
    written = ontology_dict()
    assert _sdk(written)[0] is not None and not _errors(written, "strict")  # the SDK's own ontology
    broken = copy.deepcopy(written)
    lost = PROOFS[error](broken)
    strict_only = _errors(broken, "strict") - _errors(broken, "lenient")
    assert strict_only, f"{error}: strict reports nothing that lenient does not"
    expected = error if error.startswith("ENCO-") else f"schema.{error.split()[-1]}"
    assert expected in {rule for rule, _ in strict_only}, (error, strict_only)
    again, _ = _sdk(broken)
    assert again is None or lost(again), f"{error}: encord reads and writes it back without loss"
