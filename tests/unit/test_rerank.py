"""Reranking by the model's likelihood of the question (`rag/rerank.py`), with the
named `FakeBackend`, whose likelihood is a word overlap, not a model's."""

from __future__ import annotations

from contextlib import aclosing
from pathlib import Path

from codeassist_lsp.chat.history import History
from codeassist_lsp.chat.manager import ChatManager, ChatRequest, ChatResult
from codeassist_lsp.config import ChatSettings
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.llm.errors import BackendError
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.rag.rerank import CUE, head_of, mixed_order, rerank, scoring_text
from codeassist_lsp.rag.retriever import SearchHit

FILES = {
    "net/backoff.py": "def backoff(attempt):\n    return min(2 ** attempt, 30)\n",
    "net/jitter.py": "def jitter_delay(attempt, rng):\n    return rng.uniform(0, attempt)\n",
    "net/log.py": "def log(message):\n    print(message)\n",
}
SCORES = {"net/backoff.py": 1.0, "net/jitter.py": 0.9, "net/log.py": 0.0}


def words(text: str) -> int:
    return len(text.split())


def hit(path: str, text: str, score: float) -> SearchHit:
    return SearchHit(path, Chunk(path, 1, text.count("\n") + 1, "function", text), score)


def test_the_head_keeps_whole_lines_within_the_budget() -> None:
    text = "a b c\nd e f\ng h i\n"
    assert head_of(text, words, 6) == "a b c\nd e f"
    assert head_of("x" * 500, words, 0) == ""  # nothing fits, not even a cut line
    assert head_of("one very long first line", words, 2) == "one very long first line"[:6]


def test_the_model_reads_the_path_and_code_then_the_cue() -> None:
    text = scoring_text(hit("net/retry.py", "def backoff(n):\n    return 2 ** n\n", 1.0), words)
    assert text == f"// File: net/retry.py\ndef backoff(n):\n    return 2 ** n{CUE}"


def test_the_order_mixes_both_scores_scaled_and_keeps_ties_in_search_order() -> None:
    assert mixed_order([3.0, 2.0, 1.0], [-5.0, -1.0, -9.0], 0.5) == [0, 1, 2]
    assert mixed_order([3.0, 2.0, 1.0], [-5.0, -1.0, -9.0], 2.0) == [1, 0, 2]
    assert mixed_order([1.0, 1.0, 1.0], [-2.0, -2.0, -2.0], 1.0) == [0, 1, 2]


async def test_rerank_asks_once_for_the_question_after_every_hit() -> None:
    fake = FakeBackend()
    hits = [hit("a.py", "def parse(text): pass", 1.0), hit("b.py", "def retry(wait): pass", 1.0)]
    ranked = await rerank(fake, hits, "how long does retry wait?", words)
    assert [h.chunk.path for h in ranked] == ["b.py", "a.py"]
    assert "rerank" in ranked[0].why
    assert fake.scored == [([scoring_text(h, words) for h in hits], " how long does retry wait?")]
    assert await rerank(fake, hits[:1], "anything", words) == hits[:1]
    assert len(fake.scored) == 1  # one hit: nothing to order, no model work


class NoScoring(FakeBackend):
    async def likelihoods(self, texts: object, follow: str) -> list[float]:
        raise BackendError("this backend cannot score")


class ThreeFiles:
    """A real index view over three files; search returns them in the order of `SCORES`."""

    root = "/ws"
    indexing = False

    def __init__(self) -> None:
        parsed = [parse_source(path, text) for path, text in FILES.items()]
        self.hits = [SearchHit(c.chunk_id, c, SCORES[c.path]) for p in parsed for c in p.chunks]
        state = GraphState(build_graph(parsed), {p.path: p for p in parsed})
        chunks = {h.chunk_id: h.chunk for h in self.hits}
        self._view = IndexView(Path("."), 0, chunks, graphs=lambda: state)

    def view(self) -> IndexView:
        return self._view

    def search(self, query: str, limit: int) -> list[SearchHit]:
        return self.hits[:limit]


async def ask(backend: FakeBackend, settings: ChatSettings, tmp_path: Path) -> ChatResult:
    workspace = ThreeFiles()
    manager = ChatManager(History(tmp_path / "h.duckdb"), lambda: backend, settings)
    request = ChatRequest("where is the delay drawn from rng?")
    async with aclosing(manager.ask(request, workspace)) as events:
        result = [e async for e in events][-1]
    assert isinstance(result, ChatResult)
    return result


async def test_a_chat_with_rerank_gives_the_likelier_source_first(tmp_path: Path) -> None:
    answer = "The delay comes from here [1]."
    plain = await ask(FakeBackend(answer), ChatSettings(), tmp_path / "plain")
    assert plain.citations[0].path == "net/backoff.py"  # the search's first hit
    fake = FakeBackend(answer)
    reranked = await ask(fake, ChatSettings(rerank=True), tmp_path / "reranked")
    assert reranked.citations[0].path == "net/jitter.py"  # "rng" is only there
    assert fake.scored and fake.scored[0][1] == " where is the delay drawn from rng?"
    unable = await ask(NoScoring(answer), ChatSettings(rerank=True), tmp_path / "unable")
    assert unable.citations[0].path == "net/backoff.py"  # no scores: the search's order
