"""Network safety and image sizes from URLs, against a local HTTP server on 127.0.0.1 (no other network).

- By default the fetcher refuses loopback, private, link-local (cloud metadata) addresses, before the
  request and for every redirect; ``--allow-private-network`` is the explicit allowance the tests use to
  reach their own server.
- ``--offline`` never touches the network.
- A Segments vector release whose images are URLs converts to YOLO without ``--media-dir``: the size is
  read from the image's first bytes (an HTTP Range request), cached like the bitmaps.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from labelspec.convert.fetch import FetchError, NetworkPolicy, fetch_head, fetch_one
from tests.conftest import CORPUS
from tests.convert.conftest import LocalServer, Reply

WIDTH, HEIGHT = 640, 480


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), (120, 80, 40)).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


BODY = _jpeg() + b"\0" * 200_000  # larger than the head the size needs


@pytest.fixture()
def server(http_server: LocalServer) -> LocalServer:
    """The JPEG at every path."""
    http_server.answer = lambda path: Reply(body=BODY)
    return http_server


def run(cli: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=120)


def _release(tmp_path: Path, url: str) -> Path:
    """The corpus vector release (a platform export) with its image at ``url``."""
    document = json.loads((CORPUS / "segments" / "vector-release.json").read_text(encoding="utf-8"))
    document["dataset"]["samples"][0]["attributes"]["image"]["url"] = url
    path = tmp_path / "release.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ the policy


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/a.png",
        "http://localhost:9/a.png",
        "http://[::1]:9/a.png",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata service
        "http://10.1.2.3/a.png",
        "http://192.168.0.10/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://0.0.0.0/a.png",
    ],
)
def test_private_addresses_are_refused_by_default(url: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="--allow-private-network"):
        fetch_one(url, tmp_path, retries=0)
    with pytest.raises(FetchError, match="--allow-private-network"):
        fetch_head(url, tmp_path, retries=0)


def test_the_allowance_reaches_a_local_server_and_offline_reaches_nothing(
    server: LocalServer, tmp_path: Path
) -> None:
    with pytest.raises(FetchError, match="--offline"):
        fetch_one(f"{server.url}/a.jpg", tmp_path / "offline", policy=NetworkPolicy(offline=True))
    assert server.requests == []
    path = fetch_one(f"{server.url}/a.jpg", tmp_path / "cache", policy=NetworkPolicy(allow_private=True))
    assert path.read_bytes() == BODY
    # offline still uses what the cache holds
    assert fetch_one(f"{server.url}/a.jpg", tmp_path / "cache", policy=NetworkPolicy(offline=True)) == path


def test_redirects_are_checked_too(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public host (reached through a proxy, here the local server) that redirects to a private address:
    the redirect is refused before it is followed."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "media.example.com":  # a public address; never connected to (the proxy is)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.setenv("no_proxy", "")
    for target in ("http://169.254.169.254/latest/meta-data/", f"{server.url}/secret.png"):
        server.answer = lambda path, target=target: Reply(302, headers={"Location": target})
        with pytest.raises(FetchError, match=r"redirect to .* refused.*--allow-private-network"):
            fetch_one("http://media.example.com/redirect.jpg", tmp_path, retries=0)
    assert [path for path, _ in server.requests] == ["http://media.example.com/redirect.jpg"] * 2


# ------------------------------------------------------------------------------ sizes from URLs


def test_a_vector_release_with_image_urls_converts_to_yolo_without_media_dir(
    cli: list[str], server: LocalServer, tmp_path: Path
) -> None:
    release = _release(tmp_path, f"{server.url}/assets/street-001.jpg?sig=abc")
    env_cache = tmp_path / "cache"
    out = tmp_path / "yolo"
    args = ("convert", release, "--to", "yolo", "-o", out, "--status", "all")
    refused = run(cli, *args)
    assert refused.returncode == 2 and "--allow-private-network" in refused.stderr
    assert "'street-001.jpg'" in refused.stderr and "--media-dir" in refused.stderr
    assert server.requests == [] and not out.exists()
    offline = run(cli, *args, "--offline", "--allow-private-network")
    assert (
        offline.returncode == 2 and "'street-001.jpg'" in offline.stderr and "--media-dir" in offline.stderr
    )
    assert server.requests == []  # --offline never touches the network
    result = subprocess.run(
        [*cli, *map(str, args), "--allow-private-network"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LABELSPEC_CACHE_DIR": str(env_cache)},
    )
    assert result.returncode == 0, result.stderr
    assert server.requests == [("/assets/street-001.jpg?sig=abc", "bytes=0-65535")]  # the first bytes only
    (label,) = (out / "labels").glob("*.txt")
    first = label.read_text().splitlines()[0].split()
    # the bbox [[96, 130.5], [12.3, 20]] in pixels of the 640 x 480 image
    assert [float(v) for v in first[1:]] == pytest.approx(
        [(12.3 + 96) / 2 / WIDTH, (20 + 130.5) / 2 / HEIGHT, (96 - 12.3) / WIDTH, (130.5 - 20) / HEIGHT],
        abs=1e-6,
    )
    assert yaml.safe_load((out / "data.yaml").read_text())["nc"] >= 1
    again = subprocess.run(
        [*cli, *map(str, args), "--allow-private-network", "--force"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LABELSPEC_CACHE_DIR": str(env_cache)},
    )
    assert again.returncode == 0 and len(server.requests) == 1  # the head is cached


def test_unreachable_media_names_the_file_to_put_under_media_dir(cli: list[str], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    release = _release(tmp_path, f"http://127.0.0.1:{port}/assets/5e6d0000-street.jpg")
    out = tmp_path / "c.json"
    result = run(cli, "convert", release, "--to", "coco-instance", "-o", out, "--allow-private-network")
    assert result.returncode == 2
    assert "'5e6d0000-street.jpg' under --media-dir" in result.stderr and "Traceback" not in result.stderr
