"""What a feature may hook into, and the fan-out that calls every feature's hooks.

pygls lets one handler own each LSP method, so `lifecycle.py` and `documents.py` own the
lifecycle and document events and call these hooks on every registered feature in turn
(esbonio's `call_features`). A hook that raises is logged and the other features still
get the event: one broken feature never takes the server down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types

from codeassist_lsp.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    """An open document as the editor has it (unsaved text included)."""

    uri: str
    text: str
    version: int | None = None
    language_id: str | None = None


class OpenDocuments:
    """Open documents by URI, each the latest text the editor sent."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def uris(self) -> list[str]:
        return list(self._docs)

    def put(self, doc: Document) -> None:
        self._docs[doc.uri] = doc

    def drop(self, uri: str) -> None:
        self._docs.pop(uri, None)


class Feature:
    """A server feature's hooks; each does nothing unless a feature overrides it.

    Hooks run on the event loop: anything slow belongs on a worker (`ServerContext.run`).
    `on_initialized` and `on_folders_changed` may be coroutines.
    """

    name = "feature"

    def on_initialize(self, params: types.InitializeParams) -> None:
        """The client said hello; settings from `initializationOptions` are applied."""

    async def on_initialized(self, folders: Sequence[Path]) -> None:
        """The client is ready: background work (indexing) may start."""

    def on_settings(self, settings: Settings) -> None:
        """Settings changed (`workspace/didChangeConfiguration`)."""

    async def on_folders_changed(self, added: Sequence[Path], removed: Sequence[Path]) -> None:
        """Workspace folders came or went."""

    def on_open(self, doc: Document) -> None:
        """A document was opened in the editor."""

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        """A document's text changed; `changes` are the edits as the client sent them."""

    def on_save(self, doc: Document | None, uri: str) -> None:
        """A document was saved (`doc` is None if it is not open)."""

    def on_close(self, uri: str) -> None:
        """A document was closed; its text on disk is the truth again."""

    def on_files_changed(self, changes: Sequence[types.FileEvent]) -> None:
        """Files changed on disk outside the editor (watched files)."""

    def on_shutdown(self) -> None:
        """The client asked the server to shut down: stop background work promptly."""


F = TypeVar("F", bound=Feature)


class FeatureSet:
    """The registered features, called in registration order."""

    def __init__(self) -> None:
        self.features: list[Feature] = []

    def add(self, feature: F) -> F:
        self.features.append(feature)
        return feature

    def call(self, hook: str, *args: Any) -> None:
        """Call a synchronous hook on every feature; a failure is logged, not raised."""
        for feature in self.features:
            try:
                getattr(feature, hook)(*args)
            except Exception:
                log.exception("%s.%s failed", feature.name, hook)

    async def call_async(self, hook: str, *args: Any) -> None:
        """Call a hook that may be a coroutine on every feature, concurrently, so a slow one
        (indexing a large folder) does not hold the others back."""
        pending = []
        for feature in self.features:
            try:
                result = getattr(feature, hook)(*args)
            except Exception:
                log.exception("%s.%s failed", feature.name, hook)
                continue
            if inspect.isawaitable(result):
                pending.append((feature, result))
        outcomes = await asyncio.gather(*(r for _, r in pending), return_exceptions=True)
        for (feature, _), outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("%s.%s failed", feature.name, hook, exc_info=outcome)
