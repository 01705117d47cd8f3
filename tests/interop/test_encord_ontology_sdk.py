"""labelspec's strict profile of `encord-ontology` agrees with the Encord SDK (offline).

For every ontology of ``tests/corpus/encord-ontology`` the strict profile must accept exactly the files that
``encord.objects.ontology_structure.OntologyStructure.from_dict`` (encord 0.1.211) loads *without loss*:
loading succeeds, ``to_dict`` can write the structure back, and no node identifier (featureNodeHash,
featureHash) nor classification ``level`` of the input is missing from what ``to_dict`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import labelspec

pytestmark = pytest.mark.interop

ontology_structure = pytest.importorskip("encord.objects.ontology_structure")

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "encord-ontology"
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "encord-ontology" / "examples"
_HASH_KEYS = ("featureNodeHash", "feature_node_hash", "featureHash", "feature_hash")


def _entries(folder: Path) -> list[dict[str, Any]]:
    loaded = yaml.safe_load((folder / "index.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return loaded


def _collect(node: Any, keys: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                found.add(value)
            found |= _collect(value, keys)
    elif isinstance(node, list):
        for item in node:
            found |= _collect(item, keys)
    return found


def sdk_loads_without_loss(document: Any) -> bool:
    """Whether encord's OntologyStructure reads ``document`` and can write all of it back."""
    try:
        structure = ontology_structure.OntologyStructure.from_dict(document)
        written = structure.to_dict()
    except Exception:
        return False
    lost_hashes = _collect(document, _HASH_KEYS) - _collect(written, _HASH_KEYS)
    lost_levels = _collect(document, ("level",)) - _collect(written, ("level",))
    return not lost_hashes and not lost_levels


def _strict_valid(document: Any) -> bool:
    report = labelspec.validate(document, format="encord-ontology", profile="strict")
    return not any(f.severity == "error" for file in report.files for f in file.findings)


def _cases() -> list[Any]:
    cases = [pytest.param(CORPUS / e["file"], id=f"corpus/{e['file']}") for e in _entries(CORPUS)]
    cases += [pytest.param(EXAMPLES / e["file"], id=f"examples/{e['file']}") for e in _entries(EXAMPLES)]
    return cases


@pytest.mark.parametrize("path", _cases())
def test_strict_profile_agrees_with_sdk(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert _strict_valid(document) == sdk_loads_without_loss(document)


def test_corpus_strict_verdicts_match_sdk() -> None:
    """The recorded strict verdicts themselves are what the SDK does (guards the index against drift)."""
    for entry in _entries(CORPUS):
        document = json.loads((CORPUS / entry["file"]).read_text(encoding="utf-8"))
        expected = "valid" if sdk_loads_without_loss(document) else "invalid"
        assert entry["verdict"]["strict"] == expected, entry["file"]
