"""Review on save: does it flag buggy functions and leave correct ones alone?

Runs the review (`chat/review.py`: the Fix task on the function, its changed lines as
findings) on the fourteen buggy and six correct-but-clumsy functions of
`bench/code_action_cases.py`, and on up to N functions of a third-party project
(tenacity 9.0.0 from the bench cache, released code taken as correct), with the real
model. Prints, per group, how many functions got a finding and the time per function
(p50/p95), with the load average; `--show` prints each finding.

    python3 bench/review_eval.py [--model TIER] [--threads N] [--thirdparty N] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from code_action_cases import CASES  # noqa: E402
from retrieval_eval import CACHE  # noqa: E402

from codeassist_lsp.chat.code_tasks import rewrite, rewrite_options  # noqa: E402
from codeassist_lsp.chat.review import Function, findings_of, functions_of  # noqa: E402
from codeassist_lsp.chat.tasks import CodeRequest  # noqa: E402
from codeassist_lsp.config import default_data_dir  # noqa: E402
from codeassist_lsp.llm.backend import create_backend  # noqa: E402
from codeassist_lsp.llm.settings import LLMSettings  # noqa: E402


def thirdparty(limit: int) -> list[tuple[str, Function, str]]:
    root = CACHE / "tenacity-9.0.0" / "tenacity-9.0.0" / "tenacity"
    found = []
    for path in sorted(root.rglob("*.py")):
        text, rel = path.read_text(), str(path.relative_to(root.parent))
        for function in functions_of(rel, text):
            if 4 <= function.target.line_count <= 30:
                found.append((rel, function, text))
    return found[:: max(len(found) // max(limit, 1), 1)][:limit]


async def run(args: argparse.Namespace) -> None:
    backend = create_backend(
        LLMSettings(model=args.model, threads=args.threads), default_data_dir()
    )
    await backend.load()
    groups: dict[str, list[tuple[str, Function, str]]] = {"buggy": [], "correct (clumsy)": []}
    for case in CASES:
        group = "buggy" if case.task == "fix" else "correct (clumsy)"
        path = f"{case.name}.py"
        groups[group] += [(path, f, case.source) for f in functions_of(path, case.source)[:1]]
    groups["correct (tenacity)"] = thirdparty(args.thirdparty)
    load = os.getloadavg()[0]
    rows = []
    for name, chunks in groups.items():
        flagged, times = 0, []
        for path, function, document in chunks:
            start = time.perf_counter()
            target = function.target
            request = CodeRequest("fix", "python", path, target.code)
            options = rewrite_options(target.code, 768, True)
            fixed = await rewrite(backend, request, target, document, "python", options)
            times.append(time.perf_counter() - start)
            findings = findings_of(fixed.changes, target)
            flagged += bool(findings)
            if args.show:
                print(f"[{name}] {path}:{function.name} -> {findings or 'nothing'}")
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0
        med = statistics.median(times) if times else 0.0
        rows.append(f"{name:<20} {len(chunks):>3} {flagged:>8} {med:>8.1f} {p95:>8.1f}")
    await backend.close()
    print(f"\nreview eval, model {args.model}, load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'group':<20} {'n':>3} {'flagged':>8} {'p50 s':>8} {'p95 s':>8}")
    print("\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--thirdparty", type=int, default=12)
    parser.add_argument("--show", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
