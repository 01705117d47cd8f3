"""Types of the C extension labelspec._native (labelspec/native/module.c): the native fast path."""

from collections.abc import Callable
from typing import Any

class Schema:
    """A compiled schema program (IR from labelspec.validator.native.schema_program.compile_program)."""

    def __init__(self, ir: Any, /) -> None: ...
    def valid(self, data: bytes, entry: int, /) -> bool: ...

class Regex:
    """A pattern compiled to a DFA (tables from labelspec.validator.native.regex_dfa.compile_pattern)."""

    def __init__(self, tables: Any, /) -> None: ...
    def search(self, text: str, /) -> bool | None: ...

class EncordRules:
    """The Encord rules that need no ontology, as a clean decider (labelspec.validator.native.encord_rows)."""

    def __init__(self, config: Any, /) -> None: ...
    def row_clean(self, row: bytes, index: int = 0, /) -> bool: ...

class EncordOntology:
    """The Encord ontology rules, as a clean decider (labelspec.validator.native.encord_ontology)."""

    def __init__(self, tables: Any, /) -> None: ...
    def row_clean(self, row: bytes, /) -> bool: ...

class DataGymRules:
    """The DataGym rules, as a clean decider over tasks (labelspec.validator.native.datagym_rules)."""

    def __init__(self, config: Any, /) -> None: ...

def check_file(
    path: str,
    schema: Schema,
    root: int,
    items: int,
    rules: EncordRules | DataGymRules | None = None,
    ontology: EncordOntology | None = None,
    max_dirty: int = 0,
    start: int = -1,
    stop: int = -1,
    progress: Callable[[int], object] | None = None,
    progress_step: int = 4 << 20,
    head: int = -1,
) -> dict[str, Any]:
    """The native verdict on one export file (see module.c check_file)."""

def check_coco(
    path: str,
    schema: Schema,
    members: dict[str, tuple[int, int]],
    deny: tuple[str, ...],
    samples: int = 5,
    progress: Any = None,
    progress_step: int = ...,
    ranges: bool = False,
    panoptic: bool = False,
) -> dict[str, Any]:
    """A COCO instance file's streaming pass (labelspec/native/coco.c): complete, reason, offset; when
    complete also keys, samples and columns (see validator/native/coco.py; ranges: also the byte offsets
    of every element, columns image_at / annotation_at / category_at)."""

def coco_rule_ids() -> tuple[str, ...]: ...
def coco_panoptic_rule_ids() -> tuple[str, ...]: ...
def head_items(path: str, limit: int, /) -> list[tuple[int, int]] | None: ...
def parse_check(data: bytes, /) -> tuple[bool, str, int]: ...
def json_equal(left: bytes, right: bytes, /) -> bool: ...
def ontology_rule_ids() -> tuple[str, ...]: ...
def datagym_rule_ids() -> tuple[str, ...]: ...
def row_rule_ids() -> tuple[str, ...]:
    """The rules the EncordRules decider mirrors (or the parser enforces)."""
