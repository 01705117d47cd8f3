"""Compile the YAML-authored schemas in ``schemas/`` into self-contained JSON Schema documents.

Authoring conventions are in ``schemas/README.md``. Compilation does three things:

1. bundle: every ``other.yaml#/definitions/X`` reference is replaced by ``#/definitions/X`` and the
   referenced file's definitions are merged into the root's ``definitions`` (so hypothesis-jsonschema and
   fastjsonschema, which resolve only local references, can use the result);
2. profile: ``x-profiles: {<profile>: {...}}`` overlays replace the keywords of their node;
3. publish: the result is a plain draft-07 document, its ``$id`` naming format and profile.

Nothing is ever fetched over the network.
"""

from __future__ import annotations

import copy
import functools
import marshal
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

import labelspec.schemas
from labelspec import format_ids

try:  # BLAKE2 as built into Python: hashlib first loads OpenSSL (start-up time a small validation notices)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (a Python built without it)
    from hashlib import blake2b

PROFILES: tuple[str, ...] = ("lenient", "strict")
DEFAULT_PROFILE = "lenient"
DRAFT07 = "http://json-schema.org/draft-07/schema#"
SCHEMA_ID_BASE = "https://labelspec.dev/schemas/"

# Keywords that only carry our authoring data and must not reach the compiled document.
_AUTHORING_ONLY = ("x-profiles",)


class SchemaError(Exception):
    """A schema source file is missing or malformed (a defect of labelspec, not of user input)."""


def schemas_root() -> Path:
    """The folder with one sub-folder per format (``schemas/``, or package data when installed)."""
    # the package's folder (what importlib.resources.files gives for a regular package, without its import)
    return Path(labelspec.schemas.__file__).parent


def format_dir(format_id: str) -> Path:
    path = schemas_root() / format_id
    if not (path / "schema.yaml").is_file():
        raise KeyError(f"unknown format {format_id!r}; known formats: {', '.join(list_formats())}")
    return path


@functools.cache
def list_formats() -> tuple[str, ...]:
    """Format ids, in a stable order: vendor formats first, then the interchange formats."""
    found = sorted(p.name for p in schemas_root().iterdir() if (p / "schema.yaml").is_file())
    return tuple([f for f in format_ids.IDS if f in found] + [f for f in found if f not in format_ids.IDS])


def digest(*parts: bytes) -> str:
    """A hex digest of ``parts`` (a cache key: it changes whenever one of them does)."""
    hashed = blake2b(digest_size=16)
    for part in parts:
        hashed.update(part)
    return hashed.hexdigest()


# Cached parsed YAML is written with marshal (built in, already loaded: pickle costs start-up time), whose
# format may change between Python versions: the version is part of the key.
_MARSHAL_KEY = f"{sys.version_info[0]}.{sys.version_info[1]}/{marshal.version}".encode()


