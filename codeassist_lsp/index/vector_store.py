"""Chunk vectors, persisted in LanceDB and searched exactly in memory.

LanceDB holds the vectors on disk (one table, compacted after each indexing run so
versions do not pile up). Search is an exact dot product over a matrix loaded from that
table: at 20k chunks a LanceDB flat scan took 66 ms median / 142 ms p95 here, the
in-memory product ~3 ms, and exact search needs no index training.

Reads go through `lance` (pylance), the format library under LanceDB, straight from the
table's folder: `import lancedb` costs ~1.2 s here (its namespace REST client builds
hundreds of pydantic validators at import), `import lance` ~0.1 s beyond pyarrow. So a
search or status never imports `lancedb`; it is imported on the first write (add, delete,
compact) or to create the table. Both read the same files; every read opens the latest
committed version, so it sees all writes made through `lancedb` before it.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from lance import LanceDataset
    from lancedb.table import Table

log = logging.getLogger(__name__)

TABLE = "chunks"


class VectorStoreMismatch(Exception):
    """The stored vectors have another dimension than the embedder: rebuild."""


class VectorStoreDamaged(Exception):
    """The vector table's files cannot be read; `reset()` and embed again."""


@contextmanager
def _damage_is_clear(uri: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, ValueError, RuntimeError, pa.ArrowException) as exc:
        raise VectorStoreDamaged(f"the vectors in {uri} are damaged: {exc}") from exc


def _quote(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class VectorStore:
    """A LanceDB table of (id, path, vector) plus an in-memory matrix for search."""

    def __init__(self, directory: Path, dim: int) -> None:
        self.dim = dim
        self._directory = directory
        self._uri = directory / f"{TABLE}.lance"  # where LanceDB keeps table TABLE
        self._schema = pa.schema(
            [
                pa.field("id", pa.string()),
                pa.field("path", pa.string()),
                pa.field("vector", pa.list_(pa.float32(), dim)),
            ]
        )
        self._lock = threading.Lock()  # reads vs compaction dropping old versions
        self._writer_lock = threading.Lock()
        self._table: Table | None = None  # the LanceDB table, opened on the first write
        if self._uri.is_dir():
            stored = self._dataset().schema.field("vector").type
            if getattr(stored, "list_size", dim) != dim:
                raise VectorStoreMismatch(f"stored vectors have {stored.list_size} dims, not {dim}")
        else:
            self._writer()  # creates the table
        self._ids: list[str] = []
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._writes = 0  # bumped by every write; a load keeps the count it saw
        self._writes_at_compact = 0
        self._loaded_at = -1

    def _dataset(self) -> LanceDataset:
        """The table's latest committed version, read-only (cheap: reads one manifest)."""
        import lance

        return lance.dataset(str(self._uri))

    def _writer(self) -> Table:
        """The LanceDB table, for writes; `lancedb` is imported here, on first use only."""
        with self._writer_lock:
            if self._table is None:
                import lancedb

                db = lancedb.connect(str(self._directory))
                if TABLE in db.list_tables().tables:
                    self._table = db.open_table(TABLE)
                else:
                    self._table = db.create_table(TABLE, schema=self._schema)
            return self._table

    def add(self, ids: Sequence[str], paths: Sequence[str], vectors: np.ndarray) -> None:
        if not ids:
            return
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
        table = pa.table(
            {
                "id": pa.array(list(ids), pa.string()),
                "path": pa.array(list(paths), pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, self.dim),
            },
            schema=self._schema,
        )
        self._writer().add(table)
        self._writes += 1

    def delete_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 500):
            self._writer().delete(f"id IN ({_quote(ids[start : start + 500])})")
        if ids:
            self._writes += 1

    def ids(self) -> list[str]:
        with self._lock, _damage_is_clear(self._uri):
            column = self._dataset().to_table(columns=["id"]).column("id")
        return [str(v) for v in column.to_pylist()]

    def reset(self) -> None:
        """Throw the table away and start an empty one (its vectors are computed again)."""
        with self._lock, self._writer_lock:
            self._table = None
            shutil.rmtree(self._uri, ignore_errors=True)
            self._ids, self._matrix = [], np.zeros((0, self.dim), dtype=np.float32)
            self._writes += 1
        self._writer()

    def compact(self) -> None:
        """Merge small fragments and drop old versions (no other process writes this table).

        Under the read lock: dropping old versions deletes files that a concurrent read
        (a status request or a search while the index runs) may be opening, which failed
        with "Not found: …manifest".

        Then the LanceDB table is let go and opened again on the next write: an open table
        caches the metadata of every version it wrote and never drops it, which cost the
        server ~27 KB of native memory per editor edit (`bench/vector_store_memory.py`).
        """
        import warnings

        table = self._writer()
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table.optimize(cleanup_older_than=timedelta(0))
        with self._writer_lock:
            self._table = None
        self._writes_at_compact = self._writes

    @property
    def writes_since_compact(self) -> int:
        """Writes since the last compaction: each one left a version and a small fragment
        on disk, which every later load reads."""
        return self._writes - self._writes_at_compact

    def version_count(self) -> int:
        with self._lock:
            return len(self._dataset().versions())

    def _load(self) -> None:
        writes = self._writes  # read before the data: a write during the load reloads next time
        with _damage_is_clear(self._uri):
            data = self._dataset().to_table(columns=["id", "vector"])
        ids = [str(v) for v in data.column("id").to_pylist()]
        if ids:
            flat = data.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            matrix = np.asarray(flat, dtype=np.float32).reshape(len(ids), self.dim)
        else:
            matrix = np.zeros((0, self.dim), dtype=np.float32)
        self._ids, self._matrix, self._loaded_at = ids, matrix, writes

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The `k` nearest ids by cosine similarity (vectors are normalised), best first."""
        with self._lock:
            if self._loaded_at != self._writes:
                self._load()
            ids, matrix = self._ids, self._matrix
        if not ids or k <= 0:
            return []
        scores = matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top]
