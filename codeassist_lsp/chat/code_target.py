"""Which lines a code action works on, and the definition around them.

Actions work on whole lines: a selection grows to the lines it touches, so a rewrite never
splits a line. An empty selection (a cursor, or a diagnostic's lightbulb) means the
innermost function around the cursor, else the cursor's line. Definitions come from the
document's own text through tree-sitter, so unsaved edits and unindexed files count.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist_lsp.chat.rewrite_edits import split_keep_ends
from codeassist_lsp.index.model import Symbol
from codeassist_lsp.index.parse_code import extract_code

FUNCTION_KINDS = frozenset({"function", "method"})
ENCLOSING_MAX_LINES = 40  # a longer definition around the selection is named, not shown


@dataclass(frozen=True)
class Target:
    """The lines to explain or rewrite, 0-based, `end` exclusive."""

    first: int
    end: int
    code: str  # the lines themselves, with their line ends
    enclosing: Symbol | None = None  # the innermost definition around (or equal to) them
    enclosing_code: str = ""  # its text, when it is larger than the lines and short

    @property
    def line_count(self) -> int:
        return self.end - self.first


def selected_lines(
    start: tuple[int, int], end: tuple[int, int], line_count: int
) -> tuple[int, int]:
    """The whole lines a selection touches, as (first, end exclusive); a selection ending
    at the start of a line does not take that line."""
    (start_line, _), (end_line, end_char) = sorted((start, end))
    last = end_line if end_char > 0 or end_line == start_line else end_line - 1
    first = min(max(start_line, 0), max(line_count - 1, 0))
    return first, min(max(last, first) + 1, line_count)


def definitions(text: str, language: str | None) -> list[Symbol]:
    """The definitions tree-sitter finds in a document (none without a grammar)."""
    if language is None:
        return []
    parsed, _, _ = extract_code("", text, language)
    return parsed.symbols


def _holding(symbols: list[Symbol], first: int, end: int) -> list[Symbol]:
    """Definitions whose lines hold lines `first`..`end`, innermost first."""
    inside = [s for s in symbols if s.start_line - 1 <= first and end <= s.end_line]
    return sorted(inside, key=lambda s: s.end_line - s.start_line)


def find_target(
    text: str,
    language: str | None,
    start: tuple[int, int],
    end: tuple[int, int],
) -> Target | None:
    """The lines a request means, or None when the document has none."""
    lines = split_keep_ends(text)
    if not lines:
        return None
    symbols = definitions(text, language)
    first, stop = selected_lines(start, end, len(lines))
    if start == end:
        around = _holding(symbols, first, first + 1)
        functions = [s for s in around if s.kind in FUNCTION_KINDS]
        chosen = functions[0] if functions else None
        if chosen is not None:
            first, stop = chosen.start_line - 1, min(chosen.end_line, len(lines))
    holding = _holding(symbols, first, stop)
    enclosing = holding[0] if holding else None
    enclosing_code = ""
    if enclosing is not None:
        size = enclosing.end_line - enclosing.start_line + 1
        if size > stop - first and size <= ENCLOSING_MAX_LINES:
            enclosing_code = "".join(lines[enclosing.start_line - 1 : enclosing.end_line])
    return Target(first, stop, "".join(lines[first:stop]), enclosing, enclosing_code)


def cut(target: Target, max_lines: int) -> Target:
    """The first `max_lines` lines of a target (for an explanation of a long selection)."""
    if target.line_count <= max_lines:
        return target
    head = "".join(split_keep_ends(target.code)[:max_lines])
    return Target(target.first, target.first + max_lines, head, target.enclosing)
