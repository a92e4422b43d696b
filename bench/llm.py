"""Model engine figures on this machine (prints numbers; asserts nothing).

    python bench/llm.py [--model qwen2.5-coder-0.5b] [--threads 2] [--tokens 96] [--reps 3]

1. generation tok/s through CodeAssist vs raw llama-cpp-python (`Llama.create_completion`)
   on the same prompt, runs interleaved so a shared CPU hurts both alike;
2. time to first token: cold (nothing cached) vs the second turn of a conversation;
3. prompt-lookup decoding on a rewrite task (same greedy output, tok/s with and without);
4. resident memory with the model loaded.
The default model must be installed (`codeassist models install`).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist_lsp.config import load_settings
from codeassist_lsp.llm import store, sysinfo
from codeassist_lsp.llm.chat_format import render_chat
from codeassist_lsp.llm.llama_backend import LlamaCppBackend, Role
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import GenerationOptions, Message

SYSTEM = "You are a concise, accurate coding assistant."
QUESTION = "Write a Python function that merges two sorted lists into one sorted list."
CONTEXT = Path(__file__).resolve().parents[1] / "codeassist_lsp" / "llm" / "prompts.py"
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


async def timed(stream: AsyncGenerator[str, None]) -> tuple[float, float, int, str]:
    """(time to first piece, time to last piece, pieces, text) from the call's start."""
    start = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    async with aclosing(stream) as items:
        async for piece in items:
            last = time.perf_counter() - start
            if not pieces:
                first = last
            pieces.append(piece)
    return first, last, len(pieces), "".join(pieces)


def rate(first: float, last: float, n: int) -> float:
    return (n - 1) / (last - first) if n > 1 and last > first else 0.0


def raw_rate(llm: object, prompt: str, tokens: int) -> float:
    start = time.perf_counter()
    stamps = [
        time.perf_counter() - start
        for _ in llm.create_completion(  # type: ignore[attr-defined]
            prompt, max_tokens=tokens, temperature=0.0, stream=True
        )
    ]
    return rate(stamps[0], stamps[-1], len(stamps)) if stamps else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--reps", type=int, default=3)
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

    # 2. TTFT cold vs second turn (a ~repository-context system prompt first).
    context = CONTEXT.read_text()[:2400]
    system = Message("system", f"{SYSTEM}\n\nRepository context:\n{context}")
    turn1 = [system, Message("user", QUESTION)]
    first, _last, _n, answer = await timed(backend.chat(turn1, GenerationOptions(args.tokens, 0)))
    chat_slot = backend._slots[Role.CHAT]
    template = backend._ensure().chat_template()
    cold_tokens = backend.count_tokens(render_chat(turn1, template))
    turn2 = [*turn1, Message("assistant", answer), Message("user", "Now add type hints.")]
    first2, _, _, _ = await timed(backend.chat(turn2, GenerationOptions(8, 0)))
    rows.append((f"TTFT cold ({cold_tokens} prompt tokens)", f"{first:.2f} s"))
    rows.append(
        (f"TTFT second turn (reused {chat_slot.reused} tokens)", f"{first2:.2f} s"),
    )
    rss_loaded = sysinfo.rss_bytes()

    # 3. Prompt-lookup decoding on a rewrite task (greedy: outputs must match).
    ask = [
        Message("system", SYSTEM),
        Message("user", f"Add type hints to this code. Reply with the full code only.\n{REWRITE}"),
    ]
    plain_rates, lookup_rates, same = [], [], True
    for _ in range(args.reps):
        f, la, k, plain = await timed(backend.chat(ask, GenerationOptions(300, 0)))
        plain_rates.append(rate(f, la, k))
        f, la, k, fast = await timed(
            backend.chat(ask, GenerationOptions(300, 0, prompt_lookup=True))
        )
        lookup_rates.append(rate(f, la, k))
        same = same and fast == plain
    p, q = statistics.median(plain_rates), statistics.median(lookup_rates)
    rows.append(("rewrite, plain decoding", f"{p:.1f} tok/s"))
    rows.append(("rewrite, prompt-lookup decoding", f"{q:.1f} tok/s ({q / p:.2f}x)"))
    rows.append(("prompt-lookup output identical", "yes" if same else "NO"))

    # 1. Generation speed: CodeAssist vs raw llama-cpp-python, interleaved.
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
    ours, theirs = [], []
    for _ in range(args.reps):
        raw.reset()
        theirs.append(raw_rate(raw, prompt, args.tokens))
        chat_slot.cached.clear()
        f, la, k, _ = await timed(backend.chat(bench_chat, GenerationOptions(args.tokens, 0)))
        ours.append(rate(f, la, k))
    a, b = statistics.median(ours), statistics.median(theirs)
    rows.append(("generation, raw llama-cpp-python", f"{b:.1f} tok/s"))
    rows.append(("generation, CodeAssist", f"{a:.1f} tok/s ({a / b:.2f}x raw)"))
    await backend.close()
    del raw

    rows.append(("RSS before load", f"{rss_before / 2**20:.0f} MB"))
    rows.append(("RSS with model loaded (after chat)", f"{rss_loaded / 2**20:.0f} MB"))
    print(
        f"model {model.name} ({model.path.stat().st_size / 1e6:.0f} MB), "
        f"{args.threads} threads, {args.tokens} tokens, median of {args.reps}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)"
    )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
