"""`workspace/symbol`, `textDocument/definition` and `textDocument/references` from the graph."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.index import navigate
from codeassist_lsp.index.model import Symbol
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


def _line_range(start_line: int, end_line: int) -> types.Range:
    return types.Range(
        start=types.Position(line=max(start_line - 1, 0), character=0),
        end=types.Position(line=max(end_line, 1) - 1, character=10_000),
    )


def _name_range(root: Path, path: str, line: int, name: str) -> types.Range:
    """The span of `name` on a 1-based line, or the whole line if it is not found."""
    try:
        with (root / path).open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    col = text.find(name)
                    if col >= 0:
                        return types.Range(
                            start=types.Position(line=line - 1, character=col),
                            end=types.Position(line=line - 1, character=col + len(name)),
                        )
                    break
    except OSError:
        pass
    return _line_range(line, line)


def _location(index: WorkspaceIndex, path: str, sym: Symbol) -> types.Location:
    return types.Location(
        uri=from_fs_path(str(index.root / path)) or "",
        range=_name_range(index.root, path, sym.start_line, sym.name),
    )


def register(server: LanguageServer, ctx: ServerContext) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: LanguageServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:
        out: list[types.SymbolInformation] = []
        for index in list(ctx.indexes.values()):
            symbols = await ctx.run(index.symbols)
            for path, sym in navigate.search_symbols(symbols, params.query):
                out.append(
                    types.SymbolInformation(
                        name=sym.name,
                        kind=KINDS.get(sym.kind, types.SymbolKind.Variable),
                        location=_location(index, path, sym),
                        container_name=sym.parent or path,
                    )
                )
        return out[:100]

    def _target(
        params: types.DefinitionParams | types.ReferenceParams,
    ) -> tuple[WorkspaceIndex, str, str, int] | None:
        """The index, workspace-relative path, word and 1-based line under the cursor."""
        found = ctx.locate(params.text_document.uri)
        lines = server.workspace.get_text_document(params.text_document.uri).lines
        if found is None or params.position.line >= len(lines):
            return None
        name = navigate.word_at(lines[params.position.line], params.position.character)
        if not name:
            return None
        return found[0], found[1], name, params.position.line + 1

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: LanguageServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        target = _target(params)
        if target is None:
            return None
        index, rel, name, line = target

        def run() -> list[tuple[str, Symbol]]:
            return navigate.definitions(name, rel, line, index.symbols(), index.indexer.graph())

        return [_location(index, p, s) for p, s in await ctx.run(run)] or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: LanguageServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        target = _target(params)
        if target is None:
            return None
        index, rel, name, line = target

        def run() -> list[types.Location]:
            symbols = index.symbols()
            graph = index.indexer.graph()
            targets = navigate.definitions(name, rel, line, symbols, graph)
            if not targets:
                return []
            refs = index.refs_named(name)
            out = []
            for target in targets:
                if params.context.include_declaration:
                    out.append(_location(index, *target))
                for path, ref in navigate.references(target, refs, symbols, graph):
                    out.append(
                        types.Location(
                            uri=from_fs_path(str(index.root / path)) or "",
                            range=_name_range(index.root, path, ref.line, ref.name),
                        )
                    )
            return out

        return await ctx.run(run) or None
