"""The explain / fix / improve tasks: their prompts, and what is read out of the replies.

Prompt processing costs ~4 ms a token on a 2-core CPU, so prompts are short: one system
line, a few graph facts, the function around the selection when it adds something, and
the selected code last (the part that changes between requests, so the KV cache keeps the
rest). A rewrite is asked for as one fenced block and nothing else; `extract_code` also
copes with the small model's habits: a missing closing fence, prose around the block, or
no fence at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from codeassist_lsp.llm.types import Message

TaskKind = Literal["explain", "fix", "improve"]
TASK_KINDS: tuple[TaskKind, ...] = ("explain", "fix", "improve")

SYSTEM = "You are CodeAssist, a careful programming assistant. Be brief and exact."

# A rewrite ends at its closing fence: generating the chatter after it costs time for nothing.
REWRITE_STOP = ("\n```",)

_ASK: dict[TaskKind, str] = {
    "explain": (
        "Explain what the code below does, in two to four sentences, for a developer "
        "who is reading it. Mention anything surprising or wrong."
    ),
    "fix": (
        "Fix the bugs in the code below. Change only what is wrong; keep names, "
        "comments and layout."
    ),
    "improve": (
        "Improve the code below: make it simpler, clearer and more idiomatic. Keep its "
        "behaviour, its name and its signature."
    ),
}


@dataclass(frozen=True)
class CodeRequest:
    """What one task is about: the selected code and the context chosen for it."""

    kind: TaskKind
    language: str  # a fence tag, e.g. "python"; "" when unknown
    path: str  # as shown to the model (workspace-relative when known)
    code: str  # the selected lines, whole
    enclosing: str = ""  # the definition around the selection, when it is larger
    facts: tuple[str, ...] = ()  # one line each: signatures of callers, callees…
    problems: tuple[str, ...] = ()  # diagnostics in the selection, e.g. "line 3: missing `)`"
    cut_from: int = 0  # explain only: the selection's real line count when it was cut


def _fenced(language: str, code: str) -> str:
    return f"```{language}\n{code.rstrip()}\n```"


def user_prompt(request: CodeRequest) -> str:
    """The user turn: context first, then the ask, then the code itself."""
    parts = [f"File: {request.path}"]
    if request.facts:
        parts.append("Related definitions:\n" + "\n".join(f"- {f}" for f in request.facts))
    if request.enclosing:
        parts.append("The code is part of:\n" + _fenced(request.language, request.enclosing))
    if request.problems:
        parts.append("The editor reports:\n" + "\n".join(f"- {p}" for p in request.problems))
    ask = _ASK[request.kind]
    if request.kind != "explain":
        ask += (
            f" Reply with the whole rewritten code in one ```{request.language} block, "
            "with the same indentation, and nothing else."
        )
    elif request.cut_from:
        ask += f" (Only the first lines of a {request.cut_from}-line selection are shown.)"
    parts.append(ask)
    parts.append(_fenced(request.language, request.code))
    return "\n\n".join(parts)


def build_messages(request: CodeRequest) -> list[Message]:
    """The conversation that asks the model for one task."""
    return [Message("system", SYSTEM), Message("user", user_prompt(request))]


def hover_messages(language: str, path: str, code: str) -> list[Message]:
    """Ask for the one- or two-sentence explanation a hover shows under the facts."""
    ask = (
        f"File: {path}\n\nIn one or two short sentences, say what this definition does "
        f"and why someone would call it.\n\n{_fenced(language, code)}"
    )
    return [Message("system", SYSTEM), Message("user", ask)]


def retry_messages(first: Sequence[Message], reply: str, why: str, language: str) -> list[Message]:
    """The conversation once more, telling the model why its rewrite was refused; the
    first turns are unchanged, so the model's cache still holds them."""
    again = (
        f"That answer cannot be used: {why}. Reply with only the complete corrected code "
        f"in one ```{language} block."
    )
    return [*first, Message("assistant", reply), Message("user", again)]


_FENCE_OPEN = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n", re.M)


def extract_code(reply: str) -> str | None:
    """The code of a rewrite reply: the first fenced block (its closing fence may be
    missing when a stop cut it), else the whole reply; None when nothing is left."""
    opened = _FENCE_OPEN.search(reply)
    if opened is not None:
        body = reply[opened.end() :]
        close = re.search(rf"^[ \t]*{re.escape(opened.group(1))}[ \t]*$", body, re.M)
        code = body[: close.start()] if close is not None else body
    else:
        code = reply
    lines = code.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines) or None


def clean_explanation(reply: str) -> str:
    """The explanation as Markdown, without the blank lines a stop may leave."""
    return reply.strip()


def short_explanation(text: str, limit: int = 240) -> str:
    """A one-line version for `window/showMessage`: the first paragraph, cut at a sentence
    end within `limit` characters when there is one."""
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    if len(paragraph) <= limit:
        return paragraph
    head = paragraph[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    return head[: end + 1] if end > limit // 3 else head.rstrip() + "…"
