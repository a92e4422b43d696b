"""Everything the features share: settings, open documents, the registered features, the
open workspace indexes, status and the worker pools.

Built once by `create_server`; no globals. Slow work (indexing, embedding, search) runs on
`ctx.pool` so the message loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from codeassist_lsp.config import Settings
from codeassist_lsp.features.feature import FeatureSet, OpenDocuments
from codeassist_lsp.features.log import ClientLogHandler
from codeassist_lsp.index.embedder import Embedder
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.settings import Purpose

if TYPE_CHECKING:
    from codeassist_lsp.features.model import ModelHolder

log = logging.getLogger(__name__)

T = TypeVar("T")

BackendFactory = Callable[[Settings], Backend]


@dataclass
class ServerContext:
    """Shared state of one server instance."""

    server: LanguageServer
    settings: Settings
    documents: OpenDocuments = field(default_factory=OpenDocuments)
    features: FeatureSet = field(default_factory=FeatureSet)
    folders: list[Path] = field(default_factory=list)  # as the client named them
    indexes: dict[Path, WorkspaceIndex] = field(default_factory=dict)
    indexing: set[Path] = field(default_factory=set)
    progress: dict[Path, str] = field(default_factory=dict)  # "indexing: 64 of 580 files"
    last_error: str | None = None
    embedder_factory: Callable[[Settings], Embedder] | None = None
    log_handler: ClientLogHandler | None = None
    backend_factory: BackendFactory | None = None  # tests give a fake; else the settings' model
    model: ModelHolder | None = None  # set by `features.model.register`
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="codeassist")
    )
    write_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer")
    )
    _embedder: Embedder | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking read off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def run_write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an index write on the single writer thread, in submission order."""
        return await asyncio.get_running_loop().run_in_executor(self.write_pool, fn, *args)

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                if self.embedder_factory is not None:
                    self._embedder = self.embedder_factory(self.settings)
                else:
                    from codeassist_lsp.index.embedder import create_embedder

                    self._embedder = create_embedder(
                        self.settings.index.embedder,
                        self.settings.data_dir / "embedders",
                        self.settings.index.threads,
                        self.settings.index.embed_max_tokens,
                    )
            return self._embedder

    def backend(self, purpose: Purpose = "chat") -> Backend:
        """The server's model backend for `purpose` (`features/model.py`);
        `ModelUnavailable` says why there is none."""
        if self.model is None:
            raise ModelUnavailable("this server has no model feature")
        return self.model.get(purpose)

    def locate(self, uri: str) -> tuple[WorkspaceIndex, str] | None:
        """The open index whose folder holds `uri`, and the workspace-relative path."""
        fs_path = to_fs_path(uri)
        if fs_path is None:
            return None
        # normalised first: `ws/../outside.py` is not inside `ws`
        path = Path(os.path.normpath(Path(fs_path).absolute()))
        best: tuple[WorkspaceIndex, str] | None = None
        for root, index in self.indexes.items():
            try:
                rel = path.relative_to(root)
            except ValueError:
                try:
                    rel = path.resolve().relative_to(root)
                except (ValueError, OSError):
                    continue
            if best is None or len(str(root)) > len(str(best[0].root)):
                best = (index, rel.as_posix())
        return best

    def error(self, message: str, show: bool = True) -> None:
        """Record an error for `codeassist/status`, log it, and tell the user."""
        self.last_error = message
        log.error("%s", message)
        if show:
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"CodeAssist: {message}"
                )
            )

    def info(self, message: str) -> None:
        log.info("%s", message)
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=f"CodeAssist: {message}")
        )
