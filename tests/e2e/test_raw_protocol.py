"""End-to-end at the JSON-RPC level: raw framed messages a client library would never send.

Requests without `params`, with `params: null`, an array, or a string where a number
belongs each get a reply (a result, or InvalidParams -32602); none of them puts an error
in front of the user (`window/showMessage`), and the server keeps answering.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawClient:
    """Writes framed JSON-RPC to a real server over stdio and reads what comes back."""

    def __init__(self, tmp: Path) -> None:
        env = {
            **os.environ,
            "CODEASSIST_DATA_DIR": str(tmp / "data"),
            "CODEASSIST_CONFIG": str(tmp / "none.json"),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codeassist_lsp", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
        )
        self.buffer = b""
        self.received: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(_frame(message))
        self.proc.stdin.flush()

    def replies(self, ids: set[Any], timeout: float = 60) -> dict[Any, dict[str, Any]]:
        """Read until every id in `ids` was answered (or the time is up)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not ids <= {m.get("id") for m in self.received}:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                self.buffer += os.read(self.proc.stdout.fileno(), 65536)
            while b"\r\n\r\n" in self.buffer:
                header, rest = self.buffer.split(b"\r\n\r\n", 1)
                length = int(header.split(b"\r\n")[0].split(b":")[1])
                if len(rest) < length:
                    break
                self.received.append(json.loads(rest[:length]))
                self.buffer = rest[length:]
        return {m["id"]: m for m in self.received if "id" in m and m["id"] in ids}

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def test_every_request_is_answered_and_mistakes_stay_in_the_log(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        client.send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}
        )
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        hover = "textDocument/hover"
        doc = {"uri": "file:///nowhere/x.py"}
        client.send({"jsonrpc": "2.0", "id": "no-params", "method": "codeassist/status"})
        client.send({"jsonrpc": "2.0", "id": "null", "method": "codeassist/status", "params": None})
        client.send({"jsonrpc": "2.0", "id": "array", "method": hover, "params": [1, 2]})
        client.send(
            {
                "jsonrpc": "2.0",
                "id": "string",
                "method": hover,
                "params": {"textDocument": doc, "position": {"line": -1, "character": "x"}},
            }
        )
        client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"x": 1}})
        client.send({"jsonrpc": "2.0", "id": "after", "method": "codeassist/status", "params": {}})
        ids = {0, "no-params", "null", "array", "string", "after"}
        got = client.replies(ids)
        assert set(got) == ids
        for key in ("no-params", "null", "after"):
            assert got[key]["result"]["version"]
        for key in ("array", "string"):
            error = got[key]["error"]
            assert error["code"] == -32602 and error["message"].startswith("invalid params")
            assert "Traceback" not in error["message"]
        assert "position.character" in got["string"]["error"]["message"]
        shown = [m for m in client.received if m.get("method") == "window/showMessage"]
        assert shown == []
        logged = [
            m["params"]["message"]
            for m in client.received
            if m.get("method") == "window/logMessage"
        ]
        assert any("cannot read textDocument/didOpen notification" in m for m in logged)
    finally:
        client.close()


def test_the_lifecycle_rules_of_lsp_are_kept(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        status = {"jsonrpc": "2.0", "method": "codeassist/status", "params": {}}
        init = {"jsonrpc": "2.0", "method": "initialize", "params": {"capabilities": {}}}
        client.send({**status, "id": "early"})
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})  # too early
        client.send({**init, "id": 0})
        client.send({**init, "id": 1})
        client.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        client.send({**status, "id": "late"})
        got = client.replies({"early", 0, 1, 2, "late"})
        assert got["early"]["error"]["code"] == -32002  # ServerNotInitialized
        assert "capabilities" in got[0]["result"]
        assert got[1]["error"]["code"] == -32600  # a second initialize
        assert got[2]["result"] is None
        assert got["late"]["error"]["code"] == -32600  # after shutdown
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert client.proc.wait(timeout=30) == 0
    finally:
        client.close()


def test_exit_without_shutdown_ends_with_1(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        client.send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}
        )
        assert client.replies({0})
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert client.proc.wait(timeout=30) == 1
    finally:
        client.close()


def _raw(client: RawClient, data: bytes) -> None:
    assert client.proc.stdin is not None
    client.proc.stdin.write(data)
    client.proc.stdin.flush()


def _body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def test_framing_mistakes_of_clients_are_forgiven(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        init = _body(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}
        )
        _raw(client, b"content-length: %d\r\n\r\n" % len(init) + init)  # lower case
        status = _body({"jsonrpc": "2.0", "id": 1, "method": "codeassist/status", "params": {}})
        _raw(client, b"Content-Length:%d\r\n\r\n" % len(status) + status)  # no space
        lf = _body({"jsonrpc": "2.0", "id": 2, "method": "codeassist/status", "params": {}})
        _raw(
            client,
            b"Content-Length: %d\nContent-Type: application/vscode-jsonrpc\n\n" % len(lf) + lf,
        )
        long = _body({"jsonrpc": "2.0", "id": 3, "method": "codeassist/status", "params": {}})
        _raw(client, b"Content-Length: %d\r\n\r\n" % (len(long) + 40) + long)  # too large
        got = client.replies({0, 1, 2, 3}, timeout=60)
        assert set(got) == {0, 1, 2, 3}, got
        _raw(client, b"Content-Length: 15\r\n\r\n{not json at all")
        client.send({"jsonrpc": "2.0", "id": 4, "method": "shutdown"})
        assert 4 in client.replies({4}, timeout=30), "a bad body does not deafen the server"
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert client.proc.wait(timeout=30) == 0
    finally:
        client.close()


def test_a_stream_that_is_not_lsp_ends_the_server_with_an_error(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        line = b"this is not a language server protocol stream " * 40 + b"\n"
        assert client.proc.stdin is not None
        for _ in range(700):  # over a megabyte with no header in it
            try:
                _raw(client, line)
            except BrokenPipeError:
                break
        assert client.proc.wait(timeout=60) == 2
    finally:
        client.close()


def test_a_cancel_with_an_id_of_the_wrong_type_is_logged_not_shown(tmp_path: Path) -> None:
    client = RawClient(tmp_path)
    try:
        client.send(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}
        )
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        client.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": {}}})
        client.send({"jsonrpc": "2.0", "id": 1, "method": "codeassist/status", "params": {}})
        got = client.replies({0, 1})
        assert "result" in got[1]
        shown = [m for m in client.received if m.get("method") == "window/showMessage"]
        assert not shown, shown
    finally:
        client.close()
