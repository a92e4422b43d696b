"""Cold index throughput, incremental re-index of one file, and search latency.

Indexes real third-party code (installed packages' source, copied to a temp folder) with
the real embedder, then times: the cold index (files/s, chunks/s), a no-change refresh,
re-indexing one changed file, and `--queries` searches (p50/p95, in-process).

    python bench/index_and_search.py [--packages networkx,pygments,...] [--queries 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402

QUERIES = [
    "where is the graph traversed breadth first",
    "how are tokens split into words",
    "parse a configuration file",
    "shortest path between two nodes",
    "what happens when the input is empty",
    "convert the result to json",
    "retry after a failure",
    "read a file and decode it",
    "validate the arguments",
    "cache the computed value",
]


def copy_sources(packages: list[str], dest: Path) -> None:
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            print(f"skip {name}: not installed as a package", file=sys.stderr)
            continue
        src = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", default="networkx")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="codeassist-bench-"))
    try:
        ws = tmp / "ws"
        ws.mkdir()
        copy_sources(args.packages.split(","), ws)
        settings = Settings(data_dir=tmp / "data")
        embedder = create_embedder("minilm", Path.home() / ".cache" / "codeassist-bench" / "emb")
        index = WorkspaceIndex(ws, settings, embedder)
        start = time.perf_counter()
        cold = index.refresh()
        cold_s = time.perf_counter() - start
        print(
            f"cold index: {cold.files} files, {cold.chunks} chunks, {cold.symbols} symbols, "
            f"{cold.edges} edges in {cold_s:.1f}s = {cold.files / cold_s:.1f} files/s, "
            f"{cold.chunks / cold_s:.1f} chunks/s"
        )
        start = time.perf_counter()
        again = index.refresh()
        print(
            f"no-change refresh: {time.perf_counter() - start:.2f}s "
            f"({again.parsed} parsed, {again.embedded} embedded)"
        )
        victim = sorted(ws.rglob("*.py"), key=lambda p: p.stat().st_size)[-1]
        victim.write_text(victim.read_text() + "\n\ndef bench_added_function():\n    return 1\n")
        rel = victim.relative_to(ws).as_posix()
        start = time.perf_counter()
        one = index.indexer.update_paths([rel])
        one_s = time.perf_counter() - start
        print(
            f"re-index one changed file ({rel}): {one_s * 1000:.0f} ms "
            f"({one.embedded} chunks embedded)"
        )
        start = time.perf_counter()
        index.refresh()
        print(f"full refresh after that change: {time.perf_counter() - start:.2f}s")
        index.search(QUERIES[0])  # warm caches: chunk table, vector matrix, graph
        times = []
        rng = random.Random(7)
        for _ in range(args.queries):
            q = rng.choice(QUERIES)
            t0 = time.perf_counter()
            index.search(q, 10)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"search over {cold.chunks} chunks: p50 {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms ({len(times)} queries)"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {rss:.0f} MB")
        index.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
