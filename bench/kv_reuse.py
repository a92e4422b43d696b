"""Moving cached prompt runs into place (`Slot.reuse_min`) against reading them again.

A developer writing down a file: the completion cursor moves one line at a time through a
third-party file (default: `requests/sessions.py`), three characters typed on each line,
and each line gets one fill-in-the-middle request with the server's own window
(`prefixTokens` / `suffixTokens`, prefix cut on a grid of 8 lines) and up to 24 greedy
tokens (one line). Every eighth line the prefix starts 8 lines lower, which shares no
prefix with the cache; with moving on, the lines still in the window are shifted into
place instead of read.

Both modes run on the same slot in turn, from an empty cache, then every request once
more from an empty cache (the reference). Printed: tokens read and prefill ms per
request (p50 / p95 / max); per mode, how many answers equal the reference and how many
are exactly the rest of the line, and their mean edit similarity to it. Figures only.

    PYTHONPATH=$PWD python3 bench/kv_reuse.py [--lines 48] [--threads 2] [--file PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib.util
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_common import code_state, cpu_name, loadavg
from completion_client import percentile

from codeassist_lsp.completion.budget import fit_window
from codeassist_lsp.completion.window import cursor_window
from codeassist_lsp.config import CompletionSettings, default_data_dir
from codeassist_lsp.llm.llama_backend import COMPLETION_REUSE_MIN, LlamaCppBackend, Role
from codeassist_lsp.llm.llama_engine import Sampling, Slot
from codeassist_lsp.llm.prompts import fim_prompt
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest

GENERATED = 24  # tokens at most; a line ends the answer


def default_file() -> Path:
    spec = importlib.util.find_spec("requests")
    if spec is None or spec.origin is None:
        raise SystemExit("requests is not installed: pass --file")
    return Path(spec.origin).parent / "sessions.py"


def line_request(backend: LlamaCppBackend, text: str, line: int) -> tuple[list[int], str]:
    """The prompt's ids for three characters typed on `line` with the server's window,
    and the rest of that line (what a right answer writes)."""
    model = backend._ensure()
    tokens = model.fim_tokens()
    assert tokens is not None, "the model has no fill-in-the-middle tokens"
    settings = CompletionSettings()
    rows = text.split("\n")
    body = rows[line]
    column = len(body) - len(body.lstrip()) + 3
    typed = "\n".join([*rows[:line], body[:column], *rows[line + 1 :]])
    window = cursor_window(typed, line, column)
    assert window is not None
    parts = fit_window(window, backend.count_tokens, settings.prefix_tokens, settings.suffix_tokens)
    request = FimRequest(prefix=parts.prefix + window.middle, suffix=parts.suffix)
    prompt = fim_prompt(request, tokens, 1024, backend.count_tokens)
    return model.tokenize(prompt), body[column:].strip()


def prompts(backend: LlamaCppBackend, text: str, lines: int) -> tuple[list[list[int]], list[str]]:
    """`line_request` for one body line after another, walking down from the file's middle."""
    rows = text.split("\n")
    body_lines = [n for n in range(len(rows) // 3, len(rows)) if len(rows[n].strip()) >= 8]
    asked = [line_request(backend, text, line) for line in body_lines[:lines]]
    return [ids for ids, _ in asked], [rest for _, rest in asked]


def first_line(slot: Slot, tokens: list[int], stop: threading.Event) -> str:
    """The greedy answer to `tokens` up to its first line end or `GENERATED` tokens."""
    answer = b""
    for n, token in enumerate(slot.generate(tokens, Sampling(temperature=0), stop)):
        answer += slot.model.piece(token)
        if b"\n" in answer or n + 1 == GENERATED:
            break
    return answer.decode(errors="replace").split("\n")[0]


def agreement(answers: list[str], reference: list[str], expected: list[str]) -> str:
    """How many answers equal the reference ones, how many are exactly the rest of the
    line, and their mean edit similarity to it."""
    same = sum(a == b for a, b in zip(answers, reference, strict=True))
    exact = sum(a.strip() == b for a, b in zip(answers, expected, strict=True))
    sim = [
        difflib.SequenceMatcher(None, a.strip(), b).ratio()
        for a, b in zip(answers, expected, strict=True)
    ]
    return (
        f"as the reference in {same} of {len(answers)}; the rest of the line exactly in "
        f"{exact}, edit similarity {sum(sim) / len(sim):.3f}"
    )


def walk(
    slot: Slot, requests: list[list[int]], reuse_min: int, fresh: bool = False
) -> tuple[list, list, list]:
    """(prefill seconds, tokens read, generated ids) per request, from an empty cache;
    `fresh` empties the cache before every request (the reference answers)."""
    slot.reuse_min = reuse_min
    stop = threading.Event()
    seconds, read, answers = [], [], []
    with slot.lock:
        slot._truncate(0)
        for tokens in requests:
            if fresh:
                slot._truncate(0)
            start = time.perf_counter()
            slot.prefill(tokens, stop)
            seconds.append(time.perf_counter() - start)
            read.append(len(tokens) - slot.reused)
            answers.append(first_line(slot, tokens, stop))
    return seconds, read, answers


def spread(values: list[float], scale: float = 1.0) -> str:
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"{p50 * scale:.0f} / {p95 * scale:.0f} / {max(values) * scale:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--lines", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    path = args.file or default_file()
    backend = LlamaCppBackend(LLMSettings(threads=args.threads), default_data_dir())
    asyncio.run(backend.load())
    load_start = loadavg()
    try:
        requests, expected = prompts(backend, path.read_text(encoding="utf-8"), args.lines)
        slot = backend._slots[Role.COMPLETION]
        moves = (("read again", 0), ("moved", COMPLETION_REUSE_MIN))
        runs = {name: walk(slot, requests, n) for name, n in moves}
        reference = walk(slot, requests, 0, fresh=True)[2]
    finally:
        asyncio.run(backend.close())
    print(f"\nkv_reuse: {path.name}, {len(requests)} requests, one per line, {GENERATED} tokens")
    print(f"CPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {loadavg()}\n")
    print("| cached runs | tokens read p50 / p95 / max | prefill ms p50 / p95 / max |")
    print("|---|---|---|")
    for name, (seconds, read, _) in runs.items():
        print(f"| {name} | {spread(read)} | {spread(seconds, 1000)} |")
    print()
    print("(the reference: every request from an empty cache)")
    for name, answers in (*((n, r[2]) for n, r in runs.items()), ("empty cache", reference)):
        print(f"{name}: {agreement(answers, reference, expected)}")


if __name__ == "__main__":
    main()
