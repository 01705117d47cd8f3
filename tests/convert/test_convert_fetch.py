"""The media fetcher against a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from labelspec.convert.fetch import FetchError, NetworkPolicy, cache_path, fetch, fetch_one
from tests.convert.conftest import LocalServer, Reply

# the server is on 127.0.0.1, which the fetcher refuses unless explicitly allowed
LOCAL = NetworkPolicy(allow_private=True)


def _media(failures: dict[str, int]) -> Callable[[str], Reply]:
    """A media host: ``/flaky*`` fails with 503 ``failures[path]`` times (2 unless set), ``/missing.png`` is
    404, ``/slow.png`` takes a second, ``/redirect-*`` redirect, everything else is ``content of <path>``."""

    def answer(path: str) -> Reply:
        if path.startswith("/flaky"):
            left = failures.get(path, 2)
            if left > 0:
                failures[path] = left - 1
                return Reply(503)
        if path == "/missing.png":
            return Reply(404)
        if path == "/redirect-file":
            return Reply(302, headers={"Location": "file:///etc/passwd"})
        if path == "/redirect-ok":
            return Reply(302, headers={"Location": "/a.png"})
        body = b"x" * 4096 if path == "/big.bin" else f"content of {path}".encode()
        return Reply(body=body, delay=1.0 if path == "/slow.png" else 0.0)

    return answer


@dataclass
class Media:
    url: str
    server: LocalServer
    failures: dict[str, int]


@pytest.fixture()
def server(http_server: LocalServer) -> Media:
    failures: dict[str, int] = {}
    http_server.answer = _media(failures)
    return Media(http_server.url, http_server, failures)


def test_downloads_into_the_cache_and_a_cache_hit_avoids_the_second_request(
    server: Media, tmp_path: Path
) -> None:
    urls = [f"{server.url}/a.png", f"{server.url}/b.png", f"{server.url}/a.png"]
    first = fetch(urls, tmp_path / "cache", concurrency=2, policy=LOCAL)
    assert set(first) == {urls[0], urls[1]}
    assert first[urls[0]].read_bytes() == b"content of /a.png"
    assert first[urls[0]] == cache_path(urls[0], tmp_path / "cache") and first[urls[0]].suffix == ".png"
    second = fetch(urls, tmp_path / "cache", policy=LOCAL)
    assert second == first
    assert server.server.hits() == {"/a.png": 1, "/b.png": 1}
    assert not list((tmp_path / "cache").glob(".fetch-*"))  # no temporary leftovers


def test_retries_on_503_then_succeeds(server: Media, tmp_path: Path) -> None:
    path = fetch_one(f"{server.url}/flaky.png", tmp_path, retries=3, backoff=0.01, policy=LOCAL)
    assert path.read_bytes() == b"content of /flaky.png"
    assert server.server.hits()["/flaky.png"] == 3


def test_gives_up_after_the_retries(server: Media, tmp_path: Path) -> None:
    server.failures["/flaky2.png"] = 10
    with pytest.raises(FetchError, match=r"flaky2\.png.*HTTP 503.*3 attempts"):
        fetch_one(f"{server.url}/flaky2.png", tmp_path, retries=2, backoff=0.01, policy=LOCAL)


def test_404_names_the_url(server: Media, tmp_path: Path) -> None:
    url = f"{server.url}/missing.png"
    with pytest.raises(FetchError) as caught:
        fetch([url], tmp_path, policy=LOCAL)
    assert caught.value.url == url and url in str(caught.value) and "404" in str(caught.value)
    assert server.server.hits()["/missing.png"] == 1  # 4xx is not retried


def test_timeout_is_a_fetch_error(server: Media, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetch_one(f"{server.url}/slow.png", tmp_path, timeout=0.2, retries=0, policy=LOCAL)


def test_size_cap(server: Media, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="limit of 1000"):
        fetch_one(f"{server.url}/big.bin", tmp_path, max_bytes=1000, policy=LOCAL)
    assert not any(tmp_path.iterdir())


def test_redirects_only_to_http(server: Media, tmp_path: Path) -> None:
    # refused by urllib itself or by fetch's own redirect handler, whichever sees it first
    with pytest.raises(FetchError, match=r"redirect-file.*(not allowed|refused)"):
        fetch_one(f"{server.url}/redirect-file", tmp_path, retries=0, policy=LOCAL)
    assert fetch_one(f"{server.url}/redirect-ok", tmp_path, policy=LOCAL).read_bytes() == b"content of /a.png"


def test_local_paths_file_urls_and_media_dir(server: Media, tmp_path: Path) -> None:
    local = tmp_path / "local.png"
    local.write_bytes(b"local")
    assert fetch_one(str(local), tmp_path / "cache") == local
    assert fetch_one(local.as_uri(), tmp_path / "cache") == local
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.png").write_bytes(b"from media dir")
    assert (
        fetch_one(f"{server.url}/some/where/a.png?sig=1", tmp_path / "cache", media_dir=media)
        == media / "a.png"
    )
    assert server.server.hits() == {}
    with pytest.raises(FetchError, match="no such file"):
        fetch_one(str(tmp_path / "absent.png"), tmp_path / "cache")
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        fetch_one("ftp://example.com/a.png", tmp_path / "cache")


def test_connection_refused_is_a_fetch_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="connection failed"):
        fetch_one(f"http://127.0.0.1:{port}/a.png", tmp_path, retries=1, backoff=0.01, policy=LOCAL)
