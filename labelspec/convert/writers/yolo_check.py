"""A clean decider for YOLO detection label files as the YOLO writer writes them (the output check of a
conversion): it answers only "certainly no finding" (True) or "not sure" (False), like the validator's
native deciders; when not sure, the caller validates the files with the reference path.

It certifies label files whose every line has exactly the writer's form, ``<class> <cx> <cy> <w> <h>``
with a class index without leading zeros and four numbers ``0.dddddd`` / ``1.dddddd`` (LF line ends, no
byte-order mark), and whose values pass what the YOLO rules check (validator/rules/yolo.py), vectorised
with numpy over a whole chunk of files:

- YOLO-LINE-ARITY: five fields (the dataset must not declare ``kpt_shape``, see :func:`names_classes`);
- YOLO-CLASS-OUT-OF-RANGE: class below the number of names (when the dataset has names);
- YOLO-COORD-OUT-OF-RANGE: every value at most 1 (the form makes them at least 0);
- YOLO-BOX-SIZE-NOT-POSITIVE: width and height above 0;
- YOLO-BOX-OUTSIDE-IMAGE: the box edges within [-1e-6, 1 + 1e-6], with a margin of 1e-9 for rounding;
- YOLO-LINE-DUPLICATE: no line repeated within a file (in this form, equal text is equal values);
- YOLO-NC-NAMES-MISMATCH, JSON-DUPLICATE-KEY and the names' schema: decided by the reference path on
  the names alone (label files have no keys).

A catalogued YOLO rule that is not listed in :data:`MIRRORED` makes the decider "not sure" for every file
(tests/convert checks the list against the catalogue).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MIRRORED = frozenset(
    {
        "YOLO-LINE-ARITY",
        "YOLO-CLASS-OUT-OF-RANGE",
        "YOLO-COORD-OUT-OF-RANGE",
        "YOLO-BOX-SIZE-NOT-POSITIVE",
        "YOLO-BOX-OUTSIDE-IMAGE",
        "YOLO-LINE-DUPLICATE",
        "YOLO-NC-NAMES-MISMATCH",
        "JSON-DUPLICATE-KEY",  # keys are in the names file only: decided with the names
    }
)
_LINES = re.compile(rb"(?:(?:0|[1-9][0-9]{0,8})(?: [01]\.[0-9]{6}){4}\n)*")
_EDGE = 1e-6 - 1e-9  # the rule's tolerance, less a margin for float rounding


def unmirrored() -> list[str]:
    """Catalogued YOLO rules this decider does not mirror (each makes it "not sure")."""
    from labelspec.validator.rules import catalogue

    return [spec.id for spec in catalogue("yolo") if spec.id not in MIRRORED]


def names_classes(document: Any) -> tuple[bool, int | None]:
    """(decidable, classes): the number of classes the parsed names document declares (a list, or a
    mapping with the keys "0".."n-1"), None when it has no names (no class check); not decidable for other
    shapes and with ``kpt_shape`` (pose datasets have other arities)."""
    if not isinstance(document, dict) or "kpt_shape" in document:
        return False, None
    names = document.get("names")
    if names is None:
        return True, None
    if isinstance(names, list):
        return True, len(names)
    if isinstance(names, dict) and list(names) == [str(i) for i in range(len(names))]:
        return True, len(names)
    return False, None


def certainly_clean(texts: Sequence[bytes], classes: int | None) -> bool:
    """Whether the label files with these contents certainly raise no finding (``classes``: see
    :func:`names_classes`)."""
    import numpy as np

    blob = b"".join(texts)
    if not _LINES.fullmatch(blob):
        return False
    for text in texts:
        lines = text.split(b"\n")  # the last part is the empty one after the final line end
        if len(lines) > 2 and len(set(lines)) != len(lines):
            return False
    if not blob:
        return True
    rows = np.array(blob.split(), dtype=np.float64).reshape(-1, 5)
    if classes is not None and not bool((rows[:, 0] < classes).all()):
        return False
    if not bool((rows[:, 1:] <= 1).all() and (rows[:, 3:] > 0).all()):
        return False
    cx, cy, w, h = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    inside = (
        (cx - w / 2 >= -_EDGE)
        & (cx + w / 2 <= 1 + _EDGE)
        & (cy - h / 2 >= -_EDGE)
        & (cy + h / 2 <= 1 + _EDGE)
    )
    return bool(inside.all())
