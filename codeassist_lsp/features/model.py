"""The server's one model backend: made on first use, replaced when its settings change,
closed at shutdown.

Chat, code actions and inline completion share it, so the weights are loaded once and each
role keeps its own warm KV cache (see `llm/llama_backend.py`). Nothing is loaded until a
feature asks: a server used only for search never pays for the model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading

from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import BackendFactory, ServerContext
from codeassist_lsp.features.feature import Feature
from codeassist_lsp.llm.backend import Backend, create_backend
from codeassist_lsp.llm.settings import LLMSettings

log = logging.getLogger(__name__)


def default_backend(settings: Settings) -> Backend:
    return create_backend(settings.llm, settings.data_dir)


class ModelHolder(Feature):
    """Owns the backend; `get()` is what features call."""

    name = "model"

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx
        self._factory: BackendFactory = ctx.backend_factory or default_backend
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._made_for: LLMSettings | None = None
        self._retired: set[asyncio.Task[None]] = set()

    def get(self) -> Backend:
        """The backend for the current settings (raises `ModelUnavailable` with a message
        the user can act on)."""
        with self._lock:
            if self._backend is None:
                self._made_for = dataclasses.replace(self._ctx.settings.llm)
                self._backend = self._factory(self._ctx.settings)
            return self._backend

    def active_name(self) -> str | None:
        with self._lock:
            return self._backend.info().name if self._backend is not None else None

    def on_settings(self, settings: Settings) -> None:
        with self._lock:
            if self._backend is None or self._made_for == settings.llm:
                return
            old, self._backend = self._backend, None
        log.info(
            "model settings changed: %s is closed, the next request loads %s",
            old.info().name,
            settings.llm.model,
        )
        self._close_later(old)

    def on_shutdown(self) -> None:
        with self._lock:
            old, self._backend = self._backend, None
        if old is not None:
            self._close_later(old)

    def _close_later(self, backend: Backend) -> None:
        try:
            task = asyncio.get_running_loop().create_task(backend.close())
        except RuntimeError:
            asyncio.run(backend.close())
            return
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)


def register(server: LanguageServer, ctx: ServerContext) -> ModelHolder:
    holder = ctx.features.add(ModelHolder(ctx))
    ctx.model = holder
    return holder
