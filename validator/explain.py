"""``labelspec rules RULE-ID``: one rule explained (title, severity per profile, rationale, examples, fix)."""

from __future__ import annotations

import json
import textwrap
from typing import Any, TextIO

from labelspec.fix.catalogue import fixes_for_rule
from labelspec.validator.compiler import PROFILES, list_formats
from labelspec.validator.engine import UsageError
from labelspec.validator.report import EXIT_VALID
from labelspec.validator.rules import RuleSpec, all_entries


def find_rule(rule_id: str) -> RuleSpec:
    """A rule, or a structural finding the catalogue names (``schema_finding:`` in rules.yaml)."""
    for spec in all_entries():
        if spec.id == rule_id:
            return spec
    raise UsageError(
        f"{rule_id!r} is neither a format nor a rule id; formats: {', '.join(list_formats())}; "
        "'labelspec rules' lists the rules"
    )


def _example(value: Any) -> str:
    if isinstance(value, str):  # raw JSON text (a fault only text can carry)
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def explanation(spec: RuleSpec) -> dict[str, Any]:
    out = spec.to_json()
    out["example"] = spec.example
    out["passing_example"] = spec.passing_example
    out["fixes"] = [fix.to_json() for fix in fixes_for_rule(spec.format, spec.id)]
    return out


def explain_rule(rule_id: str, out: TextIO, as_json: bool = False) -> int:
    spec = find_rule(rule_id)
    data = explanation(spec)
    if as_json:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_VALID
    out.write(f"{spec.id}: {spec.title}\n\n")
    out.write(f"format: {spec.format}\n")
    out.write("severity: " + ", ".join(f"{p}: {s}" for p, s in spec.severity.items()) + "\n")
    found = spec.schema_finding
    if found is not None:
        where = "".join(
            [
                f", pointer matching {found.pointer}" if found.pointer else "",
                f", message containing {found.message}" if found.message else "",
            ]
        )
        out.write(f"reported by the schema as: {found.rule}{where}\n")
        missing = [p for p in PROFILES if p not in spec.severity]
        if missing:
            out.write(f"not reported under: {', '.join(missing)}\n")
    if spec.needs:
        out.write(f"runs only with: --{', --'.join(n.replace('_', '-') for n in spec.needs)}\n")
    out.write("\nwhy:\n" + textwrap.fill(" ".join(spec.rationale.split()), 100, initial_indent="    ",
                                          subsequent_indent="    ") + "\n")  # fmt: skip
    if spec.example is not None:
        out.write("\nfails (this document triggers the rule):\n" + _indent(_example(spec.example)) + "\n")
    if spec.passing_example is not None:
        out.write("\npasses (the same, fixed):\n" + _indent(_example(spec.passing_example)) + "\n")
    if data["fixes"]:
        for fix in data["fixes"]:
            out.write(f"\nfix {fix['id']} ({fix['safety']}): {fix['title']}\n")
            if fix.get("rationale"):
                out.write(
                    textwrap.fill(fix["rationale"], 100, initial_indent="    ", subsequent_indent="    ")
                    + "\n"
                )
            flag = "" if fix["safety"] == "safe" else " --unsafe-fixes"
            out.write(f"    labelspec fix EXPORT --rule {spec.id}{flag} -o FIXED\n")
    else:
        out.write("\nfix: none (labelspec fix cannot repair this mechanically)\n")
    return EXIT_VALID
