"""Questions asked of a built code graph: who calls a node, what it calls, what uses it,
its neighbours, the definitions of a name and the symbol at a line.

Kept apart from building the graph: these read a finished `nx.MultiDiGraph` and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection

import networkx as nx

from codeassist_lsp.index.model import file_node

USE_KINDS = ("calls", "references", "inherits")


def _neighbours(graph: nx.MultiDiGraph, node: str, kinds: Collection[str], incoming: bool) -> list:
    if node not in graph:
        return []
    edges = graph.in_edges(node, keys=True) if incoming else graph.out_edges(node, keys=True)
    found = {(u if incoming else v) for u, v, k in edges if k in kinds}
    return sorted(found)


def callers(graph: nx.MultiDiGraph, node: str) -> list[str]:
    """Nodes that call `node`."""
    return _neighbours(graph, node, ("calls",), incoming=True)


def callees(graph: nx.MultiDiGraph, node: str) -> list[str]:
    """Nodes that `node` calls."""
    return _neighbours(graph, node, ("calls",), incoming=False)


def references_to(graph: nx.MultiDiGraph, node: str) -> list[str]:
    """Nodes that call, mention or inherit from `node`."""
    return _neighbours(graph, node, USE_KINDS, incoming=True)


def related(graph: nx.MultiDiGraph, node: str, kinds: Collection[str] = USE_KINDS) -> list[str]:
    """Neighbours in both directions over the given kinds: for retrieval expansion."""
    ins = _neighbours(graph, node, kinds, incoming=True)
    outs = _neighbours(graph, node, kinds, incoming=False)
    return sorted(set(ins) | set(outs))


def definitions_named(graph: nx.MultiDiGraph, name: str) -> list[str]:
    """Symbol nodes whose name or qualified name is `name`."""
    return sorted(
        n
        for n, data in graph.nodes(data=True)
        if data.get("type") == "symbol" and name in (data.get("name"), data.get("qualname"))
    )


def symbol_at(graph: nx.MultiDiGraph, path: str, line: int) -> str | None:
    """The innermost symbol of a file with a definition (of its `ranges`) holding a
    1-based line."""
    best: str | None = None
    best_size = 0
    frontier = [file_node(path)]
    while frontier:
        current = frontier.pop()
        if current not in graph:
            continue
        for _, child, kind in graph.out_edges(current, keys=True):
            if kind not in ("defines", "contains"):
                continue
            data = graph.nodes[child]
            if data.get("path") != path:
                continue
            sizes = [end - start for start, end in data.get("ranges", ()) if start <= line <= end]
            if sizes:
                if best is None or min(sizes) <= best_size:
                    best, best_size = child, min(sizes)
                frontier.append(child)
    return best
