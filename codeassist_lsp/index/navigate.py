"""Go-to-definition, find-references and symbol search over the stored symbols and graph."""

from __future__ import annotations

import re
from collections.abc import Sequence

from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.model import Reference, Symbol, file_node, node_path, symbol_node

_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def word_span_at(line_text: str, character: int) -> tuple[int, int, str] | None:
    """(start, end, identifier) under (or just before) a 0-based column."""
    for match in _WORD.finditer(line_text):
        if match.start() <= character <= match.end():
            return match.start(), match.end(), match.group(0)
    return None


def word_at(line_text: str, character: int) -> str | None:
    """The identifier under (or just before) a 0-based column."""
    span = word_span_at(line_text, character)
    return span[2] if span else None


def search_symbols(
    symbols: Sequence[tuple[str, Symbol]], query: str, limit: int = 100
) -> list[tuple[str, Symbol]]:
    """Symbols whose name matches: exact, then prefix, then substring, then fuzzy subsequence."""
    q = query.lower()

    def rank(item: tuple[str, Symbol]) -> int | None:
        name = item[1].name.lower()
        if not q:
            return 3
        if name == q:
            return 0
        if name.startswith(q):
            return 1
        if q in name or q in item[1].qualname.lower():
            return 2
        it = iter(name)
        return 4 if all(ch in it for ch in q) else None

    ranked = [(r, item) for item in symbols if (r := rank(item)) is not None]
    ranked.sort(key=lambda pair: (pair[0], len(pair[1][1].name), pair[1][0]))
    return [item for _, item in ranked[:limit]]


def definitions(
    name: str,
    from_path: str,
    line: int,
    symbols: Sequence[tuple[str, Symbol]],
    graph: Digraph,
) -> list[tuple[str, Symbol]]:
    """Where `name` (used at `from_path`:`line`) is defined, best guess first.

    Resolved graph edges from the enclosing symbol win; then definitions in the same file;
    then files this file imports; then every definition of that name.
    """
    named = [(p, s) for p, s in symbols if s.name == name]
    if not named:
        return []
    enclosing = [
        (p, s) for p, s in symbols if p == from_path and s.start_line <= line <= s.end_line
    ]
    sources = [symbol_node(p, s.qualname) for p, s in enclosing] + [file_node(from_path)]
    targets: set[str] = set()
    for src in sources:
        if src in graph:
            targets.update(dst for _, dst, _ in graph.out_edges(src))
    resolved = [(p, s) for p, s in named if symbol_node(p, s.qualname) in targets]
    if resolved:
        return resolved
    same_file = [(p, s) for p, s in named if p == from_path]
    if same_file:
        return same_file
    imported: set[str] = set()
    if file_node(from_path) in graph:
        imported = {
            node_path(dst)
            for _, dst, kind in graph.out_edges(file_node(from_path))
            if kind == "imports"
        }
    in_imports = [(p, s) for p, s in named if p in imported]
    return in_imports or named


def references(
    target: tuple[str, Symbol],
    refs: Sequence[tuple[str, Reference]],
    symbols: Sequence[tuple[str, Symbol]],
    graph: Digraph,
) -> list[tuple[str, Reference]]:
    """Uses of the symbol `target`: references by name that resolve to it.

    A use counts when the graph links its enclosing symbol (or file) to the target, or when
    the name is defined only once in the workspace (overloads of one qualified name in one
    file, a getter and its setter, count once: they are one graph node).
    """
    path, sym = target
    node = symbol_node(path, sym.qualname)
    unique = len({symbol_node(p, s.qualname) for p, s in symbols if s.name == sym.name}) == 1
    callers = {src for src, _, _ in graph.in_edges(node)}
    out = []
    for ref_path, ref in refs:
        src = symbol_node(ref_path, ref.source) if ref.source else file_node(ref_path)
        if unique or src in callers:
            out.append((ref_path, ref))
    return out
