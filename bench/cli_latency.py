"""Wall time of the `codeassist` command line: `search` on an indexed workspace, and `--help`.

    python3 bench/cli_latency.py [WORKSPACE] [--query "..."] [--runs 5] [--compile]

Indexes WORKSPACE (default: fixtures/py-webclient) once into a fresh data dir whose
`embedders/` and `models/` are linked from the real one (the user's index and config are
not touched), with the default embedder. Then runs `python3 -m codeassist_lsp search
WORKSPACE QUERY` and `python3 -m codeassist_lsp --help` as subprocesses `--runs` times
each, interleaved, from the repository root (so this checkout's code runs), and prints
the median and min wall time of each; then the same search in this process (open the
index, first search, later searches), which is what a command costs beyond start-up and
imports; then the heaviest imports of one `search` (`python3 -X importtime`).

With PYTHONDONTWRITEBYTECODE set and no `__pycache__` under codeassist_lsp/, every run
compiles the package first (~0.05-0.1 s here); an installed package has its bytecode.
`--compile` writes it (`python3 -m compileall codeassist_lsp`) before measuring. The
bytecode state is printed either way.

Targets (issue): search < 0.5 s wall, --help < 0.3 s. Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402

DEFAULT_WORKSPACE = ROOT / "fixtures" / "py-webclient"
DEFAULT_QUERY = "retry a failed request with backoff"


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to exit of one command; its output is checked, not shown."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return took


def heaviest_imports(cmd: list[str], env: dict[str, str], top: int) -> list[tuple[str, float]]:
    """Import time of one run per top-level package (`-X importtime`), in ms, heaviest first.

    Each module's own time ("self") goes to its top-level package, so the figures add up
    to the whole import time and a package is not charged for the packages it imports.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    per_package: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or line.startswith("import time: self"):
            continue
        own, _, name = line.removeprefix("import time:").split("|", 2)
        per_package[name.strip().split(".")[0]] += int(own) / 1000
    total = sum(per_package.values())
    return [("(all imports)", total), *sorted(per_package.items(), key=lambda kv: -kv[1])[:top]]


def bytecode_state() -> str:
    cached = any((ROOT / "codeassist_lsp").glob("__pycache__/*.pyc"))
    no_write = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    if cached:
        return "codeassist_lsp bytecode cached (__pycache__ present)"
    if no_write:
        return "PYTHONDONTWRITEBYTECODE set and no __pycache__: every run compiles codeassist_lsp"
    return "no __pycache__ yet (the first run writes it)"


def in_process(workspace: Path, query: str, rounds: int) -> dict[str, float]:
    """Import, open the index, search once (loads caches), then `rounds` more; seconds."""
    start = time.perf_counter()
    import lance  # noqa: F401  (imported lazily by the vector store on open)

    import codeassist_lsp.index.embedder
    import codeassist_lsp.index.workspace  # noqa: F401
    from codeassist_lsp.cli_index import _settings, open_index
    from codeassist_lsp.rag.retriever import search_index

    imported = time.perf_counter()
    index = open_index(str(workspace), _settings())
    opened = time.perf_counter()
    search_index(index, query)
    first = time.perf_counter()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        search_index(index, query)
        times.append(time.perf_counter() - t0)
    index.close()
    return {
        "import the index modules (numpy, duckdb, pyarrow, lance, ...)": imported - start,
        "open (embedder: import onnxruntime, load the model; stores)": opened - imported,
        "first search": first - opened,
        "later search (median)": statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workspace", nargs="?", default=str(DEFAULT_WORKSPACE))
    parser.add_argument("--query", default=DEFAULT_QUERY)
    parser.add_argument("--runs", type=int, default=5, help="runs of each command")
    parser.add_argument("--compile", action="store_true", help="compileall codeassist_lsp first")
    parser.add_argument("--imports", type=int, default=12, help="heaviest imports to list")
    args = parser.parse_args()
    workspace = Path(args.workspace).resolve()
    if args.compile:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "codeassist_lsp"], cwd=ROOT)

    from codeassist_lsp.config import load_settings

    real = load_settings()[0].data_dir
    with tempfile.TemporaryDirectory(prefix="codeassist-bench-") as tmp:
        data_dir = Path(tmp)
        for name in ("models", "embedders"):
            (real / name).mkdir(parents=True, exist_ok=True)
            (data_dir / name).symlink_to(real / name)
        config = data_dir / "config.json"  # defaults only: the user's config is not read
        config.write_text(json.dumps({}))
        env = {**os.environ, "CODEASSIST_DATA_DIR": str(data_dir), "CODEASSIST_CONFIG": str(config)}
        os.environ.update(CODEASSIST_DATA_DIR=str(data_dir), CODEASSIST_CONFIG=str(config))

        cli = [sys.executable, "-m", "codeassist_lsp"]
        index_s = wall([*cli, "index", str(workspace)], env)
        commands = {
            "search": [*cli, "search", str(workspace), args.query],
            "--help": [*cli, "--help"],
        }
        load_start = loadavg()
        for cmd in commands.values():  # warm the page cache; not counted
            wall(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(wall(cmd, env))
        load_end = loadavg()
        stages = in_process(workspace, args.query, rounds=10)
        imports = heaviest_imports(commands["search"], env, args.imports)

    print(f"\ncli_latency: {workspace} (indexed in {index_s:.1f} s), query {args.query!r}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs ({cpu_name()})")
    print(f"code: {code_state()}; {bytecode_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print("| command | median s | min s | runs | target s |")
    print("|---|---:|---:|---:|---:|")
    targets = {"search": 0.5, "--help": 0.3}
    for name, values in times.items():
        print(
            f"| codeassist {name} | {statistics.median(values):.3f} | {min(values):.3f} "
            f"| {len(values)} | {targets[name]} |"
        )
    print("\nthe same search in this process:\n")
    print("| step | ms |")
    print("|---|---:|")
    for step, seconds in stages.items():
        print(f"| {step} | {seconds * 1000:.1f} |")
    print("\nimports of one `search` by package (-X importtime, own time of its modules):\n")
    print("| package | ms |")
    print("|---|---:|")
    for name, ms in imports:
        print(f"| {name} | {ms:.0f} |")


if __name__ == "__main__":
    main()
