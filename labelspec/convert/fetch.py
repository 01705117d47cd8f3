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

Network safety (:class:`NetworkPolicy`): an export can come from anyone and its URLs can point anywhere, so
by default a URL whose host is, or resolves to, a loopback, private, link-local (cloud metadata services
such as 169.254.169.254), shared, multicast, reserved or unspecified address is refused, before the
request and again for every redirect; ``allow_private`` (``--allow-private-network``) lifts that.
``offline`` (``--offline``) never touches the network: only files under ``media_dir``, local files and
what the cache already holds are used.

:func:`fetch_head` fetches only the first bytes of a URL (an HTTP ``Range`` request), cached like whole
downloads, so that an image's size can be read from its header without downloading the image.

Only the standard library is used (``urllib.request``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import posixpath
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HEAD_BYTES",
    "FetchError",
    "NetworkPolicy",
    "cache_path",
    "check_url",
    "fetch",
    "fetch_head",
    "fetch_one",
]

HEAD_BYTES = 64 * 1024
"""How much of an image :func:`fetch_head` reads: enough for the header of every format Pillow sizes
(a JPEG's EXIF block comes before its frame header and can be tens of kilobytes)."""

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


@dataclass(frozen=True)
class NetworkPolicy:
    """What the fetcher may reach: nothing at all (``offline``), or public addresses only unless
    ``allow_private``."""

    offline: bool = False
    allow_private: bool = False


def _forbidden(address: str) -> str | None:
    """Why an IP address may not be fetched from by default, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata services live there)", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("shared (carrier-grade NAT)", ip in ipaddress.ip_network("100.64.0.0/10")),
    ):
        if flag:
            return kind
    return None


def check_url(url: str, policy: NetworkPolicy) -> None:
    """Raise :class:`FetchError` if ``policy`` does not allow fetching ``url`` (its host's addresses)."""
    if policy.offline:
        raise FetchError(url, "not fetched: --offline never touches the network")
    if policy.allow_private:
        return
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise FetchError(url, "the URL names no host")
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {host} ({exc})") from exc
    for info in infos:
        address = str(info[4][0])
        why = _forbidden(address)
        if why is not None:
            raise FetchError(
                url,
                f"refused: {host} is a {why} address ({address}); an export's URLs must not reach "
                "this machine or its network unless --allow-private-network is given",
            )


class _Retryable(Exception):
    """A failure worth another attempt (connection error, timeout, 5xx)."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (never to file:, ftp:, data: ...) that the policy allows."""

    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__()
        self.policy = policy

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(req.full_url, f"redirect to a non-http(s) URL refused ({newurl})")
        try:
            check_url(newurl, self.policy)
        except FetchError as exc:
            raise FetchError(req.full_url, f"redirect to {newurl} {exc.reason}") from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(policy: NetworkPolicy) -> urllib.request.OpenerDirector:
    # build_opener adds the default handlers (incl. file: and ftp:), but only http(s) URLs ever reach it
    # and the redirect handler above refuses any other scheme.
    return urllib.request.build_opener(_HttpOnlyRedirects(policy))


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


def _download(
    url: str, target: Path, timeout: float, max_bytes: int, policy: NetworkPolicy, head: int | None = None
) -> None:
    """Download ``url`` into ``target`` (atomically); with ``head``, only its first ``head`` bytes."""
    check_url(url, policy)
    headers = {"User-Agent": _USER_AGENT}
    if head is not None:
        headers["Range"] = f"bytes=0-{head - 1}"
        max_bytes = head
    request = urllib.request.Request(url, headers=headers)
    try:
        response = _opener(policy).open(request, timeout=timeout)
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
        if head is not None:
            length = None  # a server that ignores Range sends the whole file: its first bytes are kept
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
                        if head is not None:
                            out.write(chunk[: len(chunk) - (size - max_bytes)])
                            break
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
    policy: NetworkPolicy = NetworkPolicy(),
) -> Path:
    """Resolve one URL to a local file (see the module documentation); raises :class:`FetchError`.

    ``offline`` (or ``policy.offline``): never download; a URL that is neither under ``media_dir`` nor in
    the cache fails.
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
    if offline or policy.offline:
        raise FetchError(
            url,
            "not under the media folder nor in the cache, and fetching is off (--offline never touches "
            "the network)",
        )
    return _download_with_retries(url, target, timeout, max_bytes, policy, retries, backoff, None)


def fetch_head(
    url: str,
    cache_dir: str | os.PathLike[str],
    *,
    nbytes: int = HEAD_BYTES,
    retries: int = 2,
    timeout: float = 15,
    backoff: float = 0.25,
    policy: NetworkPolicy = NetworkPolicy(),
) -> Path:
    """The first ``nbytes`` of ``url`` (an HTTP ``Range`` request), cached as ``<sha256(url)>.head``."""
    target = Path(cache_dir) / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()}.head"
    if target.is_file():
        return target
    whole = cache_path(url, cache_dir)
    if whole.is_file():  # the whole file is cached already
        return whole
    return _download_with_retries(url, target, timeout, nbytes, policy, retries, backoff, nbytes)


def _download_with_retries(
    url: str,
    target: Path,
    timeout: float,
    max_bytes: int,
    policy: NetworkPolicy,
    retries: int,
    backoff: float,
    head: int | None,
) -> Path:
    attempt = 0
    while True:
        try:
            _download(url, target, timeout, max_bytes, policy, head)
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
    policy: NetworkPolicy = NetworkPolicy(),
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
            policy=policy,
        )

    if len(unique) == 1 or concurrency == 1:
        return {url: one(url) for url in unique}
    with ThreadPoolExecutor(max_workers=min(concurrency, len(unique))) as pool:
        return dict(zip(unique, pool.map(one, unique), strict=True))
