"""Keeping the index fresh: initial indexing with `$/progress`, document and file events.

Workspace folders are indexed in the background after `initialized`, in two phases with a
progress report each: every file parsed and keyword-indexed (search, symbols and the graph
work from then on), then the vectors, a slice at a time. Edits are debounced
per file and re-indexed alone (unsaved buffer text wins over the disk); watched-file
events and saves re-read from disk; deletions drop the file's chunks. On `shutdown` a
running index stops after its current batch, so `exit` leaves a consistent index promptly.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import Settings
from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.describing import describe_enabled, describe_index, work_waiting
from codeassist_lsp.features.feature import Document, Feature
from codeassist_lsp.index.files import skip_reason_for_text
from codeassist_lsp.index.indexer import IndexStats, Progress
from codeassist_lsp.index.workspace import WorkspaceIndex

log = logging.getLogger(__name__)

T = TypeVar("T")


class Indexing(Feature):
    """Owns the open indexes of a server and the debounced updates to them."""

    name = "indexing"

    def __init__(self, server: LanguageServer, ctx: ServerContext) -> None:
        self.server = server
        self.ctx = ctx
        self.stopping = threading.Event()
        self._describing: dict[Path, asyncio.Task[int | None]] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}

    @property
    def delay(self) -> float:
        """The quiet time before an edit is indexed, as the settings say now."""
        return self.ctx.settings.index.debounce_ms / 1000

    async def on_initialized(self, folders: Sequence[Path]) -> None:
        await self.register_watchers()
        for folder in folders:
            await self.index_folder(folder)

    def on_shutdown(self) -> None:
        self.stop()

    def on_settings(self, settings: Settings) -> None:
        for index in self.ctx.indexes.values():
            index.apply_settings(settings)

    async def on_folders_changed(self, added: Sequence[Path], removed: Sequence[Path]) -> None:
        for folder in removed:
            self._stop_describing(folder.resolve())
            index = self.ctx.indexes.pop(folder.resolve(), None)
            if index is not None:
                await self.ctx.run_write(index.close)
        for folder in added:
            await self.index_folder(folder)

    def on_open(self, doc: Document) -> None:
        self.schedule(doc.uri, doc.text, self.delay)

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        self.schedule(doc.uri, doc.text, self.delay)

    def on_save(self, doc: Document | None, uri: str) -> None:
        self.schedule(uri, None, 0.0)

    def on_close(self, uri: str) -> None:
        # the file on disk is the truth again: a buffer that was never saved leaves the index
        self.schedule(uri, None, 0.0)

    def on_files_changed(self, changes: Sequence[types.FileEvent]) -> None:
        for change in changes:
            self.schedule(change.uri, None, self.delay)

    def _open(self, folder: Path) -> WorkspaceIndex:
        return WorkspaceIndex(folder, self.ctx.settings, self.ctx.embedder())

    async def index_folder(self, folder: Path) -> None:
        """Open (or create) the folder's index and bring it up to date, reporting progress."""
        ctx = self.ctx
        try:
            existing = ctx.indexes.get(folder.resolve())
            index = existing if existing is not None else await ctx.run_write(self._open, folder)
        except CodeAssistError as exc:
            ctx.error(f"cannot index {folder}: {exc}")
            return
        except Exception as exc:  # the server must stay up whatever the index does
            log.exception("opening the index of %s failed", folder)
            ctx.error(f"cannot index {folder}: {exc}")
            return
        ctx.indexes[index.root] = index
        for notice in index.notices:
            ctx.info(notice)
        ctx.indexing.add(index.root)
        try:
            stats = await self._phase(
                index,
                "Indexing",
                lambda report: ctx.run_write(index.refresh, report, self.stopping, False),
            )
            if stats is None or stats.cancelled:
                return
            self._reindex_open_documents(index)
            if await self._phase(index, "Embedding", lambda report: self._embed(index, report)):
                index.mark_indexed()
        finally:
            ctx.indexing.discard(index.root)
        if describe_enabled(ctx.settings) and not self.stopping.is_set():
            self._describe_later(index)

    def _describe_later(self, index: WorkspaceIndex) -> None:
        """Describe the index's chunks in a task of their own: it waits for the model to
        be free and may take minutes, so it never holds up indexing or a reply."""
        self._stop_describing(index.root)
        task = asyncio.create_task(self._describe(index))
        self._describing[index.root] = task
        task.add_done_callback(
            lambda done: (
                self._describing.pop(index.root, None)
                if self._describing.get(index.root) is done
                else None
            )
        )

    async def _describe(self, index: WorkspaceIndex) -> int | None:
        if not await work_waiting(self.ctx, index, self.stopping):
            return 0
        return await self._phase(
            index,
            "Describing",
            lambda report: describe_index(self.ctx, index, report, self.stopping),
        )

    def _stop_describing(self, root: Path) -> None:
        task = self._describing.pop(root, None)
        if task is not None:
            task.cancel()

    async def _phase(
        self, index: WorkspaceIndex, title: str, work: Callable[[Progress], Awaitable[T]]
    ) -> T | None:
        """Run one phase of indexing with its own `$/progress`; None when it failed (the
        user is told why)."""
        ctx = self.ctx
        token = await self._begin_progress(f"{title} {index.root.name}")
        loop = asyncio.get_running_loop()

        def report(done: int, total: int, label: str) -> None:
            if total == 0:
                return
            unit = "files" if title == "Indexing" else "chunks"
            ctx.progress[index.root] = f"{title.lower()}: {done} of {total} {unit}"
            if token is None:
                return
            pct = int(100 * done / total)
            value = types.WorkDoneProgressReport(message=f"{done}/{total} {label}", percentage=pct)
            loop.call_soon_threadsafe(self.server.work_done_progress.report, token, value)

        result: T | None = None
        cancelled = False
        try:
            result = await work(report)
            message = result.summary() if isinstance(result, IndexStats) else f"{result} chunks"
            log.info("%s %s: %s", title.lower(), index.root, message)
        except asyncio.CancelledError:  # the background describer, stopped
            cancelled, message = True, "stopped"
        except CodeAssistError as exc:  # expected (a full data dir): no traceback
            ctx.error(f"{title.lower()} {index.root} failed: {exc}")
            message = f"failed: {exc}"
        except Exception as exc:
            log.exception("%s %s failed", title.lower(), index.root)
            ctx.error(f"{title.lower()} {index.root} failed: {exc}")
            message = f"failed: {exc}"
        ctx.progress.pop(index.root, None)
        if token is not None:
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
        if cancelled:
            raise asyncio.CancelledError
        return result

    async def _embed(self, index: WorkspaceIndex, report: Progress) -> int:
        """Embed the chunks left without vectors, one slice per writer task, so an edit
        queued on the writer waits for one slice (~2.5 s), not the whole run."""
        total = await self.ctx.run_write(index.indexer.pending_vectors)
        done = 0
        while not self.stopping.is_set():
            embedded = await self.ctx.run_write(index.indexer.embed_pending)
            if embedded == 0:
                break
            done += embedded
            report(done, total, "chunks embedded")
        return done

    def _reindex_open_documents(self, index: WorkspaceIndex) -> None:
        """The editor's unsaved text wins over the disk the refresh read, including edits
        made while the index was still being opened (they found no index then)."""
        for uri in self.ctx.documents.uris():
            doc = self.ctx.documents.get(uri)
            found = self.ctx.locate(uri)
            if doc is not None and found is not None and found[0] is index:
                self.schedule(uri, doc.text, 0.0)

    async def _begin_progress(self, title: str) -> str | None:
        caps = self.server.client_capabilities
        if not (caps.window and caps.window.work_done_progress):
            return None
        token = f"codeassist-index-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:
            log.warning("client refused a progress token: %s", exc)
            return None
        self.server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, percentage=0, cancellable=False)
        )
        return token

    def stop(self) -> None:
        """Stop a running index after its current batch and drop queued updates."""
        self.stopping.set()
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        for root in list(self._describing):
            self._stop_describing(root)

    def schedule(self, uri: str, text: str | None, delay: float) -> None:
        """Re-index one document after `delay` seconds of quiet (per-URI debounce)."""
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(
            delay, lambda: asyncio.ensure_future(self._update(uri, text))
        )

    async def _update(self, uri: str, text: str | None) -> None:
        self._pending.pop(uri, None)
        if self.stopping.is_set():
            return
        found = self.ctx.locate(uri)
        if found is None:
            return
        index, rel = found
        if text is not None:
            reason = skip_reason_for_text(text, self.ctx.settings.index.max_file_bytes)
            if reason is not None:
                log.info("not indexing %s: %s", rel, reason)
                return
        texts = {rel: text} if text is not None else None
        try:
            stats = await self.ctx.run_write(index.indexer.update_paths, [rel], texts)
            for path, reason in stats.skipped.items():
                log.info("not indexing %s: %s", path, reason)
            log.debug("updated %s: %s", rel, stats.summary())
            if (
                describe_enabled(self.ctx.settings)
                and index.root not in self.ctx.indexing
                and index.root not in self._describing
            ):
                self._describe_later(index)  # the edited definitions, once the model is free
        except CodeAssistError as exc:  # shown once, not again on every keystroke
            message = f"cannot update the index for {rel}: {exc}"
            self.ctx.error(message, show=message != self.ctx.last_error)
        except Exception as exc:
            log.exception("updating %s failed", rel)
            self.ctx.error(f"cannot update the index for {rel}: {exc}", show=False)

    async def register_watchers(self) -> None:
        caps = self.server.client_capabilities
        ws = caps.workspace
        if not (
            ws and ws.did_change_watched_files and ws.did_change_watched_files.dynamic_registration
        ):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
        )
        registration = types.Registration(
            id=f"codeassist-watch-{uuid.uuid4().hex[:8]}",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        try:
            await self.server.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as exc:
            log.warning("file watcher registration failed: %s", exc)


def register(server: LanguageServer, ctx: ServerContext) -> Indexing:
    indexing = Indexing(server, ctx)
    ctx.features.add(indexing)

    @server.command("codeassist.reindex")
    async def reindex(ls: LanguageServer, *args: Any) -> dict[str, Any]:
        for root in list(ctx.indexes):
            await indexing.index_folder(root)
        return {"indexed": [str(r) for r in ctx.indexes]}

    return indexing
