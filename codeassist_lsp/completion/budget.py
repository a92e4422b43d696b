"""How much of the text around the cursor goes into the prompt.

Prompt processing is the cost on a CPU (~4 ms a token here). The prefix is cut at a line
on a fixed grid of the file's own line numbers, so its start moves only every few lines;
the suffix gets a small budget because, in a prefix-suffix-middle prompt, every change
of the prefix makes the model process the whole suffix again.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist_lsp.completion.window import CursorWindow
from codeassist_lsp.llm.prompts import LINE_GRID, Counter, fit_head, fit_tail

CHARS_PER_TOKEN = 6  # generous: the cut by characters only spares the tokenizer work


@dataclass(frozen=True)
class PromptParts:
    """The prefix and suffix that fit their budgets (the middle is always sent whole)."""

    prefix: str
    suffix: str


def _grid_tail(prefix: str, max_chars: int, grid: int) -> str:
    """The end of `prefix` from a line whose number is a multiple of `grid`, at most about
    `max_chars` long (a grid line is never skipped past when it is the only one left)."""
    lines = prefix.splitlines(keepends=True)
    start = len(lines) - len(lines) % grid if lines else 0
    size = sum(len(text) for text in lines[start:])
    while start >= grid:
        block = sum(len(text) for text in lines[start - grid : start])
        if size + block > max_chars:
            break
        start -= grid
        size += block
    return "".join(lines[start:])


def fit_window(
    window: CursorWindow,
    count: Counter,
    prefix_tokens: int,
    suffix_tokens: int,
    grid: int = LINE_GRID,
) -> PromptParts:
    """The window's prefix and suffix within their token budgets."""
    rough_prefix = _grid_tail(window.prefix, prefix_tokens * CHARS_PER_TOKEN, grid)
    rough_suffix = window.suffix[: suffix_tokens * CHARS_PER_TOKEN]
    return PromptParts(
        prefix=fit_tail(rough_prefix, prefix_tokens, count, grid),
        suffix=fit_head(rough_suffix, suffix_tokens, count),
    )
