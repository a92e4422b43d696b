"""The chat prompt: a fixed system prompt, the conversation so far, then this turn's
numbered sources and question.

Stable text first so llama.cpp's KV cache carries over between turns: the system prompt
never changes and earlier turns are replayed as they were asked (their sources are not
repeated), so a new turn costs only its own sources and question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codeassist_lsp.chat.conversation import ChatMessage, Citation
from codeassist_lsp.llm.types import Message

SYSTEM_PROMPT = (
    "You are CodeAssist, a coding assistant inside the user's editor. "
    "When numbered sources from the user's code are given, find the source whose code "
    "does what the question asks and answer from it in a few sentences: the first names "
    'that function or class in backticks with its source number, as in "`load_config` [2] '
    'reads the settings file and ...", and the next say how it does it, naming the values, '
    "conditions and calls involved. If no source holds the answer, say so in one sentence "
    "instead of guessing. Answer general programming questions briefly. Be short: a small "
    "code block only when it helps."
)

CHANGE_HINT = (
    "To change code, select it and run CodeAssist's Fix or Improve action: it shows the "
    "edit as a diff before applying it."
)

_MARK = re.compile(r"\s?\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Source:
    """One numbered piece of code shown to the model, and where it is."""

    citation: Citation
    text: str
    language: str = ""
    names: tuple[str, ...] = ()  # the definitions it holds: an answer naming one cites it

    def render(self, number: int) -> str:
        c = self.citation
        name = f" {c.symbol}" if c.symbol else ""
        head = f"[{number}] {c.path}:{c.start_line}-{c.end_line}{name}"
        return f"{head}\n```{self.language}\n{self.text}\n```\n"


def render_sources(sources: Sequence[Source], facts: str = "") -> str:
    """The numbered sources, best (`[1]`) last: nearest the question, where a small model
    looks first (measured by bench/chat_eval.py, figures in README)."""
    body = "".join(s.render(n) for n, s in reversed(list(enumerate(sources, 1))))
    if facts:
        body += f"Related definitions (not numbered, do not cite):\n{facts}"
    return body


NO_SOURCES = "No code from the user's workspace matches this question."


def user_turn(
    question: str, sources: Sequence[Source], facts: str = "", searched: bool = False
) -> str:
    """This turn's message: sources first, the question last. A question about the code
    that found nothing says so, or the model answers it as if the system prompt's example
    were the user's code."""
    if not sources:
        return f"{NO_SOURCES}\nQuestion: {question}" if searched else question
    return f"Sources from the user's code:\n{render_sources(sources, facts)}\nQuestion: {question}"


def earlier_turns(history: Sequence[ChatMessage]) -> list[Message]:
    """Past turns as they were asked and answered, without citation marks (their numbers
    belonged to sources that are not shown again)."""
    out: list[Message] = []
    for message in history:
        content = message.content if message.role == "user" else _MARK.sub("", message.content)
        if content.strip():
            out.append(Message(message.role, content))
    return out


def fit_history(
    history: Sequence[Message], budget: int, count: Callable[[str], int]
) -> list[Message]:
    """Whole turns (a question and its answer) within `budget` tokens, from a first turn
    that stays the same from one question to the next.

    Dropping the oldest turn at each question would change the prompt right after the
    system prompt every time, so the model would read all the kept turns again (~4 ms a
    token here). Instead the first kept turn is one of fixed marks, the first turn of
    each half-budget of the conversation; when the turns from it no longer fit, the start
    moves to a later mark, dropping about half the budget at once. With no mark that
    fits, the newest whole turns that fit."""
    turns: list[list[Message]] = []
    for message in history:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    costs = [sum(count(m.content) + 4 for m in turn) for turn in turns]
    step = max(budget // 2, 1)
    marks: list[int] = []
    band = -1
    before = 0  # the tokens of the turns before this one
    for index, cost in enumerate(costs):
        if before // step > band:
            marks.append(index)
            band = before // step
        before += cost
    start = next((m for m in marks if sum(costs[m:]) <= budget), None)
    if start is None:
        start = len(turns)
        while start > 0 and sum(costs[start - 1 :]) <= budget:
            start -= 1
    return [message for turn in turns[start:] for message in turn]


def chat_messages(
    history: Sequence[Message],
    question: str,
    sources: Sequence[Source],
    facts: str = "",
    searched: bool = False,
) -> list[Message]:
    return [
        Message("system", SYSTEM_PROMPT),
        *history,
        Message("user", user_turn(question, sources, facts, searched)),
    ]
