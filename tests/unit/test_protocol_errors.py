"""Error replies are one line: a traceback pygls attaches goes to the log, not the client."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import pytest
from pygls.exceptions import JsonRpcInternalError

from codeassist_lsp.features.log import forward_logs
from codeassist_lsp.protocol import CodeAssistServer


class Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass


def test_internal_errors_reach_the_client_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = CodeAssistServer("t", "0")
    writer = Capture()
    server.protocol.set_writer(writer)
    try:
        raise TypeError("bad operand")
    except TypeError:
        error = JsonRpcInternalError.of(sys.exc_info()).to_response_error()
    with caplog.at_level(logging.ERROR):
        server.protocol._send_response(7, error=error)
    body = b"".join(writer.sent).split(b"\r\n\r\n", 1)[1]
    reply = json.loads(body)
    assert reply["error"]["message"] == "TypeError: bad operand"
    assert "data" not in reply["error"] or not reply["error"]["data"]
    assert "Traceback" not in body.decode() and "test_protocol_errors.py" not in body.decode()
    assert "test_protocol_errors.py" in caplog.text, "the traceback is in the log"


class ClosedStream:
    """A client channel that is gone: every write fails, as after `exit` closed stdout."""

    def __init__(self) -> None:
        self.attempts = 0

    def write(self, data: bytes) -> None:
        self.attempts += 1
        raise ValueError("I/O operation on closed file")

    def close(self) -> None:
        pass


def test_a_failed_write_to_the_client_is_logged_once_not_reported_to_it_again() -> None:
    server = CodeAssistServer("t", "0")
    stream = ClosedStream()
    server.protocol.set_writer(stream)
    handler = forward_logs(server)
    try:

        async def log_an_error() -> None:
            logging.getLogger("codeassist_lsp.test").error("something the user should see")

        asyncio.run(log_an_error())
    finally:
        logging.getLogger("codeassist_lsp").removeHandler(handler)
    assert 1 <= stream.attempts <= 2, f"{stream.attempts} writes after the channel broke"
