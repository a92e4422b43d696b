"""Inline completion while a chat answer is being written, on one model (prints figures).

    python bench/completion_during_chat.py [--model qwen2.5-coder-0.5b] [--threads 2]
                                           [--chats 3]

Chat and inline completion run in their own llama.cpp contexts on their own threads, so
they can run at once; on 2 cores they then share the CPU. By default a chat gives way:
before each model step it waits while a fill-in-the-middle runs (`GIVE_WAY_S` at most).
This bench asks the same fill-in-the-middle requests (places in this package's chunker,
a line each) alone, then while chat answers run with the chat giving way, and with it not
(`GIVE_WAY_S` 0), each chat answer a long explanation of a piece of this package. Prints
per mode the completion latency p50 / p95 and the chat answers' time to first piece and
total time. The default model must be installed (`codeassist models install`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist_lsp.chat.prompt import SYSTEM_PROMPT
from codeassist_lsp.config import load_settings
from codeassist_lsp.llm import llama_backend
from codeassist_lsp.llm.llama_backend import LlamaCppBackend
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message

PACKAGE = Path(__file__).resolve().parents[1] / "codeassist_lsp"
FIM_FILE = PACKAGE / "index" / "chunker.py"
CHAT_FILE = PACKAGE / "llm" / "llama_engine.py"
FIM_OPTIONS = GenerationOptions(48, 0, stop=("\n",))
CHAT_OPTIONS = GenerationOptions(300, 0)
FIRST_FIM_AFTER_S = 0.5  # the user goes back to typing while the answer streams
BETWEEN_FIMS_S = 0.3


async def elapsed(stream: AsyncGenerator[str, None]) -> tuple[float, float]:
    """Seconds to the first piece and to the end."""
    start = time.perf_counter()
    first = 0.0
    async with aclosing(stream) as pieces:
        async for _ in pieces:
            first = first or time.perf_counter() - start
    return first, time.perf_counter() - start


def fim_request(n: int) -> FimRequest:
    """A cursor in the middle of a non-blank line of the chunker, a different one for each n."""
    lines = FIM_FILE.read_text().split("\n")
    filled = [i for i, line in enumerate(lines) if len(line.strip()) > 20]
    at = filled[(37 * n) % len(filled)]
    cut = len(lines[at]) // 2
    prefix = "\n".join([*lines[:at], lines[at][:cut]])
    suffix = "\n".join([lines[at][cut:], *lines[at + 1 :]])
    return FimRequest(prefix[-1200:], suffix[:300], path="codeassist_lsp/index/chunker.py")


def chat_messages(n: int) -> list[Message]:
    code = CHAT_FILE.read_text()
    start = (2500 * n) % max(len(code) - 2500, 1)
    question = f"Sources:\n{code[start : start + 2000]}\nQuestion: explain this code in detail"
    return [Message("system", SYSTEM_PROMPT), Message("user", question)]


async def during_chats(
    backend: LlamaCppBackend, chats: int, first_fim: int
) -> tuple[list[float], list[tuple[float, float]]]:
    fims: list[float] = []
    answers: list[tuple[float, float]] = []
    n = first_fim
    for c in range(chats):
        chat = asyncio.create_task(elapsed(backend.chat(chat_messages(c), CHAT_OPTIONS)))
        await asyncio.sleep(FIRST_FIM_AFTER_S)
        while not chat.done():
            fims.append((await elapsed(backend.fim(fim_request(n), FIM_OPTIONS)))[1])
            n += 1
            await asyncio.sleep(BETWEEN_FIMS_S)
        answers.append(await chat)
    return fims, answers


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chats", type=int, default=3)
    args = parser.parse_args()
    data_dir = load_settings()[0].data_dir
    settings = LLMSettings(model=args.model, threads=args.threads, file_cache_tokens=0)
    backend = LlamaCppBackend(settings, data_dir)
    await backend.load()
    await elapsed(backend.fim(fim_request(999), FIM_OPTIONS))  # warm up
    rows: list[tuple[str, list[float], list[tuple[float, float]]]] = []
    alone = [(await elapsed(backend.fim(fim_request(n), FIM_OPTIONS)))[1] for n in range(8)]
    chat_alone = [await elapsed(backend.chat(chat_messages(c), CHAT_OPTIONS)) for c in range(2)]
    rows.append(("alone", alone, chat_alone))
    fims, answers = await during_chats(backend, args.chats, 100)
    rows.append(("during a chat that gives way (default)", fims, answers))
    with mock.patch.object(llama_backend, "GIVE_WAY_S", 0.0):
        fims, answers = await during_chats(backend, args.chats, 100)
    rows.append(("during a chat that does not", fims, answers))
    await backend.close()
    print(
        f"model {args.model}, {args.threads} threads, load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} CPUs; completions {FIRST_FIM_AFTER_S} s after a chat starts,"
        f" then every {BETWEEN_FIMS_S} s after the last one answered"
    )
    print(f"  {'completion':<40} {'n':>3} {'p50 / p95 s':>14}   chat first / total s (median)")
    for label, times, chats in rows:
        firsts = statistics.median(f for f, _ in chats)
        totals = statistics.median(t for _, t in chats)
        print(
            f"  {label:<40} {len(times):>3} {p(times, 0.5):>6.2f} / {p(times, 0.95):<5.2f}"
            f"   {firsts:.2f} / {totals:.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