@functools.cache
def load_yaml(path: Path) -> Any:
    """A parsed YAML source file; parsed once per content (cached in the cache folder: the rule catalogues
    are large and every validation reads one)."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"cannot read schema file {path}: {exc}") from exc
    folder = cache_folder()
    cache = None
    if folder is not None:
        cache = folder / f"yaml-{digest(text, Path(__file__).read_bytes(), _MARSHAL_KEY)[:24]}.marshal"
        try:
            return marshal.loads(cache.read_bytes())  # our own cache entry, written below
        except Exception:  # missing, or damaged in any way: parse again (and rewrite it)
            pass
    import yaml  # here: with a warm cache no YAML is parsed, and importing yaml costs start-up time

    # The C loader is several times faster; fall back when PyYAML was built without libyaml.
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise SchemaError(f"schema file {path} is not valid YAML: {exc}") from exc
    if cache is not None:
        try:
            data = marshal.dumps(document)
        except ValueError:  # a value marshal cannot write (a YAML timestamp): parsed again next time
            return document
        write_cache_entry(cache, data)
    return document


def cache_folder() -> Path | None:
    """The cache folder (compiled schemas, parsed YAML): ``LABELSPEC_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/labelspec``; None when ``LABELSPEC_CACHE_DIR`` is set empty (no caching)."""
    base = os.environ.get("LABELSPEC_CACHE_DIR")
    if base == "":
        return None
    home_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(base) if base else home_cache / "labelspec"


def write_cache_entry(path: Path, data: bytes, stale: str | None = None) -> bool:
    """Write a cache entry atomically; ``stale``: a glob of the entries it replaces (removed). False when
    the cache cannot be written (a read-only home is fine: the entry is computed again next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
        for old in path.parent.glob(stale) if stale else ():
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def load_format_yaml(format_id: str, name: str) -> Any:
    """A YAML file of a format folder (e.g. ``rules.yaml``, ``examples/index.yaml``), or None."""
    path = schemas_root() / format_id / name
    return load_yaml(path) if path.is_file() else None


def format_metadata(format_id: str) -> dict[str, Any]:
    """The ``x-format`` block of the format's root schema, completed with the id, title and description."""
    source = load_yaml(format_dir(format_id) / "schema.yaml")
    meta = dict(source.get("x-format") or {})
    meta.setdefault("id", format_id)
    meta.setdefault("title", source.get("title", format_id))
    meta.setdefault("description", source.get("description", ""))
    return meta


class _Bundler:
    """Inline the definitions of referenced files into one ``definitions`` map."""

    def __init__(self, root_file: Path) -> None:
        self.root_file = root_file.resolve()
        self.definitions: dict[str, Any] = {}
        self.origin: dict[str, Path] = {}
        self._loaded: set[Path] = set()

    def bundle(self) -> dict[str, Any]:
        root = copy.deepcopy(load_yaml(self.root_file))
        if not isinstance(root, dict):
            raise SchemaError(f"{self.root_file}: the root schema must be a mapping")
        own_definitions = root.pop("definitions", {}) or {}
        self._loaded.add(self.root_file)
        self._add_definitions(own_definitions, self.root_file)
        body: dict[str, Any] = self._rewrite(root, self.root_file)
        # Definitions may pull in further files while being rewritten; loop until stable.
        done: set[str] = set()
        while len(done) < len(self.definitions):
            for name in [n for n in self.definitions if n not in done]:
                self.definitions[name] = self._rewrite(self.definitions[name], self.origin[name])
                done.add(name)
        body["definitions"] = dict(sorted(self.definitions.items()))
        return body

    def _add_definitions(self, definitions: dict[str, Any], origin: Path) -> None:
        for name, schema in definitions.items():
            if name in self.definitions and self.origin[name] != origin:
                raise SchemaError(
                    f"definition {name!r} is defined in both {self.origin[name]} and {origin}; "
                    "definition names must be unique across the files of a format"
                )
            self.definitions[name] = copy.deepcopy(schema)
            self.origin[name] = origin

    def _load_file(self, path: Path) -> None:
        path = path.resolve()
        if path in self._loaded:
            return
        self._loaded.add(path)
        document = load_yaml(path)
        if not isinstance(document, dict):
            raise SchemaError(f"{path}: a definitions file must be a mapping")
        self._add_definitions(document.get("definitions", {}) or {}, path)

    def _rewrite(self, node: Any, origin: Path) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, origin) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self._rewrite_ref(value, origin)
            elif key in ("properties", "definitions", "patternProperties", "dependencies"):
                # Mappings whose keys are names, not keywords: rewrite only the values.
                out[key] = (
                    {k: self._rewrite(v, origin) for k, v in value.items()}
                    if isinstance(value, dict)
                    else value
                )
            elif key in ("examples", "default", "const", "enum", "x-profile-note"):
                out[key] = value  # data, not schema
            else:
                out[key] = self._rewrite(value, origin)
        return out

    def _rewrite_ref(self, ref: str, origin: Path) -> str:
        target, _, fragment = ref.partition("#")
        if target.startswith(("http:", "https:")):
            raise SchemaError(f"{origin}: remote reference {ref!r} is not allowed (no network)")
        if not fragment.startswith("/definitions/") and fragment not in ("", "/"):
            raise SchemaError(f"{origin}: reference {ref!r} must point at #/definitions/<name>")
        if target:
            self._load_file(origin.parent / target)
        if fragment in ("", "/"):
            raise SchemaError(f"{origin}: reference {ref!r} must name a definition")
        name = fragment.removeprefix("/definitions/")
        return f"#/definitions/{name}"


