"""Project configuration: ``[tool.labelspec]`` in ``pyproject.toml``, or a ``labelspec.toml``.

Looked up from the current folder upwards (the first folder holding either file wins; in one folder
``labelspec.toml`` wins over ``pyproject.toml``), or given with ``--config FILE``. Every key is
optional; command-line flags override it. An unknown key, rule id, format, profile or severity is a
usage error naming it (exit code 2), like ruff and mypy treat their configuration.

```toml
[tool.labelspec]
profile = "strict"
fail-on = "warning"          # exit 1 on warnings too
max-findings = 50            # per document, in text output
select = ["ENC", "schema"]   # only these rules (ids or prefixes); default: all
ignore = ["ENC-POLYGON-FORMS-DIFFER"]
exclude = ["fixtures/broken/**"]

[tool.labelspec.severity]    # severity overrides, for both profiles
ENC-OBJECT-ANSWER-ORPHAN = "error"

[tool.labelspec.format]      # format per glob (default: detected)
"exports/encord/*.json" = "encord"

[tool.labelspec.ontology]    # Encord ontology per glob
"exports/encord/**" = "ontologies/main.json"
```
"""

from __future__ import annotations

import fnmatch
import functools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from labelspec.validator.engine import UsageError
from labelspec.validator.report import FileReport, Finding, Severity

SEVERITIES: tuple[Severity, ...] = ("error", "warning")
KEYS = frozenset(
    {"profile", "fail-on", "max-findings", "select", "ignore", "exclude", "severity", "format", "ontology"}
)


@dataclass(frozen=True)
class Config:
    """What a configuration file says; paths in ``ontology`` are relative to the file's folder."""

    source: str | None = None
    root: Path = field(default_factory=Path.cwd)
    profile: str | None = None
    fail_on: Severity | None = None
    max_findings: int | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    format: dict[str, str] = field(default_factory=dict)
    ontology: dict[str, str] = field(default_factory=dict)

    def format_for(self, path: str) -> str | None:
        return _first_match(self.format, path, self.root)

    def ontology_for(self, path: str) -> str | None:
        found = _first_match(self.ontology, path, self.root)
        return str(self.root / found) if found else None

    def excluded(self, path: str) -> bool:
        return any(matches_glob(glob, path, self.root) for glob in self.exclude)


def matches_glob(glob: str, path: str, root: Path) -> bool:
    """``glob`` (``**`` crosses folders) matches ``path``, taken relative to ``root`` when below it."""
    candidate = Path(path)
    try:
        relative = candidate.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        relative = PurePosixPath(path).as_posix()
    # fnmatch's * already crosses '/', so '**/' may also match nothing (a file directly in the folder).
    return any(fnmatch.fnmatchcase(relative, g) for g in {glob, glob.replace("**/", "")})


def _first_match(table: dict[str, str], path: str, root: Path) -> str | None:
    return next((value for glob, value in table.items() if matches_glob(glob, path, root)), None)


