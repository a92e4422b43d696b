"""The code graph kept in step with the committed facts, resolved only when someone asks.

Resolving after every keystroke's commit would spend the CPU that completion needs, so
the writer only records which files it committed; the next reader of the graph pays for
re-resolving the files those changes can affect (`CodeGraph.update`) and stores the edges
so the next start loads them instead of resolving everything again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codeassist_lsp.index.code_graph import CodeGraph
from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.model import ParsedFile
from codeassist_lsp.index.storage import WorkspaceStores, refused_write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphState:
    """A resolved graph and the facts (symbols, imports, references per file) it came from.

    Neither is changed after it is handed out: `CodeGraph` builds a new graph object on
    each update, and `files` is a copy.
    """

    graph: Digraph
    files: Mapping[str, ParsedFile]


class GraphKeeper:
    """Owns the incremental `CodeGraph` of one workspace's stores."""

    def __init__(self, stores: WorkspaceStores) -> None:
        self.stores = stores
        self._graph: CodeGraph | None = None
        self._state: GraphState | None = None
        self._lock = threading.Lock()
        # Files committed since the graph was resolved; guarded by the stores' lock.
        self._changes: set[str] = set()
        self._saved = True  # False after a refused write: store every edge next time

    def committed(self, paths: Iterable[str]) -> None:
        """Note files whose facts a commit changed (call it holding the stores' lock, in the
        same section as the commit, so a graph saving its edges sees both together)."""
        self._changes.update(paths)

    def drop(self) -> None:
        """Forget the graph: the next `state()` loads it from DuckDB (after a failed write)."""
        with self._lock:
            self._forget()

    def state(self) -> GraphState:
        """The graph of the facts committed now; after a change only the files it can
        affect are resolved again."""
        with self._lock:
            try:
                if self._graph is None:
                    self._graph = self._load()
                    self._state = None
                elif self._update(self._graph):
                    self._state = None
            except BaseException:
                self._forget()  # an update may have stopped half way
                raise
            if self._state is None:
                self._state = GraphState(self._graph.graph, dict(self._graph.files))
            return self._state

    def _forget(self) -> None:
        self._graph = None
        self._state = None
        with self.stores.lock:
            self._changes.clear()

    def _load(self) -> CodeGraph:
        """Reload stored edges if they are current, else resolve them again and store them."""
        meta = self.stores.meta
        with self.stores.lock:
            self._changes.clear()  # the facts read now include them
            facts = meta.facts()
            fresh = meta.edges_current()
            edges = meta.edges_by_path() if fresh else None
        if edges is not None:
            return CodeGraph(facts, edges)
        graph = CodeGraph.resolve(facts)
        self._save_edges(graph, None)
        return graph

    def _update(self, graph: CodeGraph) -> bool:
        """Bring the graph up to date with the files committed since it was resolved."""
        with self.stores.lock:
            paths = sorted(self._changes)
            self._changes.clear()
            facts = {f.path: f for f in self.stores.meta.facts(paths)} if paths else {}
        if not paths:
            return False
        redone = graph.update({path: facts.get(path) for path in paths})
        self._save_edges(graph, redone)
        return True

    def _save_edges(self, graph: CodeGraph, paths: set[str] | None) -> None:
        """Store the edges of `paths` (None: all); a full disk serves the graph unsaved."""
        meta = self.stores.meta
        try:
            with self.stores.lock:
                stored = paths if self._saved else None
                # not current when newer facts are committed already
                meta.replace_edges(graph.edges, stored, current=not self._changes)
            self._saved = True
        except Exception as exc:
            clear = refused_write(exc, self.stores.directory)
            if clear is None:
                raise
            self._saved = False
            log.warning("the code graph is not saved: %s", clear)
