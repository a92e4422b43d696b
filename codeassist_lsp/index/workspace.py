"""One workspace's index as the CLI and the server use it: open, refresh, search, status."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeassist_lsp.config import Settings
from codeassist_lsp.index.embed_text import vector_identity
from codeassist_lsp.index.embedder import Embedder
from codeassist_lsp.index.files import check_workspace
from codeassist_lsp.index.indexer import Indexer, IndexStats, Progress
from codeassist_lsp.index.model import Reference, Symbol
from codeassist_lsp.index.storage import WorkspaceStores, open_stores
from codeassist_lsp.rag.search import Reranker, SearchHit, SearchSources, hybrid_search

log = logging.getLogger(__name__)


@dataclass
class _VectorRanker:
    stores: WorkspaceStores
    embedder: Embedder

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.stores.vectors.search(self.embedder.embed_query(query), k)


class WorkspaceIndex:
    """The opened index of one workspace folder."""

    def __init__(
        self, root: Path, settings: Settings, embedder: Embedder, reranker: Reranker | None = None
    ) -> None:
        self.root = check_workspace(root)
        self.settings = settings
        self.embedder = embedder
        identity = vector_identity(embedder.name, getattr(embedder, "max_seq_length", 0))
        self.stores = open_stores(settings.data_dir, self.root, embedder.dim, identity)
        self.indexer = Indexer(self.stores, settings.index, embedder)
        self.sources = SearchSources(
            vector=_VectorRanker(self.stores, embedder),
            keyword=self.stores.text,
            chunks=self.indexer.chunks,
            graph=self.indexer.graph,
            reranker=reranker,
        )
        self.last_stats: IndexStats | None = None
        self.refresh_lock = threading.Lock()

    @property
    def notices(self) -> list[str]:
        return self.stores.notices

    def refresh(
        self, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> IndexStats:
        with self.refresh_lock:
            self.last_stats = self.indexer.refresh(progress, cancel)
        return self.last_stats

    def is_empty(self) -> bool:
        with self.stores.lock:
            return self.stores.meta.counts()["files"] == 0 and not self.stores.meta.get_meta(
                "indexed"
            )

    def mark_indexed(self) -> None:
        with self.stores.lock:
            self.stores.meta.set_meta("indexed", "1")

    def search(
        self, query: str, limit: int | None = None, modes: frozenset[str] | None = None
    ) -> list[SearchHit]:
        if modes is None:
            return hybrid_search(query, self.sources, self.settings.search, limit)
        return hybrid_search(query, self.sources, self.settings.search, limit, modes)

    def status(self) -> dict[str, Any]:
        with self.stores.lock:
            counts = self.stores.meta.counts()
        return {
            "root": str(self.root),
            "storage": str(self.stores.directory),
            "embedder": self.embedder.name,
            "reranker": type(self.sources.reranker).__name__ if self.sources.reranker else None,
            **counts,
            "lance_versions": self.stores.vectors.version_count(),
        }

    def symbols(self) -> list[tuple[str, Symbol]]:
        with self.stores.lock:
            return self.stores.meta.symbols()

    def refs_named(self, name: str) -> list[tuple[str, Reference]]:
        with self.stores.lock:
            return self.stores.meta.refs_named(name)

    def close(self) -> None:
        self.stores.close()