# ------------------------------------------------------------------------------------------- loading


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``labelspec.toml``, or ``pyproject.toml`` with a ``[tool.labelspec]`` table."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / "labelspec.toml"
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "labelspec" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    # imported here: most runs find no configuration file, and the parser costs start-up time
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        with path.open("rb") as stream:
            data: dict[str, Any] = tomllib.load(stream)
            return data
    except OSError as exc:
        raise UsageError(f"cannot read the configuration {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"the configuration {path} is not valid TOML: {exc}") from None


def load_config(path: Path | None) -> Config:
    """The configuration in ``path`` (None: no configuration), checked key by key."""
    if path is None:
        return Config()
    data = _read(path)
    table = data.get("tool", {}).get("labelspec", {}) if path.name == "pyproject.toml" else data
    where = f"{path} [tool.labelspec]" if path.name == "pyproject.toml" else str(path)
    return parse_config(table, source=where, root=path.parent.resolve())


def config_for(path: str | None, ignore: bool = False) -> Config:
    """The configuration a command uses: none (``--no-config``), ``--config PATH``, or the nearest one."""
    if ignore:
        return Config()
    return load_config(Path(path) if path else find_config())


def parse_config(table: Any, *, source: str, root: Path) -> Config:
    if not isinstance(table, dict):
        raise UsageError(f"{source}: expected a table of settings")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise UsageError(f"{source}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(KEYS))}")
    from labelspec.validator.compiler import PROFILES, list_formats

    profile = table.get("profile")
    if profile is not None and profile not in PROFILES:
        raise UsageError(f"{source}: unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise UsageError(f"{source}: fail-on must be 'error' or 'warning', not {fail_on!r}")
    max_findings = table.get("max-findings")
    if max_findings is not None and (not isinstance(max_findings, int) or max_findings < 1):
        raise UsageError(f"{source}: max-findings must be a positive integer, not {max_findings!r}")
    select = _rule_list(table, "select", source)
    ignore = _rule_list(table, "ignore", source) or ()
    exclude = _strings(table, "exclude", source)
    severity = _table(table, "severity", source)
    for rule_id, value in severity.items():
        check_rule_ids([rule_id], f"{source} severity")
        if value not in SEVERITIES:
            raise UsageError(f"{source}: severity of {rule_id} must be 'error' or 'warning', not {value!r}")
    formats = _table(table, "format", source)
    for glob, fmt in formats.items():
        if fmt not in list_formats():
            raise UsageError(
                f"{source}: unknown format {fmt!r} for {glob!r}; known formats: {', '.join(list_formats())}"
            )
    return Config(
        source=source,
        root=root,
        profile=profile,
        fail_on=fail_on,
        max_findings=max_findings,
        select=select,
        ignore=ignore,
        exclude=exclude,
        severity={k: v for k, v in severity.items()},
        format=formats,
        ontology=_table(table, "ontology", source),
    )


def _strings(table: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{source}: {key} must be a list of strings")
    return tuple(value)


def _rule_list(table: dict[str, Any], key: str, source: str) -> tuple[str, ...] | None:
    if key not in table:
        return None
    values = _strings(table, key, source)
    check_rule_ids(values, f"{source} {key}")
    return values


def _table(table: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise UsageError(f"{source}: {key} must be a table of strings")
    return dict(value)


# --------------------------------------------------------------------------------------- rule filters


@functools.cache
def known_rule_ids() -> frozenset[str]:
    """Every id a user may select or ignore: the catalogued rules of every format, the structural
    ``schema.<keyword>`` ids, and the catalogue's entries for structural findings (``schema_finding:``,
    which select the findings they stand for)."""
    from jsonschema import Draft7Validator

    from labelspec.validator.rules import all_entries

    ids = {spec.id for spec in all_entries()}
    ids.update(f"schema.{keyword}" for keyword in Draft7Validator.VALIDATORS)
    return frozenset(ids)


def selects(selector: str, rule_id: str) -> bool:
    """``selector`` is the rule id itself or a prefix of it ending at a '-' or '.' boundary."""
    if rule_id == selector:
        return True
    if selector.endswith(("-", ".")):
        return rule_id.startswith(selector)
    return rule_id.startswith((selector + "-", selector + "."))


def check_rule_ids(selectors: Iterable[str], where: str) -> None:
    """A selector that selects no known rule is a usage error naming it."""
    known = known_rule_ids()
    for selector in selectors:
        if not any(selects(selector, rule_id) for rule_id in known):
            raise UsageError(
                f"{where}: unknown rule id {selector!r} (see 'labelspec rules' for the catalogue)"
            )


@dataclass(frozen=True)
class RuleFilter:
    """Which findings are kept and with which severity (applied to every document's findings)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.select is not None or bool(self.ignore) or bool(self.severity)

    def keeps(self, rule_id: str, *also: str) -> bool:
        """Whether a finding of ``rule_id`` (also known by the catalogue ids ``also``) is reported."""
        if rule_id.startswith("input."):  # an unreadable input is never filtered away
            return True
        ids = (rule_id, *also)
        if self.select is not None and not any(selects(s, i) for s in self.select for i in ids):
            return False
        return not any(selects(s, i) for s in self.ignore for i in ids)

    def apply(self, file: FileReport) -> FileReport:
        findings: list[Finding] = []
        for finding in file.findings:
            also = _entry_ids(file.format, finding)
            if not self.keeps(finding.rule, *also):
                continue
            override = self._override(finding.rule, *also)
            findings.append(replace(finding, severity=override) if override else finding)
        return replace(file, findings=findings)

    def _override(self, *ids: str) -> Severity | None:
        # The most specific selector wins: an exact id over a prefix.
        matching = [s for s in self.severity if any(selects(s, i) for i in ids)]
        return self.severity[max(matching, key=len)] if matching else None


def _entry_ids(format_id: str | None, finding: Finding) -> tuple[str, ...]:
    """The ids of the catalogue entries standing for a structural finding (``schema_finding:``)."""
    if format_id is None or not finding.rule.startswith("schema."):
        return ()
    from labelspec.validator.rules import schema_entries

    return tuple(
        spec.id
        for spec in schema_entries(format_id)
        if spec.schema_finding is not None and spec.schema_finding.matches(finding)
    )


def rule_filter(config: Config, select: Sequence[str] | None, ignore: Sequence[str] | None) -> RuleFilter:
    """Command-line ``--select`` replaces the configured selection; ``--ignore`` adds to its ignores."""
    if select:
        check_rule_ids(select, "--select")
    if ignore:
        check_rule_ids(ignore, "--ignore")
    chosen = tuple(select) if select else config.select
    return RuleFilter(chosen, (*config.ignore, *(ignore or ())), dict(config.severity))


def fails(file: FileReport, fail_on: Severity) -> bool:
    """Whether ``file`` makes the run fail: unreadable, an error, or (fail-on warning) any finding."""
    if not file.readable:
        return True
    return any(f.severity == "error" or fail_on == "warning" for f in file.findings)
