"""One workspace's index as the CLI and the server use it: open, refresh, views, status.

The writer (`Indexer`) runs on one thread; readers take `view()`, an immutable snapshot
published after each commit, and rank with the stores' readers (`vector_ranker`,
`stores.text`), never through the writer.
"""

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
from codeassist_lsp.index.graph_keeper import GraphKeeper
from codeassist_lsp.index.indexer import Indexer, IndexStats, Progress
from codeassist_lsp.index.storage import WorkspaceStores, open_stores
from codeassist_lsp.index.vector_store import VectorStoreDamaged
from codeassist_lsp.index.view import IndexView, ViewKeeper

log = logging.getLogger(__name__)


@dataclass
class VectorRanker:
    """Nearest chunks to a question by the embedder's vectors."""

    stores: WorkspaceStores
    embedder: Embedder

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        try:
            return self.stores.vectors.search(self.embedder.embed_query(query), k)
        except VectorStoreDamaged as exc:  # keyword and graph still answer; a refresh repairs
            log.warning("%s; searching without vectors until the index is refreshed", exc)
            return []


class WorkspaceIndex:
    """The opened index of one workspace folder."""

    def __init__(self, root: Path, settings: Settings, embedder: Embedder) -> None:
        self.root = check_workspace(root)
        self.settings = settings
        self.embedder = embedder
        identity = vector_identity(embedder.name, getattr(embedder, "max_seq_length", 0))
        self.stores = open_stores(settings.data_dir, self.root, embedder.dim, identity)
        self.views = ViewKeeper(self.stores, GraphKeeper(self.stores))
        self.indexer = Indexer(self.stores, settings.index, embedder, self.views)
        self.vector_ranker = VectorRanker(self.stores, embedder)
        self.refresh_lock = threading.Lock()

    @property
    def notices(self) -> list[str]:
        return self.stores.notices

    def apply_settings(self, settings: Settings) -> None:
        """Take new settings: the next update and search use them (the data dir and the
        embedder of an open index stay what it was opened with)."""
        self.settings = settings
        self.indexer.settings = settings.index

    def view(self) -> IndexView:
        """The newest published state of the index, for readers."""
        return self.views.current()

    def refresh(
        self,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        vectors: bool = True,
    ) -> IndexStats:
        """Bring the index up to date; `vectors=False` leaves new chunks' vectors for
        `indexer.embed_pending` (searchable by keyword and graph at once)."""
        with self.refresh_lock:
            return self.indexer.refresh(progress, cancel, vectors)

    def is_empty(self) -> bool:
        with self.stores.lock:
            return self.stores.meta.counts()["files"] == 0 and not self.stores.meta.get_meta(
                "indexed"
            )

    def mark_indexed(self) -> None:
        with self.stores.lock:
            self.stores.meta.set_meta("indexed", "1")

    def status(self) -> dict[str, Any]:
        with self.stores.lock:
            counts = self.stores.meta.counts()
        return {
            "root": str(self.root),
            "storage": str(self.stores.directory),
            "embedder": self.embedder.name,
            **counts,
            "vectors_pending": self.views.missing,
            "lance_versions": self.stores.vectors.version_count(),
        }

    def close(self) -> None:
        self.stores.close()
