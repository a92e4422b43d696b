"""Incremental indexing: walk, diff against the hash catalog, parse, write, then embed.

Embedding is 90% of a cold index on this CPU, so a full refresh works in two phases: first
every changed file is read, parsed and written with its keyword documents (search by
keyword, the graph and symbols are then complete), then the new chunks are embedded and
their vectors added, in slices (`embed_pending`) that a server interleaves with edits. A
single-file update (an edit, a save) embeds its few chunks at once.

Each batch's writes are ordered so a crash at any point leaves the previous consistent
state: new vectors and keyword documents are added first (unknown to DuckDB, so never
served), then one DuckDB transaction makes them the truth, then rows that are no longer
referenced are deleted. A `dirty` flag marks the window in between; the next open or write
reconciles. A chunk DuckDB knows without a vector (phase two had not reached it) is only
missing from vector search; the next run embeds it.
A data dir that refuses writes (full, read-only) stops a run with an `IndexStorageError`;
what DuckDB committed before stays the consistent index.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from codeassist_lsp.config import IndexSettings
from codeassist_lsp.foreground import give_way
from codeassist_lsp.index.descriptions import keyword_docs
from codeassist_lsp.index.embed_text import embedding_text
from codeassist_lsp.index.embedder import Embedder
from codeassist_lsp.index.files import (
    WorkspaceFile,
    read_text,
    skip_reason_for,
    walk_workspace,
)
from codeassist_lsp.index.languages import language_for_path
from codeassist_lsp.index.meta_store import FileRecord
from codeassist_lsp.index.model import Chunk, ParsedFile
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.storage import WorkspaceStores, refused_write, storage_errors
from codeassist_lsp.index.vector_store import VectorStoreDamaged
from codeassist_lsp.index.view import ViewKeeper

log = logging.getLogger(__name__)

BATCH_FILES = 64
EMBED_STEP = 16  # chunks embedded between two looks for a model request (~0.1 s here)
EMBED_SLICE = 256  # chunks embedded per `embed_pending` call of a server (~2.5 s here)
# An edit writes the vector table twice (delete, add); compacting after ~32 edits takes
# 0.1-0.2 s and keeps versions and fragments on disk from growing without end.
LIVE_COMPACT_WRITES = 64

Progress = Callable[[int, int, str], None]


@dataclass
class IndexStats:
    """What one indexing run did."""

    files: int = 0
    chunks: int = 0
    symbols: int = 0
    edges: int = 0
    seconds: float = 0.0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    vectors_pending: int = 0  # chunks left without a vector (refresh(vectors=False))
    skipped: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False

    def summary(self) -> str:
        return (
            f"{self.files} files, {self.chunks} chunks, {self.symbols} symbols, "
            f"{self.edges} edges in {self.seconds:.1f}s ({self.parsed} parsed, "
            f"{self.unchanged} unchanged, {self.removed} removed, {len(self.skipped)} skipped)"
        )


@dataclass
class _Batch:
    """One batch of files read and parsed, its new chunks' vectors on the way."""

    files: Sequence[WorkspaceFile]
    parsed: list[tuple[FileRecord, ParsedFile]]
    touched: list[FileRecord]
    removed: Sequence[str]
    old_ids: set[str]
    fresh: list[Chunk]
    embed_texts: dict[str, str] = field(default_factory=dict)  # fresh chunk id -> its words
    vectors: np.ndarray | None = None  # of `fresh`, when embedded before the write

    @property
    def paths(self) -> list[str]:
        return [rec.path for rec, _ in self.parsed] + list(self.removed)

    @property
    def changes(self) -> bool:
        return bool(self.parsed or self.removed)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Indexer:
    """Keeps one workspace's stores in step with its files."""

    def __init__(
        self,
        stores: WorkspaceStores,
        settings: IndexSettings,
        embedder: Embedder,
        views: ViewKeeper,
    ) -> None:
        self.stores = stores
        self.settings = settings
        self.embedder = embedder
        self.views = views
        self.graphs = views.graphs
        # Chunks DuckDB knows that have no vector yet, with their words when this process
        # computed them (None: from the stored facts). Loaded on first use.
        self._unembedded: dict[str, str | None] | None = None
        try:
            self._reconcile_if_dirty()
            if not stores.read_only:
                self.repair_keywords()
        except Exception as exc:  # a full disk must not stop reading the index
            clear = refused_write(exc, stores.directory)
            if clear is None:
                raise
            log.warning("orphans are left until the next write: %s", clear)

    @property
    def root(self) -> Path:
        return self.stores.root

    def refresh(
        self,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        vectors: bool = True,
    ) -> IndexStats:
        """Bring the whole index up to date with the workspace on disk.

        With `vectors=False` new chunks are left for `embed_pending`: the index is searchable
        by keyword, graph and symbols as soon as this returns.
        """
        with self._writing():
            # with vectors to follow, the last embedded slice compacts the table once
            stats = self._refresh(progress, cancel, compact=not vectors)
        if vectors and not stats.cancelled:
            start = time.perf_counter()
            total = self.pending_vectors()
            while self.pending_vectors() and not (cancel is not None and cancel.is_set()):
                stats.embedded += self.embed_pending(EMBED_SLICE * 4)
                if progress:
                    progress(total - self.pending_vectors(), total, "embedding")
            stats.cancelled = cancel is not None and cancel.is_set()
            stats.seconds += time.perf_counter() - start
        stats.vectors_pending = self.pending_vectors()
        return stats

    def _refresh(
        self, progress: Progress | None, cancel: threading.Event | None, compact: bool
    ) -> IndexStats:
        start = time.perf_counter()
        walk = walk_workspace(self.root, self.settings.max_file_bytes, self.settings.exclude)
        stats = IndexStats(skipped=walk.skipped)
        with self.stores.lock:
            catalog = self.stores.meta.files()
        seen = {f.path for f in walk.files}
        candidates = [
            f
            for f in walk.files
            if (rec := catalog.get(f.path)) is None
            or (rec.mtime_ns, rec.size) != (f.mtime_ns, f.size)
        ]
        removed = sorted(p for p in catalog if p not in seen)
        stats.unchanged = len(walk.files) - len(candidates)
        if progress:
            progress(0, len(candidates), f"{len(candidates)} files to index")
        self._index_batches(candidates, removed, catalog, stats, progress, cancel)
        changed = stats.parsed > 0 or stats.removed > 0
        self._finish(stats, changed, compact=compact or not self.pending_vectors(), graph=True)
        stats.seconds = time.perf_counter() - start
        return stats

    def _index_batches(
        self,
        candidates: Sequence[WorkspaceFile],
        removed: Sequence[str],
        catalog: dict[str, FileRecord],
        stats: IndexStats,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        """Read, parse and write the files in batches, leaving their vectors for later."""
        total = len(candidates)
        pace = cancel if cancel is not None else threading.Event()
        for begin in range(0, max(total, 1), BATCH_FILES):
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                break
            files = candidates[begin : begin + BATCH_FILES]
            batch = self._read(files, removed if begin == 0 else [], catalog, stats, {}, pace)
            self._write(batch, stats)
            if progress:
                done = min(begin + BATCH_FILES, total)
                progress(done, total, files[-1].path if files else "")

    def pending_vectors(self) -> int:
        """How many chunks DuckDB knows have no vector yet."""
        return len(self._missing_vectors())

    def _missing_vectors(self) -> dict[str, str | None]:
        if self._unembedded is None:
            with self.stores.lock:
                known = self.stores.meta.chunk_ids()
            self._unembedded = dict.fromkeys(sorted(known - set(self._vector_ids())))
            self.views.vectors_missing(len(self._unembedded))
        return self._unembedded

    def embed_pending(self, limit: int = EMBED_SLICE) -> int:
        """Embed up to `limit` chunks that have no vector yet and add their vectors; returns
        how many were embedded. One call is one slice of the writer's time; the call that
        embeds the last of them compacts the vector table."""
        with self._writing():
            missing = self._missing_vectors()
            ids = list(missing)[:limit]
            if not ids:
                return 0
            with self.stores.lock:
                chunks = self.stores.meta.chunks_by_id(ids)
            ids = [cid for cid in ids if cid in chunks]
            texts = self._texts_for(ids, chunks, missing)
            vectors = self._embed_giving_way([texts[cid] for cid in ids])
            self.stores.vectors.add(ids, [chunks[cid].path for cid in ids], vectors)
            for cid in list(missing)[:limit]:
                missing.pop(cid, None)
            self.views.vectors_missing(len(missing))
            if not missing:
                self.stores.vectors.compact()
        return len(ids)

    def _texts_for(
        self, ids: Sequence[str], chunks: dict[str, Chunk], missing: dict[str, str | None]
    ) -> dict[str, str]:
        """The words to embed for each chunk: as computed when it was parsed, or again from
        the stored symbols of its file (after a restart)."""
        texts = {cid: text for cid in ids if (text := missing.get(cid)) is not None}
        paths = sorted({chunks[cid].path for cid in ids if cid not in texts})
        if paths:
            with self.stores.lock:
                facts = {f.path: f for f in self.stores.meta.facts(paths)}
            for cid in ids:
                if cid not in texts:
                    found = facts.get(chunks[cid].path)
                    symbols = sorted(
                        found.symbols if found else [], key=lambda s: (s.start_line, -s.end_line)
                    )
                    texts[cid] = embedding_text(chunks[cid], symbols)
        return texts

    def _embed_giving_way(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` a few at a time, giving the cores to the model before each step.

        Texts of similar length go in the same step, as the embedder's batches want.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        for begin in range(0, len(order), EMBED_STEP):
            rows = order[begin : begin + EMBED_STEP]
            give_way()
            out[rows] = self.embedder.embed_documents([texts[i] for i in rows])
        return out

    def update_paths(self, paths: Sequence[str], texts: dict[str, str] | None = None) -> IndexStats:
        """Re-index the given workspace-relative files (deleted ones are removed).

        `texts` holds unsaved editor contents that win over the file on disk.
        """
        with self._writing():
            return self._update_paths(paths, texts)

    def _update_paths(self, paths: Sequence[str], texts: dict[str, str] | None) -> IndexStats:
        start = time.perf_counter()
        stats = IndexStats()
        texts = texts or {}
        with self.stores.lock:
            catalog = self.stores.meta.files()
        items: list[WorkspaceFile] = []
        removed: list[str] = []
        for rel in dict.fromkeys(paths):
            abs_path = self.root / rel
            if rel not in texts and not abs_path.exists():
                if rel in catalog:
                    removed.append(rel)
                continue
            reason = (
                skip_reason_for(self.root, rel, self.settings.max_file_bytes, self.settings.exclude)
                if abs_path.exists()
                else None
            )
            if reason:
                stats.skipped[rel] = reason
                if rel in catalog:
                    removed.append(rel)
                continue
            try:
                st = abs_path.stat()
                mtime, size = st.st_mtime_ns, st.st_size
            except OSError:
                mtime, size = 0, 0
            items.append(WorkspaceFile(rel, abs_path, size, mtime))
        self._apply(items, removed, catalog, stats, texts)
        compact = self.stores.vectors.writes_since_compact >= LIVE_COMPACT_WRITES
        self._finish(stats, stats.parsed > 0 or stats.removed > 0, compact=compact, graph=False)
        stats.seconds = time.perf_counter() - start
        return stats

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Reconcile what a failed write left, and make a refused write a clear error.

        After any failure the caches are dropped: DuckDB may have committed the batch.
        """
        try:
            with storage_errors(self.stores.directory):
                self._reconcile_if_dirty()
                yield
        except BaseException:
            self.views.reset()
            self.graphs.drop()
            self._unembedded = None
            raise

    def _reconcile_if_dirty(self) -> None:
        with self.stores.lock:
            dirty = self.stores.meta.get_meta("dirty") == "1"
        if dirty:
            self.reconcile()

    def _apply(
        self,
        files: Sequence[WorkspaceFile],
        removed: Sequence[str],
        catalog: dict[str, FileRecord],
        stats: IndexStats,
        texts: dict[str, str],
    ) -> None:
        """Read, parse, embed and write one batch, all on this thread."""
        batch = self._read(files, removed, catalog, stats, texts)
        if batch.fresh:
            batch.vectors = self._embed(batch)
        self._write(batch, stats)

    def _read(
        self,
        files: Sequence[WorkspaceFile],
        removed: Sequence[str],
        catalog: dict[str, FileRecord],
        stats: IndexStats,
        texts: dict[str, str],
        pace: threading.Event | None = None,
    ) -> _Batch:
        """Hash and parse the files whose content changed; list the chunks to embed.

        Writes nothing, so it may run while an earlier batch is still being embedded. With
        `pace` (a whole index, its cancel event), each file first gives way to the model.
        """
        parsed: list[tuple[FileRecord, ParsedFile]] = []
        touched: list[FileRecord] = []
        for wf in files:
            if pace is not None:
                give_way(pace)
            if wf.path in texts:
                text = texts[wf.path]
                digest = content_hash(text.encode("utf-8", "replace"))
            else:
                try:
                    data = wf.abs_path.read_bytes()
                except OSError as exc:
                    stats.skipped[wf.path] = f"unreadable: {exc.strerror}"
                    continue
                digest = content_hash(data)
                text = None
            language = language_for_path(wf.path) or "text"
            record = FileRecord(wf.path, digest, wf.mtime_ns, wf.size, language)
            old = catalog.get(wf.path)
            if old is not None and old.hash == digest:
                touched.append(record)
                stats.unchanged += 1
                continue
            if text is None:
                text = read_text(wf.abs_path)
            parsed.append((record, self._parse(wf.path, text)))
        batch = _Batch(files, parsed, touched, removed, set(), [])
        if batch.changes:
            with self.stores.lock:
                batch.old_ids = self.stores.meta.chunk_ids(batch.paths)
            for _, pf in parsed:
                for chunk in pf.chunks:
                    cid = chunk.chunk_id
                    if cid not in batch.old_ids and cid not in batch.embed_texts:
                        batch.fresh.append(chunk)
                        batch.embed_texts[cid] = embedding_text(chunk, pf.symbols)
        return batch

    def _embed(self, batch: _Batch) -> np.ndarray:
        return self.embedder.embed_documents(list(batch.embed_texts.values()))

    def _write(self, batch: _Batch, stats: IndexStats) -> None:
        """Make one read batch current, in the crash-safe order the module docstring gives."""
        stats.parsed += len(batch.parsed)
        stats.removed += len(batch.removed)
        meta = self.stores.meta
        if not batch.changes:
            if batch.touched:
                with self.stores.lock:
                    meta.touch_files(batch.touched)
            return
        paths = batch.paths
        fresh = batch.fresh
        with self.stores.lock:
            meta.set_meta("dirty", "1")
        if fresh and batch.vectors is not None:
            stats.embedded += len(fresh)
            self.stores.vectors.add(
                [c.chunk_id for c in fresh], [c.path for c in fresh], batch.vectors
            )
        if fresh:
            self.stores.text.write(keyword_docs(self.stores, fresh))
        new_chunks = [c for _, pf in batch.parsed for c in pf.chunks]
        # One section: a graph saving its edges sees these facts and their pending change
        # together, so it never records edges as current that miss this batch; and status,
        # which counts files under this lock, never counts files whose chunks search lacks.
        with self.stores.lock:
            meta.replace_files(batch.parsed, batch.removed)
            meta.touch_files(batch.touched)
            self.graphs.committed(paths)
            self.views.committed(batch.old_ids, new_chunks)
        new_ids = {c.chunk_id for c in new_chunks}
        stale = sorted(batch.old_ids - new_ids)
        missing = self._missing_vectors()
        for cid in stale:
            missing.pop(cid, None)
        if batch.vectors is None:
            missing.update(batch.embed_texts)
        self.views.vectors_missing(len(missing))
        self.stores.vectors.delete_ids(stale)
        self.stores.text.write([], stale)
        with self.stores.lock:
            meta.set_meta("dirty", "0")

    def _parse(self, path: str, text: str) -> ParsedFile:
        try:
            return parse_source(path, text)
        except Exception:  # a parser bug must not stop the whole index
            log.exception("cannot parse %s; indexing it as plain text", path)
            lines = text.splitlines() or [""]
            chunk = Chunk(path, 1, len(lines), "text", text, language="text")
            return ParsedFile(path=path, language="text", chunks=[chunk])

    def _finish(self, stats: IndexStats, changed: bool, compact: bool, graph: bool) -> None:
        """Count what the index holds; compact the vector table and resolve the graph (so
        the first search does not wait for it) when asked and something changed."""
        if changed and compact:
            self.stores.vectors.compact()
        with self.stores.lock:
            counts = self.stores.meta.counts()
        if changed and graph:
            counts["edges"] = self.graphs.state().graph.number_of_edges()
        stats.files = counts["files"]
        stats.chunks = counts["chunks"]
        stats.symbols = counts["symbols"]
        stats.edges = counts["edges"]

    def _vector_ids(self) -> list[str]:
        """Ids in the vector table; a damaged table is started afresh (its chunks are then
        embedded again), unless the index cannot be written."""
        try:
            return self.stores.vectors.ids()
        except VectorStoreDamaged as exc:
            if self.stores.read_only:
                log.warning("%s", exc)
                return []
            notice = f"{exc}: the vectors are computed again"
            log.warning("%s", notice)
            self.stores.notices.append(notice)
            self.stores.vectors.reset()
            return []

    def repair_keywords(self) -> int:
        """Make the keyword index hold exactly DuckDB's chunks (a deleted or emptied
        `tantivy/` folder otherwise degrades search silently); returns the chunks added."""
        with self.stores.lock:
            expected = self.stores.meta.chunk_count()
        if self.stores.text.count() == expected:
            return 0
        with self.stores.lock:
            known = self.stores.meta.chunk_ids()
        present = set(self.stores.text.ids())
        missing = sorted(known - present)
        with self.stores.lock:
            chunks = self.stores.meta.chunks_by_id(missing)
        self.stores.text.write(keyword_docs(self.stores, chunks.values()), sorted(present - known))
        if missing:
            notice = f"the keyword index was missing {len(missing)} of {len(known)} chunks: added"
            log.warning("%s", notice)
            self.stores.notices.append(notice)
        return len(missing)

    def reconcile(self) -> None:
        """Drop vector and keyword rows DuckDB does not know (left by an interrupted run)."""
        with self.stores.lock:
            known = self.stores.meta.chunk_ids()
        orphans_v = sorted(set(self.stores.vectors.ids()) - known)
        orphans_t = sorted(set(self.stores.text.ids()) - known)
        self.stores.vectors.delete_ids(orphans_v)
        self.stores.text.write([], orphans_t)
        with self.stores.lock:
            self.stores.meta.set_meta("dirty", "0")
        if orphans_v or orphans_t:
            log.info("reconciled %d vector and %d keyword orphans", len(orphans_v), len(orphans_t))
