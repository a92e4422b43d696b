"""The OpenAI-compatible backend against a real `llama_cpp.server` on loopback (SmolLM2)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from codeassist_lsp.llm import store
from codeassist_lsp.llm.backend import create_backend
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.openai_backend import OpenAIBackend, event_text, parse_sse_line
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = store.prepare("smollm2-135m", tmp_path_factory.mktemp("data"))
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "1024",
            "--n_threads",
            "2",
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start in 120 s")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def backend(url: str, **kw: object) -> OpenAIBackend:
    settings = LLMSettings(backend="openai", openai_url=url, **kw)  # type: ignore[arg-type]
    made = create_backend(settings, Path("."))
    assert isinstance(made, OpenAIBackend)
    return made


async def collect(stream: AsyncGenerator[str, None]) -> list[str]:
    async with aclosing(stream) as pieces:
        return [p async for p in pieces]


async def test_chat_streams_tokens_from_the_server(server_url: str) -> None:
    remote = backend(server_url)
    info = await remote.load()
    assert info.backend == "openai" and info.name  # picked from /v1/models
    messages = [Message("user", "What is the capital of France? Answer in one word.")]
    pieces = await collect(remote.chat(messages, GenerationOptions(max_tokens=16, temperature=0)))
    assert len(pieces) > 1  # streamed, not one block
    assert "paris" in "".join(pieces).lower()
    await remote.close()


async def test_raw_completion_honours_stop_strings(server_url: str) -> None:
    remote = backend(server_url + "/v1")  # a base URL with /v1 works too
    options = GenerationOptions(max_tokens=40, temperature=0, stop=("\n",))
    text = "".join(await collect(remote.complete("def add(a, b):\n    return", options)))
    assert text and "\n" not in text
    await remote.close()


async def test_closing_the_stream_early_leaves_the_server_usable(server_url: str) -> None:
    remote = backend(server_url)
    options = GenerationOptions(max_tokens=300, temperature=0.7)
    start = time.monotonic()
    got = 0
    async with aclosing(remote.chat([Message("user", "Count to 200.")], options)) as stream:
        async for _ in stream:
            got += 1
            if got == 3:
                break
    assert time.monotonic() - start < 30
    again = await collect(remote.chat([Message("user", "Say hi.")], GenerationOptions(8, 0)))
    assert again
    await remote.close()


async def test_fim_needs_the_setting_and_bad_urls_are_clear(server_url: str) -> None:
    remote = backend(server_url)
    with pytest.raises(BackendError, match="fill-in-the-middle"):
        await collect(remote.fim(FimRequest("a", "b")))
    await remote.close()
    dead = backend(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ModelUnavailable, match="cannot reach the model server"):
        await dead.load()
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        await collect(dead.chat([Message("user", "hi")]))
    await dead.close()
    with pytest.raises(ModelUnavailable, match="not an http"):
        backend("ftp://x")


def test_sse_parsing() -> None:
    assert parse_sse_line("data: [DONE]\n") == "[DONE]"
    assert parse_sse_line(": keep-alive") is None
    event = parse_sse_line('data: {"choices":[{"delta":{"content":"Hi"}}]}')
    assert isinstance(event, dict) and event_text(event) == "Hi"
    assert event_text({"choices": [{"text": "x", "index": 0}]}) == "x"
    with pytest.raises(BackendError, match="boom"):
        event_text({"error": {"message": "boom"}})


def test_event_loop_is_free_during_a_remote_stream(server_url: str) -> None:
    async def run() -> int:
        remote = backend(server_url)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await collect(remote.chat([Message("user", "Name three colors.")], GenerationOptions(30)))
        task.cancel()
        await remote.close()
        return ticks

    assert asyncio.run(run()) > 5


async def test_a_chat_turn_over_a_real_index_through_the_server(
    server_url: str, tmp_path: Path, embedder_cache: Path
) -> None:
    from codeassist_lsp.chat.history import History
    from codeassist_lsp.chat.manager import ChatManager, ChatRequest, ChatResult, SourcesEvent
    from codeassist_lsp.chat.workspace import IndexWorkspace
    from codeassist_lsp.config import ChatSettings, Settings
    from codeassist_lsp.index.embedder import create_embedder
    from codeassist_lsp.index.workspace import WorkspaceIndex

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "go-kvstore"
    settings = Settings(data_dir=tmp_path / "data")
    embedder = create_embedder("minilm", embedder_cache, 0, settings.index.embed_max_tokens)
    index = WorkspaceIndex(fixture, settings, embedder)
    remote = backend(server_url)
    try:
        index.refresh()
        manager = ChatManager(
            History(tmp_path / "history.duckdb"), lambda: remote, ChatSettings(answer_tokens=24)
        )
        events = []
        async with aclosing(
            manager.ask(ChatRequest("How are expired keys removed?"), IndexWorkspace(index))
        ) as stream:
            events = [event async for event in stream]
        assert isinstance(events[0], SourcesEvent) and events[0].citations
        result = events[-1]
        assert isinstance(result, ChatResult) and result.answer.strip()
        assert not result.notices, result.notices
    finally:
        await remote.close()
        index.close()
