"""Fetching media (images, Segments label bitmaps) named by URL in an export, with a local cache.

:func:`fetch` resolves every URL to a local file:

* local paths and ``file:`` URLs pass through (the file must exist);
* with ``media_dir``, a file in that folder named like the URL path's basename wins over fetching
  (``--media-dir``: assets already downloaded, or exports whose URLs have expired);
* ``http:``/``https:`` URLs are downloaded into ``cache_dir`` under a name derived from the SHA-256 of the
  URL (plus the URL path's extension), so a second run does not touch the network. Downloads go to a
  temporary file that is renamed into place only when complete: the cache never holds half a file.

Downloads run in a bounded thread pool (``concurrency``), each with a socket ``timeout`` and up to
``retries`` retries with exponential backoff on connection errors, timeouts and HTTP 5xx/429 answers;
4xx answers fail at once. A download larger than ``max_bytes`` is abandoned. Redirects are followed only
to ``http``/``https`` URLs. Every failure raises :class:`FetchError` naming the URL and the reason.

Only the standard library is used (``urllib.request``).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

__all__ = ["DEFAULT_MAX_BYTES", "FetchError", "cache_path", "fetch", "fetch_one"]

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
"""The largest download accepted (512 MiB), so a hostile server cannot fill the disk."""

_CHUNK = 1 << 16
_USER_AGENT = "labelspec-fetch/1"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(OSError):
    """A URL that could not be resolved to a local file; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot fetch {url}: {reason}")
        self.url = url
        self.reason = reason


class _Retryable(Exception):
    """A failure worth another attempt (connection error, timeout, 5xx)."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (never to file:, ftp:, data: ...)."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(req.full_url, f"redirect to a non-http(s) URL refused ({newurl})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # build_opener adds the default handlers (incl. file: and ftp:), but only http(s) URLs ever reach it
    # and the redirect handler above refuses any other scheme.
    return urllib.request.build_opener(_HttpOnlyRedirects())


def cache_path(url: str, cache_dir: str | os.PathLike[str]) -> Path:
    """Where the download of ``url`` is kept: ``cache_dir/<sha256(url)><ext of the URL path>``."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    ext = posixpath.splitext(urllib.parse.urlsplit(url).path)[1].lower()
    if not (1 < len(ext) <= 8 and ext[1:].isalnum()):
        ext = ""
    return Path(cache_dir) / f"{digest}{ext}"


def _local(url: str) -> Path | None:
    """The local file a ``file:`` URL or a plain path names; None for a network URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(url, "file: URLs naming another host are not supported")
        return Path(urllib.request.url2pathname(parts.path))
    if scheme in ("http", "https"):
        return None
    # A Windows drive letter parses as a one-letter scheme; anything else with a scheme is unsupported.
    if scheme and len(scheme) > 1:
        raise FetchError(url, f"unsupported URL scheme {scheme!r} (http, https, file or a local path)")
    return Path(url)


def _from_media_dir(url: str, media_dir: Path) -> Path | None:
    name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    if not name or name in (".", ".."):
        return None
    candidate = media_dir / name
    return candidate if candidate.is_file() else None


def _download(url: str, target: Path, timeout: float, max_bytes: int) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        response = _opener().open(request, timeout=timeout)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from exc
        raise FetchError(url, f"HTTP {exc.code} {exc.reason}") from exc
    except TimeoutError as exc:
        raise _Retryable(f"timed out after {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FetchError):
            raise exc.reason from exc
        if isinstance(exc.reason, TimeoutError):
            raise _Retryable(f"timed out after {timeout:g} s") from exc
        raise _Retryable(f"connection failed ({exc.reason})") from exc
    except (ConnectionError, OSError) as exc:
        raise _Retryable(f"connection failed ({exc})") from exc
    with response:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise FetchError(url, f"the download is {int(length)} bytes, more than the limit of {max_bytes}")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".fetch-", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except TimeoutError as exc:
                        raise _Retryable(f"timed out after {timeout:g} s while reading") from exc
                    except (ConnectionError, OSError) as exc:
                        raise _Retryable(f"connection lost while reading ({exc})") from exc
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(url, f"the download exceeds the limit of {max_bytes} bytes")
                    out.write(chunk)
            if length is not None and length.isdigit() and size < int(length):
                raise _Retryable(f"the download stopped after {size} of {int(length)} bytes")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def fetch_one(
    url: str,
    cache_dir: str | os.PathLike[str],
    *,
    retries: int = 3,
    timeout: float = 30,
    media_dir: str | os.PathLike[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    backoff: float = 0.25,
    offline: bool = False,
) -> Path:
    """Resolve one URL to a local file (see the module documentation); raises :class:`FetchError`.

    ``offline``: never download; a URL that is neither under ``media_dir`` nor in the cache fails.
    """
    if media_dir is not None:
        found = _from_media_dir(url, Path(media_dir))
        if found is not None:
            return found
    local = _local(url)
    if local is not None:
        if not local.is_file():
            raise FetchError(url, f"no such file: {local}")
        return local
    target = cache_path(url, cache_dir)
    if target.is_file():
        return target
    if offline:
        raise FetchError(url, "not under the media folder nor in the cache, and fetching is off")
    attempt = 0
    while True:
        try:
            _download(url, target, timeout, max_bytes)
            return target
        except _Retryable as exc:
            if attempt >= retries:
                raise FetchError(url, f"{exc} (gave up after {attempt + 1} attempts)") from exc
            time.sleep(backoff * (2**attempt))
            attempt += 1


def fetch(
    urls: Iterable[str],
    cache_dir: str | os.PathLike[str],
    *,
    concurrency: int = 8,
    retries: int = 3,
    timeout: float = 30,
    media_dir: str | os.PathLike[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    backoff: float = 0.25,
) -> dict[str, Path]:
    """Resolve every URL to a local file, downloading at most ``concurrency`` at a time.

    Returns ``{url: path}`` for the distinct URLs given. The first failure raises :class:`FetchError`
    (after the downloads already running have finished).
    """
    unique = list(dict.fromkeys(urls))
    if not unique:
        return {}
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")

    def one(url: str) -> Path:
        return fetch_one(
            url,
            cache_dir,
            retries=retries,
            timeout=timeout,
            media_dir=media_dir,
            max_bytes=max_bytes,
            backoff=backoff,
        )

    if len(unique) == 1 or concurrency == 1:
        return {url: one(url) for url in unique}
    with ThreadPoolExecutor(max_workers=min(concurrency, len(unique))) as pool:
        return dict(zip(unique, pool.map(one, unique), strict=True))
