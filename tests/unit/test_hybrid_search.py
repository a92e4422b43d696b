"""hybrid_search on fixed rankings: fusion, priors and the reranker hook, without an index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeassist_lsp.config import SearchSettings
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.rag.retriever import Retriever, SearchHit


@dataclass
class ListRanker:
    """A ranker that answers every query with the same scored ids (test double)."""

    pairs: list[tuple[str, float]]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.pairs[:k]


class FakeReranker:
    """Named fake for unit tests: prefers shorter texts."""

    def rerank(self, query: str, texts: list[str]) -> list[float]:
        return [-float(len(t)) for t in texts]


CHUNKS = {
    "other": Chunk("src/log.py", 1, 80, "function", "def log():\n" + "    pass\n" * 79),
    "impl": Chunk(
        "src/retry.py", 1, 30, "function", "def retry():\n" + "    pass\n" * 20, symbol="retry"
    ),
    "test": Chunk(
        "tests/test_retry.py", 1, 10, "function", "def test_retry(): pass", symbol="test_retry"
    ),
}


def _sources(reranker: FakeReranker | None = None) -> Retriever:
    return Retriever(
        vector=ListRanker([("test", 0.9), ("impl", 0.85), ("other", 0.1)]),
        keyword=ListRanker([("test", 7.0), ("impl", 6.5), ("other", 1.0)]),
        reranker=reranker,
    )


def hybrid_search(
    query: str, retriever: Retriever, settings: SearchSettings, chunks: dict[str, Chunk] = CHUNKS
) -> list[SearchHit]:
    return retriever.search(IndexView(Path("."), 0, chunks), query, settings)


def test_tests_rank_below_the_code_unless_asked_for() -> None:
    hits = hybrid_search("where do we retry", _sources(), SearchSettings())
    assert [h.chunk_id for h in hits] == ["impl", "test", "other"]
    hits = hybrid_search("which test covers retry", _sources(), SearchSettings())
    assert [h.chunk_id for h in hits] == ["test", "impl", "other"]


def test_a_reranker_reorders_the_head_and_says_so() -> None:
    hits = hybrid_search("where do we retry", _sources(FakeReranker()), SearchSettings())
    assert [h.chunk_id for h in hits] == ["test", "impl", "other"]
    assert all("rerank" in h.why for h in hits)
    plain = hybrid_search(
        "where do we retry", _sources(FakeReranker()), SearchSettings(rerank=False)
    )
    assert [h.chunk_id for h in plain] == ["impl", "test", "other"]


def test_a_copy_of_a_better_hit_is_not_listed_again() -> None:
    section = "Stopping\n--------\n\nStop after 7 attempts with stop_after_attempt(7).\n"
    chunks = {
        "readme": Chunk("README.rst", 104, 108, "doc", section),
        "copy": Chunk("doc/source/index.rst", 104, 108, "doc", section.replace("\n\n", "\n")),
        "impl": CHUNKS["impl"],
    }
    sources = Retriever(
        vector=ListRanker([("readme", 0.95), ("copy", 0.9), ("impl", 0.5)]),
        keyword=ListRanker([("copy", 5.0), ("readme", 5.0), ("impl", 1.0)]),
    )
    question = "how do I stop after a number of attempts"
    hits = hybrid_search(question, sources, SearchSettings(), chunks)
    assert [h.chunk.path for h in hits] == ["README.rst", "src/retry.py"]
