"""Hybrid code search over an index view: vector + BM25 -> fusion -> priors -> graph -> rerank.

Fusion is a weighted sum of min-max normalised scores by default (reciprocal rank
fusion on request); priors then scale down tests, change logs and prose (`rag.priors`).

Every hit says why it was found: "vector", "keyword", "graph" (a caller, callee or
definition of something the question names) and "rerank".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from codeassist_lsp.config import SearchSettings
from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.index.tokens import names_in, valid_text
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.rag.fusion import Fused, reciprocal_rank_fusion, score_fusion
from codeassist_lsp.rag.priors import prior

log = logging.getLogger(__name__)

# Callers and callees of a definition the query names score this fraction of the best hit.
# The neighbours of the top hits are not pulled in: on third-party code that stage did not
# pay (README, Performance; bench/pipeline_stages.py).
GRAPH_DECAY = 0.3
# A definition the query names goes above the best hit: by this factor of its score for a
# qualified name ("Store.get"), by the smaller one for a bare name ("get"), and not at
# all when the bare name has more definitions than MAX_NAMED_DEFINITIONS (`__init__`).
QUALNAME_BOOST = 1.3
NAME_BOOST = 1.15
MAX_NAMED_DEFINITIONS = 5
# "who calls X", "where is X used": the callers and users of a named definition are the
# answer, so they go above it (by this much more), and the definition follows.
USAGE_QUESTION = re.compile(r"\b(call(s|ed|ers?)?|uses?|used|using|invoked?|references?)\b", re.I)
USAGE_BOOST = 0.05


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
class SymbolLookup:
    """Which chunk holds each graph symbol, built once per chunk map and graph, not per query.

    A chunk may hold several definitions (small neighbours are merged), so symbols are
    placed by line, not by the one name a chunk carries; a node with several definitions
    (overloads, a getter and its setter) is placed by each one's first line.
    """

    chunks_of: dict[str, list[str]]  # symbol node -> ids of chunks holding a definition's start
    by_name: dict[str, list[str]]  # symbol name -> its symbol nodes
    by_qualname: dict[str, list[str]]  # qualified name ("Class.method") -> the same

    @classmethod
    def build(cls, chunks: Mapping[str, Chunk], graph: Digraph) -> SymbolLookup:
        spans: dict[str, list[tuple[int, int, str]]] = {}
        for cid, c in chunks.items():
            spans.setdefault(c.path, []).append((c.end_line - c.start_line, c.start_line, cid))
        for found in spans.values():
            found.sort()  # smallest first: a window inside a big symbol beats the whole
        chunks_of: dict[str, list[str]] = {}
        by_name: dict[str, list[str]] = {}
        by_qualname: dict[str, list[str]] = {}
        for node, data in graph.nodes.items():
            if data.get("type") != "symbol":
                continue
            in_file = spans.get(str(data.get("path")), [])
            ranges = data.get("ranges") or [(data.get("start_line", 0), data.get("end_line", 0))]
            holders = []
            for first, _ in ranges:
                line = int(first)
                holder = next(
                    (c for size, start, c in in_file if start <= line <= start + size), None
                )
                if holder is not None and holder not in holders:
                    holders.append(holder)
            if not holders:
                continue
            chunks_of[node] = holders
            by_name.setdefault(str(data.get("name")), []).append(node)
            by_qualname.setdefault(str(data.get("qualname")), []).append(node)
        return cls(chunks_of, by_name, by_qualname)

    def definitions(self, name: str) -> tuple[list[str], float]:
        """Symbol nodes defining `name` (qualified or bare) and how far above the top they go."""
        if "." in name:
            found = self.by_qualname.get(name)
            if found:
                return found, QUALNAME_BOOST
            name = name.rsplit(".", 1)[-1]
        found = self.by_name.get(name, [])
        if len(name) < 2 or len(found) > MAX_NAMED_DEFINITIONS:  # "e.g." is not a call of g
            return [], 0.0
        return found, NAME_BOOST


def symbol_lookup(view: IndexView) -> SymbolLookup:
    """The view's lookup, built once per published view, not per query."""
    return view.derived("rag.symbol_lookup", lambda: SymbolLookup.build(view.chunks, view.graph))


def _neighbours(view: IndexView, node: str) -> tuple[set[str], set[str]]:
    """(callers and users of `node`, what `node` calls, uses or inherits)."""
    return set(view.users(node)), set(view.used_by(node))


