"""Hover latency, facts only: the definition under the cursor and its graph facts as Markdown.

Indexes a copy of an installed package (default networkx) with the fake embedder (hover
reads no vectors), then hovers over `--samples` real uses of names taken at random from
the references the parser found, the way the server does for `textDocument/hover` once
the line is read: resolve the definition (`navigate.definitions`) and write its Markdown
(`hover_markdown`). The first hover after an index change also builds the view's lookups;
that is printed apart. Prints p50 / p95 / max. Figures only, no asserts.

    python3 bench/hover_latency.py [--package networkx] [--samples 300]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402

from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.features.hover import hover_markdown  # noqa: E402
from codeassist_lsp.index import navigate  # noqa: E402
from codeassist_lsp.index.embed_fake import FakeEmbedder  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="networkx")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    spec = importlib.util.find_spec(args.package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{args.package} is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="codeassist-bench-hover-"))
    try:
        ws = tmp / "ws"
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, ws / args.package, ignore=shutil.ignore_patterns("__pycache__"))
        index = WorkspaceIndex(ws, Settings(data_dir=tmp / "data"), FakeEmbedder())
        index.refresh()
        load_start = loadavg()
        view = index.view()
        t0 = time.perf_counter()
        symbols = view.symbols()
        graph = view.graph
        first = time.perf_counter() - t0
        uses = [
            (path, ref)
            for name in sorted({sym.name for _, sym in symbols})
            for path, ref in view.references_named(name)
            if ref.kind == "calls"
        ]
        rng = random.Random(5)
        times, found = [], 0
        for path, ref in rng.sample(uses, min(args.samples, len(uses))):
            t0 = time.perf_counter()
            targets = navigate.definitions(ref.name, path, ref.line, symbols, graph)
            if targets:
                hover_markdown(view, *targets[0])
                found += 1
            times.append(time.perf_counter() - t0)
        load_end = loadavg()
        times.sort()
        print(f"\nhover_latency: {args.package}, {len(symbols)} definitions, {len(uses)} calls")
        print(f"CPU: {cpu_name()}; code: {code_state()}")
        print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
        print("| figure | value |")
        print("|---|---|")
        print(
            f"| first hover after a change: the view's symbols and graph | {first * 1000:.0f} ms |"
        )
        print(
            f"| hover, facts only ({len(times)} uses, {found} resolved): p50 / p95 / max | "
            f"{statistics.median(times) * 1000:.1f} / "
            f"{times[int(0.95 * len(times))] * 1000:.1f} / {times[-1] * 1000:.1f} ms |\n"
        )
        index.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
