"""What the code graph says around some lines, as short lines for a prompt.

A rewrite is better when the model knows the signatures of what the code calls and of
what calls it; each fact is one line, and only as many as fit a small token budget are
kept (each prompt token costs ~4 ms on a 2-core CPU).
"""

from __future__ import annotations

from codeassist_lsp.index.model import Symbol
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.rag.context import approx_tokens

MAX_FACTS = 8


def signature_line(sym: Symbol) -> str:
    """One line, without the `:` or `{` that opens the body."""
    return " ".join((sym.signature or sym.name).split()).rstrip(" :{")[:160]


def _symbol(view: IndexView, node: str) -> tuple[str, Symbol] | None:
    data = view.graph.nodes.get(node, {})
    if data.get("type") != "symbol":
        return None
    path, qualname = str(data.get("path")), str(data.get("qualname"))
    found = [s for s in view.symbols_in(path) if s.qualname == qualname]
    return (path, found[0]) if found else None


def graph_facts(view: IndexView, path: str, first: int, end: int) -> list[str]:
    """Callees, then callers, of the definitions that lines `first`..`end` (0-based, end
    exclusive) of `path` overlap, innermost definition first; one line each."""
    overlapping = [
        s for s in view.symbols_in(path) if s.start_line - 1 < end and first < s.end_line
    ]
    overlapping.sort(key=lambda s: s.end_line - s.start_line)
    facts: list[str] = []
    seen: set[str] = set()
    for sym in overlapping:
        node = view.node_of(path, sym)
        seen.add(node)
        for relation, others in (
            ("calls", view.callees(node)),
            ("is called by", view.callers(node)),
        ):
            for other in others:
                found = _symbol(view, other) if other not in seen else None
                if found is None:
                    continue
                seen.add(other)
                where, target = found
                facts.append(
                    f"`{sym.qualname}` {relation} `{signature_line(target)}` "
                    f"({where}:{target.start_line})"
                )
                if len(facts) >= MAX_FACTS:
                    return facts
    return facts


def fit_facts(facts: list[str], budget: int) -> tuple[str, ...]:
    """The first facts whose lines take at most `budget` tokens together."""
    kept: list[str] = []
    used = 0
    for fact in facts:
        used += approx_tokens(fact) + 2
        if used > budget:
            break
        kept.append(fact)
    return tuple(kept)
