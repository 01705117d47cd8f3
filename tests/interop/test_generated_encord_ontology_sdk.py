"""Generated strict Encord ontologies load in the Encord SDK (encord 0.1.211, offline) and round-trip.

The oracle is ``encord.objects.ontology_structure.OntologyStructure``: ``from_dict`` must read every
generated ontology (global classifications, both spellings of skeleton templates) and ``to_dict`` must give
back the same ontology, up to what the SDK writes differently by design: ``archived: false`` on every node
and the camelCase spelling of skeleton-template keys (ENCO-D06). The SDK's own output must then be a fixed
point of another load and write.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from labelspec.generators.fixtures import mutants
from labelspec.generators.fixtures.common import RandomDraw

pytestmark = pytest.mark.interop

from encord.objects.classification import Classification  # noqa: E402
from encord.objects.ontology_structure import OntologyStructure  # noqa: E402

SEEDS = range(12)
_CAMEL = {"skeleton_edges": "skeletonEdges", "feature_hash": "featureHash"}


def _normal(node: Any, in_template: bool = False) -> Any:
    """The ontology without default ``archived: false`` and with the SDK's template key spelling."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "archived" and value is False:
                continue
            name = _CAMEL.get(key, key) if in_template else key
            out[name] = _normal(value, in_template or key == "template")
        return out
    if isinstance(node, list):
        return [_normal(item, in_template) for item in node]
    return node


def _round_trip(document: dict[str, Any]) -> dict[str, Any]:
    return OntologyStructure.from_dict(json.loads(json.dumps(document))).to_dict()


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_strict_ontologies_load_and_round_trip(seed: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="encord")
    subject = mutants.build_subject(RandomDraw(f"ontology-sdk/{seed}"), "encord-ontology", "strict")
    ontology = subject.document
    structure = OntologyStructure.from_dict(json.loads(json.dumps(ontology)))
    written = structure.to_dict()
    assert _normal(written) == _normal(ontology)
    assert _round_trip(written) == written
    global_hashes = {c["featureNodeHash"] for c in ontology["classifications"] if c.get("level") == "global"}
    loaded = {c.feature_node_hash for c in structure.classifications if isinstance(c, Classification)}
    assert global_hashes <= loaded
    assert {c.feature_node_hash for c in structure.classifications if c.is_global} == global_hashes


def test_generated_ontologies_carry_both_template_spellings_and_global_classifications() -> None:
    """The forms the SDK test above must see, over its seeds (else it would check nothing new)."""
    seen: set[str] = set()
    for seed in SEEDS:
        ontology = mutants.build_subject(
            RandomDraw(f"ontology-sdk/{seed}"), "encord-ontology", "strict"
        ).document
        seen |= {"global" for c in ontology["classifications"] if c.get("level") == "global"}
        for entry in ontology["skeleton_templates"]:
            seen |= set(entry["template"]) & {"skeleton_edges", "skeletonEdges"}
    assert seen == {"global", "skeleton_edges", "skeletonEdges"}
