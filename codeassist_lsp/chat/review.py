"""Review on save: which functions changed, and what the Fix task would change in them.

Asked "is there a bug? reply OK if not", the 0.5B model answers OK to every buggy function
of the Fix bench (`bench/review_eval.py`); asked to fix the function, it changes 8 or 9
of the 14 and leaves most correct code alone. So a review is a Fix whose changed lines
become findings: "the fix would change this line to …".

Only the functions whose text changed since the last save are reviewed: the model reads
~250 tokens a second on two cores, so a whole file would take longer than the user's next
edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeassist_lsp.chat.code_target import Target
from codeassist_lsp.chat.rewrite_edits import TextChange, split_keep_ends
from codeassist_lsp.index.parse import parse_source

REVIEWED_KINDS = frozenset({"function", "method"})
MAX_FINDINGS = 2  # per function: a rewrite touching more lines is a rewrite, not a bug
MAX_SHOWN = 80  # characters of the suggested line in a message


@dataclass(frozen=True)
class Finding:
    """A likely bug at one line (0-based, in the document)."""

    line: int
    message: str


@dataclass(frozen=True)
class Function:
    """A function or method of a document: its name and its lines as the Fix task takes
    them (0-based, `end` exclusive)."""

    name: str
    target: Target


def functions_of(path: str, document: str) -> list[Function]:
    """The document's functions and methods, from its syntax tree."""
    lines = split_keep_ends(document)
    return [
        Function(
            s.qualname,
            Target(s.start_line - 1, s.end_line, "".join(lines[s.start_line - 1 : s.end_line])),
        )
        for s in parse_source(path, document).symbols
        if s.kind in REVIEWED_KINDS
    ]


def changed_functions(before: Sequence[Function], after: Sequence[Function]) -> list[Function]:
    """The functions of `after` that are new or whose text differs from `before`."""
    known = {f.target.code for f in before}
    return [f for f in after if f.target.code not in known]


def _words(line: str) -> str:
    """A line without its comment and spacing: what the program sees of it."""
    return "".join(line.split("#", 1)[0].split())


_PROSE_STARTS = ("#", "//", "/*", "*", '"', "'")


def _prose(line: str) -> bool:
    """A comment or a docstring line: changing it fixes nothing."""
    text = line.strip()
    return not text or text.startswith(_PROSE_STARTS)


def _cosmetic(old: Sequence[str], new: Sequence[str]) -> bool:
    if [_words(x) for x in old if _words(x)] == [_words(x) for x in new if _words(x)]:
        return True
    return all(_prose(line) for line in [*old, *new])


def findings_of(changes: Sequence[TextChange], target: Target) -> list[Finding]:
    """The fix's changes as findings on the lines they touch. None when the fix rewrites
    more than `MAX_FINDINGS` places (a different function, not a bug report); a change of
    comments, docstrings or spacing, or of the signature line, is no finding."""
    if not changes or len(changes) > MAX_FINDINGS:
        return []
    old_lines = split_keep_ends(target.code)
    found = []
    for change in changes:
        first, end = change.start[0], change.end[0]
        if change.end[1]:  # ends inside a line: that line is changed too
            end += 1
        old = old_lines[first - target.first : end - target.first]
        new = change.text.splitlines()
        if first == target.first or _cosmetic(old, new):
            continue
        lines = [line.strip() for line in new if line.strip()]
        shown = lines[0][:MAX_SHOWN] if lines else ""
        if change.start == change.end:
            message = f"Likely bug: CodeAssist's fix adds `{shown}` here"
        elif shown:
            message = f"Likely bug: CodeAssist's fix changes this to `{shown}`"
        else:
            message = "Likely bug: CodeAssist's fix removes this"
        found.append(Finding(first, message))
    return found
