"""Model engine figures on this machine (prints numbers; asserts nothing).

    python bench/llm.py [--model qwen2.5-coder-0.5b] [--threads 2] [--tokens 96] [--reps 3]
                        [--skip-rewrite]

1. generation tok/s through CodeAssist vs raw llama-cpp-python (`Llama.create_completion`)
   on the same prompt, runs interleaved so a shared CPU hurts both alike;
2. time to first token: cold (nothing cached) vs the second turn of a conversation;
3. prompt-lookup decoding on a rewrite task (same greedy output, tok/s with and without);
4. fill-in-the-middle in a real file (this package's chunker, cursor mid-file, the default
   1,024-token prompt budget): the first completion, then one per keystroke as the prefix
   grows by a character, which reuses the cached prompt up to the cursor;
5. resident memory with the model loaded.
The default model must be installed (`codeassist models install`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist_lsp import sysinfo
from codeassist_lsp.config import load_settings
from codeassist_lsp.llm import store
from codeassist_lsp.llm.chat_format import render_chat
from codeassist_lsp.llm.errors import BackendError
from codeassist_lsp.llm.llama_backend import LlamaCppBackend, Role
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message

SYSTEM = "You are a concise, accurate coding assistant."
QUESTION = "Write a Python function that merges two sorted lists into one sorted list."
CONTEXT = Path(__file__).resolve().parents[1] / "codeassist_lsp" / "llm" / "prompts.py"
FIM_FILE = Path(__file__).resolve().parents[1] / "codeassist_lsp" / "index" / "chunker.py"
REWRITE = """def load_users(path):
    users = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, email, age = line.split(",")
            users.append({"name": name, "email": email, "age": int(age)})
    users.sort(key=lambda u: u["name"])
    return users


def find_user(users, name):
    for user in users:
        if user["name"] == name:
            return user
    return None
