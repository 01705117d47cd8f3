"""Integers read from text (YOLO tokens, Encord's numeric strings) without ever raising.

CPython refuses to convert a decimal string of more digits than ``sys.get_int_max_str_digits()`` (4300 by
default since 3.11 and 3.10.7) and raises ValueError, a defence against quadratic conversion time. The
vendor SDKs that read such strings with ``int()`` fail on them the same way, so a longer string is not a
number any consumer can use: these helpers answer None for it, and the schema or rule that reads the
value reports it where it is.
"""

from __future__ import annotations

import sys


def int_digit_limit() -> int:
    """The most digits ``int()`` converts on this interpreter (0: no limit)."""
    getter = getattr(sys, "get_int_max_str_digits", None)
    return int(getter()) if getter is not None else 0


def convertible(text: str) -> bool:
    """Whether ``int(text)`` stays within the interpreter's digit limit (sign and zeros count, as there)."""
    limit = int_digit_limit()
    return limit == 0 or len(text) - (text[:1] in ("+", "-")) <= limit


def int_of_digits(text: str) -> int | None:
    """``int(text)`` for a decimal integer string within the digit limit, otherwise None."""
    if not convertible(text):
        return None
    try:
        return int(text)
    except ValueError:
        return None
