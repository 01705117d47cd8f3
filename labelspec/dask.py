"""Validation on a Dask cluster: a bucket of exports, and partitions of large ones, collected in one report.

Needs the ``dask`` extra (``pip install 'labelspec[dask]'``, i.e. ``dask[distributed]``)::

    from labelspec.dask import validate_on_dask

    report = validate_on_dask(paths, "tcp://scheduler:8786")          # or a distributed.Client, or "local"
    print(report.valid, len(report.findings))

Every file is one task; a large list-shaped export (Encord label rows, DataGym tasks, Segments samples) is
cut into contiguous ranges of items, one task each, which the workers validate item by item reading only
their own byte ranges of the file (see :mod:`labelspec.validator.scale.streaming`). The paths must
therefore be readable by the workers under the same names (a shared file system or mount). The report is
the one ``labelspec validate`` gives on one machine, finding for finding, and in the same order.

On the command line: ``labelspec validate --dask SCHEDULER PATH...``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from labelspec.validator.report import Report
from labelspec.validator.scale.parallel import validate_paths

__all__ = ["validate_on_dask"]


def _client(client_or_address: Any) -> tuple[Any, Callable[[], None]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installation
        from labelspec.validator.engine import UsageError

        raise UsageError("validating on Dask needs dask.distributed: pip install 'labelspec[dask]'") from exc
    if isinstance(client_or_address, Client):
        return client_or_address, lambda: None
    if client_or_address in (None, "local"):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]

        def close_local() -> None:
            client.close()  # type: ignore[no-untyped-call]
            cluster.close()

        return client, close_local
    client = Client(str(client_or_address))  # type: ignore[no-untyped-call]
    return client, client.close


def validate_on_dask(
    paths: Sequence[str | os.PathLike[str]],
    client_or_address: Any = "local",
    *,
    format: str | None = None,
    profile: str = "lenient",
    ontology: str | os.PathLike[str] | None = None,
    png_dir: str | os.PathLike[str] | None = None,
    stream: bool | None = None,
    partitions_per_worker: int = 4,
    report_ontology: bool = True,
) -> Report:
    """Validate ``paths`` on a Dask cluster and collect one :class:`~labelspec.validator.report.Report`.

    ``client_or_address``: a ``distributed.Client``, a scheduler address (``tcp://host:8786``) or
    ``"local"`` (a ``LocalCluster`` of one single-threaded worker process per core, closed afterwards).
    The other options are those of :func:`labelspec.validate`; ``stream`` as there (large list-shaped
    exports are partitioned, ``partitions_per_worker`` ranges of items per worker of the cluster).
    """
    client, close = _client(client_or_address)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))

        def mapper(function: Callable[[Any], Any], tasks: list[Any]) -> list[Any]:
            futures = client.map(function, tasks, pure=False)
            results: list[Any] = client.gather(futures)
            return results

        return validate_paths(
            paths,
            format,
            profile,
            ontology,
            png_dir,
            stream=stream,
            jobs=workers,
            mapper=mapper,
            parts_per_worker=partitions_per_worker,
            report_ontology=report_ontology,
        )
    finally:
        close()
