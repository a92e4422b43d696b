"""Query rewriting, HyDE and the Self-RAG check: their prompts and parsing, and how a turn
uses them, with `FakeBackend` (a scripted fake model) over a small real index view."""

from __future__ import annotations

import textwrap
from contextlib import aclosing
from pathlib import Path

from codeassist_lsp.chat.history import History
from codeassist_lsp.chat.manager import ChatManager, ChatRequest, ChatResult
from codeassist_lsp.chat.rewrite import (
    expanded_query,
    parse_hyde,
    parse_keywords,
    parse_support,
    rewrite_query,
)
from codeassist_lsp.config import ChatSettings
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.rag.retriever import SearchHit

SOURCE = """
    def backoff(attempt):
        return min(2 ** attempt, 30)


    def jitter_delay(attempt, rng):
        return rng.uniform(0, backoff(attempt))
    """


class RecordingWorkspace:
    """A real index view over one file; search returns the chunks sharing a word with the
    query and records the queries."""

    root = "/ws"
    indexing = False

    def __init__(self) -> None:
        parsed = parse_source("net/retry.py", textwrap.dedent(SOURCE).lstrip("\n"))
        chunks = {c.chunk_id: c for c in parsed.chunks}
        state = GraphState(build_graph([parsed]), {parsed.path: parsed})
        self._view = IndexView(Path("."), 0, chunks, graphs=lambda: state)
        self.queries: list[str] = []

    def view(self) -> IndexView:
        return self._view

    def search(self, query: str, limit: int) -> list[SearchHit]:
        self.queries.append(query)
        words = set(query.lower().replace("(", " ").split())
        return [
            SearchHit(cid, chunk, 1.0)
            for cid, chunk in self._view.chunks.items()
            if words & set(chunk.text.lower().replace("(", " ").split())
        ][:limit]


def scripted(prompt: str) -> str:
    """The fake model's replies, by which prompt it was given."""
    if "identifiers" in prompt:
        return "jitter_delay uniform rng the retry"
    if "code snippet" in prompt:
        return "```python\ndef jitter_delay(attempt, rng):\n    return rng.uniform(0, 1)\n```"
    if "You check answers" in prompt:
        return "no" if "Sources:\n[1]" in prompt and "invented" in prompt else "yes"
    return "It uses `jitter_delay` [1]."


def test_keywords_are_identifiers_without_stopwords_or_repeats() -> None:
    reply = "retry_policy, RetryPolicy; the delay jitter_delay retry_policy a.b.c"
    assert parse_keywords(reply, "how is the delay chosen") == [
        "retry_policy",
        "RetryPolicy",
        "jitter_delay",
        "a.b.c",
    ]
    assert len(parse_keywords(" ".join(f"name_{i}" for i in range(30)))) == 12


def test_hyde_snippet_loses_its_fences_and_blank_lines() -> None:
    assert parse_hyde("```python\ndef f():\n\n    return 1\n```\n") == "def f():\n    return 1"


def test_support_is_kept_unless_the_check_says_no() -> None:
    assert parse_support("Yes.") and parse_support("maybe") and parse_support("")
    assert not parse_support("No, it is not") and not parse_support(" no")


def test_the_query_grows_only_by_what_was_found() -> None:
    assert expanded_query("q", [], "") == "q"
    assert expanded_query("q", ["a_b", "c"], "x = 1") == "q\na_b c\nx = 1"


async def test_rewriting_adds_keywords_and_snippet_from_the_completion_slot() -> None:
    fake = FakeBackend(scripted)
    query = await rewrite_query(fake, "how is the wait randomised", "wait", True, True)
    assert query.splitlines()[:2] == ["wait", "jitter_delay uniform rng retry"]
    assert "rng.uniform(0, 1)" in query
    assert all(p.startswith("<|im_start|>system") for p in fake.prompts)


async def _ask(
    settings: ChatSettings, fake: FakeBackend, tmp_path: Path, workspace: RecordingWorkspace
) -> ChatResult:
    manager = ChatManager(History(tmp_path / "h.duckdb"), lambda: fake, settings)
    request = ChatRequest("how is the backoff randomised?")
    async with aclosing(manager.ask(request, workspace)) as events:
        result = [e async for e in events][-1]
    assert isinstance(result, ChatResult)
    return result


async def test_a_turn_with_rewriting_searches_for_the_models_keywords(tmp_path: Path) -> None:
    fake = FakeBackend(scripted)
    workspace = RecordingWorkspace()
    result = await _ask(ChatSettings(rewrite_query=True), fake, tmp_path, workspace)
    assert workspace.queries == ["how is the backoff randomised?\njitter_delay uniform rng retry"]
    assert "identifiers" in fake.prompts[0] and result.citations


async def test_self_rag_answers_again_when_the_draft_is_unsupported(tmp_path: Path) -> None:
    answers = iter(["It is invented [1].", "It uses `jitter_delay` [1]."])

    def reply(prompt: str) -> str:
        if "You check answers" in prompt or "identifiers" in prompt:
            return scripted(prompt)
        return next(answers)

    fake = FakeBackend(reply)
    workspace = RecordingWorkspace()
    result = await _ask(ChatSettings(self_rag=True), fake, tmp_path, workspace)
    assert result.answer == "It uses `jitter_delay` [1]."
    checks = [p for p in fake.prompts if "You check answers" in p]
    assert len(checks) == 1, "one check, one retry at most"
    assert len(workspace.queries) == 2 and "jitter_delay" in workspace.queries[1]


async def test_self_rag_keeps_a_supported_answer(tmp_path: Path) -> None:
    fake = FakeBackend(scripted)
    result = await _ask(ChatSettings(self_rag=True), fake, tmp_path, RecordingWorkspace())
    assert result.answer == "It uses `jitter_delay` [1]."
    assert not any("identifiers" in p for p in fake.prompts)
