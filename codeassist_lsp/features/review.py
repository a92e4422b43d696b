"""Review on save (`diagnostics.reviewOnSave`, off by default): after a save the Fix task
runs on each function changed since the previous save (`chat/review.py` says why), and
each line its fix would change is published as an Information diagnostic (`source:
"codeassist"`, `code: "review"`) beside the syntax errors, so that the Fix code action
offers itself there.

It never holds up the syntax check (it runs as its own task, after it), and it is
cancelled, and its findings withdrawn, as soon as the document changes again: a finding
is about the text that was saved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from lsprotocol import types

from codeassist_lsp.chat.code_tasks import rewrite, rewrite_options
from codeassist_lsp.chat.review import (
    Finding,
    Function,
    changed_functions,
    findings_of,
    functions_of,
)
from codeassist_lsp.chat.tasks import CodeRequest
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import uri_to_path
from codeassist_lsp.features.diagnostics import SOURCE, Diagnostics, document_language
from codeassist_lsp.features.feature import Document, Feature
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable

log = logging.getLogger(__name__)


def to_diagnostic(finding: Finding) -> types.Diagnostic:
    """A finding on its whole line (whole lines need no column units)."""
    line = finding.line
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=line, character=0),
            end=types.Position(line=line + 1, character=0),
        ),
        message=finding.message,
        severity=types.DiagnosticSeverity.Information,
        source=SOURCE,
        code="review",
    )


class Review(Feature):
    """Keeps each open document's functions as last saved; reviews what a save changed."""

    name = "review"

    def __init__(self, ctx: ServerContext, diagnostics: Diagnostics) -> None:
        self.ctx = ctx
        self.diagnostics = diagnostics
        self._saved: dict[str, list[Function]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._reported: str | None = None

    @property
    def _enabled(self) -> bool:
        return self.ctx.settings.diagnostics.review_on_save

    def on_open(self, doc: Document) -> None:
        if self._enabled and document_language(doc) is not None:
            self._saved[doc.uri] = functions_of(self._path(doc.uri), doc.text)

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        self._stop(doc.uri)
        self.diagnostics.set_extra(doc.uri, [])

    def on_save(self, doc: Document | None, uri: str) -> None:
        if not self._enabled or doc is None or document_language(doc) is None:
            return
        self._stop(uri)
        task = asyncio.get_running_loop().create_task(self._review(doc))
        self._tasks[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def on_close(self, uri: str) -> None:
        self._stop(uri)
        self._saved.pop(uri, None)

    def on_shutdown(self) -> None:
        for uri in list(self._tasks):
            self._stop(uri)

    def _stop(self, uri: str) -> None:
        task = self._tasks.pop(uri, None)
        if task is not None:
            task.cancel()

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(uri) is task:
            del self._tasks[uri]
        if not task.cancelled() and task.exception() is not None:
            log.error("review of %s failed", uri, exc_info=task.exception())

    def _path(self, uri: str) -> str:
        found = self.ctx.locate(uri)
        if found is not None:
            return found[1]
        path = uri_to_path(uri)
        return path.name if path is not None else "untitled"

    async def _review(self, doc: Document) -> None:
        uri = doc.uri
        after = await asyncio.to_thread(functions_of, self._path(uri), doc.text)
        changed = changed_functions(self._saved.get(uri, []), after)
        changed = changed[: self.ctx.settings.diagnostics.review_max_functions]
        if not changed:
            self._saved[uri] = after
            return
        language = document_language(doc)
        settings = self.ctx.settings.code_actions
        try:
            backend = self.ctx.backend()
            findings: list[Finding] = []
            for function in changed:
                target = function.target
                request = CodeRequest("fix", language or "", self._path(uri), target.code)
                options = rewrite_options(
                    target.code, settings.rewrite_max_tokens, settings.prompt_lookup
                )
                fixed = await rewrite(backend, request, target, doc.text, language, options)
                findings += findings_of(fixed.changes, target)
        except (ModelUnavailable, BackendError) as exc:
            message = str(exc)
            if message != self._reported:  # once, not on every save
                self._reported = message
                self.ctx.error(f"review on save: {message}")
            return
        # only a review that ran to the end moves the baseline: one cancelled by an edit
        # leaves its functions to the next save
        self._saved[uri] = after
        current = self.ctx.documents.get(uri)
        if current is None or current.version != doc.version:
            return  # changed meanwhile: these findings are about text that is gone
        log.info("review of %s: %d functions, %d findings", uri, len(changed), len(findings))
        self.diagnostics.set_extra(uri, [to_diagnostic(f) for f in findings])


def register(server: object, ctx: ServerContext) -> Review | None:
    """Add the review beside the registered syntax diagnostics it publishes with."""
    found = [f for f in ctx.features.features if isinstance(f, Diagnostics)]
    if not found:
        return None
    return ctx.features.add(Review(ctx, found[0]))
