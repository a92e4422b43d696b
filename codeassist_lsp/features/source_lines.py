"""Lines of workspace files as a request sees them: the editor's text of an open document,
else the file on disk, read once per request and only if it is a regular file inside the
workspace (a FIFO or /dev/zero behind a URI must never be read)."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from codeassist_lsp.features import convert
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.index import navigate
from codeassist_lsp.index.model import Symbol
from codeassist_lsp.index.view import IndexView


class SourceLines:
    """Lines of workspace files for one request: the editor's text of open documents, else
    the file on disk (read once, and only if it is a regular file inside the workspace)."""

    def __init__(self, ctx: ServerContext, view: IndexView) -> None:
        self.ctx = ctx
        self.view = view
        self._cache: dict[str, list[str]] = {}

    def line(self, path: str, line: int) -> str | None:
        lines = self._cache.get(path)
        if lines is None:
            doc = self.ctx.documents.get(convert.path_to_uri(self.view.root, path))
            text = doc.text if doc is not None else self.view.file_text(path)
            lines = self._cache[path] = (text or "").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None

    def location(self, path: str, line: int, name: str) -> types.Location:
        rng = convert.name_range(line, self.line(path, line), name)
        return convert.location(self.view.root, path, rng)


@dataclass(frozen=True)
class Cursor:
    """The identifier under an editor position, with the index view it is looked up in."""

    view: IndexView
    lines: SourceLines  # the request's reads, the cursor's file among them
    path: str  # workspace-relative
    name: str
    line: int  # 1-based
    range: types.Range  # of the identifier

    def definitions(self) -> list[tuple[str, Symbol]]:
        """Where the identifier is defined, best guess first (as go-to-definition says)."""
        view = self.view
        return navigate.definitions(self.name, self.path, self.line, view.symbols(), view.graph)


def cursor_at(ctx: ServerContext, uri: str, position: types.Position) -> Cursor | None:
    """The identifier at `position` of `uri` in a workspace index, or None (no index holds
    the file, the position is past its end, no identifier there). Reads the file from disk
    when it is not open: call it on a worker."""
    found = ctx.locate(uri)
    if found is None:
        return None
    index, path = found
    view = index.view()
    lines = SourceLines(ctx, view)
    text = lines.line(path, position.line + 1)
    span = navigate.word_span_at(text, position.character) if text is not None else None
    if span is None:
        return None
    start, end, name = span
    rng = types.Range(
        start=types.Position(line=position.line, character=start),
        end=types.Position(line=position.line, character=end),
    )
    return Cursor(view, lines, path, name, position.line + 1, rng)
