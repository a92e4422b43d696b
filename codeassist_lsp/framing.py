"""Reading LSP messages off a byte stream, forgiving the framing mistakes clients make.

pygls's reader wants `Content-Length: N\r\n` exactly and then N bytes: a header in lower
case, without the space, with LF-only line ends, or a length larger than the body left
the server alive but deaf to everything after (even `shutdown`). Here headers are read
case-insensitively with either line end, a body that is complete JSON before its declared
length is taken at once (what followed it goes back to the stream), and a header found
inside garbage resynchronises the stream. What cannot be read as LSP at all raises
`StreamBroken`: the server then exits non-zero so the editor restarts it, never a deaf
process.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
MAX_BODY = 256 * 1024 * 1024  # a declared length past this is a broken client
MAX_GARBAGE = 1024 * 1024  # bytes without any header before the stream is given up
READ_SIZE = 65536


class StreamBroken(Exception):
    """The input cannot be read as LSP messages any more."""


class FrameReader:
    """Yields message bodies from `read(n)` (returns 1..n bytes, or b"" at the end)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        """Read more into the buffer; False at the end of the stream."""
        if self._eof:
            return False
        chunk = self._read(READ_SIZE)
        if not chunk:
            self._eof = True
            return False
        self._buffer.extend(chunk)
        return True

    def _line(self) -> bytes | None:
        """The next line (LF or CRLF ended), or None at the end of the stream."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > MAX_GARBAGE:
                raise StreamBroken(f"{len(self._buffer)} bytes without a line end")
            if not self._fill():
                return None

    def _header(self) -> int | None:
        """The declared length of the next message, or None at the end of the stream."""
        length: int | None = None
        skipped = 0
        while True:
            line = self._line()
            if line is None:
                return None
            if not line.strip():
                if length is not None:
                    return length
                continue  # blank lines between messages
            found = _LENGTH.search(line)
            if found:
                if found.start() > 0 or skipped:
                    log.warning("skipped %d bytes that were not LSP headers", skipped)
                    skipped = 0
                length = int(found.group(1))
                if length > MAX_BODY:
                    raise StreamBroken(f"a message declares {length} bytes")
            elif length is None:
                skipped += len(line)
                if skipped > MAX_GARBAGE:
                    raise StreamBroken(f"{skipped} bytes without an LSP header")

    def next_body(self) -> bytes | None:
        """The next message's JSON text, or None when the stream has ended."""
        length = self._header()
        if length is None:
            return None
        while len(self._buffer) < length:
            early = _json_end(self._buffer) if self._buffer.rstrip()[-1:] in (b"}", b"]") else None
            if early is not None:  # complete before its declared length: take it now
                log.warning("a message declared %d bytes but its JSON ends at %d", length, early)
                return self._take(early)
            if not self._fill():
                return None
        return self._take(length)

    def _take(self, n: int) -> bytes:
        body = bytes(self._buffer[:n])
        del self._buffer[:n]
        return body

    def salvage(self, body: bytes) -> bytes | None:
        """A body that is not JSON as a whole: its leading JSON value, with what followed
        it (the next message, read because the declared length was too large) put back
        to be read next; None when it does not start with JSON."""
        end = _json_end(body)
        if end is None:
            return None
        self._buffer[:0] = body[end:]
        log.warning("a message declared %d bytes but its JSON ends at %d", len(body), end)
        return body[:end]


def _json_end(data: bytes | bytearray) -> int | None:
    """Where the JSON value at the start of `data` ends (a byte offset), or None."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        text = bytes(data[: exc.start]).decode("utf-8")
    stripped = text.lstrip()
    try:
        _, end = json.JSONDecoder().raw_decode(stripped)
    except ValueError:
        return None
    return len(text[: len(text) - len(stripped) + end].encode("utf-8"))
