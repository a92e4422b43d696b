"""The part of a long search hit that the question is about.

The prompt budget cuts a hit to `item_lines` lines. Cutting to its head loses the answer
whenever the hit is a whole module or a long class and the relevant definition sits
further down (a 47-line module chunk whose third function is the one asked about). Here
the window of `item_lines` lines that covers most of the query's words is kept instead,
moved back to the definition it starts in when one begins just above it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from codeassist_lsp.rag.retriever import SearchHit

STEM = 5  # words sharing their first five letters match: retry/retries, expire/expired
_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")
_DEFINITION = re.compile(
    r"^\s*(?:@|(?:export\s+|pub(?:\(\w+\))?\s+|async\s+|static\s+|default\s+)*"
    r"(?:def|class|function|func|fn|impl|struct|enum|interface|type|const|let|var|trait)\b)"
)
_STOPWORDS = frozenset(
    "about after all and are before but can could does doing for from has have how into "
    "its not our that the their them then there they this what when where which while who "
    "why will with would your code function method class".split()
)


def stems(text: str) -> set[str]:
    """Word stems of `text`, identifiers split at `_` and case changes."""
    return {
        w.lower()[:STEM] for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in _STOPWORDS
    }


def focus_window(lines: list[str], query: str, size: int) -> int:
    """Index of the first line of the `size`-line window that covers most query stems."""
    wanted = stems(query)
    if len(lines) <= size or not wanted:
        return 0
    per_line = [stems(line) & wanted for line in lines]
    if not any(per_line):
        return 0
    best, best_score = 0, (-1, -1, False)
    for start in range(len(lines) - size + 1):
        window = per_line[start : start + size]
        covered: set[str] = set().union(*window)
        starts_definition = _DEFINITION.match(lines[start]) is not None
        score = (len(covered), sum(len(s) for s in window), starts_definition)
        if score > best_score:
            best, best_score = start, score
    for back in range(best, max(best - size // 3, 0) - 1, -1):
        if _DEFINITION.match(lines[back]):
            return back
    return best


def focus_hit(hit: SearchHit, query: str, size: int) -> SearchHit:
    """The hit cut to its `size` lines most about `query` (unchanged when it is short)."""
    chunk = hit.chunk
    lines = chunk.text.splitlines()
    start = focus_window(lines, query, size)
    if start == 0:
        return hit
    kept = lines[start : start + size]
    focused = replace(
        chunk,
        start_line=chunk.start_line + start,
        end_line=chunk.start_line + start + len(kept) - 1,
        text="\n".join(kept),
    )
    return replace(hit, chunk=focused)
