"""In-process search latency at ~20k chunks: hybrid, BM25-only and vector-only.

Indexes real code (several installed pure-Python packages copied together into one
workspace under a bench cache folder, ~21k chunks by default) with the real embedder once;
later runs reuse that index (a no-change refresh). Then, after a warm-up, every query of a
fixed list of ~100 plain-English questions is searched in each mode (modes interleaved per
query so a noisy neighbour on a shared CPU hits them alike), graph expansion on, and the
wall-clock p50/p95/max per mode are printed, with this process's CPU time per query (a
proxy for the latency on an idle machine), a per-stage split of hybrid search, the index
size on disk and the RSS. `--profile` adds a cProfile of the hybrid searches.

Target (issue #3): p95 < 50 ms in-process at 20k chunks. Figures only, no asserts.

    python3 bench/search_latency.py [--packages networkx,numpy,...] [--rounds 2] [--rebuild]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import StageTimer, code_state, cpu_name, loadavg, rss_mb  # noqa: E402

import codeassist_lsp.rag.retriever as search_module  # noqa: E402
from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.rag.retriever import search_index  # noqa: E402

CACHE = Path(os.environ.get("CODEASSIST_BENCH_CACHE", Path.home() / ".cache" / "codeassist-bench"))
# ~21k chunks with the chunker of 2025-11: networkx 4.0k, numpy 8.0k, pygments 2.2k,
# setuptools 2.0k, IPython 1.8k, docutils 1.1k, prompt_toolkit 1.0k, rich 0.7k, click 0.3k.
DEFAULT_PACKAGES = "networkx,numpy,pygments,setuptools,IPython,docutils,prompt_toolkit,rich,click"
MODES = {
    "hybrid": frozenset({"vector", "keyword", "graph", "rerank"}),
    "bm25": frozenset({"keyword", "graph"}),
    "vector": frozenset({"vector", "graph"}),
}
QUERIES = [
    "parse a date string",
    "retry a failed request",
    "read a configuration file",
    "write the results to a csv file",
    "convert a string to lowercase",
    "find the shortest path between two nodes",
    "check whether the input is empty",
    "raise an error when the argument has the wrong type",
    "load data from a json file",
    "serialize an object to json",
    "compute the mean of an array",
    "sort a list of items by key",
    "remove duplicate entries",
    "split text into lines",
    "wrap long lines of text",
    "escape html special characters",
    "colour the terminal output",
    "print a progress bar",
    "parse command line arguments",
    "handle keyboard interrupt",
    "open a file for writing",
    "create a temporary directory",
    "walk a directory tree recursively",
    "match a file name against a glob pattern",
    "compare two version numbers",
    "download a file from a url",
    "cache the result of an expensive call",
    "measure elapsed time",
    "format a number with thousands separators",
    "pretty print a table",
    "detect the encoding of a byte string",
    "decode bytes as utf-8",
    "generate a random sample",
    "set the random seed",
    "check if a graph is connected",
    "breadth first search over neighbours",
    "depth first traversal",
    "detect a cycle in a directed graph",
    "topological sort of dependencies",
    "minimum spanning tree",
    "maximum flow in a network",
    "adjacency matrix of a graph",
    "add an edge with a weight",
    "remove a node and its edges",
    "count the connected components",
    "compute the degree of each node",
    "reshape an array",
    "matrix multiplication",
    "invert a matrix",
    "solve a linear system",
    "fast fourier transform",
    "broadcast two arrays together",
    "round values to the nearest integer",
    "handle missing values",
    "mask invalid entries",
    "concatenate arrays along an axis",
    "save an array to disk",
    "load an array from a text file",
    "tokenize source code",
    "syntax highlighting for a language",
    "guess the language of a file",
    "render output as html",
    "define a style with colours",
    "lexer for python code",
    "parse restructured text",
    "convert a document to html",
    "register a plugin",
    "load an entry point",
    "install a package",
    "build a source distribution",
    "read package metadata",
    "find packages in a directory",
    "run a shell command",
    "capture the output of a subprocess",
    "set an environment variable",
    "complete the word under the cursor",
    "key bindings for the editor",
    "history of entered commands",
    "read a line of input from the user",
    "display a prompt",
    "handle mouse events",
    "resize the terminal window",
    "show a traceback for an exception",
    "format an exception message",
    "log a warning",
    "deprecation warning for an old function",
    "validate user input",
    "confirm before overwriting a file",
    "choose an option from a list",
    "define a command with options",
    "callback when a value changes",
    "thread safe lock around shared state",
    "run tasks concurrently",
    "wait for a timeout",
    "iterate over chunks of a sequence",
    "flatten a nested list",
    "merge two dictionaries",
    "deep copy of an object",
    "hash an object for a dictionary key",
    "compare objects for equality",
]


@contextmanager
def instrumented(index: WorkspaceIndex, timer: StageTimer) -> Iterator[None]:
    """Timers around the search stages (instance and module attributes, restored after)."""
    embedder, stores = index.embedder, index.stores
    instance = [
        (embedder, "embed_query", "embed query"),
        (stores.vectors, "search", "vector scan"),
        (stores.text, "search", "tantivy BM25"),
    ]
    for owner, name, stage in instance:
        setattr(owner, name, timer.wrap(stage, getattr(owner, name)))
    module = [
        ("_fuse", "fusion"),
        ("expand_with_graph", "graph expansion"),
        ("_apply_priors", "path priors"),
        ("_dedupe_overlaps", "dedupe"),
    ]
    module = [(name, stage) for name, stage in module if hasattr(search_module, name)]
    saved = {name: getattr(search_module, name) for name, _ in module}
    for name, stage in module:
        setattr(search_module, name, timer.wrap(stage, saved[name]))
    try:
        yield
    finally:
        for owner, name, _ in instance:
            delattr(owner, name)
        for name, original in saved.items():
            setattr(search_module, name, original)


def prepare_workspace(ws: Path, packages: list[str]) -> str:
    """Copy the packages into `ws` unless the same set is there; return a description."""
    wanted = {}
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"{name} is not an installed package")
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "?"
        wanted[name] = (version, Path(next(iter(spec.submodule_search_locations))))
    stamp = ws / ".bench-packages.json"
    described = ", ".join(f"{n} {v}" for n, (v, _) in wanted.items())
    manifest = {n: v for n, (v, _) in wanted.items()}
    if stamp.is_file() and json.loads(stamp.read_text()) == manifest:
        return described
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
    for name, (_, src) in wanted.items():
        shutil.copytree(src, ws / name, ignore=ignore)
    (ws / ".codeassistignore").write_text(".bench-packages.json\n")
    stamp.write_text(json.dumps(manifest))
    return described


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(sorted_values), round(q * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def du_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packages", default=DEFAULT_PACKAGES, help="installed packages to copy")
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=CACHE / "search-latency",
        help="workspace copy and its index, reused across runs (default %(default)s)",
    )
    parser.add_argument("--rebuild", action="store_true", help="index from scratch")
    parser.add_argument(
        "--exclude",
        default="",
        help="comma-separated gitignore patterns left out of the index (default: none)",
    )
    parser.add_argument("--embedder", default="minilm", help="embedder name (default minilm)")
    parser.add_argument("--threads", type=int, default=2, help="embedder threads (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the query list")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up queries per mode")
    parser.add_argument("--limit", type=int, default=10, help="results per search")
    parser.add_argument("--profile", action="store_true", help="cProfile the hybrid searches")
    parser.add_argument("--cache-dir", type=Path, default=CACHE / "emb", help="ONNX export cache")
    args = parser.parse_args()

    load_start = loadavg()
    ws = args.bench_dir / "ws"
    data = args.bench_dir / "data"
    if args.rebuild:
        shutil.rmtree(args.bench_dir, ignore_errors=True)
    described = prepare_workspace(ws, [p for p in args.packages.split(",") if p])
    embedder = create_embedder(args.embedder, args.cache_dir, args.threads)
    settings = Settings(data_dir=data)
    settings.search.graph_expansion = True
    settings.index.exclude = [p for p in args.exclude.split(",") if p]
    index = WorkspaceIndex(ws, settings, embedder)
    t0 = time.perf_counter()
    stats = index.refresh()
    refresh_s = time.perf_counter() - t0
    built = stats.parsed > 0
    rss_indexed = rss_mb()

    t0 = time.perf_counter()
    search_index(index, QUERIES[0], args.limit)  # loads the chunk table, vector matrix and graph
    first_s = time.perf_counter() - t0
    for modes in MODES.values():
        for q in QUERIES[-args.warmup :]:
            search_index(index, q, args.limit, modes)

    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for q in QUERIES:
            for mode, modes in MODES.items():
                c0, t0 = time.process_time(), time.perf_counter()
                search_index(index, q, args.limit, modes)
                wall[mode].append(time.perf_counter() - t0)
                cpu[mode].append(time.process_time() - c0)

    timer = StageTimer()
    with instrumented(index, timer):
        t0 = time.perf_counter()
        for q in QUERIES:
            search_index(index, q, args.limit, MODES["hybrid"])
        staged_total = time.perf_counter() - t0

    profile_text = ""
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for q in QUERIES:
            search_index(index, q, args.limit, MODES["hybrid"])
        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(30)
        profile_text = buf.getvalue()

    status = index.status()
    store_dir = index.stores.directory
    sizes = {
        "meta.duckdb": du_mb(store_dir / "meta.duckdb"),
        "lance/": du_mb(store_dir / "lance"),
        "tantivy/": du_mb(store_dir / "tantivy"),
    }
    for wal in store_dir.glob("meta.duckdb.wal"):
        sizes["meta.duckdb"] += wal.stat().st_size / 1e6
    total_mb = du_mb(store_dir)
    index.close()
    rss_now, rss_peak = rss_mb()
    load_end = loadavg()

    n = len(QUERIES) * args.rounds
    print(
        f"\nsearch_latency: {status['chunks']} chunks, {status['files']} files, "
        f"{status['symbols']} symbols, {status['edges']} edges\npackages: {described}"
    )
    print(
        f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs (shared); embedder {embedder.name} "
        f"({type(embedder).__name__}), {args.threads} threads; Python "
        f"{platform.python_version()}; limit {args.limit}, graph expansion on, no reranker"
    )
    index_note = (
        f"index built in this run: {refresh_s:.0f} s ({stats.embedded} chunks embedded)"
        if built
        else f"cached index reused (no-change refresh {refresh_s * 1000:.0f} ms)"
    )
    print(f"{index_note}; first search (loads caches) {first_s * 1000:.0f} ms")
    print(f"code: {code_state()}; excluded: {args.exclude or 'nothing'}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print(f"{n} queries per mode ({len(QUERIES)} x {args.rounds} rounds), after warm-up:\n")
    print("| mode   | p50 ms | p95 ms | max ms | mean ms | CPU p50 ms | CPU p95 ms |")
    print("|--------|-------:|-------:|-------:|--------:|-----------:|-----------:|")
    for mode in MODES:
        w = sorted(x * 1000 for x in wall[mode])
        c = sorted(x * 1000 for x in cpu[mode])
        print(
            f"| {mode:<6} | {percentile(w, 0.5):6.1f} | {percentile(w, 0.95):6.1f} | "
            f"{w[-1]:6.1f} | {statistics.fmean(w):7.1f} | {percentile(c, 0.5):10.1f} | "
            f"{percentile(c, 0.95):10.1f} |"
        )
    print(f"\nhybrid search, mean per query by stage ({len(QUERIES)} queries, timers on):\n")
    print("| stage           | mean ms | share |")
    print("|-----------------|--------:|------:|")
    per_query = staged_total / len(QUERIES)
    rest = staged_total - sum(timer.seconds.values())
    for stage, sec in [*sorted(timer.seconds.items(), key=lambda kv: -kv[1]), ("other", rest)]:
        print(f"| {stage:<15} | {sec / len(QUERIES) * 1000:7.2f} | {sec / staged_total:5.0%} |")
    print(f"| {'total':<15} | {per_query * 1000:7.2f} | 100% |")
    print("\n| index on disk | MB |")
    print("|---|---:|")
    for name, mb in sizes.items():
        print(f"| {name} | {mb:.1f} |")
    print(f"| total ({store_dir}) | {total_mb:.1f} |")
    print(
        f"\nRSS: {rss_indexed[0]:.0f} MB after open/refresh, {rss_now:.0f} MB after the searches, "
        f"peak {rss_peak:.0f} MB{' (includes the cold index)' if built else ''}"
    )
    if profile_text:
        print("\ncProfile of the hybrid searches (top 30 by cumulative time):\n")
        print(profile_text)


if __name__ == "__main__":
    main()
