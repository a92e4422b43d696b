"""The real server with two probe features registered around indexing, for test_hooks.py.

`raiser` comes first and fails in every document hook; `recorder` comes last and logs
each event it receives. Both are test doubles of a feature, not of any real component.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import load_settings
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.feature import Document, Feature
from codeassist_lsp.server import FEATURES, create_server


class Raiser(Feature):
    name = "raiser"

    def on_open(self, doc: Document) -> None:
        raise RuntimeError("raiser fails on open")

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        raise RuntimeError("raiser fails on change")


class Recorder(Feature):
    name = "recorder"

    def __init__(self, server: LanguageServer) -> None:
        self.server = server

    def _log(self, message: str) -> None:
        self.server.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=f"recorder: {message}")
        )

    def on_open(self, doc: Document) -> None:
        self._log(f"open {doc.uri} v{doc.version}")

    def on_change(
        self, doc: Document, changes: Sequence[types.TextDocumentContentChangeEvent]
    ) -> None:
        self._log(f"change {doc.uri} v{doc.version} {len(changes)} edits {len(doc.text)} chars")


def raiser(server: LanguageServer, ctx: ServerContext) -> None:
    ctx.features.add(Raiser())


def recorder(server: LanguageServer, ctx: ServerContext) -> None:
    ctx.features.add(Recorder(server))


if __name__ == "__main__":
    lifecycle, documents, *rest = FEATURES
    settings, _ = load_settings()
    create_server(settings, features=[lifecycle, documents, raiser, *rest, recorder]).start_io()
