"""`workspace/symbol`, `textDocument/definition` and `textDocument/references` from the graph."""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.source_lines import SourceLines, cursor_at
from codeassist_lsp.index import navigate
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


def register(server: LanguageServer, ctx: ServerContext) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: LanguageServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:

        def run(index: WorkspaceIndex) -> list[types.SymbolInformation]:
            view = index.view()
            lines = SourceLines(ctx, view)
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

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: LanguageServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:

        def run() -> list[types.Location]:
            cursor = cursor_at(ctx, params.text_document.uri, params.position)
            if cursor is None:
                return []
            return [cursor.lines.location(p, s.start_line, s.name) for p, s in cursor.definitions()]

        return await ctx.run(run) or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: LanguageServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:

        def run() -> list[types.Location]:
            cursor = cursor_at(ctx, params.text_document.uri, params.position)
            if cursor is None:
                return []
            view, lines = cursor.view, cursor.lines
            symbols, graph = view.symbols(), view.graph
            targets = cursor.definitions()
            refs = view.references_named(cursor.name) if targets else []
            out = []
            for path, sym in targets:
                if params.context.include_declaration:
                    out.append(lines.location(path, sym.start_line, sym.name))
                for ref_path, ref in navigate.references((path, sym), refs, symbols, graph):
                    out.append(lines.location(ref_path, ref.line, ref.name))
            return out

        return await ctx.run(run) or None
