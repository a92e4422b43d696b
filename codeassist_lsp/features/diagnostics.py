"""Syntax errors of open documents as `textDocument/publishDiagnostics`, from tree-sitter.

Each open code document keeps a `LiveTree`: every edit is applied to it as it arrives, and
after `diagnostics.debounceMs` of quiet the tree is parsed incrementally and its problems
are published with the document's version. The check runs on the event loop, from the
latest text, right when it publishes, so a result can never be older than one already
sent. Markdown, plain text and languages without a grammar get none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import uri_to_path
from codeassist_lsp.features.feature import Document, Feature
from codeassist_lsp.index.languages import CODE_LANGUAGES, language_for_path
from codeassist_lsp.index.live_tree import Edit, LiveTree
from codeassist_lsp.index.syntax_errors import SyntaxProblem, syntax_problems

log = logging.getLogger(__name__)

SOURCE = "codeassist"


def document_language(doc: Document) -> str | None:
    """The code language of a document: by its path, else by the editor's language id."""
    path = uri_to_path(doc.uri)
    language = language_for_path(path.name) if path is not None else None
    if language is None and doc.language_id in CODE_LANGUAGES:
        language = doc.language_id
    return language if language in CODE_LANGUAGES else None


def edits_of(changes: Sequence[types.TextDocumentContentChangeEvent]) -> list[Edit]:
    """The editor's changes as `LiveTree` edits."""
    out = []
    for change in changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = change.range.start, change.range.end
            out.append(Edit(change.text, (start.line, start.character), (end.line, end.character)))
        else:
            out.append(Edit(change.text))
    return out


def to_diagnostic(problem: SyntaxProblem, tree: LiveTree) -> types.Diagnostic:
    """A problem as an LSP diagnostic, its columns in the client's units."""

    def position(point: tuple[int, int]) -> types.Position:
        line, character = tree.position(point)
        return types.Position(line=line, character=character)

    return types.Diagnostic(
        range=types.Range(start=position(problem.start), end=position(problem.end)),
        message=problem.message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code="syntax",
    )


class Diagnostics(Feature):
    """Keeps a tree per open code document and publishes its syntax errors."""

    name = "diagnostics"

    def __init__(self, server: LanguageServer, ctx: ServerContext) -> None:
        self.server = server
        self.ctx = ctx
        self.trees: dict[str, LiveTree] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._published: set[str] = set()
        self._extra: dict[str, list[types.Diagnostic]] = {}  # other checkers' findings

    @property
    def _encoding(self) -> str:
        """How the client counts characters, as negotiated at `initialize`."""
        kind = self.server.workspace.position_encoding or "utf-16"
        return str(getattr(kind, "value", kind))

    def on_open(self, doc: Document) -> None:
        if not self.ctx.settings.diagnostics.enabled:
            return
        language = document_language(doc)
        if language is None:
            return
        self.trees[doc.uri] = LiveTree(language, doc.text, self._encoding)
        self._schedule(doc.uri, 0.0)

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        tree = self.trees.get(doc.uri)
        if tree is None:
            return
        tree.apply(edits_of(changes))
        self._schedule(doc.uri, self.ctx.settings.diagnostics.debounce_ms / 1000)

    def on_close(self, uri: str) -> None:
        self.trees.pop(uri, None)
        self._extra.pop(uri, None)
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if uri in self._published:  # the editor keeps what it was told until told otherwise
            self._published.discard(uri)
            self._publish(uri, [], None)

    def on_settings(self, settings: Settings) -> None:
        if not settings.diagnostics.enabled:
            for uri in list(self.trees):
                self.on_close(uri)

    def on_shutdown(self) -> None:
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()

    def _schedule(self, uri: str, delay: float) -> None:
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(delay, self.check, uri)

    def set_extra(self, uri: str, found: list[types.Diagnostic]) -> None:
        """Publish another checker's findings (the model's review) beside the syntax
        errors: LSP replaces all of a server's diagnostics for a document at once."""
        if not found and uri not in self._extra:
            return
        if found:
            self._extra[uri] = found
        else:
            self._extra.pop(uri, None)
        self.check(uri)

    def check(self, uri: str) -> list[types.Diagnostic] | None:
        """Parse the document's latest text and publish its problems (None: not open)."""
        self._pending.pop(uri, None)
        tree, doc = self.trees.get(uri), self.ctx.documents.get(uri)
        if tree is None or doc is None:
            return None
        try:
            root = tree.current(doc.text).root_node
            found = [to_diagnostic(p, tree) for p in syntax_problems(root)]
        except Exception:  # a grammar bug must not take the document's events down
            log.exception("checking the syntax of %s failed", uri)
            return None
        shown = found + self._extra.get(uri, [])
        if shown or uri in self._published:
            self._publish(uri, shown, doc.version)
        return found

    def _publish(self, uri: str, found: list[types.Diagnostic], version: int | None) -> None:
        if found:
            self._published.add(uri)
        else:
            self._published.discard(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=version)
        )


def register(server: LanguageServer, ctx: ServerContext) -> Diagnostics:
    return ctx.features.add(Diagnostics(server, ctx))
