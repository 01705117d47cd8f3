"""Value types of command-line options (argparse ``type=``), shared by every command: a bad value is a
usage error (exit 2) that says what was expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole(minimum: int, what: str = "a number", floor: str | None = None) -> Callable[[str], int]:
    """A whole number of at least ``minimum``; ``what`` names it, ``floor`` says the lower bound."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {floor or f'{minimum} or more'}")
        return value

    return parse


def fraction(text: str) -> float:
    """A number between 0 and 1 (a threshold such as an IoU)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a number between 0 and 1")
    return value
