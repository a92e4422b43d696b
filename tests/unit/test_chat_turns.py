"""Chat's pure parts: citations, intent, prompt fitting, history, and a turn through the
manager with `FakeBackend` (a scripted fake model) over a small real index view."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path

import pytest
from small_code import small_view

from codeassist_lsp.chat.citations import resolve_citations, strip_invented
from codeassist_lsp.chat.conversation import ChatMessage, Citation, title_of
from codeassist_lsp.chat.history import (
    ENCRYPTED_HISTORY_FILE,
    KEY_ENV,
    History,
    HistoryError,
    UnknownConversation,
    new_id,
    open_history,
)
from codeassist_lsp.chat.intent import answer_subject, identifier_words, retrieval_query, route
from codeassist_lsp.chat.manager import (
    ChatError,
    ChatManager,
    ChatRequest,
    ChatResult,
    DeltaEvent,
    Selection,
    SourcesEvent,
)
from codeassist_lsp.chat.prompt import Source, fit_history, user_turn
from codeassist_lsp.config import ChatSettings
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.llm.types import Message
from codeassist_lsp.rag.retriever import SearchHit

A = Citation("net/retry.py", 1, 9, "retry")
B = Citation("net/clock.py", 1, 4, "sleep_for")


def test_the_best_source_is_numbered_1_and_shown_last_next_to_the_question() -> None:
    turn = user_turn("how long between tries?", [Source(A, "def retry(): ..."), Source(B, "x")])
    first, best = turn.index("[2] net/clock.py:1-4"), turn.index("[1] net/retry.py:1-9 retry")
    assert first < best < turn.index("Question: how long between tries?")


def test_marks_map_to_sources_and_invented_ones_are_dropped() -> None:
    answer = "It retries [1] and sleeps [2, 7]. See also [9]."
    cited, invented = resolve_citations(answer, [A, B])
    assert cited == [A, B] and invented == 2
    assert strip_invented(answer, 2) == "It retries [1] and sleeps [2]. See also ."


def test_a_named_definition_or_quoted_identifier_cites_its_source() -> None:
    cited, _ = resolve_citations(
        "The sleep_for helper waits.", [A, B], [("retry",), ("sleep_for",)]
    )
    assert cited == [B]
    texts = ["def retry(call):\n    backoff(attempt)", "def sleep_for(s): ..."]
    cited, _ = resolve_citations("It calls `backoff()` between tries.", [A, B], [(), ()], texts)
    assert cited == [A]
    cited, _ = resolve_citations("Nothing relevant.", [A, B], [("retry",), ("sleep_for",)], texts)
    assert cited == []


def test_general_questions_skip_retrieval_and_code_questions_do_not() -> None:
    defined = {"backoff", "retrypolicy", "list"}

    def known(word: str) -> bool:
        return word.lower() in defined

    assert route("What is a Python list?", known).intent == "general"
    assert route("How do I reverse a string in Go?", known).intent == "general"
    assert route("What is backoff?", known).intent == "code"
    assert route("What does `parse_retry_after` return?", known).intent == "code"
    assert route("Where is the config loaded?", known).intent == "code"
    assert route("how are failed requests retried", known).intent == "code"
    assert route("Refactor the retry loop to use a for loop", known).intent == "change"


def test_how_do_i_questions_in_the_words_of_the_workspace_retrieve() -> None:
    names = ["retry_if_exception_message", "wait_chain", "stop_after_attempt", "wait_fixed"]
    words = set().union(*(identifier_words(n) for n in names))

    def route_here(question: str) -> str:
        return route(question, lambda w: False, lambda w: w in words).intent

    assert route_here("how do I only try again when the exception message matches") == "code"
    assert route_here("how do I wait a fixed time for the first attempts, then chain") == "code"
    assert route_here("how do I reverse a string in Go?") == "general"
    assert route_here("how do I sort a dictionary by value?") == "general"
    assert identifier_words("parseRetryAfter") == {"parse", "retry", "after"}


def test_a_short_follow_up_borrows_the_previous_question() -> None:
    earlier = ["How is the backoff delay computed?"]
    assert retrieval_query("And where is it called?", earlier) == (
        "How is the backoff delay computed? And where is it called?"
    )
    assert retrieval_query("How is the cache invalidated?", earlier) == (
        "How is the cache invalidated?"
    )
    assert retrieval_query("where is it called?", []) == "where is it called?"


def test_a_follow_up_names_what_the_answer_before_was_about() -> None:
    earlier = ["How is the backoff delay computed?"]
    assert retrieval_query("And where is it called?", earlier, "compute_backoff") == (
        "And where is `compute_backoff` called?"
    )
    assert retrieval_query("what about the jitter?", earlier, "compute_backoff") == (
        "what about the jitter? `compute_backoff`"
    )
    assert retrieval_query("How is the cache invalidated?", earlier, "compute_backoff") == (
        "How is the cache invalidated?"
    )
    known = {"compute_backoff", "Retrying", "sleep"}.__contains__
    answer = "The `delay` is computed by `Retrying.compute_backoff()` [2], which calls `sleep`."
    assert answer_subject(answer, known) == "compute_backoff"
    assert answer_subject("It uses a `dict` and `x` [1].", lambda name: True) is None
    assert answer_subject("compute_backoff [1] does it.", known) is None, "only names as code"
    cited = [None, "Retrying.compute_backoff"]
    assert answer_subject("It waits longer each time [2].", known, cited) == "compute_backoff"
    assert answer_subject("`sleep` waits [2].", known, cited) == "sleep", "quoted names first"


def test_history_keeps_the_newest_whole_turns_that_fit() -> None:
    turns = [
        Message("user", "q1 " * 50),
        Message("assistant", "a1 " * 50),
        Message("user", "q2"),
        Message("assistant", "a2"),
    ]
    assert fit_history(turns, 20, lambda t: len(t.split())) == turns[2:]
    assert fit_history(turns, 10_000, lambda t: len(t.split())) == turns
    assert fit_history(turns, 1, lambda t: len(t.split())) == []


def test_history_starts_at_the_same_turn_until_it_must_drop_half_the_budget() -> None:
    """The kept turns' start changes once every few questions, not at each one, so the
    model's cache of the conversation so far is read again only then."""
    budget = 600
    words = lambda text: len(text.split())  # noqa: E731
    history: list[Message] = []
    starts: list[str] = []
    for n in range(20):
        history += [Message("user", f"q{n} " + "w " * 20), Message("assistant", "a " * 70)]
        kept = fit_history(history, budget, words)
        assert kept[-2:] == history[-2:], "the newest turn is always kept"
        assert sum(words(m.content) + 4 for m in kept) <= budget
        assert len(kept) >= min(len(history), 6), "about half the budget stays at least"
        starts.append(kept[0].content.split()[0])
    assert starts[:6] == ["q0"] * 6
    assert 3 <= len(set(starts)) <= 7  # dropping one turn a question: 15 starts


