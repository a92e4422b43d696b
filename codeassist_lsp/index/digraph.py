"""The code graph's container: a directed multigraph with one edge per (source, target, kind).

Our own, not `networkx.MultiDiGraph`: networkx imports all of its algorithms (~60 ms), which
`codeassist search` paid on every run for a container. It iterates as networkx did, so
search ranks exactly as before: nodes in insertion order, a node's successors and
predecessors in the order of their first edge, parallel edges in the order they came.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

NodeData = dict[str, Any]
EdgeTriple = tuple[str, str, str]  # (source, target, kind)


class Digraph:
    """Nodes with attributes, and kinded edges between them; built once, then only read."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeData] = {}
        self._succ: dict[str, dict[str, list[str]]] = {}  # source -> target -> kinds
        self._pred: dict[str, dict[str, list[str]]] = {}  # target -> source -> the same list
        self._edges = 0

    @property
    def nodes(self) -> Mapping[str, NodeData]:
        """Node id -> its attributes, in insertion order."""
        return self._nodes

    def add_node(self, node: str, **attrs: Any) -> None:
        """Add a node, or update the attributes of one already there."""
        if node not in self._nodes:
            self._nodes[node] = {}
            self._succ[node] = {}
            self._pred[node] = {}
        self._nodes[node].update(attrs)

    def add_edge(self, source: str, target: str, kind: str) -> None:
        """Add an edge (and any missing end, without attributes); a repeated one is kept once."""
        for node in (source, target):
            if node not in self._nodes:
                self.add_node(node)
        kinds = self._succ[source].get(target)
        if kinds is None:
            kinds = self._succ[source][target] = self._pred[target][source] = []
        if kind not in kinds:
            kinds.append(kind)
            self._edges += 1

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def number_of_nodes(self) -> int:
        return len(self._nodes)

    def number_of_edges(self) -> int:
        return self._edges

    def has_edge(self, source: str, target: str) -> bool:
        """Whether any edge leads from `source` to `target`."""
        return target in self._succ.get(source, {})

    def out_edges(self, node: str) -> list[EdgeTriple]:
        """Edges out of `node` (none when it is not in the graph)."""
        return [(node, v, k) for v, kinds in self._succ.get(node, {}).items() for k in kinds]

    def in_edges(self, node: str) -> list[EdgeTriple]:
        """Edges into `node` (none when it is not in the graph)."""
        return [(u, node, k) for u, kinds in self._pred.get(node, {}).items() for k in kinds]

    def edges(self) -> Iterator[EdgeTriple]:
        """Every edge, grouped by source in node order."""
        for node in self._nodes:
            yield from self.out_edges(node)