def _apply_profile(node: Any, profile: str) -> Any:
    if isinstance(node, list):
        return [_apply_profile(item, profile) for item in node]
    if not isinstance(node, dict):
        return node
    overlays = node.get("x-profiles") or {}
    unknown = set(overlays) - set(PROFILES)
    if unknown:
        raise SchemaError(f"x-profiles names unknown profile(s) {sorted(unknown)}")
    merged = {k: v for k, v in node.items() if k not in _AUTHORING_ONLY}
    merged.update(copy.deepcopy(overlays.get(profile) or {}))
    out: dict[str, Any] = {}
    for key, value in merged.items():
        if key in ("examples", "default", "const", "enum", "x-profile-note", "x-format"):
            out[key] = value
        elif key in ("properties", "definitions", "patternProperties", "dependencies") and isinstance(
            value, dict
        ):
            out[key] = {k: _apply_profile(v, profile) for k, v in value.items()}
        else:
            out[key] = _apply_profile(value, profile)
    return out


def _check_references(document: dict[str, Any], format_id: str) -> None:
    names = set(document.get("definitions", {}))
    for ref in _iter_refs(document):
        name = ref.removeprefix("#/definitions/")
        if name not in names:
            raise SchemaError(f"{format_id}: reference {ref!r} names no definition")


def _iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in ("examples", "default", "const", "enum"):
                yield from _iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_refs(item)


def compile_file(root_file: Path, profile: str, schema_id: str | None = None) -> dict[str, Any]:
    """Bundle and profile one root schema file (see the module docstring)."""
    if profile not in PROFILES:
        raise KeyError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    bundled = _Bundler(root_file).bundle()
    document: dict[str, Any] = _apply_profile(bundled, profile)
    document["$schema"] = DRAFT07
    if schema_id:
        document["$id"] = schema_id
    _check_references(document, str(root_file))
    return document


@functools.cache
def _compiled(format_id: str, profile: str) -> dict[str, Any]:
    root = format_dir(format_id) / "schema.yaml"
    schema_id = f"{SCHEMA_ID_BASE}{format_id}/{profile}.json"
    cache = _cache_file(format_id, profile)
    if cache is not None:
        try:
            cached: dict[str, Any] = orjson.loads(cache.read_bytes())
            return cached
        except (OSError, orjson.JSONDecodeError):
            pass
    document = compile_file(root, profile, schema_id)
    if cache is not None:
        _write_cache(cache, document)
    return document


def _cache_file(format_id: str, profile: str) -> Path | None:
    """Where the compiled schema is cached: keyed by a hash of every source file of the format.

    Compiling means parsing YAML, which costs more than the rest of a small validation; the cache makes
    start-up cheap. ``LABELSPEC_CACHE_DIR=`` (empty) disables it.
    """
    folder = cache_folder()
    if folder is None:
        return None
    parts = [profile.encode()]
    for path in sorted(schemas_root().rglob("*.yaml")):
        if path.parent.name != "examples" and path.name not in ("rules.yaml", "discrepancies.yaml"):
            parts += [path.relative_to(schemas_root()).as_posix().encode(), path.read_bytes()]
    parts.append(Path(__file__).read_bytes())  # the compiler itself
    return folder / f"{format_id}-{profile}-{digest(*parts)[:16]}.json"


def _write_cache(path: Path, document: dict[str, Any]) -> None:
    # Entries of earlier schema versions of the same format and profile are never read again.
    write_cache_entry(path, orjson.dumps(document), stale=f"{path.name.rsplit('-', 1)[0]}-*.json")


def compiled_cache_key(format_id: str, profile: str) -> str | None:
    """A key that changes whenever the compiled schema of ``format_id``/``profile`` may change (None when
    caching is off): for caches of what is derived from it."""
    cache = _cache_file(format_id, profile)
    return cache.name if cache is not None else None


def compile_schema(format_id: str, profile: str = DEFAULT_PROFILE) -> dict[str, Any]:
    """The self-contained draft-07 schema of ``format_id`` under ``profile`` (a fresh copy)."""
    return copy.deepcopy(_compiled(format_id, profile))


def compiled_schema_view(format_id: str, profile: str = DEFAULT_PROFILE) -> dict[str, Any]:
    """Like :func:`compile_schema` but shared and cached: callers must not mutate it."""
    return _compiled(format_id, profile)


def definition_schema(format_id: str, definition: str, profile: str = DEFAULT_PROFILE) -> dict[str, Any]:
    """A schema that validates one ``definitions`` entry of a format (for documented snippets)."""
    compiled = _compiled(format_id, profile)
    if definition not in compiled.get("definitions", {}):
        raise KeyError(f"format {format_id!r} has no definition {definition!r}")
    return {
        "$schema": DRAFT07,
        "$id": f"{SCHEMA_ID_BASE}{format_id}/{profile}.json",
        "$ref": f"#/definitions/{definition}",
        "definitions": compiled["definitions"],
    }
