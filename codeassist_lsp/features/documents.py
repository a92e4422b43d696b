"""The only handlers of document events: open, change, save, close and watched files.

Keeps a snapshot of every open document (the editor's text, saved or not) and hands
each event to every feature's hook. Features read open text from here, never from
pygls's workspace, which would read an unopened URI from disk whatever it points at.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.feature import Document
from codeassist_lsp.index.tokens import valid_text

log = logging.getLogger(__name__)


def register(server: LanguageServer, ctx: ServerContext) -> None:
    features = ctx.features
    docs = ctx.documents

    def snapshot(uri: str, previous: Document) -> Document:
        """The text pygls has after applying the edits (it owns incremental sync)."""
        managed = server.workspace.get_text_document(uri)
        return Document(uri, valid_text(managed.source), managed.version, previous.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        doc = Document(item.uri, valid_text(item.text), item.version, item.language_id)
        docs.put(doc)
        features.call("on_open", doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        previous = docs.get(uri)
        if previous is None:
            log.warning("didChange for %s, which is not open: ignored", uri)
            return
        doc = snapshot(uri, previous)
        docs.put(doc)
        features.call("on_change", doc, params.content_changes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = docs.get(uri)
        if doc is not None and params.text is not None and params.text != doc.text:
            doc = Document(uri, valid_text(params.text), doc.version, doc.language_id)
            docs.put(doc)
        features.call("on_save", doc, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        docs.drop(params.text_document.uri)
        features.call("on_close", params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: LanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        features.call("on_files_changed", params.changes)
