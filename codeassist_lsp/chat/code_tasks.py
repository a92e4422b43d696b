"""Running the explain / fix / improve tasks on a model: an explanation streamed piece by
piece, or a rewrite checked and turned into minimal text changes, retried once when the
model's answer cannot be used.

Streams are read inside `aclosing`, so cancelling the request stops generation within a
token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from codeassist_lsp.chat.code_facts import fit_facts, signature_line
from codeassist_lsp.chat.code_target import Target
from codeassist_lsp.chat.conversation import ChatMessage, Citation, Usage
from codeassist_lsp.chat.history import new_id
from codeassist_lsp.chat.rewrite_edits import (
    TextChange,
    minimal_changes,
    new_block,
    parse_verdict,
    reindent,
    replace_lines,
)
from codeassist_lsp.chat.tasks import (
    REWRITE_STOP,
    CodeRequest,
    TaskKind,
    build_messages,
    clean_explanation,
    extract_code,
    retry_messages,
)
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.types import GenerationOptions
from codeassist_lsp.rag.context import approx_tokens

log = logging.getLogger(__name__)

ATTEMPTS = 2  # a refused rewrite is asked for once more, with the reason


@dataclass(frozen=True)
class Rewrite:
    """The outcome of a Fix or Improve: the changes, or why there are none."""

    changes: list[TextChange]
    error: str | None = None  # why nothing changes, for the user
    attempts: int = 1


def rewrite_options(code: str, max_tokens: int, prompt_lookup: bool) -> GenerationOptions:
    """Greedy, stopped at the closing fence, and room for twice the code's length."""
    limit = min(max_tokens, 2 * approx_tokens(code) + 32)
    return GenerationOptions(limit, 0.0, REWRITE_STOP, prompt_lookup)


def make_request(
    kind: TaskKind,
    target: Target,
    language: str,
    path: str,
    facts: list[str],
    problems: tuple[str, ...],
    context_tokens: int,
    cut_from: int = 0,
) -> CodeRequest:
    """The task's request with as much context as `context_tokens` allows: the definition
    around the selection first (or its signature when it is too long), then graph facts."""
    enclosing = target.enclosing_code
    cost = approx_tokens(enclosing)
    if cost > context_tokens:
        enclosing, cost = "", 0
    outer = target.enclosing
    if (
        outer is not None
        and not enclosing
        and outer.end_line - outer.start_line + 1 > target.line_count
    ):
        facts = [f"the code is inside `{signature_line(outer)}`", *facts]
    return CodeRequest(
        kind=kind,
        language=language,
        path=path,
        code=target.code,
        enclosing=enclosing,
        facts=fit_facts(facts, context_tokens - cost),
        problems=problems,
        cut_from=cut_from,
    )


def explain_turn(
    conversation_id: str,
    request: CodeRequest,
    first_line: int,
    answer: str,
    message_id: str,
    total_ms: float,
) -> tuple[ChatMessage, ChatMessage]:
    """An explanation as a chat turn (question and answer) for the conversation store; the
    answer cites the explained lines (`first_line` 1-based)."""
    now = time.time()
    last_line = first_line + max(request.code.count("\n"), 1) - 1
    question = ChatMessage(
        new_id(),
        conversation_id,
        "user",
        f"Explain {request.path}:{first_line}-{last_line}\n\n"
        f"```{request.language}\n{request.code.rstrip()}\n```",
        now,
    )
    cited = (Citation(request.path, first_line, last_line),)
    reply = ChatMessage(
        message_id,
        conversation_id,
        "assistant",
        answer,
        now,
        citations=cited,
        usage=Usage(total_ms=total_ms),
        grounded=True,
    )
    return question, reply


async def collect(
    stream: AsyncGenerator[str, None], on_piece: Callable[[str], None] | None = None
) -> str:
    """The whole text of a stream, passing each piece to `on_piece` as it comes."""
    pieces: list[str] = []
    async with aclosing(stream) as reading:
        async for piece in reading:
            pieces.append(piece)
            if on_piece is not None:
                on_piece(piece)
    return "".join(pieces)


async def explain(
    backend: Backend,
    request: CodeRequest,
    options: GenerationOptions,
    on_piece: Callable[[str], None] | None = None,
) -> str:
    """The model's explanation of the request's code, as Markdown."""
    reply = await collect(backend.chat(build_messages(request), options), on_piece)
    return clean_explanation(reply)


def judge(
    reply: str, target: Target, document: str, language: str | None
) -> tuple[list[TextChange], str | None]:
    """The changes a reply makes to `document`, or why it cannot be used. Without a
    grammar (`language` None) the parse check is skipped."""
    code = extract_code(reply)
    if code is None:
        return [], "the model's answer holds no code"
    block = new_block(target.code, reindent(code, target.code))
    if block == target.code:
        return [], None
    if language is not None:
        edited = replace_lines(document, target.first, target.end, block)
        verdict = parse_verdict(language, document, edited, target.first, target.end)
        if verdict is not None:
            return [], verdict
    return minimal_changes(target.code, block, target.first), None


async def rewrite(
    backend: Backend,
    request: CodeRequest,
    target: Target,
    document: str,
    language: str | None,
    options: GenerationOptions,
) -> Rewrite:
    """Ask for a rewrite of `target` in `document`; retry once when it cannot be used."""
    messages = build_messages(request)
    why: str | None = None
    for attempt in range(1, ATTEMPTS + 1):
        reply = await collect(backend.chat(messages, options))
        changes, why = await asyncio.to_thread(judge, reply, target, document, language)
        if why is None:
            return Rewrite(changes, None, attempt)
        log.info("%s attempt %d refused: %s", request.kind, attempt, why)
        messages = retry_messages(messages, reply, why, request.language)
    return Rewrite([], why, ATTEMPTS)
