"""Syntax diagnostics latency: a one-character edit in a ~2,000-line file, to the diagnostics
the server would publish, in-process and without the debounce.

Takes a real file of about 2,000 lines (default: networkx's `algorithms/shortest_paths/
weighted.py`, padded or cut to `--lines`), opens it as the diagnostics feature does
(`LiveTree`), then times `--edits` single-character edits at random places, each applied,
parsed incrementally and turned into LSP diagnostics (half of them break the syntax, half
repair it). Prints p50 / p95 / max, and the same for a full parse for comparison.

Goal (issue): p95 < 30 ms. Figures only, no asserts.

    python3 bench/diagnostics_latency.py [--file PATH] [--lines 2000] [--edits 300]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402

from codeassist_lsp.features.diagnostics import to_diagnostic  # noqa: E402
from codeassist_lsp.index.languages import get_parser  # noqa: E402
from codeassist_lsp.index.live_tree import Edit, LiveTree  # noqa: E402
from codeassist_lsp.index.syntax_errors import syntax_problems  # noqa: E402


def default_file() -> Path:
    spec = importlib.util.find_spec("networkx")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("networkx is not installed; pass --file")
    base = Path(next(iter(spec.submodule_search_locations)))
    return base / "algorithms" / "shortest_paths" / "weighted.py"


def sized(text: str, lines: int) -> str:
    """The text repeated to about `lines` lines, cut before a top-level definition so the
    result is as valid as the file."""
    source = text.splitlines(keepends=True)
    out: list[str] = []
    while len(out) < lines:
        out.extend(source)
    cut = max(
        (i for i in range(min(lines, len(out))) if out[i].startswith(("def ", "class "))),
        default=lines,
    )
    return "".join(out[:cut] if cut > lines // 2 else out[:lines])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check(live: LiveTree, expected: str) -> int:
    """What the feature does when it publishes: the tree (checked against the editor's
    text), its problems, and their LSP ranges."""
    root = live.current(expected).root_node
    return len([to_diagnostic(p, live) for p in syntax_problems(root)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=300)
    args = parser.parse_args()
    path = args.file or default_file()
    text = sized(path.read_text(encoding="utf-8"), args.lines)
    load_start = loadavg()
    live = LiveTree("python", text)
    rng = random.Random(11)
    baseline = check(live, text)
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    times: list[float] = []
    found: list[int] = []
    broken: tuple[int, int] | None = None
    for _ in range(args.edits):
        if broken is None:
            row = rng.randrange(len(lines))
            at = (row, rng.randrange(len(lines[row].rstrip("\n")) + 1))
            edit = Edit("(", at, at)  # an unclosed bracket
            offset = offsets[row] + at[1]
            current = text[:offset] + "(" + text[offset:]
            broken = at
        else:
            edit = Edit("", broken, (broken[0], broken[1] + 1))  # and removed again
            current = text
            broken = None
        t0 = time.perf_counter()
        live.apply([edit])
        found.append(check(live, current))
        times.append(time.perf_counter() - t0)
    full: list[float] = []
    python = get_parser("python")
    for _ in range(20):
        t0 = time.perf_counter()
        python.parse(live.source)
        full.append(time.perf_counter() - t0)
    load_end = loadavg()

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms"

    print(
        f"\ndiagnostics_latency: {path.name} at {text.count(chr(10))} lines, {len(text)} characters"
    )
    print(f"CPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print("| figure | p50 | p95 | max |")
    print("|---|---|---|---|")
    print(
        f"| one-character edit -> diagnostics ({args.edits} edits) | "
        f"{ms(statistics.median(times))} | {ms(percentile(times, 0.95))} | {ms(max(times))} |"
    )
    print(
        f"| full parse of the file, for comparison (20) | {ms(statistics.median(full))} | "
        f"{ms(percentile(full, 0.95))} | {ms(max(full))} |"
    )
    print(
        f"\nerrors in the file as cut: {baseline}; after the breaking edits "
        f"{min(found[::2])}-{max(found[::2])}, after the repairing ones "
        f"{min(found[1::2])}-{max(found[1::2])}; full parses {live.full_parses} "
        "(1: every edit was incremental). Goal p95 < 30 ms.\n"
    )


if __name__ == "__main__":
    main()
