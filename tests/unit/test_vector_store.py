"""VectorStore on a real LanceDB table: reads stay safe while indexing compacts it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.index.vector_store import VectorStore, VectorStoreMismatch

ROOT = Path(__file__).resolve().parents[2]

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


def test_reads_through_lance_match_lancedb(tmp_path: Path) -> None:
    # Reads open the table folder with `lance`, writes go through `lancedb`: both must see
    # the same table, rows and vectors bit for bit.
    import lancedb

    store = VectorStore(tmp_path / "lance", DIM)
    _add(store, 0, 6)
    store.delete_ids(["c2"])
    _add(store, 10, 2)
    table = lancedb.connect(str(tmp_path / "lance")).open_table("chunks")
    expected = table.to_arrow().select(["id", "vector"])
    assert store.ids() == [str(v) for v in expected.column("id").to_pylist()]
    assert len(store.ids()) == 7 and "c2" not in store.ids()
    vectors = np.asarray(expected.column("vector").to_pylist(), dtype=np.float32)
    query = vectors[3]
    hits = VectorStore(tmp_path / "lance", DIM).search(query, 7)
    assert hits[0] == (expected.column("id")[3].as_py(), pytest.approx(1.0, abs=1e-5))
    assert sorted(i for i, _ in hits) == sorted(store.ids())
    assert store.version_count() == len(table.list_versions())


def test_a_write_after_a_search_is_seen_by_the_next_search(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "lance", DIM)
    _add(store, 0, 2)
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    assert len(store.search(query, 10)) == 2
    _add(store, 10, 3)
    assert len(store.search(query, 10)) == 5
    store.delete_ids(["c0", "c10"])
    assert {i for i, _ in store.search(query, 10)} == {"c1", "c11", "c12"}


def test_another_dimension_is_a_mismatch(tmp_path: Path) -> None:
    _add(VectorStore(tmp_path / "lance", DIM), 0, 2)
    with pytest.raises(VectorStoreMismatch):
        VectorStore(tmp_path / "lance", DIM * 2)


def test_searching_an_existing_table_does_not_import_lancedb(tmp_path: Path) -> None:
    # `import lancedb` takes ~1 s (its REST namespace client); a search only reads.
    _add(VectorStore(tmp_path / "lance", DIM), 0, 4)
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from codeassist_lsp.index.vector_store import VectorStore\n"
        f"store = VectorStore(Path(sys.argv[1]), {DIM})\n"
        f"hits = store.search(np.ones({DIM}, dtype=np.float32), 2)\n"
        "print(len(hits), store.version_count(), len(store.ids()), 'lancedb' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lance")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert out.stdout.split() == ["2", "2", "4", "False"]  # versions: create, add
