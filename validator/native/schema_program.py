"""A bundled draft-07 schema compiled into a flat program for the native fast path (schema.c).

The native fast path decides whether a document is valid exactly as ``jsonschema.Draft7Validator(schema)``
(no format checker) decides it, without building Python objects. ``compile_program`` turns the compiled
schema of a format (``labelspec.validator.compiler.compile_schema``) into an IR that
``labelspec._native.Schema(program.ir)`` (``ls_build`` in schema.c) loads in one pass.

Only keywords modelled exactly are compiled; any other keyword (or a malformed value, a non-local
``$ref``, a nested ``$id``, a cycle of references that never reaches a child value...) raises
:class:`NotCompilable`, and the caller keeps the reference path for that schema.

IR (``Program.ir``, a tuple, version 1)::

    ("lsir", 1, nodes, constants, patterns)

* ``nodes``: tuple of nodes; node ``i`` is a tuple of ops, each op a tuple ``(opcode, *args)``. A node is
  valid when every op is. ``()`` is the ``true`` schema, ``((OP_FALSE,),)`` the ``false`` schema.
  ``$ref`` is resolved at compile time: a schema with ``$ref`` *is* its target's node (draft 7 ignores the
  siblings of ``$ref``), so recursion is just a node index appearing inside its own subtree.
* ``constants``: bytes, one JSON array (orjson) holding every ``enum`` / ``const`` value; schema.c parses
  it into a constants tape and compares with ``lt_equal``. Args name constants by index into this array.
* ``patterns``: tuple of ``(source, re.Pattern, dfa_tables_or_None)``; args name patterns by index. The DFA
  tables come from ``regex_dfa.compile_pattern``; without them (or on a non-ASCII string) schema.c
  calls the compiled pattern's ``search``.

Ops (``-1`` means "absent" wherever a node or pattern index is optional):

=================  ================================================================================
OP_FALSE           no value is valid
OP_TYPE mask       TYPE_* bits of the allowed JSON Schema types (integer = int or integral float)
OP_ENUM consts     tuple of constant indexes; OP_CONST const: one constant index
OP_MINIMUM ...     OP_MINIMUM / OP_MAXIMUM / OP_EXCLUSIVE_MINIMUM / OP_EXCLUSIVE_MAXIMUM number (int64
                   or float); applies to numbers only (booleans are not numbers)
OP_MIN_LENGTH n    OP_MAX_LENGTH n: code points; OP_PATTERN pattern (re.search)
OP_MIN_ITEMS n     OP_MAX_ITEMS n; OP_UNIQUE_ITEMS (no args)
OP_ITEMS node      every element
OP_TUPLE_ITEMS     (nodes, additional): positional ``items`` then ``additionalItems`` (-1: unconstrained)
OP_MIN_PROPS n     OP_MAX_PROPS n
OP_OBJECT          (properties, required, pattern_properties, additional, additional_pattern,
                   property_names, dependencies): properties ``((key, node), ...)``; required
                   ``(key, ...)``; pattern_properties ``((pattern, node), ...)``; additional the
                   ``additionalProperties`` node or -1; additional_pattern the pattern index of
                   ``"|".join(patternProperties)`` (python-jsonschema's own test for "additional") or -1;
                   property_names node or -1; dependencies ``((key, node_or_tuple_of_keys), ...)``
OP_ALL_OF nodes    OP_ANY_OF nodes; OP_ONE_OF nodes; OP_NOT node; OP_IF (if, then, else)
=================  ================================================================================

Entries (``Program.entries``): ``"root"`` always; ``"head"`` and ``"rest"`` when the root is exactly "an
array whose first element is valid against ``items[0]`` and every further one against ``additionalItems``"
(then a root array is valid iff its elements are);  ``"items"`` only when the root is exactly "an array
whose every element is valid against one schema" (``type: array`` plus a single ``items`` schema, possibly
through ``$ref`` / ``allOf``, and no other keyword that constrains the whole array such as ``minItems`` or
``uniqueItems``). Then a root *array* is valid iff each element is valid against ``entries["items"]``
(``Program.items_mode`` says so; a root that is not an array needs ``"root"``). A root that is only an
object with ``properties`` and ``required`` (COCO) also gets ``"member:<key>"`` per property and
``"member-items:<key>"`` for a property that is such an array, so its big arrays can be checked one element
at a time (``_Compiler.member_entries``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from labelspec.validator.native.regex_dfa import compile_pattern

IR_MAGIC = "lsir"
IR_VERSION = 1

# Opcodes (schema.c has the same numbers).
OP_FALSE = 0
OP_TYPE = 1
OP_ENUM = 2
OP_CONST = 3
OP_MINIMUM = 4
OP_MAXIMUM = 5
OP_EXCLUSIVE_MINIMUM = 6
OP_EXCLUSIVE_MAXIMUM = 7
OP_MIN_LENGTH = 8
OP_MAX_LENGTH = 9
OP_PATTERN = 10
OP_MIN_ITEMS = 11
OP_MAX_ITEMS = 12
OP_UNIQUE_ITEMS = 13
OP_ITEMS = 14
OP_TUPLE_ITEMS = 15
OP_MIN_PROPS = 16
OP_MAX_PROPS = 17
OP_OBJECT = 18
OP_ALL_OF = 19
OP_ANY_OF = 20
OP_ONE_OF = 21
OP_NOT = 22
OP_IF = 23

TYPE_NULL = 1
TYPE_BOOLEAN = 2
TYPE_INTEGER = 4
TYPE_NUMBER = 8
TYPE_STRING = 16
TYPE_ARRAY = 32
TYPE_OBJECT = 64
TYPE_ALL = 127
_TYPE_BITS = {
    "null": TYPE_NULL,
    "boolean": TYPE_BOOLEAN,
    "integer": TYPE_INTEGER,
    "number": TYPE_NUMBER,
    "string": TYPE_STRING,
    "array": TYPE_ARRAY,
    "object": TYPE_OBJECT,
}

NONE = -1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Keywords that never change validity (draft-07 annotations, our x-* extensions). `$id` only at the root:
# a nested one would change how references resolve.
_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "examples",
        "default",
        "$schema",
        "$comment",
        "definitions",
        "readOnly",
        "writeOnly",
    }
)
_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "properties", "required", "additionalProperties", "patternProperties",
        "propertyNames", "minProperties", "maxProperties", "items", "additionalItems", "minItems",
        "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "pattern", "dependencies", "allOf", "anyOf", "oneOf", "not", "if",
        "then", "else",
    }
)  # fmt: skip
# Keywords of a root that leave "every element valid against `items`" unchanged.
_ITEM_MODE_NEUTRAL = _ANNOTATIONS | {"$id", "type", "items", "additionalItems", "allOf"}


class NotCompilable(Exception):
    """The schema uses something the native program does not model exactly: keep the reference path."""


@dataclass(frozen=True)
class Program:
    """A compiled schema program: ``ir`` goes to ``labelspec._native.Schema``; ``entries`` name nodes."""

    ir: tuple[Any, ...]
    entries: dict[str, int]
    node_count: int
    # True when entries has "items": a root array is valid iff every element is valid against it.
    items_mode: bool = False
    # The root keywords that rule out "items" mode (empty when items_mode, or when there is no items).
    items_blocked_by: tuple[str, ...] = field(default_factory=tuple)


def compile_program(schema: dict[str, Any]) -> Program:
    """Compile a bundled draft-07 schema (local ``#/...`` references only) into a :class:`Program`."""
    if not isinstance(schema, dict):
        raise NotCompilable("the root schema must be an object")
    compiler = _Compiler(schema)
    root = compiler.node(schema, is_root=True)
    entries = {"root": root}
    items, blocked = compiler.item_schema(schema)
    if items is not None and not blocked:
        entries["items"] = compiler.node(items)
    entries.update(compiler.member_entries(schema))
    head = compiler.head_and_rest(schema)
    if head is not None:
        entries["head"], entries["rest"] = compiler.node(head[0]), compiler.node(head[1])
    compiler.check_no_loops()
    ir = (IR_MAGIC, IR_VERSION, tuple(compiler.nodes), compiler.constants_blob(), tuple(compiler.patterns))
    return Program(
        ir=ir,
        entries=entries,
        node_count=len(compiler.nodes),
        items_mode="items" in entries,
        items_blocked_by=blocked if items is not None else (),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.nodes: list[tuple[Any, ...]] = []
        self.memo: dict[int, int] = {}  # id(schema dict) -> node
        self.keep: list[Any] = []  # schemas whose id() is memoised stay alive
        self.resolving: set[int] = set()
        self.constants: list[Any] = []
        self.patterns: list[tuple[str, re.Pattern[str], Any]] = []
        self.pattern_index: dict[str, int] = {}
        # Edges to nodes evaluated on the *same* value (allOf, not, if, ...): a cycle among them would
        # recurse forever (python-jsonschema raises RecursionError), so it is refused.
        self.same_value_edges: dict[int, list[int]] = {}
        self.true_node = self._add(())
        self.false_node = self._add(((OP_FALSE,),))

    # ------------------------------------------------------------------------------------------ nodes

    def _add(self, ops: tuple[Any, ...]) -> int:
        self.nodes.append(ops)
        return len(self.nodes) - 1

    def node(self, schema: Any, is_root: bool = False) -> int:
        if schema is True:
            return self.true_node
        if schema is False:
            return self.false_node
        if not isinstance(schema, dict):
            raise NotCompilable(f"a schema must be an object or a boolean, not {type(schema).__name__}")
        ref = schema.get("$ref")
        if ref is not None:
            return self._ref(ref)
        found = self.memo.get(id(schema))
        if found is not None:
            return found
        index = self._add(())
        self.memo[id(schema)] = index
        self.keep.append(schema)
        self.nodes[index] = self._ops(schema, index, is_root)
        return index

    def _ref(self, ref: Any) -> int:
        target = self._resolve(ref)
        if isinstance(target, dict) and "$ref" in target:
            if id(target) in self.resolving:
                raise NotCompilable(f"reference cycle through {ref!r}")
            self.resolving.add(id(target))
            try:
                return self.node(target)
            finally:
                self.resolving.discard(id(target))
        return self.node(target, is_root=target is self.root)

    def _same_value(self, parent: int, child: int) -> int:
        self.same_value_edges.setdefault(parent, []).append(child)
        return child

    def _ops(self, schema: dict[str, Any], index: int, is_root: bool) -> tuple[Any, ...]:
        for key in schema:
            if not isinstance(key, str):
                raise NotCompilable(f"non-string keyword {key!r}")
            if key in _KEYWORDS or key in _ANNOTATIONS or key.startswith("x-"):
                continue
            if key == "$id" and is_root:
                continue
            raise NotCompilable(f"keyword {key!r} is not compiled")
        ops: list[tuple[Any, ...]] = []
        same: Callable[[Any], int] = lambda sub: self._same_value(index, self.node(sub))  # noqa: E731

        if "type" in schema:
            mask = self._type_mask(schema["type"])
            if mask != TYPE_ALL:
                ops.append((OP_TYPE, mask))
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list):
                raise NotCompilable("enum must be a list")
            ops.append((OP_ENUM, tuple(self._constant(v) for v in values)))
        if "const" in schema:
            ops.append((OP_CONST, self._constant(schema["const"])))
        for keyword, opcode in (
            ("minimum", OP_MINIMUM),
            ("maximum", OP_MAXIMUM),
            ("exclusiveMinimum", OP_EXCLUSIVE_MINIMUM),
            ("exclusiveMaximum", OP_EXCLUSIVE_MAXIMUM),
        ):
            if keyword in schema:
                ops.append((opcode, self._bound(keyword, schema[keyword])))
        for keyword, opcode in (
            ("minLength", OP_MIN_LENGTH),
            ("maxLength", OP_MAX_LENGTH),
            ("minItems", OP_MIN_ITEMS),
            ("maxItems", OP_MAX_ITEMS),
            ("minProperties", OP_MIN_PROPS),
            ("maxProperties", OP_MAX_PROPS),
        ):
            if keyword in schema:
                ops.append((opcode, self._count(keyword, schema[keyword])))
        if "pattern" in schema:
            ops.append((OP_PATTERN, self._pattern(schema["pattern"])))
        if "uniqueItems" in schema:
            if not isinstance(schema["uniqueItems"], bool):
                raise NotCompilable("uniqueItems must be a boolean")
            if schema["uniqueItems"]:
                ops.append((OP_UNIQUE_ITEMS,))
        ops.extend(self._array_ops(schema))
        obj = self._object_op(schema, index)
        if obj is not None:
            ops.append(obj)
        for keyword, opcode in (("allOf", OP_ALL_OF), ("anyOf", OP_ANY_OF), ("oneOf", OP_ONE_OF)):
            if keyword in schema:
                subs = schema[keyword]
                if not isinstance(subs, list):
                    raise NotCompilable(f"{keyword} must be a list")
                ops.append((opcode, tuple(same(sub) for sub in subs)))
        if "not" in schema:
            ops.append((OP_NOT, same(schema["not"])))
        if "if" in schema:  # then / else without if are ignored by draft 7
            then = same(schema["then"]) if "then" in schema else NONE
            else_ = same(schema["else"]) if "else" in schema else NONE
            ops.append((OP_IF, same(schema["if"]), then, else_))
        return tuple(ops)

    def _array_ops(self, schema: dict[str, Any]) -> list[tuple[Any, ...]]:
        items = schema.get("items", {})
        if isinstance(items, list):
            positional = tuple(self.node(sub) for sub in items)
            additional = schema.get("additionalItems", True)
            extra = NONE if additional is True else self.node(additional)
            return [(OP_TUPLE_ITEMS, positional, extra)]
        if isinstance(items, bool) and "additionalItems" in schema:
            # python-jsonschema takes len() of a boolean `items` there and raises TypeError.
            raise NotCompilable("additionalItems next to a boolean items")
        if "additionalItems" in schema and not isinstance(schema["additionalItems"], (bool, dict)):
            raise NotCompilable("additionalItems must be a schema")
        if "items" not in schema:
            return []
        node = self.node(items)
        return [] if node == self.true_node else [(OP_ITEMS, node)]

    def _object_op(self, schema: dict[str, Any], index: int) -> tuple[Any, ...] | None:
        properties = schema.get("properties", {})
        pattern_properties = schema.get("patternProperties", {})
        required = schema.get("required", [])
        dependencies = schema.get("dependencies", {})
        if not isinstance(properties, dict) or not isinstance(pattern_properties, dict):
            raise NotCompilable("properties / patternProperties must be objects")
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            raise NotCompilable("required must be a list of strings")
        if not isinstance(dependencies, dict):
            raise NotCompilable("dependencies must be an object")
        props = tuple((key, self.node(sub)) for key, sub in properties.items())
        patterns = tuple((self._pattern(p), self.node(sub)) for p, sub in pattern_properties.items())
        additional = NONE
        additional_pattern = NONE
        if "additionalProperties" in schema:
            node = self.node(schema["additionalProperties"])
            if node != self.true_node:
                additional = node
                if pattern_properties:
                    additional_pattern = self._pattern("|".join(pattern_properties))
        names = NONE
        if "propertyNames" in schema:
            node = self.node(schema["propertyNames"])
            names = NONE if node == self.true_node else node
        deps: list[tuple[str, Any]] = []
        for key, dependency in dependencies.items():
            if isinstance(dependency, list):
                if not all(isinstance(k, str) for k in dependency):
                    raise NotCompilable("array dependencies must list strings")
                deps.append((key, tuple(dependency)))
            else:
                deps.append((key, self._same_value(index, self.node(dependency))))
        if not (props or patterns or required or deps) and additional == NONE and names == NONE:
            return None
        return (
            OP_OBJECT,
            props,
            tuple(required),
            patterns,
            additional,
            additional_pattern,
            names,
            tuple(deps),
        )

    # ------------------------------------------------------------------------------------- arguments

    @staticmethod
    def _type_mask(value: Any) -> int:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            raise NotCompilable("type must be a name or a list of names")
        mask = 0
        for name in names:
            if not isinstance(name, str) or name not in _TYPE_BITS:
                raise NotCompilable(f"unknown type {name!r}")
            mask |= _TYPE_BITS[name]
        return mask

    def _constant(self, value: Any) -> int:
        _check_json_value(value)
        self.constants.append(value)
        return len(self.constants) - 1

    @staticmethod
    def _bound(keyword: str, value: Any) -> int | float:
        if _is_int(value):
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise NotCompilable(f"{keyword} outside int64")
            return int(value)
        if isinstance(value, float) and not math.isnan(value):
            return value
        raise NotCompilable(f"{keyword} must be a number")

    @staticmethod
    def _count(keyword: str, value: Any) -> int:
        if not _is_int(value) or not _INT64_MIN <= value <= _INT64_MAX:
            raise NotCompilable(f"{keyword} must be an integer")
        return int(value)

    def _pattern(self, source: Any) -> int:
        if not isinstance(source, str):
            raise NotCompilable("pattern must be a string")
        found = self.pattern_index.get(source)
        if found is not None:
            return found
        try:
            compiled = re.compile(source)
        except (re.error, RecursionError, OverflowError) as exc:
            raise NotCompilable(f"pattern {source!r} does not compile: {exc}") from exc
        self.patterns.append((source, compiled, _dfa_tables(source)))
        self.pattern_index[source] = len(self.patterns) - 1
        return len(self.patterns) - 1

    def constants_blob(self) -> bytes:
        try:
            return orjson.dumps(self.constants)
        except TypeError as exc:  # pragma: no cover - _check_json_value refuses these first
            raise NotCompilable(f"constant not serialisable: {exc}") from exc

    # ------------------------------------------------------------------------------------ item mode

    def head_and_rest(self, schema: dict[str, Any]) -> tuple[Any, Any] | None:
        """(first element, every further element) schemas of a root that is exactly "an array: the first
        element valid against ``items[0]``, the others against ``additionalItems``" (DataGym's label
        classes, then tasks), else None."""
        items, rest = schema.get("items"), schema.get("additionalItems")
        if not isinstance(items, list) or len(items) != 1 or rest is None or schema.get("type") != "array":
            return None
        if any(key not in _ITEM_MODE_NEUTRAL - {"allOf"} for key in schema if not key.startswith("x-")):
            return None
        return items[0], rest

    def item_schema(self, schema: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        """The root's single ``items`` schema (through $ref / allOf) and the keywords blocking item mode."""
        conjunction: list[dict[str, Any]] = []
        pending: list[Any] = [schema]
        blocked: list[str] = []
        visited: set[int] = set()
        while pending:
            sub = pending.pop()
            while isinstance(sub, dict) and "$ref" in sub:
                if id(sub) in visited:
                    return None, ("$ref",)
                visited.add(id(sub))
                sub = self._resolve(sub["$ref"])
            if sub is True or id(sub) in visited:
                continue
            visited.add(id(sub))
            if not isinstance(sub, dict):
                return None, ("false",)
            conjunction.append(sub)
            pending.extend(sub.get("allOf", []) if isinstance(sub.get("allOf"), list) else [])
        items: list[Any] = []
        array_only = False
        for sub in conjunction:
            for key in sub:
                if key.startswith("x-"):
                    continue
                if key not in _ITEM_MODE_NEUTRAL:
                    blocked.append(key)
            if "type" in sub:
                mask = self._type_mask(sub["type"])
                if not mask & TYPE_ARRAY:
                    blocked.append("type")
                array_only = array_only or mask == TYPE_ARRAY
            if "items" in sub:
                if isinstance(sub["items"], list):
                    blocked.append("items")
                else:
                    items.append(sub["items"])
        if not items:
            return None, ()
        if len(items) > 1:
            blocked.append("items")
        if not array_only:
            blocked.append("type")
        return items[0], tuple(dict.fromkeys(blocked))

    def member_entries(self, schema: dict[str, Any]) -> dict[str, int]:
        """``member:<key>`` (the value) and ``member-items:<key>`` (each element, when the value's schema is
        exactly "an array of items") for every property of a root that is only ``type: object``,
        ``properties`` and ``required``: such a root object is valid iff each member is valid against its
        entry (other keys: anything) and the required keys are present. Empty for any other root."""
        constraining = {
            key for key in schema if key not in _ANNOTATIONS and key != "$id" and not key.startswith("x-")
        }
        properties = schema.get("properties")
        if (
            constraining - {"type", "properties", "required"}
            or schema.get("type") != "object"
            or not isinstance(properties, dict)
        ):
            return {}
        entries: dict[str, int] = {}
        for key, sub in properties.items():
            entries[f"member:{key}"] = self.node(sub)
            items, blocked = self.item_schema(sub) if isinstance(sub, dict) else (None, ())
            if items is not None and not blocked:
                entries[f"member-items:{key}"] = self.node(items)
        return entries

    def _resolve(self, ref: Any) -> Any:
        """The schema a local JSON-pointer reference names (``#`` or ``#/a/b``, ``~0``/``~1`` unescaped)."""
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise NotCompilable(f"only local references are compiled, not {ref!r}")
        target: Any = self.root
        for token in ref[2:].split("/") if ref != "#" else []:
            if "%" in token:
                raise NotCompilable(f"percent-encoded reference {ref!r}")
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                raise NotCompilable(f"unresolvable reference {ref!r}")
        return target

    # --------------------------------------------------------------------------------------- loops

    def check_no_loops(self) -> None:
        """Refuse a cycle of same-value edges (allOf / anyOf / oneOf / not / if / dependencies)."""
        state: dict[int, int] = {}  # 1 on the stack, 2 done
        for start in list(self.same_value_edges):
            if state.get(start):
                continue
            stack: list[tuple[int, int]] = [(start, 0)]
            state[start] = 1
            while stack:
                node, position = stack[-1]
                children = self.same_value_edges.get(node, [])
                if position < len(children):
                    stack[-1] = (node, position + 1)
                    child = children[position]
                    mark = state.get(child)
                    if mark == 1:
                        raise NotCompilable("a schema applies itself to the same value (infinite recursion)")
                    if mark is None:
                        state[child] = 1
                        stack.append((child, 0))
                else:
                    state[node] = 2
                    stack.pop()


def _check_json_value(value: Any) -> None:
    """A constant the native side reads back exactly: int64 ints, finite floats, str keys, UTF-8 text."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise NotCompilable("constant integer outside int64")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCompilable("non-finite constant")
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NotCompilable("constant with a lone surrogate") from exc
        return
    if isinstance(value, list):
        for item in value:
            _check_json_value(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCompilable("constant object with a non-string key")
            _check_json_value(key)
            _check_json_value(item)
        return
    raise NotCompilable(f"constant of type {type(value).__name__}")


def _dfa_tables(source: str) -> Any:
    """DFA tables for ``source`` from the regex helper, or None (schema.c then calls ``re``)."""
    try:
        return compile_pattern(source)
    except Exception:  # pragma: no cover - an unsupported pattern is None; anything else falls back too
        return None


__all__ = ["NotCompilable", "Program", "compile_program"]
