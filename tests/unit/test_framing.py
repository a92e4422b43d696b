"""The forgiving LSP reader: what clients send in the wild, fed in awkward pieces."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from codeassist_lsp.framing import MAX_GARBAGE, FrameReader, StreamBroken


def _chunks(data: bytes, size: int) -> Callable[[int], bytes]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]

    def read(n: int) -> bytes:
        return pieces.pop(0) if pieces else b""

    return read


def _all(reader: FrameReader) -> list[bytes]:
    out = []
    while (body := reader.next_body()) is not None:
        out.append(body)
    return out


BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "x", "params": {"t": "é}"}}).encode()


@pytest.mark.parametrize("size", [1, 7, 4096])
@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: %d\r\n\r\n",
        b"content-length: %d\r\n\r\n",
        b"Content-Length:%d\r\n\r\n",
        b"Content-Length: %d\n\n",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: %d\r\n\r\n",
    ],
)
def test_headers_as_clients_write_them(header: bytes, size: int) -> None:
    data = (header % len(BODY) + BODY) * 2
    assert _all(FrameReader(_chunks(data, size))) == [BODY, BODY]


@pytest.mark.parametrize("size", [1, 4096])
def test_a_length_larger_than_the_body_loses_neither_message(size: int) -> None:
    data = b"Content-Length: %d\r\n\r\n" % (len(BODY) + 30) + BODY
    data += b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
    reader = FrameReader(_chunks(data, size))
    first = reader.next_body()
    assert first is not None
    if first != BODY:  # all of it arrived at once: the head is salvaged, the rest put back
        assert reader.salvage(first) == BODY
    assert reader.next_body() == BODY


def test_a_lone_message_with_a_too_large_length_is_taken_without_waiting() -> None:
    data = b"Content-Length: %d\r\n\r\n" % (len(BODY) + 30) + BODY

    def read(n: int) -> bytes:  # a client that then waits for the answer
        nonlocal data
        if not data:
            raise AssertionError("the reader waited for bytes that never come")
        out, data = data, b""
        return out

    assert FrameReader(read).next_body() == BODY


def test_garbage_before_a_header_is_skipped_and_endless_garbage_is_an_error() -> None:
    data = b"junk line\r\nmore junk Content-Length: %d\r\n\r\n" % len(BODY) + BODY
    assert _all(FrameReader(_chunks(data, 5))) == [BODY]
    with pytest.raises(StreamBroken):
        _all(FrameReader(_chunks(b"x" * (MAX_GARBAGE + 10), 65536)))
    with pytest.raises(StreamBroken):
        _all(FrameReader(_chunks((b"no header here\n" * 100_000), 65536)))
    with pytest.raises(StreamBroken):
        _all(FrameReader(_chunks(b"Content-Length: 99999999999\r\n\r\n", 100)))
