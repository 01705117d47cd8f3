"""Process pools for validation: a *mapper* runs a function over tasks in this process or in several.

Shared by the native pass over the parts of a large file (:mod:`labelspec.validator.native.fastpath`) and by
the validation of many inputs (:mod:`labelspec.validator.scale.parallel`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

Mapper = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@contextmanager
def local_mapper(jobs: int) -> Iterator[Mapper]:
    """A mapper over ``jobs`` processes (this process alone when ``jobs`` is 1)."""
    if jobs <= 1:
        yield lambda function, tasks: map(function, tasks)
        return
    # imported here: multiprocessing and concurrent.futures cost more start-up than checking a 10 MB file,
    # and a run with one process never needs them
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start at once and inherit the compiled schemas; elsewhere the platform's default
    method = "fork" if sys.platform.startswith("linux") else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method)) as pool:
        yield lambda function, tasks: pool.map(function, tasks, chunksize=1)
