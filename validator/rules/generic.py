"""Rules for any JSON document, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labelspec.validator.rules.base import Hit, RuleContext, rule

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
        "audit": {
            "lenient": "Every producer serialises a mapping (Python json.dumps of a dict, JavaScript "
            "JSON.stringify of an object), which cannot repeat a key: a repeated key is a hand edit or a "
            "broken concatenation.",
            "strict": "Python's json.loads, which encord 0.1.211 (LabelRowV2.from_labels_dict callers), "
            "segments-ai 1.33.0 (SegmentsDataset via json.load) and pycocotools 2.0.x (COCO.__init__ "
            "json.load) read files with, silently keeps only the last value.",
        },
    }
]


@rule("JSON-DUPLICATE-KEY")
def duplicate_keys(context: RuleContext) -> Iterator[Hit]:
    for pointer in context.duplicate_keys:
        key = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        yield pointer, f"duplicate key {key!r}: the parser keeps only the last of its values"
