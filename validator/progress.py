"""How far validation has read into the current file, for a progress bar (bytes).

The validation paths that read a large file in order report the byte offset they have reached: the native
pass (``labelspec._native.check_file`` calls back every few MiB) and item-by-item validation (after each
batch). Nothing listens by default; the CLI listens while it validates (:func:`listening`) to draw its bar.
In-memory validation of a small file reports nothing: the file is done when it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[int], None]

_listener: Listener | None = None


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(offset)`` with the byte offset reached in the file being validated, until exit."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


def listener() -> Listener | None:
    """The current listener (None: nobody listens, do not report)."""
    return _listener


def advance(offset: int) -> None:
    """Report that the file being validated has been read up to byte ``offset``."""
    if _listener is not None:
        _listener(offset)
