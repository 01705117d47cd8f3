"""The media fetcher against a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from labelspec.convert.fetch import FetchError, NetworkPolicy, cache_path, fetch, fetch_one

# the server is on 127.0.0.1, which the fetcher refuses unless explicitly allowed
LOCAL = NetworkPolicy(allow_private=True)


class Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}
    failures: ClassVar[dict[str, int]] = {}

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        hits = type(self).hits
        hits[self.path] = hits.get(self.path, 0) + 1
        if self.path.startswith("/flaky"):
            left = type(self).failures.get(self.path, 2)
            if left > 0:
                type(self).failures[self.path] = left - 1
                self.send_error(503)
                return
        if self.path == "/missing.png":
            self.send_error(404)
            return
        if self.path == "/slow.png":
            time.sleep(1.0)
        if self.path == "/redirect-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        if self.path == "/redirect-ok":
            self.send_response(302)
            self.send_header("Location", "/a.png")
            self.end_headers()
            return
        body = b"x" * 4096 if self.path == "/big.bin" else f"content of {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (size cap, timeout) are expected here


@pytest.fixture()
def server() -> Iterator[str]:
    Handler.hits = {}
    Handler.failures = {}
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_downloads_into_the_cache_and_a_cache_hit_avoids_the_second_request(
    server: str, tmp_path: Path
) -> None:
    urls = [f"{server}/a.png", f"{server}/b.png", f"{server}/a.png"]
    first = fetch(urls, tmp_path / "cache", concurrency=2, policy=LOCAL)
    assert set(first) == {urls[0], urls[1]}
    assert first[urls[0]].read_bytes() == b"content of /a.png"
    assert first[urls[0]] == cache_path(urls[0], tmp_path / "cache") and first[urls[0]].suffix == ".png"
    second = fetch(urls, tmp_path / "cache", policy=LOCAL)
    assert second == first
    assert Handler.hits == {"/a.png": 1, "/b.png": 1}
    assert not list((tmp_path / "cache").glob(".fetch-*"))  # no temporary leftovers


def test_retries_on_503_then_succeeds(server: str, tmp_path: Path) -> None:
    path = fetch_one(f"{server}/flaky.png", tmp_path, retries=3, backoff=0.01, policy=LOCAL)
    assert path.read_bytes() == b"content of /flaky.png"
    assert Handler.hits["/flaky.png"] == 3


def test_gives_up_after_the_retries(server: str, tmp_path: Path) -> None:
    Handler.failures["/flaky2.png"] = 10
    with pytest.raises(FetchError, match=r"flaky2\.png.*HTTP 503.*3 attempts"):
        fetch_one(f"{server}/flaky2.png", tmp_path, retries=2, backoff=0.01, policy=LOCAL)


def test_404_names_the_url(server: str, tmp_path: Path) -> None:
    url = f"{server}/missing.png"
    with pytest.raises(FetchError) as caught:
        fetch([url], tmp_path, policy=LOCAL)
    assert caught.value.url == url and url in str(caught.value) and "404" in str(caught.value)
    assert Handler.hits["/missing.png"] == 1  # 4xx is not retried


def test_timeout_is_a_fetch_error(server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetch_one(f"{server}/slow.png", tmp_path, timeout=0.2, retries=0, policy=LOCAL)


def test_size_cap(server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="limit of 1000"):
        fetch_one(f"{server}/big.bin", tmp_path, max_bytes=1000, policy=LOCAL)
    assert not any(tmp_path.iterdir())


def test_redirects_only_to_http(server: str, tmp_path: Path) -> None:
    # refused by urllib itself or by fetch's own redirect handler, whichever sees it first
    with pytest.raises(FetchError, match=r"redirect-file.*(not allowed|refused)"):
        fetch_one(f"{server}/redirect-file", tmp_path, retries=0, policy=LOCAL)
    assert fetch_one(f"{server}/redirect-ok", tmp_path, policy=LOCAL).read_bytes() == b"content of /a.png"


def test_local_paths_file_urls_and_media_dir(server: str, tmp_path: Path) -> None:
    local = tmp_path / "local.png"
    local.write_bytes(b"local")
    assert fetch_one(str(local), tmp_path / "cache") == local
    assert fetch_one(local.as_uri(), tmp_path / "cache") == local
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.png").write_bytes(b"from media dir")
    assert (
        fetch_one(f"{server}/some/where/a.png?sig=1", tmp_path / "cache", media_dir=media) == media / "a.png"
    )
    assert Handler.hits == {}
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
