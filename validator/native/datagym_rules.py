"""Configuration of the native DataGym rule decider (``labelspec/native/datagym_rules.c``).

The decider answers, for each task of a DataGym export, "certainly none of the DataGym rules fires" (or
"not certain"), after reading the label classes of element 0. :func:`decider_config` tells it which rules
count under a profile: every catalogued rule of the format (and the generic JSON rules) that is an error
or a warning there. A rule id the C code does not mirror (``labelspec._native.datagym_rule_ids()``) makes
it answer "not certain" for every task, so a rule added to the catalogue without a native twin costs speed,
never correctness.
"""

from __future__ import annotations

from typing import Any

from labelspec.validator.compiler import PROFILES
from labelspec.validator.rules import catalogue


def decider_config(profile: str) -> dict[str, Any]:
    """``{"rules": [rule ids]}``: the rules that count under ``profile``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    rules = [
        spec.id
        for spec in catalogue("datagym")
        if spec.severity.get(profile, "error") in ("error", "warning")
    ]
    return {"rules": rules}
