"""Shared by the conversion tests: strict validation of every output, and a local HTTP server.

Every converter output written by a test of this folder is validated under the target's strict profile.

The writers validate their output before it is published (strict for coco-panoptic, datagym, encord and
segments; lenient for coco-instance and yolo, whose strict profiles name what pycocotools / ultralytics
misread). This autouse fixture wraps every registered writer so that, in the tests, an output that
passes the writer's own check is also validated with ``profile="strict"``: it must be valid, or the
conversion report must say which items strict cannot hold and why (a loss whose reason names strict).
Mask PNG targets have no JSON specification; their PNG checks are the writer's own.

Tests that fetch media use :func:`http_server`, a server on 127.0.0.1 that answers as the test says (the
tests use no other network).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from labelspec.convert.model import ConversionReport
from labelspec.convert.registry import WRITERS, WriterSpec


def strict_target(spec: WriterSpec, paths: Sequence[Path]) -> Path | None:
    """The file or folder of ``paths`` that the strict validation reads, None for PNG-only targets."""
    if spec.validates_as is None or not paths:
        return None
    if spec.target_id == "yolo":
        return paths[0].parent  # the names file is written first, at the top of the folder
    names = {"encord": "labels.json", "coco-panoptic": "panoptic.json"}
    wanted = names.get(spec.target_id)
    return next((p for p in paths if p.name == wanted), paths[0]) if wanted else paths[0]


def explained(report: ConversionReport) -> bool:
    """Whether the report says that some items cannot be held under the strict profile."""
    return any("strict" in loss.reason for loss in report.losses)


def check_strict(spec: WriterSpec, paths: Sequence[Path], report: ConversionReport | None) -> None:
    from labelspec.validator.api import validate

    target = strict_target(spec, paths)
    if target is None:
        return
    options: dict[str, Any] = {}
    if spec.target_id == "encord":
        options["ontology"] = target.parent / "ontology.json"
    if spec.target_id == "coco-panoptic":
        options["png_dir"] = target.parent / "panoptic"
    checked = validate(target, format=spec.validates_as, profile="strict", **options)
    if checked.valid:
        return
    errors = [
        f"{f.pointer}: {f.rule}: {f.message}"
        for r in checked.files
        for f in r.findings
        if f.severity == "error"
    ]
    assert report is not None and explained(report), (
        f"{spec.target_id} output is not strict-valid and the report does not say why: {errors[:5]}"
    )


@pytest.fixture(autouse=True)
def strict_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for spec in WRITERS.values():
        if spec.validates_as is None or not spec.available():
            continue  # PNG-only targets: their PNG checks are the writer's own
        writer = spec.load()
        state: dict[str, ConversionReport] = {}

        def write(
            dataset: Any,
            out: Path,
            options: Any,
            report: ConversionReport,
            _write: Any = writer.write,
            _state: dict[str, ConversionReport] = state,
        ) -> list[Path]:
            _state["report"] = report
            paths: list[Path] = _write(dataset, out, options, report)
            return paths

        def validate_output(
            paths: Sequence[Path],
            _validate: Any = writer.validate_output,
            _spec: WriterSpec = spec,
            _state: dict[str, ConversionReport] = state,
        ) -> Any:
            checked = _validate(paths)
            if checked.valid:
                check_strict(_spec, paths, _state.get("report"))
            return checked

        monkeypatch.setattr(writer, "write", write)
        if hasattr(writer, "write_groups"):  # the streamed path (a large COCO file, one image at a time)

            def write_groups(
                *args: Any,
                _write: Any = writer.write_groups,
                _state: dict[str, ConversionReport] = state,
                **kwargs: Any,
            ) -> list[Path]:
                _state["report"] = args[-1]
                paths: list[Path] = _write(*args, **kwargs)
                return paths

            monkeypatch.setattr(writer, "write_groups", write_groups)
        monkeypatch.setattr(writer, "validate_output", validate_output)
    yield


@dataclass
class Reply:
    """What the local server answers to one GET (``status`` >= 400: an error page)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait first (a slow server)


class LocalServer:
    """An HTTP server on 127.0.0.1 for one test. ``answer(path)`` gives the reply to each GET (the test sets
    it; by default 404). A 200 reply honours ``Range: bytes=0-N`` with a 206 and the first bytes, as media
    hosts do. ``requests`` lists (path, Range header) in arrival order."""

    def __init__(self) -> None:
        self.url = ""
        self.answer: Callable[[str], Reply] = lambda path: Reply(404)
        self.requests: list[tuple[str, str | None]] = []

    def hits(self) -> Counter[str]:
        """Requests per path."""
        return Counter(path for path, _ in self.requests)

    def serve_folder(self, root: Path) -> None:
        """Answer with the files under ``root`` (404 for anything else)."""

        def answer(path: str) -> Reply:
            file = root / path.split("?", 1)[0].lstrip("/")
            return Reply(body=file.read_bytes()) if file.is_file() else Reply(404)

        self.answer = answer


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        local: LocalServer = self.server.local  # type: ignore[attr-defined]
        wanted = self.headers.get("Range")
        local.requests.append((self.path, wanted))
        reply = local.answer(self.path)
        time.sleep(reply.delay)
        if reply.status >= 400:
            self.send_error(reply.status)
            return
        status, body, headers = reply.status, reply.body, dict(reply.headers)
        if status == 200 and body and wanted and wanted.startswith("bytes=0-"):
            end = min(int(wanted.removeprefix("bytes=0-")), len(body) - 1)
            status, body = 206, body[: end + 1]
            headers["Content-Range"] = f"bytes 0-{end}/{len(reply.body)}"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (size cap, timeout) are expected here


@pytest.fixture()
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A :class:`LocalServer`, reached directly (no proxy) for the test's duration."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    local = LocalServer()
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    httpd.local = local  # type: ignore[attr-defined]
    local.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield local
    finally:
        httpd.shutdown()
        httpd.server_close()
