"""`textDocument/inlineCompletion` (ghost text) and its `textDocument/completion` fallback.

Glue only: the cursor's window of the open document, the repository context from the
code graph (on a worker), and the completer's suggestion converted to LSP items. The
fallback answers only clients that do not declare inline completion (Neovim 0.11's
`vim.lsp.completion`, older editors): a client that has both would otherwise pay for
the model twice per keystroke, so it gets an empty list at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.completion.completer import (
    ContextSource,
    InlineCompleter,
    Place,
    RepoFiles,
    Suggestion,
    no_context,
)
from codeassist_lsp.completion.keeper import FileKeeper
from codeassist_lsp.completion.repo_context import definition_context
from codeassist_lsp.completion.window import CursorWindow, cursor_window, index_to_utf16
from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import uri_to_path
from codeassist_lsp.features.feature import Document, Feature
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.prompts import Counter

log = logging.getLogger(__name__)

MODEL_LABEL = "CodeAssist model"
_WORD_END = re.compile(r"[A-Za-z0-9_$]*$")


class CompletionFeature(Feature):
    """Holds the completer and what the client said it supports."""

    name = "completion"

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.completer = InlineCompleter(
            lambda: ctx.settings.completion, lambda: ctx.backend("completion")
        )
        self.keeper = FileKeeper(self._keep_file, self._text_of)
        self.client_has_inline = False
        self._settings = (ctx.settings.completion, ctx.settings.llm)
        self._reported: str | None = None

    def on_initialize(self, params: types.InitializeParams) -> None:
        text_document = params.capabilities.text_document
        self.client_has_inline = (
            text_document is not None and text_document.inline_completion is not None
        )

    def on_settings(self, settings: Settings) -> None:
        if (settings.completion, settings.llm) != self._settings:
            self._settings = (settings.completion, settings.llm)
            self.completer.forget()

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        self.keeper.changed(doc.uri)

    def on_close(self, uri: str) -> None:
        self.keeper.closed(uri)

    def _text_of(self, uri: str) -> str | None:
        doc = self.ctx.documents.get(uri)
        return doc.text if doc is not None else None

    async def _keep_file(self, text: str, line: int) -> int:
        model = self.ctx.model
        if not self.ctx.settings.completion.enabled or model is None:
            return 0
        return await model.get("completion", interactive=False).keep_file(text, line)

    async def suggest(
        self, uri: str, position: types.Position, automatic: bool
    ) -> tuple[CursorWindow, Suggestion] | None:
        """The suggestion at a position of an open document, or None; model errors are
        told to the user once and answered with no suggestion."""
        settings = self.ctx.settings.completion
        doc = self.ctx.documents.get(uri)
        if not settings.enabled or doc is None:
            return None
        window = cursor_window(doc.text, position.line, position.character)
        if window is None:
            return None
        place, source = self._place(uri, doc.text, position.line)
        self.keeper.hold()
        try:
            suggestion = await self.completer.suggest(window, place, automatic, source)
        except (ModelUnavailable, BackendError) as exc:
            message = str(exc)
            if message != self._reported:
                self._reported = message
                self.ctx.error(f"inline completion: {message}")
            return None
        self.keeper.completed(uri, position.line)
        return (window, suggestion) if suggestion is not None else None

    def _place(self, uri: str, text: str, line: int) -> tuple[Place, ContextSource]:
        """The document's place in a workspace, and where its repository context comes from."""
        found = self.ctx.locate(uri)
        if found is None:
            path = uri_to_path(uri)
            return Place(path.name if path is not None else ""), no_context
        index, rel = found

        async def source(count: Counter, budget: int) -> RepoFiles:
            if budget <= 0:
                return ()
            lines = text.split("\n")
            return await self.ctx.run(
                lambda: definition_context(index.view(), rel, line, lines, count, budget)
            )

        return Place(rel, index.root.name), source


def _edit_range(window: CursorWindow, suggestion: Suggestion, start_index: int) -> types.Range:
    """From `start_index` of the cursor's line to the cursor, or to the line's end when
    the suggestion replaces the text right of the cursor."""
    line_text = window.middle + window.line_suffix
    end_index = len(line_text) if suggestion.replaces_line_suffix else len(window.middle)
    return types.Range(
        start=types.Position(line=window.line, character=index_to_utf16(line_text, start_index)),
        end=types.Position(line=window.line, character=index_to_utf16(line_text, end_index)),
    )


def inline_items(window: CursorWindow, suggestion: Suggestion) -> types.InlineCompletionList:
    item = types.InlineCompletionItem(
        insert_text=suggestion.text,
        range=_edit_range(window, suggestion, len(window.middle)),
    )
    return types.InlineCompletionList(items=[item])


def completion_items(window: CursorWindow, suggestion: Suggestion) -> types.CompletionList:
    """One item labelled as the model's; its edit starts at the word being typed so that
    editors which filter by that word keep it."""
    word = _WORD_END.search(window.middle)
    start = word.start() if word is not None else len(window.middle)
    typed = window.middle[start:]
    first_line = suggestion.text.split("\n", 1)[0]
    item = types.CompletionItem(
        label=(typed + first_line).strip()[:80] or MODEL_LABEL,
        label_details=types.CompletionItemLabelDetails(description=MODEL_LABEL),
        kind=types.CompletionItemKind.Text,
        detail=MODEL_LABEL,
        documentation=types.MarkupContent(
            kind=types.MarkupKind.PlainText, value=typed + suggestion.text
        ),
        sort_text="0",
        filter_text=typed + suggestion.text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(
            range=_edit_range(window, suggestion, start), new_text=typed + suggestion.text
        ),
    )
    return types.CompletionList(is_incomplete=True, items=[item])


def register(server: LanguageServer, ctx: ServerContext) -> CompletionFeature:
    feature = ctx.features.add(CompletionFeature(ctx))

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: LanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        found = await feature.suggest(params.text_document.uri, params.position, automatic)
        if found is None:
            return types.InlineCompletionList(items=[])
        return inline_items(*found)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: LanguageServer, params: types.CompletionParams
    ) -> types.CompletionList:
        if feature.client_has_inline or not ctx.settings.completion.fallback:
            return types.CompletionList(is_incomplete=False, items=[])
        invoked = types.CompletionTriggerKind.Invoked
        automatic = params.context is None or params.context.trigger_kind != invoked
        found = await feature.suggest(params.text_document.uri, params.position, automatic)
        if found is None:
            return types.CompletionList(is_incomplete=True, items=[])
        return completion_items(*found)

    return feature