def test_titles_are_one_line_and_cut_at_a_word() -> None:
    assert title_of("how\ndoes  it work") == "how does it work"
    long = title_of("word " * 30, width=22)
    assert long.endswith("…") and len(long) <= 23 and "  " not in long


def _turn(history: History, conversation_id: str, q: str, a: str) -> ChatMessage:
    question = ChatMessage(f"u-{q}", conversation_id, "user", q, 1.0)
    answer = ChatMessage(f"a-{q}", conversation_id, "assistant", a, 2.0, (A,))
    history.add_turn(question, answer)
    return answer


def test_history_stores_searches_and_forgets(tmp_path: Path) -> None:
    history = History(tmp_path / "history.duckdb")
    first = history.create("/ws", "about retries")
    other = history.create("/elsewhere", "other workspace")
    answer = _turn(history, first.id, "how is backoff computed", "See ```python\nx = 1\n```")
    _turn(history, other.id, "unrelated", "nothing")

    reopened = History(tmp_path / "history.duckdb")
    assert [c.id for c in reopened.conversations(["/ws"])] == [first.id]
    messages = reopened.messages(first.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].citations == (A,)
    assert reopened.snippets(answer.id) == [("python", "x = 1\n")]
    found = reopened.search("backoff", ["/ws"])
    assert found and found[0].message.content == "how is backoff computed"
    assert reopened.set_feedback(answer.id, -1) and reopened.messages(first.id)[1].feedback == -1
    assert not reopened.set_feedback("no-such-message", 1)
    assert reopened.delete(first.id) and not reopened.delete(first.id)
    with pytest.raises(UnknownConversation):
        reopened.conversation(first.id)


class SmallWorkspace:
    """A real index view over three files; search returns every chunk whose text shares a
    word with the query (a stand-in for the stores, which these tests do not need)."""

    root = "/ws"
    indexing = False

    def __init__(self) -> None:
        self._view = small_view()

    def view(self) -> IndexView:
        return self._view

    def search(self, query: str, limit: int) -> list[SearchHit]:
        words = set(query.lower().split())
        return [
            SearchHit(cid, chunk, 1.0)
            for cid, chunk in self._view.chunks.items()
            if words & set(chunk.text.lower().replace("(", " ").split())
        ][:limit]


