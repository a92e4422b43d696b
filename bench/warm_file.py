"""A warm file (`Slot.warm_file`) against a cold prompt, for the first completion at
another place of a file.

A developer jumps around a third-party file (default: `requests/sessions.py`): at each of
`--spots` random body lines, three characters are typed and one fill-in-the-middle request
is made with the server's own window (`prefixTokens` / `suffixTokens`, prefix cut on a grid
of 8 lines), up to 24 greedy tokens (one line). "cold": the slot keeps no file and reads
every prompt whole (today's first request at a new place). "warm file": the file was read
into the slot's file sequence while the editor was idle (`--window` tokens of it, from its
start; the places are all inside the smallest window), and the request shares its cells.

Printed: the time to read the file once; tokens read and ms from prompt to answer per
request (p50 / p95 / max); how many answers equal the cold ones, how many are exactly the
rest of the line, and their mean edit similarity to it. In-process, figures only.

    PYTHONPATH=$PWD python3 bench/warm_file.py [--spots 24] [--threads 2] [--ctx 4096,8192]
        [--window 1024,2048] [--file PATH] [--seed 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_common import code_state, cpu_name, loadavg
from kv_reuse import GENERATED, agreement, default_file, first_line, line_request, spread

from codeassist_lsp.config import default_data_dir
from codeassist_lsp.llm.llama_backend import COMPLETION_REUSE_MIN, LlamaCppBackend
from codeassist_lsp.llm.llama_engine import LlamaModel, Slot
from codeassist_lsp.llm.settings import LLMSettings


def spots(text: str, count: int, seed: int, lines: int) -> list[int]:
    """Body lines among the first `lines` of the file."""
    rows = text.split("\n")[:lines]
    good = [n for n, row in enumerate(rows) if row.startswith("    ") and len(row.strip()) >= 8]
    return random.Random(seed).sample(good, min(count, len(good)))


def lines_within(model: LlamaModel, text: str, tokens: int) -> int:
    """How many whole lines of `text` fit in its first `tokens` tokens (with the FIM token)."""
    rows = text.split("\n")
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(model.tokenize("<|fim_prefix|>" + "\n".join(rows[:mid]))) < tokens:
            lo = mid
        else:
            hi = mid - 1
    return lo


def ask(slot: Slot, tokens: list[int]) -> tuple[float, int, str]:
    """(seconds from prompt to answer, tokens read, the answer's first line)."""
    start = time.perf_counter()
    answer = first_line(slot, tokens, threading.Event())
    return time.perf_counter() - start, len(tokens) - slot.reused, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--spots", type=int, default=24)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window", default="1024,2048", help="file tokens kept, per run")
    args = parser.parse_args()
    path = args.file or default_file()
    text = path.read_text(encoding="utf-8")
    backend = LlamaCppBackend(LLMSettings(threads=args.threads), default_data_dir())
    asyncio.run(backend.load())
    model = backend._ensure()
    fim = model.fim_tokens()
    assert fim is not None
    file_ids = model.tokenize(fim.prefix + text)
    load_start = loadavg()
    rows: list[str] = []
    answers: dict[str, list[str]] = {}
    expected: list[str] = []
    try:
        windows = [int(w) for w in args.window.split(",")]
        lines = spots(text, args.spots, args.seed, lines_within(model, text, min(windows)))
        asked = [line_request(backend, text, line) for line in lines]
        expected = [rest for _, rest in asked]
        cold = model.new_slot(2048, args.threads, reuse_min=COMPLETION_REUSE_MIN)
        with cold.lock:
            results = []
            for ids, _ in asked:
                cold._truncate(0)
                results.append(ask(cold, ids))
        rows.append(row("cold", results, "–"))
        answers["cold"] = [r[2] for r in results]
        for window in windows:
            slot = model.new_slot(
                2048, args.threads, reuse_min=COMPLETION_REUSE_MIN, file_tokens=window
            )
            with slot.lock:
                start = time.perf_counter()
                slot.warm_file(file_ids, threading.Event())
                warm_s = time.perf_counter() - start
                results = [ask(slot, ids) for ids, _ in asked]
            name = f"warm file, {window} tokens"
            rows.append(row(name, results, f"{len(slot.file)} tokens in {warm_s:.1f} s"))
            answers[name] = [r[2] for r in results]
    finally:
        asyncio.run(backend.close())
    print(
        f"\nwarm_file: {path.name} ({len(file_ids)} tokens), {len(expected)} places, "
        f"{GENERATED} tokens at most"
    )
    print(f"CPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {loadavg()}\n")
    print("| mode | file read once | tokens read p50 / p95 / max | ms p50 / p95 / max |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("(the reference: the cold answers)")
    for name, got in answers.items():
        print(f"{name}: {agreement(got, answers['cold'], expected)}")


def row(name: str, results: list[tuple[float, int, str]], warm: str) -> str:
    seconds = [r[0] for r in results]
    read = [float(r[1]) for r in results]
    return f"| {name} | {warm} | {spread(read)} | {spread(seconds, 1000)} |"


if __name__ == "__main__":
    main()
