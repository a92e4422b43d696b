"""The server's model backends: made on first use, replaced when their settings change,
closed at shutdown.

Chat, code actions and inline completion share one backend, so the weights are loaded once
and each role keeps its own warm KV cache (see `llm/llama_backend.py`); with
`llm.chatModel` set, chat and the other model tasks get a backend of their own while
inline completion keeps `llm.model`, and with `llm.requantize` "completion" inline
completion gets one of its own on the model's faster copy. Nothing is loaded until a
feature asks: a server used only for search never pays for a model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time

from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import BackendFactory, ServerContext
from codeassist_lsp.features.feature import Feature
from codeassist_lsp.llm.backend import Backend, create_backend
from codeassist_lsp.llm.settings import LLMSettings, Purpose

log = logging.getLogger(__name__)


def default_backend(settings: Settings) -> Backend:
    return create_backend(settings.llm, settings.data_dir)


class ModelHolder(Feature):
    """Owns the backends, one per model in use; `get()` is what features call."""

    name = "model"

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx
        self._factory: BackendFactory = ctx.backend_factory or default_backend
        self._lock = threading.Lock()
        self._backends: dict[str, Backend] = {}
        self._made_for: LLMSettings | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self.wanted_at = 0.0  # time.monotonic() of the last request a person is waiting on

    def get(self, purpose: Purpose = "chat", interactive: bool = True) -> Backend:
        """The backend for `purpose` under the current settings (raises `ModelUnavailable`
        with a message the user can act on). Chat and completion share one backend unless
        `llm.chatModel` names another model or `llm.requantize` is "completion" (then
        inline completion loads the faster copy). Background work (descriptions) passes
        `interactive=False` and gives way whenever `wanted_at` moves."""
        if interactive:
            self.wanted_at = time.monotonic()
        settings = self._ctx.settings
        model = settings.llm.model_for(purpose)
        fast = settings.llm.fast_weights(purpose)
        key = f"{model} (faster copy)" if fast else model
        with self._lock:
            stale = self._retire_if_changed(settings.llm)
            backend = self._backends.get(key)
            if backend is None:
                requantize = "all" if fast else "off"
                llm = dataclasses.replace(settings.llm, model=model, requantize=requantize)
                backend = self._factory(dataclasses.replace(settings, llm=llm))
                self._backends[key] = backend
        for old in stale:  # settings changed before their hook ran: never keep two sets
            self._close_later(old)
        return backend

    def _retire_if_changed(self, llm: LLMSettings) -> list[Backend]:
        """Forget the backends made for other `llm.*` settings (call holding the lock)."""
        if self._made_for == llm:
            return []
        self._made_for = dataclasses.replace(llm)
        old, self._backends = list(self._backends.values()), {}
        return old

    def loaded(self) -> list[str]:
        """The models made so far (each loads on its first request)."""
        with self._lock:
            return [backend.info().name for backend in self._backends.values()]

    def on_settings(self, settings: Settings) -> None:
        with self._lock:
            old = self._retire_if_changed(settings.llm)
        for backend in old:
            log.info(
                "model settings changed: %s is closed, the next request loads %s",
                backend.info().name,
                settings.llm.model_for("chat"),
            )
            self._close_later(backend)

    def on_shutdown(self) -> None:
        with self._lock:
            old, self._backends = list(self._backends.values()), {}
        for backend in old:
            self._close_later(backend)

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