"""


@dataclass
class Run:
    """One streamed answer: time to first piece, and the pace after it."""

    ttft: float
    pieces: int
    wall: float  # seconds from first to last piece
    cpu: float  # process CPU seconds over the same span
    text: str

    @property
    def rate(self) -> float:
        """Pieces (about tokens) per second after the first."""
        return (self.pieces - 1) / self.wall if self.pieces > 1 and self.wall > 0 else 0.0

    @property
    def per_cpu(self) -> float:
        """Pieces per CPU-second of this process (work per token, while the CPU is free)."""
        return (self.pieces - 1) / self.cpu if self.pieces > 1 and self.cpu > 0 else 0.0


class Clock:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stamps: list[tuple[float, float]] = []
        self.parts: list[str] = []

    def tick(self, piece: str) -> None:
        self.stamps.append((time.perf_counter() - self.start, time.process_time()))
        self.parts.append(piece)

    def run(self) -> Run:
        if not self.stamps:
            return Run(0.0, 0, 0.0, 0.0, "")
        (t0, c0), (t1, c1) = self.stamps[0], self.stamps[-1]
        return Run(t0, len(self.stamps), t1 - t0, c1 - c0, "".join(self.parts))


async def timed(stream: AsyncGenerator[str, None]) -> Run:
    clock = Clock()
    async with aclosing(stream) as items:
        async for piece in items:
            clock.tick(piece)
    return clock.run()


def raw_run(llm: Any, prompt: str, tokens: int) -> Run:
    clock = Clock()
    for chunk in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0, stream=True):
        clock.tick(chunk["choices"][0]["text"])
    return clock.run()


def med(runs: list[Run], key: Callable[[Run], float]) -> float:
    return statistics.median(key(r) for r in runs)


async def rewrite_rows(backend: LlamaCppBackend, reps: int) -> list[tuple[str, str]]:
    """Prompt-lookup decoding on a rewrite task; greedy, so the text must not change."""
    rows: list[tuple[str, str]] = []
    ask = [
        Message("system", SYSTEM),
        Message("user", f"Add type hints to this code. Reply with the full code only.\n{REWRITE}"),
    ]
    plain: list[Run] = []
    lookup: list[Run] = []
    for _ in range(reps):
        plain.append(await timed(backend.chat(ask, GenerationOptions(300, 0))))
        lookup.append(await timed(backend.chat(ask, GenerationOptions(300, 0, prompt_lookup=True))))
    same = sum(a.text == b.text for a, b in zip(plain, lookup, strict=True))
    for label, runs in (("plain", plain), ("prompt-lookup", lookup)):
        rows.append(
            (
                f"rewrite, {label} decoding",
                f"{med(runs, lambda r: r.rate):.1f} tok/s, {med(runs, lambda r: r.per_cpu):.1f}"
                " tok/CPU-s",
            )
        )
    speedup = med(lookup, lambda r: r.rate) / med(plain, lambda r: r.rate)
    rows.append(("prompt-lookup speed-up (wall)", f"{speedup:.2f}x"))
    rows.append(("prompt-lookup text identical", f"{same} of {reps} runs"))
    return rows


async def fim_rows(backend: LlamaCppBackend, reps: int) -> list[tuple[str, str]]:
    """Inline completion: cold, then as the user types one character after another."""
    text = FIM_FILE.read_text()
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    cursor = sum(len(line) for line in lines[:middle])
    cursor += len(lines[middle]) - len(lines[middle].lstrip())  # after the indentation
    options = GenerationOptions(24, 0, stop=("\n\n",))
    completion_slot = backend._slots[Role.COMPLETION]

    def request(typed: int) -> FimRequest:
        end = cursor + typed
        return FimRequest(text[:end], text[end:], path="codeassist_lsp/index/chunker.py")

    cold: list[Run] = []
    keystrokes: list[Run] = []
    for _ in range(reps):
        completion_slot.cached.clear()
        cold.append(await timed(backend.fim(request(0), options)))
        for typed in (1, 2, 3):
            keystrokes.append(await timed(backend.fim(request(typed), options)))
    return [
        ("FIM cold (1,024-token budget): first piece", f"{med(cold, lambda r: r.ttft):.2f} s"),
        (
            "FIM per keystroke: first piece, median / max",
            f"{med(keystrokes, lambda r: r.ttft):.2f} / {max(r.ttft for r in keystrokes):.2f} s",
        ),
        ("FIM answer (24 tokens at most)", f"{med(cold, lambda r: r.ttft + r.wall):.2f} s cold"),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--skip-rewrite", action="store_true", help="skip part 3 (slow with big models)"
    )
    args = parser.parse_args()
    data_dir = load_settings()[0].data_dir
    model = store.prepare(args.model, data_dir)
    settings = LLMSettings(model=args.model, threads=args.threads, context_size=4096)
    rows: list[tuple[str, str]] = []
    rss_before = sysinfo.rss_bytes()

    backend = LlamaCppBackend(settings, data_dir)
    start = time.perf_counter()
    await backend.load()
    rows.append(("model load (mmap, 2 contexts)", f"{time.perf_counter() - start:.2f} s"))

    # TTFT cold vs second turn, behind a repository-context system prompt.
    system = Message("system", f"{SYSTEM}\n\nRepository context:\n{CONTEXT.read_text()[:2400]}")
    turn1 = [system, Message("user", QUESTION)]
    cold = await timed(backend.chat(turn1, GenerationOptions(args.tokens, 0)))
    chat_slot = backend._slots[Role.CHAT]
    prompt_tokens = backend.count_tokens(render_chat(turn1, backend._ensure().chat_template()))
    turn2 = [*turn1, Message("assistant", cold.text), Message("user", "Now add type hints.")]
    warm = await timed(backend.chat(turn2, GenerationOptions(8, 0)))
    rows.append((f"TTFT cold ({prompt_tokens} prompt tokens)", f"{cold.ttft:.2f} s"))
    rows.append((f"TTFT second turn ({chat_slot.reused} tokens reused)", f"{warm.ttft:.2f} s"))
    rss_loaded = sysinfo.rss_bytes()

    if not args.skip_rewrite:
        rows.extend(await rewrite_rows(backend, args.reps))
    try:
        rows.extend(await fim_rows(backend, args.reps))
    except BackendError as exc:
        rows.append(("FIM", str(exc)))

    # Generation: CodeAssist vs raw llama-cpp-python on the same prompt, interleaved.
    from llama_cpp import Llama

    bench_chat = [Message("system", SYSTEM), Message("user", QUESTION)]
    raw = Llama(
        str(model.path),
        n_ctx=4096,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    prompt = render_chat(bench_chat, raw.metadata.get("tokenizer.chat_template"))
    ours: list[Run] = []
    theirs: list[Run] = []
    for _ in range(args.reps):
        raw.reset()
        theirs.append(raw_run(raw, prompt, args.tokens))
        chat_slot.cached.clear()
        ours.append(await timed(backend.chat(bench_chat, GenerationOptions(args.tokens, 0))))
    for label, runs in (("raw llama-cpp-python", theirs), ("CodeAssist", ours)):
        rows.append(
            (
                f"generation, {label}",
                f"{med(runs, lambda r: r.rate):.1f} tok/s, {med(runs, lambda r: r.per_cpu):.1f}"
                " tok/CPU-s",
            )
        )
    ratio = med(ours, lambda r: r.rate) / med(theirs, lambda r: r.rate)
    ratio_cpu = med(ours, lambda r: r.per_cpu) / med(theirs, lambda r: r.per_cpu)
    rows.append(("CodeAssist / raw", f"{ratio:.2f}x wall, {ratio_cpu:.2f}x per CPU-s"))
    await backend.close()

    rows.append(("RSS before load", f"{rss_before / 2**20:.0f} MB"))
    rows.append(("RSS with the model loaded, after a chat", f"{rss_loaded / 2**20:.0f} MB"))
    print(
        f"model {model.name} ({model.path.stat().st_size / 1e6:.0f} MB), {args.threads} threads,"
        f" {args.tokens} tokens, median of {args.reps}; load average"
        f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine: figures move"
        " with other load; llama.cpp threads spin while they wait, so CPU-seconds do too)"
    )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
