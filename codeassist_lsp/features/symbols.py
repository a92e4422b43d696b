"""`workspace/symbol`, `textDocument/definition` and `textDocument/references` from the graph."""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.features import convert
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.index import navigate
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.index.workspace import WorkspaceIndex

log = logging.getLogger(__name__)

KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface,
    "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum,
    "trait": types.SymbolKind.Interface,
    "type": types.SymbolKind.TypeParameter,
    "constant": types.SymbolKind.Constant,
    "variable": types.SymbolKind.Variable,
    "module": types.SymbolKind.Module,
    "namespace": types.SymbolKind.Namespace,
    "impl": types.SymbolKind.Class,
}


class _Lines:
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


def register(server: LanguageServer, ctx: ServerContext) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: LanguageServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:

        def run(index: WorkspaceIndex) -> list[types.SymbolInformation]:
            view = index.view()
            lines = _Lines(ctx, view)
            return [
                types.SymbolInformation(
                    name=sym.name,
                    kind=KINDS.get(sym.kind, types.SymbolKind.Variable),
                    location=lines.location(path, sym.start_line, sym.name),
                    container_name=sym.parent or path,
                )
                for path, sym in navigate.search_symbols(view.symbols(), params.query)
            ]

        out: list[types.SymbolInformation] = []
        for index in list(ctx.indexes.values()):
            out.extend(await ctx.run(run, index))
        return out[:100]

    def _target(
        params: types.DefinitionParams | types.ReferenceParams,
    ) -> tuple[IndexView, str, str, int] | None:
        """The view, workspace-relative path, word and 1-based line under the cursor (runs
        on a worker: a file not open in the editor is read from disk)."""
        found = ctx.locate(params.text_document.uri)
        if found is None:
            return None
        view = found[0].view()
        line = _Lines(ctx, view).line(found[1], params.position.line + 1)
        if line is None:
            return None
        name = navigate.word_at(line, params.position.character)
        if not name:
            return None
        return view, found[1], name, params.position.line + 1

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: LanguageServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:

        def run() -> list[types.Location]:
            target = _target(params)
            if target is None:
                return []
            view, rel, name, line = target
            lines = _Lines(ctx, view)
            found = navigate.definitions(name, rel, line, view.symbols(), view.graph)
            return [lines.location(p, s.start_line, s.name) for p, s in found]

        return await ctx.run(run) or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: LanguageServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:

        def run() -> list[types.Location]:
            target = _target(params)
            if target is None:
                return []
            view, rel, name, line = target
            symbols = view.symbols()
            graph = view.graph
            lines = _Lines(ctx, view)
            targets = navigate.definitions(name, rel, line, symbols, graph)
            refs = view.references_named(name) if targets else []
            out = []
            for path, sym in targets:
                if params.context.include_declaration:
                    out.append(lines.location(path, sym.start_line, sym.name))
                for ref_path, ref in navigate.references((path, sym), refs, symbols, graph):
                    out.append(lines.location(ref_path, ref.line, ref.name))
            return out

        return await ctx.run(run) or None
