"""A model's rewrite of some lines, checked and turned into the smallest text changes.

The editor shows a Fix or an Improve as a diff, so only the lines that really changed are
replaced (a line diff of old and new). The rewrite is re-indented to the selection's
indentation (small models often drop it), written with the document's line endings, and
refused when the document would not parse afterwards while it did before: a broken edit
is worse than none.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from codeassist_lsp.index.languages import get_parser
from codeassist_lsp.index.syntax_errors import SyntaxProblem, syntax_problems


@dataclass(frozen=True)
class TextChange:
    """Replace `start`..`end` with `text`; positions are (0-based line, column in Python
    characters of that line)."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


def split_keep_ends(text: str) -> list[str]:
    """Lines of `text`, each with its `\\n` (the last may have none); "" has no lines."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _base_indent(lines: list[str]) -> str:
    """The shortest indentation among the non-blank lines."""
    indents = [_indent_of(line) for line in lines if line.strip()]
    return min(indents, key=len, default="")


def reindent(code: str, original: str) -> str:
    """`code` shifted so its least-indented lines start like the original's."""
    new_lines = code.split("\n")
    want = _base_indent(original.split("\n"))
    have = _base_indent(new_lines)
    if want == have:
        return code
    out = []
    for line in new_lines:
        if not line.strip():
            out.append("")
        elif line.startswith(have):
            out.append(want + line[len(have) :])
        else:
            out.append(want + line.lstrip(" \t"))
    return "\n".join(out)


def new_block(old_block: str, code: str) -> str:
    """`code` as a replacement for `old_block`: the same line endings, and a final newline
    exactly when the old block had one."""
    eol = "\r\n" if "\r\n" in old_block else "\n"
    body = eol.join(code.split("\n"))
    return body + eol if old_block.endswith("\n") else body


def replace_lines(text: str, first: int, end: int, block: str) -> str:
    """`text` with lines `first`..`end` (0-based, end exclusive) replaced by `block`."""
    lines = split_keep_ends(text)
    return "".join(lines[:first]) + block + "".join(lines[end:])


def minimal_changes(old_block: str, block: str, first: int) -> list[TextChange]:
    """The changed lines of `old_block` (which starts at line `first`) as text changes."""
    old = split_keep_ends(old_block)
    new = split_keep_ends(block)
    changes = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = (first + i1, 0)
        if i2 == len(old) and old and not old[-1].endswith("\n"):
            end = (first + i2 - 1, len(old[-1]))
        else:
            end = (first + i2, 0)
        changes.append(TextChange(start, end, "".join(new[j1:j2])))
    return changes


def problems_of(language: str, text: str) -> list[SyntaxProblem]:
    """Syntax problems tree-sitter finds in a whole document."""
    root = get_parser(language).parse(text.encode("utf-8", "replace")).root_node
    return syntax_problems(root)


def parse_verdict(language: str, old_text: str, new_text: str, first: int, end: int) -> str | None:
    """Why the edited document is worse than the old one, or None when it is fine: it may
    not have more syntax errors than before, and when the replaced lines held an error,
    it must have fewer."""
    before = problems_of(language, old_text)
    after = problems_of(language, new_text)
    broken_here = any(first <= p.start[0] < end for p in before)
    if len(after) > len(before) or (broken_here and len(after) >= len(before)):
        worst = after[0] if after else None
        where = f" at line {worst.start[0] + 1}: {worst.message}" if worst else ""
        return f"the rewritten code does not parse{where}"
    return None