async def _collect(manager: ChatManager, request: ChatRequest) -> list[object]:
    async with aclosing(manager.ask(request, SmallWorkspace())) as events:
        return [event async for event in events]


def _manager(tmp_path: Path, backend: object) -> ChatManager:
    return ChatManager(History(tmp_path / "h.duckdb"), lambda: backend, ChatSettings())  # type: ignore[arg-type, return-value]


async def test_a_turn_sends_sources_first_then_pieces_and_is_remembered(tmp_path: Path) -> None:
    fake = FakeBackend("The retry loop waits with backoff [1] and invents [5].")
    manager = _manager(tmp_path, fake)
    events = await _collect(manager, ChatRequest("how does retry wait between attempts?"))
    assert isinstance(events[0], SourcesEvent) and events[0].citations
    assert all(isinstance(e, DeltaEvent) for e in events[1:-1])
    result = events[-1]
    assert isinstance(result, ChatResult)
    assert result.invented == 1 and "[5]" not in result.answer
    assert result.citations == (events[0].citations[0],) and result.grounded is True
    prompt = fake.prompts[-1]
    assert prompt.index("[1] net/") < prompt.index("Question: how does retry wait")

    follow = await _collect(manager, ChatRequest("and where is it called?", result.conversation_id))
    assert isinstance(follow[-1], ChatResult)
    assert "how does retry wait between attempts?" in fake.prompts[-1], "earlier turn replayed"
    stored = manager.history.messages(result.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"] * 2


class RecordingWorkspace(SmallWorkspace):
    """`SmallWorkspace` that keeps the queries it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def search(self, query: str, limit: int) -> list[SearchHit]:
        self.queries.append(query)
        return super().search(query, limit)


async def test_a_follow_up_searches_for_what_the_answer_before_named(tmp_path: Path) -> None:
    manager = _manager(tmp_path, FakeBackend("`sleep_for` [1] sleeps between attempts."))
    workspace = RecordingWorkspace()

    async def ask(question: str, conversation_id: str | None = None) -> ChatResult:
        async with aclosing(manager.ask(ChatRequest(question, conversation_id), workspace)) as ev:
            events = [event async for event in ev]
        assert isinstance(events[-1], ChatResult)
        return events[-1]

    first = await ask("how does retry wait between attempts?")
    await ask("and where is it called?", first.conversation_id)
    assert workspace.queries[-1] == "and where is `sleep_for` called?"
    returned = await ask("What does it return?", first.conversation_id)
    assert returned.intent == "code", "a follow-up about code is not a general question"
    assert workspace.queries[-1] == "What does `sleep_for` return?"
    general = await ask("What does it return?")
    assert general.intent == "general", "without an earlier answer it stays general"


async def test_a_follow_up_after_an_answer_that_quotes_no_name_takes_what_it_cited(
    tmp_path: Path,
) -> None:
    manager = _manager(tmp_path, FakeBackend("It is called by the retry loop [1]."))
    conversation = manager.history.create("/ws", "waiting")
    question = ChatMessage(new_id(), conversation.id, "user", "how does it wait?", 1.0)
    cited = (Citation("net/clock.py", 4, 5, "sleep_for"),)
    answer = ChatMessage(
        new_id(), conversation.id, "assistant", "It sleeps for a while [1].", 2.0, cited
    )
    manager.history.add_turn(question, answer)
    workspace = RecordingWorkspace()
    request = ChatRequest("and where is it called?", conversation.id)
    async with aclosing(manager.ask(request, workspace)) as events:
        async for _ in events:
            pass
    assert workspace.queries == ["and where is `sleep_for` called?"]


class SlowReadingFake(FakeBackend):
    """`FakeBackend` whose read ahead of a draft lasts until `done` is set."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.done = asyncio.Event()

    async def prime_chat(self, messages: Sequence[Message], options: object = None) -> int:
        self.primed.append(list(messages))
        await self.done.wait()
        return 0


async def test_a_draft_is_read_ahead_with_the_sources_of_the_question_and_not_stored(
    tmp_path: Path,
) -> None:
    fake = SlowReadingFake("`retry` [1] waits with backoff.")
    manager = _manager(tmp_path, fake)
    workspace = SmallWorkspace()
    first = asyncio.create_task(manager.prime(ChatRequest("how does retry wait"), workspace))
    while not fake.primed:
        await asyncio.sleep(0.01)
    await manager.prime(ChatRequest("how does retry wait between"), workspace)
    assert len(fake.primed) == 1, "the same sources again: the read going on is left to go on"
    fake.done.set()
    await first
    await manager.prime(ChatRequest("how does retry wait between"), workspace)
    assert len(fake.primed) == 2, "once it ended, read again (the cache may hold another prompt)"
    assert manager.history.conversations() == []
    async with aclosing(manager.ask(ChatRequest("how does retry wait?"), workspace)) as events:
        result = [event async for event in events][-1]
    assert isinstance(result, ChatResult)
    primed = "".join(f"<{m.role}>{m.content}\n" for m in fake.primed[0])
    before_question = fake.prompts[-1].split("Question:")[0]
    assert "[1] net/" in before_question and primed.startswith(before_question)

    await manager.prime(ChatRequest("and where is it called", result.conversation_id), workspace)
    assert "how does retry wait?" in fake.primed[-1][1].content, "the earlier turn is read too"
    manager.settings = dataclasses.replace(manager.settings, rewrite_query=True)
    assert await manager.prime(ChatRequest("how does sleep_for work"), workspace) == 0
    assert len(fake.primed) == 3, "no draft asks the model to rewrite it"


async def test_a_selection_is_the_first_source(tmp_path: Path) -> None:
    fake = FakeBackend("It sleeps.")
    selection = Selection("net/clock.py", 4, 5, "def sleep_for(seconds):\n    time.sleep(seconds)")
    events = await _collect(
        _manager(tmp_path, fake), ChatRequest("what does this do?", None, selection)
    )
    assert isinstance(events[0], SourcesEvent)
    assert events[0].citations[0] == Citation("net/clock.py", 4, 5)


async def test_cancelling_stores_the_partial_answer(tmp_path: Path) -> None:
    fake = FakeBackend("word " * 200, delay=0.01)
    manager = _manager(tmp_path, fake)
    seen: list[object] = []

    async def consume() -> None:
        async with aclosing(
            manager.ask(ChatRequest("how does retry work?"), SmallWorkspace())
        ) as ev:
            async for event in ev:
                seen.append(event)

    task = asyncio.ensure_future(consume())
    while sum(isinstance(e, DeltaEvent) for e in seen) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.produced < 200, "generation stopped"
    conversation_id = seen[0].conversation_id  # type: ignore[attr-defined]
    answer = manager.history.messages(conversation_id)[-1]
    assert answer.cancelled and answer.content.startswith("word")


async def test_without_a_model_the_answer_lists_the_sources(tmp_path: Path) -> None:
    def missing() -> FakeBackend:
        raise ModelUnavailable("no model file")

    manager = ChatManager(History(tmp_path / "h.duckdb"), missing, ChatSettings())  # type: ignore[arg-type]
    events = await _collect(manager, ChatRequest("how does retry work?"))
    result = events[-1]
    assert isinstance(result, ChatResult)
    assert "No model is available" in result.answer and "net/retry.py" in result.answer
    assert any("no model file" in n for n in result.notices)


async def test_bad_requests_are_refused_or_bounded(tmp_path: Path) -> None:
    fake = FakeBackend("ok")
    manager = _manager(tmp_path, fake)
    with pytest.raises(ChatError):
        await _collect(manager, ChatRequest("   "))
    with pytest.raises(UnknownConversation):
        await _collect(manager, ChatRequest("hi", "no-such-conversation"))
    events = await _collect(manager, ChatRequest("retry " * 20_000))
    result = events[-1]
    assert isinstance(result, ChatResult) and any("cut" in n for n in result.notices)
    elsewhere = manager.history.create("/another/ws", "elsewhere")
    with pytest.raises(ChatError, match="about another workspace"):
        await _collect(manager, ChatRequest("and where is it called?", elsewhere.id))


class NothingFound(SmallWorkspace):
    def search(self, query: str, limit: int) -> list[SearchHit]:
        return []


async def test_a_question_about_code_that_finds_nothing_says_so(tmp_path: Path) -> None:
    fake = FakeBackend("Nothing in your code matches.")
    manager = _manager(tmp_path, fake)
    async with aclosing(manager.ask(ChatRequest("how is retry done?"), NothingFound())) as events:
        result = [event async for event in events][-1]
    assert isinstance(result, ChatResult)
    assert result.notices == ("no code in the workspace matches the question",)
    assert (
        "No code from the user's workspace matches this question.\nQuestion: how is"
        in (fake.prompts[-1])
    )
    general = await _collect(manager, ChatRequest("What is a Python list?"))
    assert "No code" not in fake.prompts[-1] and isinstance(general[-1], ChatResult)


def test_encrypted_history_hides_the_text_and_refuses_a_wrong_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "correct horse battery staple")
    history = open_history(tmp_path, encrypt=True, passphrase="", embed=None)
    conversation = history.create("/ws", "secret plans")
    _turn(history, conversation.id, "where is the launch code kept", "in vault.py")
    file = tmp_path / ENCRYPTED_HISTORY_FILE
    assert history.path == file and b"launch code" not in file.read_bytes()
    assert open_history(tmp_path, True, "", None).messages(conversation.id)[0].content == (
        "where is the launch code kept"
    )

    monkeypatch.setenv(KEY_ENV, "wrong key")
    before = file.read_bytes()
    with pytest.raises(HistoryError, match="key it was made with"):
        open_history(tmp_path, True, "", None).conversations()
    assert file.read_bytes() == before, "a wrong key changes nothing"

    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(HistoryError, match="no key"):
        open_history(tmp_path, True, "", None)
    assert open_history(tmp_path, False, "", None).conversations() == []


