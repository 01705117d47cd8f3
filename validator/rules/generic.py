"""Rules for any JSON document, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labelspec.validator.rules import Hit, RuleContext, rule

CATALOGUE: list[dict[str, Any]] = [
    {
        "id": "JSON-DUPLICATE-KEY",
        "severity": {"lenient": "error", "strict": "error"},
        "title": "An object has the same key twice",
        "rationale": "JSON parsers disagree on duplicate keys: Python's json module and the vendor SDKs "
        "silently keep the last value, others keep the first or fail, so one of the values is lost "
        "without a word. RFC 8259 says names SHOULD be unique.",
        "example": '{"label_hash": "a", "label_hash": "b"}',
        "passing_example": '{"label_hash": "a"}',
    }
]


@rule("JSON-DUPLICATE-KEY")
def duplicate_keys(context: RuleContext) -> Iterator[Hit]:
    for pointer in context.duplicate_keys:
        key = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        yield pointer, f"duplicate key {key!r}: the parser keeps only the last of its values"
