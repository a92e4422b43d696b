"""Inline completion latency through the real server, as an editor drives it.

Works on a copy of a package installed from PyPI (default: `requests`), indexed by the
server, with the default model. Three figures, p50 / p95 from request to response:

- cold file: the first request in a file the model has not seen (model already loaded);
- warm file: the first request at another place of a file that already had one, `--pause`
  seconds later (the time to read or think, in which the server may read the file);
- typing: lines retyped one character every 100 ms; each keystroke sends a request and
  cancels the one before if it is still pending (as VS Code does). Reported over the
  requests that were answered, with how many of them came from the cache (< 30 ms);
- next line after accepting: a suggestion is accepted `--think` seconds after it was shown,
  Enter is pressed (the editor keeps the line's indentation, one level more after a `:`)
  and the request on the new line is timed. `--no-speculate` turns off the server's
  computing of that line in advance (`completion.speculate`), for the figure without it.

Goal (issue 18): typing p50 < 400 ms and p95 < 1 s; warm file p95 < 1.5 s. Figures only.
`--describe` runs the same with the server describing the package in the background
(issue 22: the describer must never slow the editor down). `--requantize MODE` sets
`llm.requantize` (off, completion, all: which purposes load the model's faster copy).

    PYTHONPATH=$PWD python3 bench/completion_latency.py [--package requests] [--files 6]
        [--pause 20] [--file-cache-tokens 2048] [--describe] [--accepts 8] [--think 1.5]
        [--no-speculate] [--requantize off|completion|all]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import code_state, cpu_name, loadavg
from completion_client import Editor, field_of, package_dir, percentile

from codeassist_lsp.config import CompletionSettings
from codeassist_lsp.llm.settings import REQUANTIZE, LLMSettings

KEYSTROKE = 0.1
CACHE_HIT = 0.03


def holes(text: str, rng: random.Random, count: int) -> list[int]:
    """Lines inside function bodies worth completing: indented code of 20-80 characters."""
    lines = text.split("\n")
    good = [
        n
        for n, line in enumerate(lines)
        if line.startswith("        ")
        and 20 <= len(line.strip()) <= 80
        and not line.strip().startswith(("#", '"', "'"))
    ]
    rng.shuffle(good)
    return sorted(good[:count])


def cut_line(text: str, line: int, keep: int) -> tuple[str, int]:
    """The text with `line` cut after its indentation and `keep` more characters, and the
    cursor column there."""
    lines = text.split("\n")
    body = lines[line]
    column = len(body) - len(body.lstrip()) + keep
    lines[line] = body[:column]
    return "\n".join(lines), column


async def first_requests(
    editor: Editor, files: list[Path], rng: random.Random, pause: float, returns: bool
) -> tuple[list[float], list[float], list[float]]:
    """The first request in each file, then `pause` seconds later (the file stays open)
    the first at another place of it, after its line is cut there. With `returns`, then
    one in the file before (closed meanwhile), opened again, on the next line worth
    completing below its first place, where the pause was spent."""
    cold: list[float] = []
    warm: list[float] = []
    back: list[float] = []
    before: tuple[Path, str, int] | None = None
    for path in files:
        text = path.read_text(encoding="utf-8")
        spots = holes(text, rng, 2)
        if len(spots) < 2:
            continue
        rel = path.relative_to(editor.root).as_posix()
        cut, column = cut_line(text, spots[0], 3)
        uri = editor.open(rel, cut)
        start = time.perf_counter()
        await editor.complete(uri, spots[0], column)
        cold.append(time.perf_counter() - start)
        await asyncio.sleep(pause)
        body = text.split("\n")[spots[1]]
        column = len(body) - len(body.lstrip()) + 3
        editor.delete(uri, spots[1], column, len(body))
        start = time.perf_counter()
        await editor.complete(uri, spots[1], column)
        warm.append(time.perf_counter() - start)
        editor.close(uri)
        if returns and before is not None:
            back.append(await reopened(editor, *before))
        below = [n for n in holes(text, random.Random(0), 10**6) if spots[0] < n != spots[1]]
        before = (path, text, below[0] if below else spots[0])
    return cold, warm, back


async def reopened(editor: Editor, path: Path, text: str, spot: int) -> float:
    """Seconds to the first suggestion at `spot` of a file opened again."""
    cut, column = cut_line(text, spot, 3)
    uri = editor.open(path.relative_to(editor.root).as_posix(), cut)
    start = time.perf_counter()
    await editor.complete(uri, spot, column)
    took = time.perf_counter() - start
    editor.close(uri)
    return took


async def typing(editor: Editor, path: Path, rng: random.Random, lines: int):
    """Per-keystroke latencies of answered requests, and how many were cancelled."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(editor.root).as_posix()
    answered: list[float] = []
    cancelled = 0
    for spot in holes(text, rng, lines):
        target = text.split("\n")[spot]
        cut, column = cut_line(text, spot, 0)
        uri = editor.open(rel, cut)
        await editor.complete(uri, spot, column)  # the cursor arrives on the line
        pending: list[tuple[str, asyncio.Future, float]] = []
        for ch in target[column:]:
            if pending and not pending[-1][1].done():
                editor.cancel(pending[-1][0])
            editor.insert(uri, spot, column, ch)
            column += 1
            msg_id, reply = editor.request(uri, spot, column)
            sent = time.perf_counter()
            reply.add_done_callback(
                lambda f, sent=sent: (
                    answered.append(time.perf_counter() - sent)
                    if not f.cancelled() and f.exception() is None
                    else None
                )
            )
            pending.append((msg_id, reply, sent))
            await asyncio.sleep(KEYSTROKE)
        for _, reply, _ in pending:
            try:
                await reply
            except Exception:
                cancelled += 1
        editor.close(uri)
    return answered, cancelled