def expand_with_graph(fused: list[Fused], query: str, view: IndexView) -> list[Fused]:
    """Put definitions the query names on top with their callers and callees below them
    (callers high when the query asks for them)."""
    items = {f.key: f for f in fused}
    symbols = symbol_lookup(view)

    def bump(cid: str, score: float) -> None:
        item = items.get(cid)
        if item is None:
            items[cid] = Fused(cid, score, ["graph"])
        else:
            if "graph" not in item.why:
                item.why.append("graph")
            item.score = max(item.score, score) + score * 0.1

    best = max((item.score for item in items.values()), default=1.0)

    def lift(cid: str, score: float) -> None:
        item = items.setdefault(cid, Fused(cid, 0.0))
        if "graph" not in item.why:
            item.why.append("graph")
        item.score = max(item.score, score)

    asks_for_users = bool(USAGE_QUESTION.search(query))
    for name in sorted(set(names_in(query))):
        nodes, boost = symbols.definitions(name)
        for node in nodes:
            users, used = _neighbours(view, node)
            for other in sorted(users | used):
                for cid in symbols.chunks_of.get(other, ()):
                    if asks_for_users and other in users:
                        lift(cid, best * (boost + USAGE_BOOST))
                    else:
                        bump(cid, best * GRAPH_DECAY)
        for cid in {cid for node in nodes for cid in symbols.chunks_of[node]}:
            lift(cid, best * boost)
    return sorted(items.values(), key=lambda f: (-f.score, f.key))


def _dedupe_overlaps(hits: list[SearchHit], limit: int) -> list[SearchHit]:
    """The best `limit` hits, leaving out one whose lines lie inside a better hit of the same
    file, or whose text a better hit repeats (a README copied into the docs, a vendored copy)."""
    kept: list[SearchHit] = []
    texts: set[str] = set()
    for hit in hits:
        if len(kept) == limit:
            break
        c = hit.chunk
        if any(
            k.chunk.path == c.path
            and k.chunk.start_line <= c.start_line
            and c.end_line <= k.chunk.end_line
            for k in kept
        ):
            continue
        text = " ".join(c.text.split())
        if text in texts:
            continue
        texts.add(text)
        kept.append(hit)
    return kept


def _fuse(scored: dict[str, list[tuple[str, float]]], settings: SearchSettings) -> list[Fused]:
    if settings.fusion == "rrf":
        rankings = {source: [cid for cid, _ in pairs] for source, pairs in scored.items()}
        return reciprocal_rank_fusion(rankings, k=settings.rrf_k)
    return score_fusion(scored)


def _apply_priors(fused: list[Fused], view: IndexView, query: str) -> list[Fused]:
    generated = view.generated()
    for item in fused:
        chunk = view.chunks[item.key]
        item.score *= prior(chunk.path, chunk.kind, query, chunk.path in generated)
    return sorted(fused, key=lambda f: (-f.score, f.key))


ALL_MODES = frozenset({"vector", "keyword", "graph", "rerank"})


@dataclass
class Retriever:
    """Hybrid search over published index views: the rankers are the stores' readers."""

    vector: Ranker | None
    keyword: Ranker
    reranker: Reranker | None = None

    def search(
        self,
        view: IndexView,
        query: str,
        settings: SearchSettings,
        limit: int | None = None,
        modes: frozenset[str] = ALL_MODES,
    ) -> list[SearchHit]:
        """Rank the view's chunks for a plain-English or identifier query, best first."""
        limit = settings.limit if limit is None else limit
        query = valid_text(query).strip()
        if not query or limit <= 0:
            return []
        chunks = view.chunks
        scored: dict[str, list[tuple[str, float]]] = {}
        if "vector" in modes and self.vector is not None:
            found = self.vector.search(query, settings.vector_k)
            scored["vector"] = [(cid, score) for cid, score in found if cid in chunks]
        if "keyword" in modes:
            found = self.keyword.search(query, settings.keyword_k)
            scored["keyword"] = [(cid, score) for cid, score in found if cid in chunks]
        fused = _apply_priors(_fuse(scored, settings), view, query)
        if "graph" in modes and settings.graph_expansion and fused:
            fused = expand_with_graph(fused, query, view)
        hits = [SearchHit(f.key, chunks[f.key], f.score, f.why) for f in fused if f.key in chunks]
        if "rerank" in modes and settings.rerank and self.reranker is not None and hits:
            head = hits[: max(limit * 2, 20)]
            texts = [f"{h.chunk.header()}\n{h.chunk.text}" for h in head]
            scores = self.reranker.rerank(query, texts)
            for hit, score in zip(head, scores, strict=True):
                hit.score = float(score)
                hit.why.append("rerank")
            hits = sorted(head, key=lambda h: -h.score) + hits[len(head) :]
        return _dedupe_overlaps(hits, limit)


def retriever_for(index: WorkspaceIndex) -> Retriever:
    """The retriever over an open workspace index's stores."""
    return Retriever(vector=index.vector_ranker, keyword=index.stores.text)


def search_index(
    index: WorkspaceIndex,
    query: str,
    limit: int | None = None,
    modes: frozenset[str] = ALL_MODES,
) -> list[SearchHit]:
    """Search the newest view of an open index with its current settings."""
    return retriever_for(index).search(index.view(), query, index.settings.search, limit, modes)
