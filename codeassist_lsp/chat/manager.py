"""One chat turn from question to stored answer: route, retrieve, tell the sources, stream
the answer, map its `[n]` marks to places, remember the turn.

`ask` is an async generator of events, so the protocol glue and the CLI show the sources
as soon as retrieval is done (before the model has read a token) and then each piece of
the answer. Cancelling the consumer stops the model within one token; the partial answer
is stored marked as cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from codeassist_lsp.chat.citations import resolve_citations, strip_invented
from codeassist_lsp.chat.conversation import ChatMessage, Citation, Conversation, Usage, title_of
from codeassist_lsp.chat.focus import focus_hit
from codeassist_lsp.chat.history import History, new_id
from codeassist_lsp.chat.intent import (
    Intent,
    answer_subject,
    identifier_words,
    is_follow_up,
    retrieval_query,
    route,
)
from codeassist_lsp.chat.prompt import (
    CHANGE_HINT,
    Source,
    chat_messages,
    earlier_turns,
    fit_history,
    render_sources,
)
from codeassist_lsp.chat.rewrite import is_supported, rewrite_query
from codeassist_lsp.config import ChatSettings
from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.types import GenerationOptions, Message
from codeassist_lsp.rag.context import TokenCounter, approx_tokens, candidates, fit
from codeassist_lsp.rag.retriever import SearchHit

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 6000


class ChatError(CodeAssistError):
    """A chat request that cannot be served as asked; the message says why."""


class ChatWorkspace(Protocol):
    """What a turn needs from an open workspace."""

    indexing: bool

    @property
    def root(self) -> str: ...

    def view(self) -> IndexView: ...

    def search(self, query: str, limit: int) -> list[SearchHit]: ...


@dataclass(frozen=True)
class Selection:
    """Code the user selected in the editor."""

    path: str
    start_line: int
    end_line: int
    text: str
    language: str = ""


@dataclass(frozen=True)
class ChatRequest:
    message: str
    conversation_id: str | None = None
    selection: Selection | None = None
    current_path: str | None = None  # the file the user is in: its hits go first


@dataclass(frozen=True)
class SourcesEvent:
    """Sent before the model starts: the places the answer will draw on."""

    conversation_id: str
    message_id: str
    citations: tuple[Citation, ...]
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeltaEvent:
    conversation_id: str
    message_id: str
    text: str


@dataclass(frozen=True)
class ChatResult:
    conversation_id: str
    message_id: str
    answer: str
    citations: tuple[Citation, ...]
    usage: Usage
    intent: Intent
    grounded: bool | None  # False: about the code, yet it cites nothing
    sources: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    invented: int = 0
    cancelled: bool = False


ChatEvent = SourcesEvent | DeltaEvent | ChatResult


@dataclass
class _Turn:
    """What is known about the turn being answered, as it goes."""

    conversation: Conversation
    question: ChatMessage
    message_id: str
    started: float
    intent: Intent = "code"
    sources: list[Source] = field(default_factory=list)
    facts: str = ""  # graph facts about the sources, rendered
    notices: list[str] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    retrieval_ms: float = 0.0
    first_token_ms: float = 0.0
    searched: bool = False  # the workspace was searched for the question's sources


def _check_workspace(conversation: Conversation, root: str) -> None:
    """A conversation goes on in the workspace it is about: its earlier answers cite that
    code, and a follow-up's "it" names one of its definitions."""
    if conversation.root and root and conversation.root != root:
        raise ChatError(
            f"conversation {conversation.id} is about another workspace ({conversation.root})"
        )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _name_words(view: IndexView) -> set[str]:
    words: set[str] = set()
    for _, sym in view.symbols():
        words |= identifier_words(sym.name)
    return words


def _known_names(view: IndexView) -> set[str]:
    names: set[str] = set()
    for path, sym in view.symbols():
        names.add(sym.name.lower())
        names.add(path.rsplit("/", 1)[-1].split(".", 1)[0].lower())
    return names


