"""The model as a reranker: how likely the question is, written after each hit's code.

A small model judges poorly which of eight pieces answers a question (asked for the
number, it ranked worse than the search), but it predicts text well: the question is
likelier after the code it is about (query likelihood, as in UPR, Sachan et al. 2022).
That likelihood, mixed with the search's own score, orders the top hits better on code we
did not write (bench/retrieval_eval.py --rerank). It costs a model read of every
candidate's head, seconds on a 2-core CPU, so chat uses it only when `chat.rerank` is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.rag.retriever import SearchHit

HEAD_TOKENS = 64  # of each hit's code: 128 ordered no better (README)
WEIGHT = 0.5  # of the likelihood against the search's score, both scaled to 0..1
CUE = "\n\n// A question a developer asked about the code above:\n//"


def head_of(text: str, count: Callable[[str], int], limit: int = HEAD_TOKENS) -> str:
    """The first lines of `text` within `limit` tokens (a longer first line is cut)."""
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        cost = count(line + "\n")
        if used + cost > limit:
            if not kept:
                kept.append(line[: limit * 3])
            break
        kept.append(line)
        used += cost
    return "\n".join(kept)


def scoring_text(hit: SearchHit, count: Callable[[str], int]) -> str:
    """What the model reads before the question: the hit's path and the head of its code."""
    return f"// File: {hit.chunk.path}\n{head_of(hit.chunk.text, count)}{CUE}"


def _scaled(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def mixed_order(scores: Sequence[float], likelihoods: Sequence[float], weight: float) -> list[int]:
    """Indices of the hits, best first, by scaled score + `weight` × scaled likelihood;
    ties keep the search's order."""
    mixed = [s + weight * p for s, p in zip(_scaled(scores), _scaled(likelihoods), strict=True)]
    return sorted(range(len(mixed)), key=lambda i: -mixed[i])


async def rerank(
    backend: Backend,
    hits: list[SearchHit],
    question: str,
    count: Callable[[str], int],
    weight: float = WEIGHT,
) -> list[SearchHit]:
    """`hits` in the mixed order; as they were when fewer than two (`BackendError` and
    `ModelUnavailable` are the caller's to handle)."""
    if len(hits) < 2:
        return hits
    texts = [scoring_text(hit, count) for hit in hits]
    likelihoods = await backend.likelihoods(texts, " " + question.strip())
    if len(likelihoods) != len(hits):
        return hits  # stopped part-way
    order = mixed_order([hit.score for hit in hits], likelihoods, weight)
    for i in order:
        hits[i].why.append("rerank")
    return [hits[i] for i in order]
