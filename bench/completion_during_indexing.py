"""Inline completion while a workspace is being indexed, on 2 cores (prints figures).

    PYTHONPATH=$PWD python bench/completion_during_indexing.py [--package networkx]
        [--model qwen2.5-coder-0.5b] [--threads 2]

A developer opens a project and starts typing while the server indexes it: parsing runs
on one core and the embedder on two, and llama.cpp's two threads want both. By default
the indexer gives way (`foreground.GIVE_WAY_S`): before each batch of files and each
few chunks it embeds, it waits while a model request someone is waiting for runs. This
bench asks fill-in-the-middle requests (a place in the middle of a line of one of this
package's modules, a different module each time, so nothing is cached) alone, then while
a copy of `--package` is indexed cold (parse, then embed, as `codeassist index` does),
once with the indexer giving way and once with it not (`GIVE_WAY_S` 0). Prints the
completion latency p50 / p95 / max per mode and how long the index took. The default
model must be installed (`codeassist models install`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from completion_client import package_dir, percentile

from codeassist_lsp import foreground
from codeassist_lsp.config import Settings, load_settings
from codeassist_lsp.index.embedder import create_embedder
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.llm.llama_backend import LlamaCppBackend
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions

PACKAGE = Path(__file__).resolve().parents[1] / "codeassist_lsp"
FIM_OPTIONS = GenerationOptions(24, 0, stop=("\n",))
BETWEEN_FIMS_S = 0.3  # the user reads the suggestion, then moves on


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.stat().st_size > 3000)


def fim_request(n: int) -> FimRequest:
    """A cursor in the middle of a long line of module `n`, ~1,200 characters above it."""
    path = modules()[n % len(modules())]
    lines = path.read_text().split("\n")
    filled = [i for i, line in enumerate(lines) if len(line.strip()) > 30 and i > 40]
    at = filled[(37 * n) % len(filled)]
    cut = len(lines[at]) // 2
    prefix = "\n".join([*lines[:at], lines[at][:cut]])
    suffix = "\n".join([lines[at][cut:], *lines[at + 1 :]])
    return FimRequest(prefix[-1200:], suffix[:300], path=path.relative_to(PACKAGE).as_posix())


async def seconds(stream: AsyncGenerator[str, None]) -> float:
    start = time.perf_counter()
    async with aclosing(stream) as pieces:
        async for _ in pieces:
            pass
    return time.perf_counter() - start


def index_in_thread(source: Path, tmp: Path, threads: int) -> tuple[threading.Thread, list[float]]:
    """A cold index of a fresh copy of `source`, running; its seconds land in the list."""
    ws = tmp / source.name
    shutil.copytree(source, ws, ignore=shutil.ignore_patterns("__pycache__"))
    embedder = create_embedder("minilm", load_settings()[0].data_dir / "embedders", threads)
    index = WorkspaceIndex(ws, Settings(data_dir=tmp / "data"), embedder)
    took: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        index.refresh(vectors=True)
        took.append(time.perf_counter() - start)
        index.close()

    thread = threading.Thread(target=run, name="index")
    thread.start()
    return thread, took


async def during_index(
    backend: LlamaCppBackend, source: Path, threads: int, first: int
) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory(prefix="codeassist-bench-") as tmp:
        thread, took = index_in_thread(source, Path(tmp), threads)
        times: list[float] = []
        n = first
        while thread.is_alive():
            times.append(await seconds(backend.fim(fim_request(n), FIM_OPTIONS)))
            n += 1
            await asyncio.sleep(BETWEEN_FIMS_S)
        thread.join()
    return times, took[0] if took else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--package", default="networkx", help="installed package to index")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    source = package_dir(args.package)
    load_before = os.getloadavg()[0]
    backend = LlamaCppBackend(
        LLMSettings(model=args.model, threads=args.threads, file_cache_tokens=0),
        load_settings()[0].data_dir,
    )
    await backend.load()
    await seconds(backend.fim(fim_request(999), FIM_OPTIONS))  # warm up
    alone = [await seconds(backend.fim(fim_request(n), FIM_OPTIONS)) for n in range(10)]
    rows: list[tuple[str, list[float], float | None]] = [("alone", alone, None)]
    times, took = await during_index(backend, source, args.threads, 100)
    rows.append(("during indexing, indexer gives way (default)", times, took))
    with mock.patch.object(foreground, "GIVE_WAY_S", 0.0):
        times, took = await during_index(backend, source, args.threads, 100)
    rows.append(("during indexing, indexer does not", times, took))
    await backend.close()
    print(
        f"model {args.model}, {args.threads} threads; indexing {args.package} cold with the"
        f" int8 embedder on {args.threads} threads; load average {load_before:.1f} ->"
        f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; a completion every"
        f" {BETWEEN_FIMS_S} s after the last one answered"
    )
    print(f"  {'completion':<46} {'n':>3} {'p50 / p95 / max s':>20}   index s")
    for label, values, index_s in rows:
        spent = "" if index_s is None else f"{index_s:.1f}"
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(
            f"  {label:<46} {len(values):>3} {p50:>6.2f} / {p95:.2f} / {max(values):.2f}"
            f"   {spent}  (mean {statistics.mean(values):.2f})"
        )


if __name__ == "__main__":
    asyncio.run(main())