async def accepting(
    editor: Editor, path: Path, rng: random.Random, count: int, think: float
) -> tuple[list[float], int]:
    """Latencies of the first request on the line after an accepted one-line suggestion,
    and how many suggestions were accepted."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(editor.root).as_posix()
    latencies: list[float] = []
    shown = 0
    for spot in holes(text, rng, count):
        cut, column = cut_line(text, spot, 3)
        uri = editor.open(rel, cut)
        suggestion = await editor.complete(uri, spot, column)
        if suggestion.strip() and "\n" not in suggestion:
            shown += 1
            await asyncio.sleep(think)
            line = cut.split("\n")[spot][:column] + suggestion
            indent = line[: len(line) - len(line.lstrip())]
            indent += "    " if line.rstrip().endswith(":") else ""
            editor.insert(uri, spot, column, suggestion + "\n" + indent)
            start = time.perf_counter()
            await editor.complete(uri, spot + 1, len(indent))
            latencies.append(time.perf_counter() - start)
        editor.close(uri)
    return latencies, shown


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(18)
    options = {
        "completion": {"contextTokens": args.context_tokens, "speculate": not args.no_speculate},
        "llm": {
            "threads": args.threads,
            "fileCacheTokens": args.file_cache_tokens,
            "fileCacheWindows": args.file_cache_windows,
            "requantize": args.requantize,
        },
        "index": {"describe": "on" if args.describe else "off"},
    }
    editor = Editor(package_dir(args.package), options)
    load_start = loadavg()
    started = time.perf_counter()
    await editor.start()
    try:
        indexed = await editor.wait_indexed()
        index_s = time.perf_counter() - started
        files = sorted(p for p in editor.root.rglob("*.py") if p.stat().st_size > 4000)
        rng.shuffle(files)
        warmup = files[-1]
        first = time.perf_counter()
        warm_uri = editor.open(warmup.relative_to(editor.root).as_posix(), "import os\n")
        await editor.complete(warm_uri, 1, 0)
        load_s = time.perf_counter() - first
        cold, warm, back = await first_requests(
            editor, files[: args.files], rng, args.pause, args.returns
        )
        answered, cancelled = await typing(editor, files[0], rng, args.lines)
        after, accepted = await accepting(editor, files[1], rng, args.accepts, args.think)
        status = await editor.client.protocol.send_request_async("codeassist/status", {})
        described = field_of(field_of(status, "workspaces")[0], "described")
    finally:
        await editor.stop()
    load_end = loadavg()

    def row(name: str, values: list[float], extra: str = "") -> str:
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        return f"| {name} | {len(values)} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | {extra} |"

    hits = sum(1 for v in answered if v < CACHE_HIT)
    print(
        f"\ncompletion_latency: {args.package} ({indexed['files']} files indexed in "
        f"{index_s:.0f} s), context {args.context_tokens} tokens, background descriptions "
        f"{'on' if args.describe else 'off'}, {args.pause:.0f} s between two places of a file, "
        f"llm.fileCacheTokens {args.file_cache_tokens} x {args.file_cache_windows} windows, "
        f"completion.speculate {'off' if args.no_speculate else 'on'}, "
        f"llm.requantize {args.requantize}"
    )
    print(f"CPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}")
    if described is not None:
        done, wanted = field_of(described, "done"), field_of(described, "of")
        print(f"described in the background meanwhile: {done} of {wanted} chunks")
    print(f"first request (loads the model): {load_s:.1f} s\n")
    print("| case | n | p50 ms | p95 ms | notes |")
    print("|---|---|---|---|---|")
    print(row("cold file, first request", cold))
    print(row("warm file, first request elsewhere", warm))
    if back:
        print(row("back in the file before, near its first place", back))
    print(
        row(
            "typing, per keystroke (answered)",
            answered,
            f"{hits} from the cache (< 30 ms), {cancelled} cancelled by the next key",
        )
    )
    served = sum(1 for v in after if v < CACHE_HIT)
    print(
        row(
            "next line after accepting",
            after,
            f"{accepted} accepted {args.think:.1f} s after shown; {served} from the cache",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="requests")
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--lines", type=int, default=4)
    parser.add_argument(
        "--pause", type=float, default=20.0, help="seconds between the two places of a file"
    )
    parser.add_argument(
        "--file-cache-tokens",
        type=int,
        default=LLMSettings().file_cache_tokens,
        help="llm.fileCacheTokens (0: the file is not kept read)",
    )
    parser.add_argument(
        "--file-cache-windows",
        type=int,
        default=LLMSettings().file_cache_windows,
        help="llm.fileCacheWindows (1: only the window around the cursor)",
    )
    parser.add_argument(
        "--returns", action="store_true", help="also go back to the file before, closed"
    )
    parser.add_argument("--context-tokens", type=int, default=CompletionSettings().context_tokens)
    parser.add_argument("--threads", type=int, default=0, help="llm.threads (0: one per core)")
    parser.add_argument("--accepts", type=int, default=8, help="places to accept a suggestion")
    parser.add_argument("--think", type=float, default=1.5, help="seconds before accepting")
    parser.add_argument(
        "--no-speculate", action="store_true", help="completion.speculate off (the baseline)"
    )
    parser.add_argument(
        "--requantize",
        choices=REQUANTIZE,
        default=LLMSettings().requantize,
        help="llm.requantize: which purposes load the model's faster copy (default: the setting)",
    )
    parser.add_argument(
        "--describe",
        action="store_true",
        help="with the server describing the package in the background (index.describe on)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
