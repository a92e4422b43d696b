"""Serving LSP over stdin/stdout with the forgiving reader of `framing.py`.

Replaces pygls's `start_io` loop. Messages are read and decoded on a daemon thread (a
blocked read never holds up the process's exit) and handled on the event loop in order.
A stream that cannot be read as LSP ends the server with exit code 2, so that the editor
restarts it instead of talking to a deaf process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from codeassist_lsp.framing import FrameReader, StreamBroken

log = logging.getLogger(__name__)

BROKEN_STREAM_EXIT = 2
_END = object()


def serve_stdio(
    server: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> int:
    """Serve until `exit` or the end of input; the process's exit code when the stream
    broke (else 0: the protocol's own exit code applies)."""
    source = stdin or sys.stdin.buffer
    stop = server._stop_event = threading.Event()  # what pygls's own loop sets up
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    reader = FrameReader(_raw_reader(source))
    outcome = 0
    try:
        outcome = asyncio.run(_serve(server, reader, stop))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
    return outcome


def _raw_reader(stream: BinaryIO) -> Callable[[int], bytes]:
    """Read the file descriptor itself: a daemon thread blocked inside a buffered
    reader's lock aborts the interpreter at exit ("could not acquire lock")."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return getattr(stream, "read1", stream.read)
    return lambda n: os.read(fd, n)


def _decode(reader: FrameReader, body: bytes) -> Any:
    """The JSON of a body, or of its salvaged head; None when it has no JSON."""
    try:
        return json.loads(body)
    except ValueError:
        head = reader.salvage(body)
        if head is not None:
            return json.loads(head)
    log.warning("dropped a message that is not JSON: %r", body[:200])
    return None


async def _serve(server: LanguageServer, reader: FrameReader, stop: threading.Event) -> int:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def pump() -> None:
        try:
            while True:
                body = reader.next_body()
                if body is None:
                    break
                data = _decode(reader, body)
                if data is not None:
                    loop.call_soon_threadsafe(queue.put_nowait, data)
            loop.call_soon_threadsafe(queue.put_nowait, _END)
        except (StreamBroken, OSError) as exc:
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        except RuntimeError:
            pass  # the loop is closed: the server has stopped

    threading.Thread(target=pump, name="lsp-stdin", daemon=True).start()
    protocol = server.protocol
    while not stop.is_set():
        data = await queue.get()
        if data is _END:
            return 0
        if isinstance(data, Exception):
            log.error("the client's stream cannot be read as LSP (%s); exiting", data)
            return BROKEN_STREAM_EXIT
        if not isinstance(data, dict):
            log.warning("dropped a message that is not a JSON object: %r", str(data)[:200])
            continue
        try:
            message = protocol.structure_message(data)
            protocol.handle_message(message)
        except Exception as exc:
            log.exception("unable to handle a message")
            server._report_server_error(exc, JsonRpcException)
    return 0