async def test_a_chat_while_indexing_says_the_answer_uses_what_is_indexed(tmp_path: Path) -> None:
    workspace = SmallWorkspace()
    workspace.indexing = True
    manager = _manager(tmp_path, FakeBackend("It retries."))
    async with aclosing(manager.ask(ChatRequest("how does retry work?"), workspace)) as events:
        first = await anext(events)
    assert isinstance(first, SourcesEvent)
    assert any("still being indexed" in n for n in first.notices)


async def test_the_twentieth_question_is_answered_within_the_budget(tmp_path: Path) -> None:
    fake = FakeBackend("retry waits with backoff between attempts " * 8)
    manager = _manager(tmp_path, fake)
    conversation_id = None
    for n in range(20):
        events = await _collect(
            manager, ChatRequest(f"question {n}: how does retry work?", conversation_id)
        )
        result = events[-1]
        assert isinstance(result, ChatResult) and result.answer
        conversation_id = result.conversation_id
    last_prompt = fake.prompts[-1]
    assert "question 19" in last_prompt and "question 0:" not in last_prompt, "oldest turns go"
    history_tokens = ChatSettings().history_tokens
    assert fake.count_tokens(last_prompt) < 4 * history_tokens
    assert len(manager.history.messages(conversation_id)) == 40  # type: ignore[arg-type]


