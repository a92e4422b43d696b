"""Native memory of the vector store under editor edits (prints; asserts nothing).

    python bench/vector_store_memory.py [--steps 3000] [--chunks 2000]

One process, as the server runs it (`limit_malloc_arenas()` first): a `VectorStore` of
`--chunks` random 384-dim vectors, then `--steps` steps shaped like one editor edit of a
file — delete two chunks' vectors, add two, search once (which reloads the matrix) — with
the table compacted every `LIVE_COMPACT_WRITES` writes, as the indexer does for live
edits. RSS is read from /proc after a warm-up of 200 steps and at the end; the growth per
step is what a long editing session pays.

Measured with this bench: keeping one LanceDB table open across compactions grew
~27.5 KB per step (its metadata cache keeps every version it wrote); letting it go at each
compaction, ~1 KB per step.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import numpy as np

from codeassist_lsp.index.indexer import LIVE_COMPACT_WRITES
from codeassist_lsp.index.vector_store import VectorStore
from codeassist_lsp.memory import limit_malloc_arenas

WARM_UP = 200
DIM = 384


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--chunks", type=int, default=2000)
    args = parser.parse_args()
    if args.steps <= WARM_UP:
        parser.error(f"--steps must be above the warm-up of {WARM_UP}")
    limit_malloc_arenas()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        store = VectorStore(Path(directory), DIM)
        ids = [f"c{i}" for i in range(args.chunks)]
        paths = [f"pkg/m{i % 200}.py" for i in range(args.chunks)]
        store.add(ids, paths, rng.standard_normal((args.chunks, DIM)).astype(np.float32))
        store.compact()
        query = rng.standard_normal(DIM).astype(np.float32)
        start = 0.0
        for step in range(args.steps):
            edited = [ids[step % args.chunks], ids[(step + 1) % args.chunks]]
            store.delete_ids(edited)
            vectors = rng.standard_normal((2, DIM)).astype(np.float32)
            store.add(edited, ["pkg/edited.py"] * 2, vectors)
            store.search(query, 5)
            if store.writes_since_compact >= LIVE_COMPACT_WRITES:
                store.compact()
            if step == WARM_UP - 1:
                gc.collect()
                start = rss_mb()
        gc.collect()
        end = rss_mb()
    per_step = (end - start) * 1024 / (args.steps - WARM_UP)
    print(f"chunks {args.chunks}, steps {args.steps} (after {WARM_UP} warm-up)")
    print(f"RSS {start:.1f} MB -> {end:.1f} MB: {per_step:.1f} KB per edit")


if __name__ == "__main__":
    main()
