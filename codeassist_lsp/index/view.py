"""The read side of a workspace index: an immutable snapshot the writer publishes.

Every feature (search, symbols, chat, hover, completion) reads the index through an
`IndexView`, never through the writer: the chunk map of a view never changes once it is
published, so a reader walking it while the writer commits the next batch sees one
consistent state. The graph of a view is resolved the first time a reader asks for it
(resolving after every keystroke's commit would spend the CPU completion needs), from the
facts committed by then, and is the same object for the life of the view.

`ViewKeeper` is the writer's side: it applies each commit's chunk changes to its own copy
and publishes a new view.
"""

from __future__ import annotations

import logging
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.files import read_text
from codeassist_lsp.index.generated import generated_chunk_files
from codeassist_lsp.index.graph_keeper import GraphKeeper, GraphState
from codeassist_lsp.index.model import Chunk, Reference, Symbol, file_node, symbol_node
from codeassist_lsp.index.storage import WorkspaceStores

log = logging.getLogger(__name__)

T = TypeVar("T")

USE_KINDS = ("calls", "references", "inherits")
MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class IndexView:
    """One published state of a workspace index, with the queries features share.

    Paths are workspace-relative POSIX paths, lines 1-based and inclusive. Graph nodes are
    `file_node(path)` and `symbol_node(path, qualname)` ids.
    """

    root: Path
    generation: int
    chunks: Mapping[str, Chunk]
    vectors_missing: int = 0  # chunks not embedded yet: vector search does not see them
    graphs: Callable[[], GraphState] | None = field(default=None, compare=False, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """A value computed once per view (lookups built from its chunks and graph)."""
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = build()
            return self._memo[key]

    # --- graph and facts -------------------------------------------------------------

    def _graph_state(self) -> GraphState:
        if self.graphs is None:
            return GraphState(Digraph(), {})
        return self.derived("graph_state", self.graphs)

    @property
    def graph(self) -> Digraph:
        """The resolved code graph (never changed in place)."""
        return self._graph_state().graph

    def symbols(self) -> list[tuple[str, Symbol]]:
        """Every definition in the workspace, with its file."""
        return self.derived(
            "symbols",
            lambda: [(p, s) for p, f in self._graph_state().files.items() for s in f.symbols],
        )

    def symbols_in(self, path: str) -> list[Symbol]:
        found = self._graph_state().files.get(path)
        return list(found.symbols) if found is not None else []

    def symbol_at(self, path: str, line: int) -> Symbol | None:
        """The innermost definition of `path` whose lines hold `line`."""
        holding = [s for s in self.symbols_in(path) if s.start_line <= line <= s.end_line]
        return min(holding, key=lambda s: s.end_line - s.start_line, default=None)

    def definitions(self, name: str) -> list[tuple[str, Symbol]]:
        """Definitions whose name or qualified name (`Class.method`) is `name`."""
        index = self.derived("by_name", self._definitions_by_name)
        return list(index.get(name, ()))

    def _definitions_by_name(self) -> dict[str, list[tuple[str, Symbol]]]:
        out: dict[str, list[tuple[str, Symbol]]] = {}
        for path, sym in self.symbols():
            out.setdefault(sym.name, []).append((path, sym))
            if sym.qualname != sym.name:
                out.setdefault(sym.qualname, []).append((path, sym))
        return out

    def references_named(self, name: str) -> list[tuple[str, Reference]]:
        """Uses of a name as written (calls, inherits, references), resolved or not."""
        index = self.derived("refs_by_name", self._references_by_name)
        return list(index.get(name, ()))

    def _references_by_name(self) -> dict[str, list[tuple[str, Reference]]]:
        out: dict[str, list[tuple[str, Reference]]] = {}
        for path, facts in self._graph_state().files.items():
            for ref in facts.references:
                out.setdefault(ref.name, []).append((path, ref))
        return out

    def neighbours(
        self, node: str, kinds: Iterable[str] = USE_KINDS, incoming: bool = True
    ) -> list[str]:
        """Nodes linked to `node` by edges of `kinds`: into it (its users) or out of it."""
        graph = self.graph
        if node not in graph:
            return []
        wanted = set(kinds)
        edges = graph.in_edges(node) if incoming else graph.out_edges(node)
        return sorted({(u if incoming else v) for u, v, k in edges if k in wanted})

    def callers(self, node: str) -> list[str]:
        """Nodes that call `node`."""
        return self.neighbours(node, ("calls",), incoming=True)

    def callees(self, node: str) -> list[str]:
        """Nodes that `node` calls."""
        return self.neighbours(node, ("calls",), incoming=False)

    def users(self, node: str) -> list[str]:
        """Nodes that call, mention or inherit from `node`."""
        return self.neighbours(node, USE_KINDS, incoming=True)

    def used_by(self, node: str) -> list[str]:
        """Nodes that `node` calls, mentions or inherits from."""
        return self.neighbours(node, USE_KINDS, incoming=False)

    def imports(self, path: str) -> list[str]:
        """Workspace files that `path` imports."""
        nodes = self.neighbours(file_node(path), ("imports",), incoming=False)
        return [str(self.graph.nodes[n].get("path", "")) for n in nodes]

    def node_of(self, path: str, sym: Symbol) -> str:
        return symbol_node(path, sym.qualname)

    # --- chunks and text -------------------------------------------------------------

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.chunks.get(chunk_id)

    def chunks_in(self, path: str) -> list[Chunk]:
        """The chunks of one file, in line order."""
        by_path = self.derived("chunks_by_path", self._chunks_by_path)
        return list(by_path.get(path, ()))

    def generated(self) -> Mapping[str, str]:
        """Build output that mirrors a source file of the workspace, and why
        (`index/generated.py`); retrieval ranks it below its source."""
        return self.derived("generated", self._generated)

    def _generated(self) -> dict[str, str]:
        found = generated_chunk_files(self.chunks.values())
        if found:
            shown = "; ".join(f"{path} ({why})" for path, why in list(found.items())[:5])
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            log.info("%d generated files rank below their sources: %s%s", len(found), shown, more)
        return found

    def _chunks_by_path(self) -> dict[str, list[Chunk]]:
        out: dict[str, list[Chunk]] = {}
        for c in self.chunks.values():
            out.setdefault(c.path, []).append(c)
        for found in out.values():
            found.sort(key=lambda c: (c.start_line, c.end_line))
        return out

    def file_text(self, path: str, max_bytes: int = MAX_FILE_BYTES) -> str | None:
        """The text of a workspace file on disk: only a regular file inside the root, within
        `max_bytes`; None otherwise (a FIFO or /dev/zero must never be read)."""
        target = (self.root / path).resolve()
        try:
            target.relative_to(self.root)
            info = target.stat()
        except (ValueError, OSError):
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        try:
            return read_text(target)  # decoded as the indexer decodes it (BOM dropped)
        except OSError:
            return None


class ViewKeeper:
    """Publishes a new `IndexView` after each commit; loads the first one when asked.

    The chunk map is loaded from DuckDB on the first request only (a `codeassist index`
    that nobody searches never pays for it); from then on each commit's changes are
    applied to a private copy, and a read-only copy of it is published.
    """

    def __init__(self, stores: WorkspaceStores, graphs: GraphKeeper) -> None:
        self.stores = stores
        self.graphs = graphs
        self._lock = threading.Lock()
        self._chunks: dict[str, Chunk] | None = None
        self._view: IndexView | None = None
        self._generation = 0
        self._missing = 0

    def current(self) -> IndexView:
        """The newest published view (loading the chunk map the first time)."""
        with self._lock:
            if self._view is not None:
                return self._view
        # the writer holds the stores' lock while it calls `committed`: take it first too
        with self.stores.lock, self._lock:
            if self._view is None:
                if self._chunks is None:
                    self._chunks = self.stores.meta.chunks_by_id()
                self._view = self._publish()
            return self._view

    def committed(self, removed: Iterable[str], added: Iterable[Chunk]) -> None:
        """Apply one commit: chunk ids that are gone and chunks that are new. Idempotent,
        so a first view loaded from DuckDB after the commit is not harmed by it."""
        with self._lock:
            self._generation += 1
            if self._chunks is None:
                self._view = None
                return
            for cid in removed:
                self._chunks.pop(cid, None)
            for chunk in added:
                self._chunks[chunk.chunk_id] = chunk
            self._view = self._publish()

    @property
    def missing(self) -> int:
        """Chunks waiting for vectors, as the writer last said (0 until it first counts)."""
        return self._missing

    def vectors_missing(self, count: int) -> None:
        """How many chunks still wait for their vectors (shown by status and search)."""
        with self._lock:
            if count == self._missing:
                return
            self._missing = count
            if self._view is not None:
                self._view = self._publish()

    def reset(self) -> None:
        """Forget everything cached (after a failed write DuckDB may hold either state)."""
        with self._lock:
            self._chunks = None
            self._view = None
            self._generation += 1

    def _publish(self) -> IndexView:
        assert self._chunks is not None
        return IndexView(
            root=self.stores.root,
            generation=self._generation,
            chunks=MappingProxyType(dict(self._chunks)),
            vectors_missing=self._missing,
            graphs=self.graphs.state,
        )
