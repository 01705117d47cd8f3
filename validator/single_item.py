"""Documents that are one item of a list-shaped format, such as a single Encord label row.

``LabelRowV2.to_encord_dict()`` (encord 0.1.211) and the Encord API hand out one label row as a JSON
object, while an export file is a list of them. A format declares the definition its list items follow in
its schema's ``x-format.single_item``; an object document of that format is then validated against that
definition, with pointers relative to the object (``/data_units/...``, not ``/0/data_units/...``), and the
semantic rules treat it as the only item.
"""

from __future__ import annotations

import functools
from typing import Any

from labelspec.validator.compiler import format_metadata


@functools.cache
def declared_item(format_id: str) -> str | None:
    """The definition a lone item of ``format_id`` is validated against, or None when it declares none."""
    try:
        name = format_metadata(format_id).get("single_item")
    except (OSError, KeyError, ValueError):
        return None
    return name if isinstance(name, str) else None


def item_definition(format_id: str, document: Any) -> str | None:
    """The definition to validate ``document`` against when it is a lone item (an object), else None."""
    return declared_item(format_id) if isinstance(document, dict) else None
