"""VectorStore on a real LanceDB table: reads stay safe while indexing compacts it."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from codeassist_lsp.index.vector_store import VectorStore

DIM = 8


def _add(store: VectorStore, start: int, count: int) -> None:
    rng = np.random.default_rng(start)
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{start + i}" for i in range(count)]
    store.add(ids, ["a.py"] * count, vectors)


def test_status_and_search_while_compaction_drops_old_versions(tmp_path: Path) -> None:
    # The server answers codeassist/status and searches on other threads while an index
    # run compacts the table; dropping old versions once failed a concurrent
    # list_versions() with "Not found: …manifest".
    store = VectorStore(tmp_path / "lance", DIM)
    _add(store, 0, 4)
    errors: list[BaseException] = []
    stop = threading.Event()
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)

    def read() -> None:
        while not stop.is_set():
            try:
                assert store.version_count() >= 1
                assert store.search(query, 3)
            except BaseException as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for round_ in range(1, 25):
            _add(store, round_ * 10, 3)
            store.delete_ids([f"c{round_ * 10}"])
            store.compact()
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not errors, repr(errors[0])
    assert store.version_count() == 1
