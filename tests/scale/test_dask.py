"""Validation on a Dask cluster (several worker processes) gives the report of the local path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labelspec.validator.scale.parallel import validate_paths

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster(fixtures: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labelspec.dask import validate_on_dask
    from labelspec.validator.native import fastpath

    entries = fixtures[("encord", True)] + fixtures[("segments", False)] + fixtures[("datagym", True)]
    paths = [e["path"] for e in entries]
    rows = [row for e in fixtures[("encord", False)] for row in json.loads(Path(e["path"]).read_text())]
    large = tmp_path / "large.json"
    large.write_text(json.dumps(rows * 4))
    paths.append(str(large))
    local = validate_paths(paths, stream=True)  # the reference path (tests/scale turn the native one off)
    # on the cluster with the native fast path (the Encord files), as users run it; workers inherit this
    monkeypatch.setenv("LABELSPEC_NATIVE", "1")
    fastpath.native.cache_clear()
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = validate_on_dask(paths, client, stream=True)
    assert on_dask.to_json() == local.to_json()
    monkeypatch.setenv("LABELSPEC_NATIVE", "0")
    fastpath.native.cache_clear()
    assert validate_paths(paths, stream=False).to_json() == local.to_json()