class ChatManager:
    """Answers chat turns over one history store and the server's model."""

    def __init__(
        self,
        history: History,
        backend: Callable[[], Backend],
        settings: ChatSettings | None = None,
    ) -> None:
        self.history = history
        self._backend = backend
        self.settings = settings or ChatSettings()
        self._drafts = 0  # bumped by each draft and each question: older drafts drop out
        self._reading: tuple[object, ...] | None = None  # what the draft being read is of

    async def ask(
        self,
        request: ChatRequest,
        workspace: ChatWorkspace | None,
        run: Callable[..., Any] = asyncio.to_thread,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Answer one turn: a `SourcesEvent`, `DeltaEvent`s, then the `ChatResult`."""
        message = request.message.strip()
        if not message:
            raise ChatError("the message is empty")
        self._drafts += 1
        notices: list[str] = []
        if len(message) > MAX_QUESTION_CHARS:
            message = message[:MAX_QUESTION_CHARS]
            notices.append(f"the message was cut to its first {MAX_QUESTION_CHARS:,} characters")
        root = workspace.root if workspace is not None else ""
        if request.conversation_id:
            conversation, earlier = await self._so_far(request.conversation_id, root, run)
        else:
            conversation = await run(self.history.create, root, title_of(message))
            earlier = []
        started = time.perf_counter()
        turn = _Turn(
            conversation,
            ChatMessage(new_id(), conversation.id, "user", message, time.time()),
            new_id(),
            started,
            notices=notices,
        )
        try:
            await self._retrieve(turn, request, earlier, workspace, run)
            yield SourcesEvent(
                conversation.id,
                turn.message_id,
                tuple(s.citation for s in turn.sources),
                tuple(turn.notices),
            )
            answer = self._generate(turn, earlier)
            if self.settings.self_rag and turn.sources and workspace is not None:
                answer = self._checked(turn, request, earlier, workspace, run)
            async for piece in answer:
                yield DeltaEvent(conversation.id, turn.message_id, piece)
        except (asyncio.CancelledError, GeneratorExit):
            await asyncio.shield(run(self._store, turn, True))
            raise
        yield await run(self._store, turn, False)

    async def prime(
        self,
        request: ChatRequest,
        workspace: ChatWorkspace | None,
        run: Callable[..., Any] = asyncio.to_thread,
    ) -> int:
        """Read a question still being typed, with its sources, into the model's cache,
        so that when it is asked the model reads only what differs (the sources, ~4 ms a
        token here, are most of a prompt). Nothing is stored. Returns the prompt tokens
        the cache holds (0 when nothing was read).

        A draft whose sources and earlier turns are those of the draft still being read
        is left to that read: only its question's words changed. Not with query rewriting
        or HyDE, which would ask the model for every draft."""
        message = request.message.strip()[:MAX_QUESTION_CHARS]
        if not message or self.settings.rewrite_query or self.settings.hyde:
            return 0
        self._drafts += 1
        draft = self._drafts
        earlier: list[ChatMessage] = []
        if request.conversation_id:
            root = workspace.root if workspace is not None else ""
            _, earlier = await self._so_far(request.conversation_id, root, run)
        conversation = Conversation(request.conversation_id or "", "", "", 0.0, 0.0)
        question = ChatMessage("", conversation.id, "user", message, 0.0)
        turn = _Turn(conversation, question, "", time.perf_counter())
        await self._retrieve(turn, request, earlier, workspace, run)
        reading = (
            request.conversation_id,
            tuple(m.id for m in earlier),
            tuple(s.citation for s in turn.sources),
        )
        if draft != self._drafts or reading == self._reading:
            return 0  # a newer draft or the question came meanwhile, or nothing new
        self._reading = reading
        try:
            backend = self._backend()
            return await backend.prime_chat(self._messages(turn, earlier), self._options())
        finally:
            if self._reading is reading:
                self._reading = None

    async def _so_far(
        self, conversation_id: str, root: str, run: Callable[..., Any]
    ) -> tuple[Conversation, list[ChatMessage]]:
        """The conversation a turn continues and its messages, when it is about `root`."""
        conversation = await run(self.history.conversation, conversation_id)
        _check_workspace(conversation, root)
        return conversation, await run(self.history.messages, conversation.id)

    async def _retrieve(
        self,
        turn: _Turn,
        request: ChatRequest,
        earlier: Sequence[ChatMessage],
        workspace: ChatWorkspace | None,
        run: Callable[..., Any],
    ) -> None:
        """Route the question and, unless it is general, find its sources."""
        question = turn.question.content
        subject = None
        if workspace is None:
            turn.intent = "general" if request.selection is None else "code"
        else:
            view = workspace.view()
            names = view.derived("chat.known_names", lambda: _known_names(view))
            words = view.derived("chat.name_words", lambda: _name_words(view))
            routing = route(question, lambda w: w.lower() in names, lambda w: w in words)
            if is_follow_up(question):
                subject = _earlier_subject(earlier, lambda w: w.lower() in names)
            turn.intent = routing.intent
            if routing.intent == "general" and subject:
                turn.intent = "code"  # "what does it return?" after an answer about code
            log.debug("chat intent %s: %s", turn.intent, routing.reason)
        if turn.intent == "change":
            turn.notices.append(CHANGE_HINT)
        if request.selection is not None:
            turn.sources.append(_selection_source(request.selection, self.settings))
        if turn.intent == "general" or workspace is None:
            return
        if workspace.indexing:
            turn.notices.append(
                "the workspace is still being indexed: this answer uses what is indexed so far"
            )
        asked = [m.content for m in earlier if m.role == "user"]
        begin = time.perf_counter()
        query = await self._rewritten(
            question,
            retrieval_query(question, asked, subject),
            self.settings.rewrite_query,
            self.settings.hyde,
        )
        await self._search(turn, request, query, workspace, run)
        turn.retrieval_ms = _ms(begin)
        turn.searched = True
        if not turn.sources and not workspace.indexing:
            turn.notices.append(
                "no code in the workspace matches the question"
                if workspace.view().chunks
                else "nothing in the workspace is indexed: its folder has no files to index"
            )

    async def _rewritten(self, question: str, query: str, keywords: bool, hyde: bool) -> str:
        """The search query with the model's keywords and/or HyDE snippet, when switched on."""
        if not (keywords or hyde):
            return query
        try:
            return await rewrite_query(self._backend(), question, query, keywords, hyde)
        except (ModelUnavailable, BackendError) as exc:
            log.info("chat query rewriting skipped: %s", exc)
            return query

    async def _search(
        self,
        turn: _Turn,
        request: ChatRequest,
        query: str,
        workspace: ChatWorkspace,
        run: Callable[..., Any],
    ) -> None:
        """Add the hits for `query` and their graph facts to the turn, within the budget."""
        hits = await run(workspace.search, query, self.settings.search_limit)
        if request.current_path:
            hits.sort(key=lambda hit: hit.chunk.path != request.current_path)
        if self.settings.focus_hits:
            hits = [focus_hit(hit, query, self.settings.item_lines) for hit in hits]
        view = workspace.view()
        count = self._token_counter()
        budget = self.settings.context_tokens - sum(count(s.text) for s in turn.sources)
        items = candidates(
            view, hits, self.settings.facts_per_hit, max_item_lines=self.settings.item_lines
        )
        context = await run(fit, items, max(budget, 0), count)
        for item in context.sources:
            citation = Citation(item.path, item.start_line, item.end_line, item.symbol)
            if not any(_overlaps(citation, s.citation) for s in turn.sources):
                language = next((h.chunk.language for h in hits if h.chunk.path == item.path), "")
                defined = _defined_names(view, citation)
                turn.sources.append(Source(citation, item.text, language, defined))
        facts = [i for i in context.items if i.relation != "hit"]
        turn.facts = "".join(item.render() for item in facts)

    def _token_counter(self) -> TokenCounter:
        """What the budgets count: the model's own tokens once it is loaded (code runs 0.5
        to 1.3 of them per 3 characters, so with an estimate the prompt, and the wait for
        the first token, varied by half at the same budget), else an estimate: the first
        turn of a fresh server does not hold its sources back for the model to load."""
        try:
            counter = self._backend().loaded_counter()
        except (ModelUnavailable, BackendError):
            counter = None
        return counter or approx_tokens

    async def _generate(self, turn: _Turn, earlier: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Stream the model's answer; without a model, say so and list the sources."""
        try:
            backend = self._backend()
            messages = self._messages(turn, earlier)
            async with aclosing(backend.chat(messages, self._options())) as stream:
                async for piece in stream:
                    if not turn.pieces:
                        turn.first_token_ms = _ms(turn.started)
                    turn.pieces.append(piece)
                    yield piece
        except (ModelUnavailable, BackendError) as exc:
            turn.notices.append(f"the model is not available: {exc}")
            text = _search_only_answer(turn.sources)
            turn.pieces.append(text)
            yield text

    def _messages(self, turn: _Turn, earlier: Sequence[ChatMessage]) -> list[Message]:
        """The prompt of a turn: the earlier turns that fit, its sources and question."""
        history = fit_history(
            earlier_turns(earlier), self.settings.history_tokens, self._token_counter()
        )
        return chat_messages(
            history, turn.question.content, turn.sources, turn.facts, turn.searched
        )

    def _options(self) -> GenerationOptions:
        return GenerationOptions(
            max_tokens=self.settings.answer_tokens, temperature=self.settings.temperature
        )

    async def _checked(
        self,
        turn: _Turn,
        request: ChatRequest,
        earlier: Sequence[ChatMessage],
        workspace: ChatWorkspace,
        run: Callable[..., Any],
    ) -> AsyncIterator[str]:
        """Self-RAG: draft the answer unseen; when the model finds it unsupported by its
        sources, search again once with rewritten keywords and answer again. The answer
        that stands is sent in one piece."""
        async for _ in self._generate(turn, earlier):
            pass
        question = turn.question.content
        draft = "".join(turn.pieces)
        try:
            shown = render_sources(turn.sources, turn.facts)
            supported = await is_supported(self._backend(), question, draft, shown)
        except (ModelUnavailable, BackendError):
            supported = True
        if not supported:
            log.debug("chat self-check: draft unsupported, searching again")
            turn.sources = turn.sources[:1] if request.selection is not None else []
            turn.pieces = []
            query = await self._rewritten(question, question, True, False)
            await self._search(turn, request, query, workspace, run)
            async for _ in self._generate(turn, earlier):
                pass
        turn.first_token_ms = _ms(turn.started)
        yield "".join(turn.pieces)

    def _store(self, turn: _Turn, cancelled: bool) -> ChatResult:
        """Map citations, remember the turn, and say what it cost (runs off the loop)."""
        raw = "".join(turn.pieces).strip()
        citations_given = [s.citation for s in turn.sources]
        cited, invented = resolve_citations(
            raw, citations_given, [s.names for s in turn.sources], [s.text for s in turn.sources]
        )
        answer = strip_invented(raw, len(citations_given))
        grounded = bool(cited) if turn.sources else None
        usage = _usage(self._backend_usage(), turn)
        result = ChatResult(
            turn.conversation.id,
            turn.message_id,
            answer,
            tuple(cited),
            usage,
            turn.intent,
            grounded,
            tuple(citations_given),
            tuple(turn.notices),
            invented,
            cancelled,
        )
        reply = ChatMessage(
            turn.message_id,
            turn.conversation.id,
            "assistant",
            answer,
            time.time(),
            tuple(cited),
            usage,
            cancelled,
            grounded,
        )
        self.history.add_turn(turn.question, reply)
        return result

    def _backend_usage(self) -> tuple[int, int]:
        try:
            usage = self._backend().chat_usage()
        except (ModelUnavailable, BackendError):
            return 0, 0
        return usage.prompt_tokens, usage.cached_tokens


def _usage(tokens: tuple[int, int], turn: _Turn) -> Usage:
    return Usage(
        prompt_tokens=tokens[0],
        cached_tokens=tokens[1],
        completion_tokens=len(turn.pieces),
        retrieval_ms=turn.retrieval_ms,
        first_token_ms=turn.first_token_ms,
        total_ms=_ms(turn.started),
    )


def _earlier_subject(
    earlier: Sequence[ChatMessage], known_name: Callable[[str], bool]
) -> str | None:
    """The definition the last answer was about, for a follow-up's "it"."""
    answers = [m for m in earlier if m.role == "assistant"]
    if not answers:
        return None
    cited = [citation.symbol for citation in answers[-1].citations]
    return answer_subject(answers[-1].content, known_name, cited)


def _defined_names(view: IndexView, citation: Citation) -> tuple[str, ...]:
    """Names of the definitions that start inside a cited span."""
    return tuple(
        sym.name
        for sym in view.symbols_in(citation.path)
        if citation.start_line <= sym.start_line <= citation.end_line
    )


def _overlaps(a: Citation, b: Citation) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line


def _selection_source(selection: Selection, settings: ChatSettings) -> Source:
    """The selected code as the first source, its head kept when it is long."""
    lines = selection.text.splitlines()
    keep: list[str] = []
    used = 0
    for line in lines:
        used += approx_tokens(line) + 1
        if used > settings.selection_tokens:
            break
        keep.append(line)
    end = selection.start_line + max(len(keep), 1) - 1
    citation = Citation(selection.path, selection.start_line, min(end, selection.end_line))
    return Source(citation, "\n".join(keep), selection.language)


def _search_only_answer(sources: Sequence[Source]) -> str:
    if not sources:
        return "No model is available to answer, and no code matched the question."
    places = "\n".join(
        f"- [{n}] {s.citation.path}:{s.citation.start_line}"
        + (f" `{s.citation.symbol}`" if s.citation.symbol else "")
        for n, s in enumerate(sources, 1)
    )
    return f"No model is available to answer; these places match the question:\n{places}"
