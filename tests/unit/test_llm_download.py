"""`models pull` against a real HTTP server on loopback that honours Range requests."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from codeassist_lsp.llm import store
from codeassist_lsp.llm.download import pull
from codeassist_lsp.llm.errors import ModelUnavailable

BODY = b"GGUF" + bytes(range(256)) * 4096  # ~1 MB
SHA = hashlib.sha256(BODY).hexdigest()


class Server(ThreadingHTTPServer):
    body = BODY
    drop_after: ClassVar[list[int]] = []  # per next request: bytes sent before hanging up
    ranges: ClassVar[list[str | None]] = []
    honour_range = True


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if not self.path.startswith("/files/"):
            self.send_error(404)
            return
        body = self.server.body
        header = self.headers.get("Range")
        self.server.ranges.append(header)
        start = 0
        match = re.match(r"bytes=(\d+)-", header or "")
        if match and self.server.honour_range:
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        data = body[start:]
        if self.server.drop_after:
            data = data[: self.server.drop_after.pop(0)]
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.drop_after, srv.ranges, srv.honour_range = [], [], True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(srv: Server, name: str = "Tiny-Q4.gguf") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/files/{name}"


def test_pull_downloads_verifies_and_registers(server: Server, tmp_path: Path) -> None:
    path = pull(url(server), SHA, tmp_path)
    assert path == tmp_path / "models" / "Tiny-Q4.gguf"
    assert path.read_bytes() == BODY
    assert server.ranges == [None]
    assert store.resolve("Tiny-Q4", tmp_path).sha256 == SHA
    assert not list((tmp_path / "models").glob(".*.partial"))


def test_dropped_connection_resumes_with_a_range_request(server: Server, tmp_path: Path) -> None:
    server.drop_after = [300_000, 200_000]
    path = pull(url(server), SHA, tmp_path, name="resumed")
    assert path.read_bytes() == BODY
    assert server.ranges == [None, "bytes=300000-", "bytes=500000-"]


def test_a_later_run_resumes_the_partial_file(server: Server, tmp_path: Path) -> None:
    server.drop_after = [400_000] * 3
    with pytest.raises(ModelUnavailable, match="run the same command again to resume"):
        pull(url(server), SHA, tmp_path, name="later", attempts=1)
    partial = tmp_path / "models" / ".later.gguf.partial"
    assert partial.stat().st_size == 400_000
    server.drop_after = []
    path = pull(url(server), SHA, tmp_path, name="later")
    assert path.read_bytes() == BODY
    assert server.ranges[-1] == "bytes=400000-"


def test_server_without_range_support_restarts_cleanly(server: Server, tmp_path: Path) -> None:
    server.drop_after = [250_000]
    server.honour_range = False
    assert pull(url(server), SHA, tmp_path, name="norange").read_bytes() == BODY


def test_wrong_checksum_deletes_the_download(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not match --sha256"):
        pull(url(server), "0" * 64, tmp_path, name="bad")
    assert list((tmp_path / "models").iterdir()) == []


def test_bad_arguments_and_http_errors_are_clear(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="64 hexadecimal"):
        pull(url(server), "xyz", tmp_path)
    with pytest.raises(ModelUnavailable, match="HTTP 404"):
        pull(f"http://127.0.0.1:{server.server_address[1]}/x", SHA, tmp_path, attempts=1)
