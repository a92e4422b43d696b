"""Prompt context from retrieval: the hits, and what the graph says around them, fitted to a
token budget.

Chat, code actions and completion all need "the code that matters, as much as fits". On
this CPU every uncached prompt token costs ~4 ms, so the budget is the latency and the
fit is exact: candidates in priority order (each hit, then the callers and callees of the
definitions it holds, as one-line signatures), long chunks cut to their head, and the
largest prefix whose rendering fits found by binary search, as aider fits its repo map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from codeassist_lsp.index.model import Chunk, Symbol
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.rag.retriever import SearchHit

TokenCounter = Callable[[str], int]

MAX_ITEM_LINES = 80  # a longer chunk is cut to its head: the signature and first lines say most
NEIGHBOURS_PER_HIT = 4


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate for code (about 3 characters a token for BPE vocabularies);
    pass the model's own counter when it is loaded."""
    return (len(text) + 2) // 3


@dataclass(frozen=True)
class ContextItem:
    """One piece of context: a chunk of code, or a graph fact about a definition."""

    path: str
    start_line: int
    end_line: int
    text: str
    symbol: str | None = None
    relation: str = "hit"  # "hit", or how it relates to one: "calls", "called by"
    about: str | None = None  # for a relation: the definition in the hit it relates to

    def render(self) -> str:
        if self.relation == "hit":
            name = f" {self.symbol}" if self.symbol else ""
            return f"### {self.path}:{self.start_line}-{self.end_line}{name}\n{self.text}\n"
        where = f"{self.path}:{self.start_line}"
        return f"- {self.about} {self.relation} {self.symbol} ({where}): {self.text}\n"


@dataclass(frozen=True)
class PromptContext:
    """The items that fit, in priority order, and what was left out."""

    items: tuple[ContextItem, ...]
    tokens: int
    left_out: int

    def render(self) -> str:
        return render_items(self.items)

    @property
    def sources(self) -> list[ContextItem]:
        """The code chunks (not graph facts) the context holds: what an answer cites."""
        return [item for item in self.items if item.relation == "hit"]


def render_items(items: Iterable[ContextItem]) -> str:
    """Code first, then the graph facts under one heading, so the facts read as a list."""
    items = list(items)
    code = "".join(i.render() for i in items if i.relation == "hit")
    facts = "".join(i.render() for i in items if i.relation != "hit")
    return code + (f"### Related definitions\n{facts}" if facts else "")


def _cut(chunk: Chunk, max_lines: int) -> ContextItem:
    lines = chunk.text.splitlines()
    end_line = chunk.end_line
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], "…"]
        end_line = chunk.start_line + max_lines - 1
    return ContextItem(chunk.path, chunk.start_line, end_line, "\n".join(lines), chunk.symbol)


def _signature(sym: Symbol) -> str:
    return " ".join((sym.signature or sym.name).split())[:160]


def _neighbour_facts(view: IndexView, chunk: Chunk, limit: int) -> list[ContextItem]:
    """Callers and callees of the definitions starting inside `chunk`, as signatures."""
    facts: list[ContextItem] = []
    if limit <= 0:
        return facts
    seen: set[str] = set()
    inside = [
        s for s in view.symbols_in(chunk.path) if chunk.start_line <= s.start_line <= chunk.end_line
    ]
    for sym in inside:
        node = view.node_of(chunk.path, sym)
        for relation, others in (("calls", view.callees(node)), ("called by", view.callers(node))):
            for other in others:
                found = _symbol_of(view, other)
                if found is None or other in seen:
                    continue
                seen.add(other)
                path, target = found
                facts.append(
                    ContextItem(
                        path,
                        target.start_line,
                        target.end_line,
                        _signature(target),
                        target.qualname,
                        relation,
                        sym.qualname,
                    )
                )
                if len(facts) >= limit:
                    return facts
    return facts


def _symbol_of(view: IndexView, node: str) -> tuple[str, Symbol] | None:
    data = view.graph.nodes.get(node, {})
    if data.get("type") != "symbol":
        return None
    path, qualname = str(data.get("path")), str(data.get("qualname"))
    for sym in view.symbols_in(path):
        if sym.qualname == qualname:
            return path, sym
    return None


def candidates(
    view: IndexView,
    hits: Sequence[SearchHit],
    neighbours: int = NEIGHBOURS_PER_HIT,
    max_item_lines: int = MAX_ITEM_LINES,
) -> list[ContextItem]:
    """Everything worth showing, most useful first: each hit followed by its graph facts."""
    out: list[ContextItem] = []
    spans = [(h.chunk.path, h.chunk.start_line, h.chunk.end_line) for h in hits]
    for hit in hits:
        out.append(_cut(hit.chunk, max_item_lines))
        for fact in _neighbour_facts(view, hit.chunk, neighbours):
            # a definition whose code is in the context already needs no signature line
            if not any(p == fact.path and a <= fact.start_line <= b for p, a, b in spans):
                out.append(fact)
    return out


def fit(
    items: Sequence[ContextItem], budget: int, count: TokenCounter = approx_tokens
) -> PromptContext:
    """The longest prefix of `items` whose rendering takes at most `budget` tokens."""
    lo, hi = 0, len(items)
    while lo < hi:  # the largest k with tokens(items[:k]) <= budget
        mid = (lo + hi + 1) // 2
        if count(render_items(items[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    chosen = tuple(items[:lo])
    if not chosen and items:
        head = _head_within(items[0], budget, count)
        if head is not None:
            return PromptContext((head,), count(render_items([head])), len(items) - 1)
    return PromptContext(chosen, count(render_items(chosen)), len(items) - lo)


def _head_within(item: ContextItem, budget: int, count: TokenCounter) -> ContextItem | None:
    """The first item cut to the most head lines that fit, so that a single long best hit
    still gives the prompt its signature and first lines; None when one line is too many."""
    lines = item.text.splitlines()

    def cut(n: int) -> ContextItem:
        return replace(item, end_line=item.start_line + n - 1, text="\n".join([*lines[:n], "…"]))

    lo, hi = 0, len(lines)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(render_items([cut(mid)])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return cut(lo) if lo > 0 else None


def build_context(
    view: IndexView,
    hits: Sequence[SearchHit],
    budget: int,
    count: TokenCounter = approx_tokens,
) -> PromptContext:
    """Hits and their graph neighbours as prompt context within `budget` tokens."""
    return fit(candidates(view, hits), budget, count)
