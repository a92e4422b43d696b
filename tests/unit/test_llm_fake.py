"""The worker-thread stream bridge, through FakeBackend (the fake other tests use)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from pathlib import Path

import pytest

from codeassist_lsp.llm.backend import create_backend
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.threadstream import AHEAD, stream_in_thread
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message


async def test_fake_streams_words_and_records_prompts() -> None:
    fake = FakeBackend(lambda prompt: "echo " + prompt.split()[-1])
    pieces = [p async for p in fake.chat([Message("user", "say hi")])]
    assert "".join(pieces) == "echo <assistant>"
    assert pieces == ["echo", " <assistant>"]
    assert fake.prompts == ["<user>say hi\n<assistant>"]
    await fake.close()


async def test_fake_fim_uses_the_fim_prompt_and_honours_stops() -> None:
    fake = FakeBackend("a b STOP c")
    out = [p async for p in fake.fim(FimRequest("x", "y"), GenerationOptions(stop=(" STOP",)))]
    assert "".join(out) == "a b"
    assert fake.prompts[0] == "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>"
    await fake.close()


async def test_closing_the_stream_stops_the_worker_within_a_token() -> None:
    fake = FakeBackend(" ".join(["w"] * 500), delay=0.01)
    stream = fake.complete("go")
    async for _ in stream:
        if fake.produced >= 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    stopped_at = fake.produced
    await asyncio.sleep(0.1)
    assert fake.produced == stopped_at <= 3 + AHEAD + 1
    await fake.close()


async def test_the_event_loop_stays_free_while_a_model_runs() -> None:
    fake = FakeBackend(" ".join(["w"] * 20), delay=0.02)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    async with aclosing(fake.complete("go")) as stream:
        async for _ in stream:
            pass
    task.cancel()
    assert ticks > 20
    await fake.close()


async def test_worker_errors_reach_the_reader() -> None:
    def produce(stop: threading.Event) -> Iterator[str]:
        yield "a"
        raise ModelUnavailable("gone")

    with ThreadPoolExecutor(1) as pool:
        got: list[str] = []
        with pytest.raises(ModelUnavailable, match="gone"):
            async for piece in stream_in_thread(produce, pool):
                got.append(piece)
    assert got == ["a"]


async def test_stop_event_reaches_a_blocked_producer() -> None:
    seen_stop = threading.Event()

    def produce(stop: threading.Event) -> Iterator[str]:
        yield "first"
        stop.wait(5)
        if stop.is_set():
            seen_stop.set()
        yield "never read"

    with ThreadPoolExecutor(1) as pool:
        start = time.perf_counter()
        stream = stream_in_thread(produce, pool)
        async for _ in stream:
            break
        await stream.aclose()
        assert seen_stop.is_set() and time.perf_counter() - start < 2


def test_unknown_backend_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="unknown model backend"):
        create_backend(LLMSettings(backend="magic"), tmp_path)


async def test_the_worker_waits_for_a_slow_reader() -> None:
    fake = FakeBackend(" ".join(["w"] * 100))
    async with aclosing(fake.complete("go")) as stream:
        async for _ in stream:
            await asyncio.sleep(0.05)
            assert fake.produced <= 1 + AHEAD + 1
            break
    await fake.close()
