"""Configuration of the native Encord rule decider (``labelspec/native/encord_rules.c``).

The decider answers, for one label row, "certainly none of the Encord rules that need no ontology fires"
(or "not certain"). :func:`decider_config` tells it which of those rules count under a profile: every
catalogued rule of the format (and the generic JSON rules) that runs without an ontology or a PNG folder,
as :func:`labelspec.validator.rules.semantic_findings` selects them. A rule id the C code does not know
makes it answer "not certain" for every row, so a rule added to the catalogue without a native twin costs
speed, never correctness.
"""

from __future__ import annotations

from typing import Any

from labelspec.validator.compiler import PROFILES
from labelspec.validator.rules import catalogue
from labelspec.validator.rules.encord_index import EPS

# The tolerance of the [0, 1] coordinate checks: the reference's own.
COORDINATE_EPS = EPS


def decider_config(profile: str) -> dict[str, Any]:
    """``{"rules": [rule ids], "eps": float}``: the rules without ontology that count under ``profile``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    rules = [
        spec.id
        for spec in catalogue("encord")
        if "ontology" not in spec.needs
        and "png_dir" not in spec.needs
        and spec.severity.get(profile, "error") in ("error", "warning")
    ]
    return {"rules": rules, "eps": COORDINATE_EPS}
