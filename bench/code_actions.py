"""Code actions: listing time, resolve time on the real default model, and Fix / Improve
quality on twenty small functions (`code_action_cases.py`).

1. Listing: `list_actions` in-process over a selection with a diagnostic, p50 / p95 (goal
   < 50 ms; the model is never called).
2. Resolve: for Explain, Fix and Improve on small functions, time to the first token and
   to the end of the answer, with and without prompt-lookup decoding, through the same
   prompts and options the server uses (`--runs` each). Every run names a different file
   in its prompt, so no run reuses another's KV cache beyond the shared system prompt.
3. Quality: each of the 20 cases goes through the server's rewrite loop (parse check,
   one retry); the edit is applied and the case's check runs in a subprocess. Prints
   how many edits came back (all of them parse: the loop refuses others), how many are
   right by the check, how many were refused or unchanged.

Figures only, no asserts.

    python3 bench/code_actions.py [--runs 2] [--model M] [--skip-quality] [--skip-timing]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402
from code_action_cases import CASES, Case  # noqa: E402
from lsprotocol import types  # noqa: E402

from codeassist_lsp.chat.code_target import find_target  # noqa: E402
from codeassist_lsp.chat.code_tasks import (  # noqa: E402
    collect,
    make_request,
    rewrite,
    rewrite_options,
)
from codeassist_lsp.chat.rewrite_edits import split_keep_ends  # noqa: E402
from codeassist_lsp.chat.tasks import TaskKind, build_messages  # noqa: E402
from codeassist_lsp.config import CodeActionSettings, default_data_dir  # noqa: E402
from codeassist_lsp.features.code_actions import list_actions  # noqa: E402
from codeassist_lsp.llm.backend import Backend, create_backend  # noqa: E402
from codeassist_lsp.llm.settings import LLMSettings  # noqa: E402
from codeassist_lsp.llm.types import GenerationOptions  # noqa: E402

SETTINGS = CodeActionSettings()
TIMED = ("is_even", "clamp", "squares")  # small functions for the resolve timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_listing(calls: int = 2000) -> tuple[float, float]:
    rng = types.Range(types.Position(3, 0), types.Position(40, 0))
    bug = types.Diagnostic(range=rng, message="missing `)`")
    context = types.CodeActionContext(diagnostics=[bug])
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        list_actions("file:///ws/a.py", rng, context, rewritable=True, resolvable=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), pct(samples, 0.95)


def options(kind: TaskKind, code: str, lookup: bool) -> GenerationOptions:
    if kind == "explain":
        return GenerationOptions(SETTINGS.explain_max_tokens, 0.0, (), lookup)
    return rewrite_options(code, SETTINGS.rewrite_max_tokens, lookup)


def request_for(case: Case, kind: TaskKind, path: str):  # type: ignore[no-untyped-def]
    target = find_target(case.source, "python", (0, 0), (0, 0))
    assert target is not None
    return target, make_request(kind, target, "python", path, [], (), SETTINGS.context_tokens)


async def time_resolve(backend: Backend, kind: TaskKind, lookup: bool, runs: int) -> list:
    """(first token s, total s, tokens) per run."""
    out = []
    for run in range(runs):
        for name in TIMED:
            case = next(c for c in CASES if c.name == name)
            path = f"{name}_{kind}_{int(lookup)}_{run}.py"
            target, request = request_for(case, kind, path)
            first: list[float] = []
            count = [0]
            start = time.perf_counter()

            def seen(piece: str, first: list[float] = first, count: list[int] = count) -> None:
                count[0] += 1
                if not first:
                    first.append(time.perf_counter())

            stream = backend.chat(build_messages(request), options(kind, target.code, lookup))
            await collect(stream, seen)
            end = time.perf_counter()
            out.append(((first[0] if first else end) - start, end - start, count[0]))
    return out


def apply_changes(text: str, changes: list) -> str:  # type: ignore[type-arg]
    lines = split_keep_ends(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        start = offsets[change.start[0]] + change.start[1]
        end = offsets[change.end[0]] + change.end[1]
        text = text[:start] + change.text + text[end:]
    return text


def passes(source: str, check: str) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-c", source + "\n" + check], capture_output=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


async def quality(backend: Backend) -> dict[str, dict[str, int]]:
    tally: dict[str, dict[str, int]] = {}
    for case in CASES:
        kind: TaskKind = "fix" if case.task == "fix" else "improve"
        row = tally.setdefault(kind, {"cases": 0, "edits": 0, "right": 0, "same": 0, "refused": 0})
        row["cases"] += 1
        target, request = request_for(case, kind, f"{case.name}.py")
        start = time.perf_counter()
        outcome = await rewrite(
            backend, request, target, case.source, "python", options(kind, target.code, True)
        )
        took = time.perf_counter() - start
        verdict = "refused"
        if outcome.error is not None:
            row["refused"] += 1
        elif not outcome.changes:
            row["same"] += 1
            verdict = "unchanged"
        else:
            row["edits"] += 1
            new = apply_changes(case.source, outcome.changes)
            right = passes(new, case.check)
            row["right"] += right
            verdict = "right" if right else "wrong"
        print(f"  {kind:7} {case.name:22} {verdict:9} {took:5.1f} s, {outcome.attempts} attempt(s)")
    return tally


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()

    load_start = loadavg()
    p50, p95 = time_listing()
    backend = create_backend(LLMSettings(model=args.model), default_data_dir())
    info = await backend.load()
    _, warm = request_for(CASES[0], "fix", "warmup.py")
    await collect(backend.chat(build_messages(warm), GenerationOptions(4, 0.0)))
    timings = {}
    for kind in () if args.skip_timing else ("explain", "fix", "improve"):
        for lookup in (False, True):
            timings[(kind, lookup)] = await time_resolve(backend, kind, lookup, args.runs)
    tally = None if args.skip_quality else await quality(backend)
    await backend.close()
    load_end = loadavg()

    print(f"\nCPU: {cpu_name()}; code: {code_state()}; model: {info.name}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print(f"listing (in-process list_actions): p50 {p50:.3f} ms, p95 {p95:.3f} ms\n")
    print("| task | prompt lookup | first token p50 | total p50 | total max | tokens/s |")
    print("|---|---|---|---|---|---|")
    for (kind, lookup), rows in timings.items():
        firsts = [r[0] for r in rows]
        totals = [r[1] for r in rows]
        rate = sum(r[2] for r in rows) / max(sum(r[1] - r[0] for r in rows), 1e-9)
        print(
            f"| {kind} | {'on' if lookup else 'off'} | {statistics.median(firsts):.2f} s | "
            f"{statistics.median(totals):.2f} s | {max(totals):.2f} s | {rate:.1f} |"
        )
    if tally is not None:
        print("\n| task | cases | edits (all parse) | right by check | unchanged | refused |")
        print("|---|---|---|---|---|---|")
        for kind, row in tally.items():
            print(
                f"| {kind} | {row['cases']} | {row['edits']} | {row['right']} | "
                f"{row['same']} | {row['refused']} |"
            )
        edits = sum(r["edits"] for r in tally.values())
        right = sum(r["right"] for r in tally.values())
        print(f"\nFix + Improve: {edits}/20 edits parse, {right}/20 right by their check")


if __name__ == "__main__":
    asyncio.run(main())
