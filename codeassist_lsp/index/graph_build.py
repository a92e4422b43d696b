"""The code graph's nodes and edges: files and symbols joined by defines, contains,
imports and the uses (calls, references, inherits) that `resolve` finds, assembled into
a `Digraph`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.model import Edge, ParsedFile, Symbol, file_node, symbol_node
from codeassist_lsp.index.resolve import Workspace


def resolve_edges(files: Sequence[ParsedFile], paths: Collection[str] | None = None) -> list[Edge]:
    """Deduplicated edges that start in the files of `paths` (default: all files).

    Targets may lie in any file: `CodeGraph.update` works out which files to re-resolve.
    """
    edges: dict[Edge, None] = {}
    for found in resolve_file_edges(files, paths).values():
        edges.update(dict.fromkeys(found))
    return list(edges)


def resolve_file_edges(
    files: Sequence[ParsedFile], paths: Collection[str] | None = None
) -> dict[str, list[Edge]]:
    """The edges each file (of `paths`, default all) produces, kept apart so that one
    file's edges can be replaced without resolving the others again."""
    workspace = Workspace(files)
    return {f.path: file_edges(workspace, f) for f in files if paths is None or f.path in paths}


def file_edges(workspace: Workspace, f: ParsedFile) -> list[Edge]:
    """The deduplicated edges of one file's facts; a source may lie in another file."""
    edges: dict[Edge, None] = dict.fromkeys(_structure(workspace, f))
    _, _, imported = workspace.bindings(f.path)
    for path in imported:
        edges.setdefault(Edge(file_node(f.path), file_node(path), "imports"))
    for ref in f.references:
        target, _ = workspace.resolve(f.path, ref)
        if target is None:
            continue
        source = workspace.source_node(f.path, ref.source)
        if source != target or ref.kind == "calls":
            edges.setdefault(Edge(source, target, ref.kind))
    return list(edges)


def _structure(workspace: Workspace, f: ParsedFile) -> Iterable[Edge]:
    table = workspace.symbols[f.path]
    for s in f.symbols:
        node = symbol_node(f.path, s.qualname)
        if s.parent is not None and s.parent in table:
            yield Edge(symbol_node(f.path, s.parent), node, "contains")
            continue
        yield Edge(file_node(f.path), node, "defines")
        if s.parent is not None:
            owner, _ = workspace.resolve_name(f.path, None, s.parent.split(".")[0])
            if owner is not None and owner.startswith("sym:"):
                yield Edge(owner, node, "contains")


def graph_nodes(files: Iterable[ParsedFile]) -> list[tuple[str, dict[str, object]]]:
    """Node ids with the attributes the graph keeps: what hover and search need.

    Definitions sharing a qualified name in a file (overloads, a property's getter and
    setter, a redefinition) are one node, as a reference by name cannot tell them apart:
    it describes the first and lists the line ranges of all, in file order, as `ranges`.
    """
    nodes: dict[str, dict[str, object]] = {}
    for f in files:
        nodes[file_node(f.path)] = {"type": "file", "path": f.path, "language": f.language}
        ranges: dict[str, list[tuple[int, int]]] = {}
        for s in f.symbols:
            node = symbol_node(f.path, s.qualname)
            if node not in ranges:
                ranges[node] = []
                nodes[node] = _symbol_attributes(f, s, ranges[node])
            ranges[node].append((s.start_line, s.end_line))
    return list(nodes.items())


def _symbol_attributes(
    f: ParsedFile, s: Symbol, ranges: list[tuple[int, int]]
) -> dict[str, object]:
    return {
        "type": "symbol",
        "path": f.path,
        "language": f.language,
        "name": s.name,
        "qualname": s.qualname,
        "kind": s.kind,
        "start_line": s.start_line,
        "end_line": s.end_line,
        "ranges": ranges,
        "signature": s.signature,
    }


def graph_from_edges(
    edges: Iterable[Edge], nodes: Iterable[tuple[str, dict[str, object]]]
) -> Digraph:
    """A graph from stored rows; one edge per (source, target, kind)."""
    graph = Digraph()
    for node, attrs in nodes:
        graph.add_node(node, **attrs)
    for edge in edges:
        graph.add_edge(edge.source, edge.target, edge.kind)
    return graph


def build_graph(files: Sequence[ParsedFile]) -> Digraph:
    """Resolve and assemble the whole graph in one go."""
    return graph_from_edges(resolve_edges(files), graph_nodes(files))
