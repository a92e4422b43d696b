"""Review on save: which functions changed, and what the Fix task would change in them.

Asked "is there a bug? reply OK if not", the 0.5B model answers OK to every buggy function
of the Fix bench (`bench/review_eval.py`); asked to fix the function, it rewrites about
half of them and leaves correct code alone. So a review is a Fix whose changed lines
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


def findings_of(changes: Sequence[TextChange]) -> list[Finding]:
    """The fix's changes as findings on the lines they touch; none when the fix rewrites
    more than `MAX_FINDINGS` places (that is a different function, not a bug report)."""
    if not changes or len(changes) > MAX_FINDINGS:
        return []
    found = []
    for change in changes:
        lines = [line.strip() for line in change.text.splitlines() if line.strip()]
        shown = lines[0][:MAX_SHOWN] if lines else ""
        if change.start == change.end:
            message = f"Likely bug: CodeAssist's fix adds `{shown}` here"
        elif shown:
            message = f"Likely bug: CodeAssist's fix changes this to `{shown}`"
        else:
            message = "Likely bug: CodeAssist's fix removes this"
        found.append(Finding(change.start[0], message))
    return found
