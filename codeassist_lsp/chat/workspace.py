"""An open workspace index as a chat turn sees it (for the server and the CLI alike)."""

from __future__ import annotations

from dataclasses import dataclass

from codeassist_lsp.index.view import IndexView
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.rag.retriever import SearchHit, search_index


@dataclass
class IndexWorkspace:
    """`ChatWorkspace` over a `WorkspaceIndex`; `indexing` says an update is under way."""

    index: WorkspaceIndex
    indexing: bool = False

    @property
    def root(self) -> str:
        return str(self.index.root)

    def view(self) -> IndexView:
        return self.index.view()

    def search(self, query: str, limit: int) -> list[SearchHit]:
        return search_index(self.index, query, limit)