async def test_the_file_the_user_is_in_steers_the_sources(tmp_path: Path) -> None:
    manager = _manager(tmp_path, FakeBackend("ok"))
    question = "how does retry call sleep_for"
    plain = await _collect(manager, ChatRequest(question))
    steered = await _collect(manager, ChatRequest(question, current_path="net/clock.py"))
    assert isinstance(plain[0], SourcesEvent) and isinstance(steered[0], SourcesEvent)
    assert plain[0].citations[0].path == "net/retry.py"
    assert steered[0].citations[0].path == "net/clock.py"


BUDGET = 80  # tokens: a budget where counting words fits more sources than the estimate


async def test_the_context_budget_counts_the_models_own_tokens(tmp_path: Path) -> None:
    """With a model that has its tokenizer here, the budget is what the model reads; else
    an estimate (three characters a token)."""
    settings = dataclasses.replace(ChatSettings(), context_tokens=BUDGET)
    exact = FakeBackend("ok")  # its tokens are its words: fewer than the estimate says
    estimate = FakeBackend("ok")
    estimate.exact_counts = False
    shown = {}
    for name, fake in (("exact", exact), ("estimate", estimate)):
        history = History(tmp_path / f"{name}.duckdb")
        manager = ChatManager(history, lambda f=fake: f, settings)  # type: ignore[misc]
        events = await _collect(manager, ChatRequest("how does retry wait between attempts?"))
        assert isinstance(events[0], SourcesEvent)
        shown[name] = events[0].citations
        prompt = fake.prompts[-1]
        sources = prompt[prompt.index("Sources from the user's code:") : prompt.index("Question:")]
        assert exact.count_tokens(sources) <= BUDGET + 20  # the budget holds the code itself
    assert len(shown["exact"]) > len(shown["estimate"])
