"""Hybrid code search: vector top-k + BM25 top-k -> fusion -> priors -> graph -> rerank.

Fusion is a weighted sum of min-max normalised scores by default (reciprocal rank
fusion on request); priors then scale down tests and change logs (`rag.priors`).

Every hit says why it was found: "vector", "keyword", "graph" (a caller, callee or
definition of something a strong hit or the question names) and "rerank".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from codeassist_lsp.config import SearchSettings
from codeassist_lsp.index.model import Chunk, symbol_node
from codeassist_lsp.rag.fusion import Fused, reciprocal_rank_fusion, score_fusion
from codeassist_lsp.rag.priors import prior
from codeassist_lsp.rag.tokens import identifiers_in

log = logging.getLogger(__name__)

GRAPH_EDGE_KINDS = frozenset({"calls", "references", "inherits"})
EXPAND_TOP = 3  # strong hits whose neighbours are pulled in
GRAPH_DECAY = 0.5  # a neighbour scores this fraction of the hit that led to it


class Ranker(Protocol):
    def search(self, query: str, k: int) -> list[tuple[str, float]]: ...


class Reranker(Protocol):
    def rerank(self, query: str, texts: list[str]) -> list[float]: ...


@dataclass
class SearchHit:
    """One ranked chunk."""

    chunk_id: str
    chunk: Chunk
    score: float
    why: list[str] = field(default_factory=list)

    def to_json(self, snippet_lines: int = 0) -> dict[str, Any]:
        c = self.chunk
        out: dict[str, Any] = {
            "path": c.path,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "score": round(self.score, 6),
            "symbol": c.symbol,
            "kind": c.kind,
            "why": list(self.why),
        }
        if snippet_lines:
            out["snippet"] = "\n".join(c.text.splitlines()[:snippet_lines])
        return out


@dataclass
class SearchSources:
    """What a search reads; functions so the index can refresh them between calls."""

    vector: Ranker
    keyword: Ranker
    chunks: Callable[[], dict[str, Chunk]]
    graph: Callable[[], nx.MultiDiGraph] | None = None
    reranker: Reranker | None = None
    _lookup: tuple[dict[str, Chunk], SymbolLookup] | None = field(default=None, repr=False)

    def symbols(self, chunks: dict[str, Chunk]) -> SymbolLookup:
        """The lookup for `chunks`, rebuilt only when the index hands out a new chunk map."""
        if self._lookup is None or self._lookup[0] is not chunks:
            self._lookup = (chunks, SymbolLookup.build(chunks))
        return self._lookup[1]


@dataclass
class SymbolLookup:
    """Chunks by the symbol they hold, built once per set of chunks (not per query)."""

    by_symbol: dict[tuple[str, str], str]  # (path, qualname) -> chunk id
    by_name: dict[str, list[str]]  # last name component -> chunk ids

    @classmethod
    def build(cls, chunks: dict[str, Chunk]) -> SymbolLookup:
        by_symbol: dict[tuple[str, str], str] = {}
        for cid, c in chunks.items():
            if c.symbol:
                by_symbol.setdefault((c.path, c.symbol), cid)
        by_name: dict[str, list[str]] = {}
        for (_path, qualname), cid in by_symbol.items():
            by_name.setdefault(qualname.rsplit(".", 1)[-1], []).append(cid)
        return cls(by_symbol, by_name)


def _node_key(node: str) -> tuple[str, str] | None:
    if not node.startswith("sym:") or "::" not in node:
        return None
    path, qualname = node[4:].split("::", 1)
    return path, qualname


def expand_with_graph(
    fused: list[Fused],
    query: str,
    graph: nx.MultiDiGraph,
    chunks: dict[str, Chunk],
    symbols: SymbolLookup,
) -> list[Fused]:
    """Add callers/callees of the strongest hits and definitions of names in the query."""
    by_symbol = symbols.by_symbol
    items = {f.key: f for f in fused}
    top_score = fused[0].score if fused else 1.0

    def bump(cid: str, score: float) -> None:
        item = items.get(cid)
        if item is None:
            items[cid] = Fused(cid, score, ["graph"])
        else:
            if "graph" not in item.why:
                item.why.append("graph")
            item.score = max(item.score, score) + score * 0.1

    for hit in fused[:EXPAND_TOP]:
        c = chunks.get(hit.key)
        if c is None or not c.symbol:
            continue
        node = symbol_node(c.path, c.symbol)
        if node not in graph:
            continue
        neighbours = set()
        for _, dst, kind in graph.out_edges(node, data="kind"):
            if kind in GRAPH_EDGE_KINDS:
                neighbours.add(dst)
        for src, _, kind in graph.in_edges(node, data="kind"):
            if kind in GRAPH_EDGE_KINDS:
                neighbours.add(src)
        for other in neighbours:
            key = _node_key(other)
            cid = by_symbol.get(key) if key else None
            if cid and cid != hit.key:
                bump(cid, hit.score * GRAPH_DECAY)
    for name in set(identifiers_in(query)):
        for cid in symbols.by_name.get(name, ()):
            bump(cid, top_score)
    return sorted(items.values(), key=lambda f: (-f.score, f.key))


def _dedupe_overlaps(hits: list[SearchHit]) -> list[SearchHit]:
    """Drop a hit whose lines lie inside a better hit of the same file."""
    kept: list[SearchHit] = []
    for hit in hits:
        c = hit.chunk
        if any(
            k.chunk.path == c.path
            and k.chunk.start_line <= c.start_line
            and c.end_line <= k.chunk.end_line
            for k in kept
        ):
            continue
        kept.append(hit)
    return kept


def _fuse(scored: dict[str, list[tuple[str, float]]], settings: SearchSettings) -> list[Fused]:
    if settings.fusion == "rrf":
        rankings = {source: [cid for cid, _ in pairs] for source, pairs in scored.items()}
        return reciprocal_rank_fusion(rankings, k=settings.rrf_k)
    return score_fusion(scored)


def _apply_priors(fused: list[Fused], chunks: dict[str, Chunk], query: str) -> list[Fused]:
    for item in fused:
        chunk = chunks[item.key]
        item.score *= prior(chunk.path, chunk.kind, query)
    return sorted(fused, key=lambda f: (-f.score, f.key))


def hybrid_search(
    query: str,
    sources: SearchSources,
    settings: SearchSettings,
    limit: int | None = None,
    modes: frozenset[str] = frozenset({"vector", "keyword", "graph", "rerank"}),
) -> list[SearchHit]:
    """Rank chunks for a plain-English or identifier query, best first."""
    limit = settings.limit if limit is None else limit
    query = query.strip()
    if not query or limit <= 0:
        return []
    chunks = sources.chunks()
    scored: dict[str, list[tuple[str, float]]] = {}
    if "vector" in modes:
        found = sources.vector.search(query, settings.vector_k)
        scored["vector"] = [(cid, score) for cid, score in found if cid in chunks]
    if "keyword" in modes:
        found = sources.keyword.search(query, settings.keyword_k)
        scored["keyword"] = [(cid, score) for cid, score in found if cid in chunks]
    fused = _apply_priors(_fuse(scored, settings), chunks, query)
    if "graph" in modes and settings.graph_expansion and sources.graph is not None and fused:
        fused = expand_with_graph(fused, query, sources.graph(), chunks, sources.symbols(chunks))
    hits = [SearchHit(f.key, chunks[f.key], f.score, f.why) for f in fused if f.key in chunks]
    if "rerank" in modes and settings.rerank and sources.reranker is not None and hits:
        head = hits[: max(limit * 2, 20)]
        texts = [f"{h.chunk.header()}\n{h.chunk.text}" for h in head]
        scores = sources.reranker.rerank(query, texts)
        for hit, score in zip(head, scores, strict=True):
            hit.score = float(score)
            hit.why.append("rerank")
        hits = sorted(head, key=lambda h: -h.score) + hits[len(head) :]
    return _dedupe_overlaps(hits)[:limit]
