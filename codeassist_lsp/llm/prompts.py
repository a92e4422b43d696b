"""Prompt building and token budgeting, as pure functions over a token counter.

Prompt processing is the cost on a CPU, and llama.cpp reuses its KV cache only for the
longest common prefix of consecutive prompts. So: stable text first (system prompt,
repository files), the changing text last, and cuts made at line boundaries on a coarse
grid, so that typing does not move the start of the prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codeassist_lsp.llm.types import FimRequest, Message

Counter = Callable[[str], int]
MessagesCounter = Callable[[Sequence[Message]], int]

LINE_GRID = 8


@dataclass(frozen=True)
class FimTokens:
    """The text of a model's fill-in-the-middle control tokens (repo-level ones optional)."""

    prefix: str
    suffix: str
    middle: str
    repo_name: str = ""
    file_sep: str = ""


QWEN_FIM = FimTokens(
    prefix="<|fim_prefix|>",
    suffix="<|fim_suffix|>",
    middle="<|fim_middle|>",
    repo_name="<|repo_name|>",
    file_sep="<|file_sep|>",
)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n" and i + 1 < len(text))
    return starts


def fit_tail(text: str, budget: int, count: Counter, grid: int = LINE_GRID) -> str:
    """The longest end of `text` within `budget` tokens, starting at a line on the grid.

    Used for the text before the cursor: its start moves only every `grid` lines, so the
    KV cache keeps matching while the user types.
    """
    if budget <= 0:
        return ""
    if count(text) <= budget:
        return text
    starts = _line_starts(text)[::grid] or [0]
    lo, hi = 0, len(starts)  # first fitting index is in [lo, hi]; hi means none
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[starts[mid] :]) <= budget:
            hi = mid
        else:
            lo = mid + 1
    if lo < len(starts):
        return text[starts[lo] :]
    if grid > 1:
        return fit_tail(text[starts[-1] :], budget, count, grid=1)
    return _fit_chars_tail(text, budget, count)


def fit_head(text: str, budget: int, count: Counter) -> str:
    """The longest start of `text` within `budget` tokens, ending at a line boundary."""
    if budget <= 0:
        return ""
    if count(text) <= budget:
        return text
    ends = [i for i, ch in enumerate(text) if ch == "\n"]
    lo, hi = 0, len(ends)  # number of lines that fit is in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[: ends[mid - 1] + 1]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    if lo > 0:
        return text[: ends[lo - 1] + 1]
    return _fit_chars_head(text, budget, count)


def _fit_chars_tail(text: str, budget: int, count: Counter) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[mid:]) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return text[lo:]


def _fit_chars_head(text: str, budget: int, count: Counter) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def fim_prompt(
    request: FimRequest, tokens: FimTokens, budget: int, count: Counter, suffix_share: float = 0.25
) -> str:
    """A prefix-suffix-middle prompt within `budget` tokens.

    Repository files come first (stable), then the current file's path, prefix and suffix;
    with no files it is the plain layout (the repository header alone made the 0.5B model
    worse: `bench/completion_eval.py`, README). The suffix gets at most `suffix_share` of
    the budget; files fill what the code leaves, the last given (most useful) kept first.
    """
    suffix = fit_head(request.suffix, int(budget * suffix_share), count)
    prefix = fit_tail(request.prefix, budget - count(suffix) - 8, count)
    tail = f"{tokens.prefix}{prefix}{tokens.suffix}{suffix}{tokens.middle}"
    if not tokens.file_sep or not request.context:
        return tail
    current = f"{tokens.file_sep}{request.path}\n"
    header = f"{tokens.repo_name}{request.repo_name}\n" if tokens.repo_name else ""
    left = budget - count(header + current + tail)
    files: list[str] = []
    for path, text in reversed(request.context):
        block = f"{tokens.file_sep}{path}\n{text}\n"
        cost = count(block)
        if cost > left:
            break
        files.insert(0, block)
        left -= cost
    return header + "".join(files) + current + tail


def fit_messages(
    messages: Sequence[Message], budget: int, measure: MessagesCounter
) -> list[Message]:
    """Drop the oldest turns after the system prompt until the rendered chat fits.

    The system prompt and the last message are always kept; when they alone exceed the
    budget, the last message's content is cut from its start.
    """
    items = list(messages)
    if measure(items) <= budget:
        return items
    head = items[:1] if items and items[0].role == "system" else []
    body = items[len(head) :]
    if not body:
        return head
    lo, hi = 0, len(body) - 1  # turns to drop
    while lo < hi:
        mid = (lo + hi) // 2
        if measure(head + body[mid:]) <= budget:
            hi = mid
        else:
            lo = mid + 1
    kept = head + body[lo:]
    if measure(kept) <= budget:
        return kept
    last = kept[-1]
    overhead = measure([*head, Message(last.role, "")])

    def count(text: str) -> int:
        return measure([Message(last.role, text)]) - measure([Message(last.role, "")])

    cut = fit_tail(last.content, budget - overhead, count, grid=1)
    return [*head, Message(last.role, cut)]
