"""Syntax errors in a tree-sitter tree: its ERROR and MISSING nodes, as (line, message) for
the index and as readable `SyntaxProblem`s with ranges for editor diagnostics.

Apart from symbol extraction so it can be called on its own: diagnostics on every keystroke
need only `syntax_errors(root)` of a fresh parse. One caveat the indexer handles: inside a
TypeScript `declare module`, a `global { … }` block is valid but the grammar reads its
keyword as an error; `global_keywords(defs)` finds those nodes among the tag query's
definitions, to pass as `ignore`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tree_sitter import Node

from codeassist_lsp.index.parse_symbols import GLOBAL, Definition

MAX_SYNTAX_ERRORS = 50


def syntax_errors(
    root: Node, limit: int = MAX_SYNTAX_ERRORS, ignore: Collection[int] = ()
) -> list[tuple[int, str]]:
    """(line, message) for each ERROR and MISSING node, outermost first; nodes whose id
    is in `ignore` are valid code the grammar cannot read, and are skipped."""
    if not root.has_error:
        return []
    found: list[tuple[int, str]] = []
    stack = [root]
    while stack and len(found) < limit:
        node = stack.pop()
        if node.id in ignore:
            continue
        if node.is_missing:
            found.append((node.start_point.row + 1, f"syntax error: missing {node.type!r}"))
        elif node.is_error:
            text = (node.text or b"").decode("utf-8", "replace").strip().split("\n")[0]
            near = f" near {text[:40]!r}" if text else ""
            found.append((node.start_point.row + 1, f"syntax error{near}"))
        else:
            stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return sorted(found)


def global_keywords(defs: list[Definition]) -> set[int]:
    """The nodes holding the `global` of each `global { … }` inside an ambient module:
    valid TypeScript that the grammar reads as an error or a statement missing its `;`."""
    found: set[int] = set()
    for d in defs:
        keyword = d.node.prev_sibling if d.kind == GLOBAL else None
        if (
            keyword is not None
            and keyword.type in ("ERROR", "expression_statement")
            and keyword.named_child_count == 1  # the `global` alone, nothing else
        ):
            found.add(keyword.id)
    return found


@dataclass(frozen=True)
class SyntaxProblem:
    """One syntax error with a message a person reads; points are 0-based (row, byte column)."""

    start: tuple[int, int]
    end: tuple[int, int]
    message: str


_OPENERS = {b"(": b")", b"[": b"]", b"{": b"}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_QUOTES = (b'"', b"'", b"`")
# Operators that need something after them: an error ending in one is an unfinished line.
_DANGLING = frozenset(
    b"+ - * / % ** // = == != < > <= >= += -= *= /= and or not && || ! & | ^ << >> , . -> =>"
    b" : ::".split()
)


def _leaves(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0:
            out.append(current)
        else:
            stack.extend(reversed(current.children))
    return out


def _unclosed(leaves: list[Node]) -> Node | None:
    """The innermost opening bracket among `leaves` that nothing closes."""
    open_stack: list[Node] = []
    for leaf in leaves:
        text = leaf.text or b""
        if text in _OPENERS:
            open_stack.append(leaf)
        elif text in _CLOSERS and open_stack and (open_stack[-1].text or b"") == _CLOSERS[text]:
            open_stack.pop()
    return open_stack[-1] if open_stack else None


def _first_line_end(node: Node) -> tuple[int, int]:
    """Where to end a problem's range: the node's end, or the end of its first line."""
    if node.end_point.row == node.start_point.row:
        return (node.end_point.row, node.end_point.column)
    first = (node.text or b"").split(b"\n", 1)[0]
    return (node.start_point.row, node.start_point.column + len(first))


def _describe(node: Node) -> SyntaxProblem:
    start = (node.start_point.row, node.start_point.column)
    if node.is_missing:
        what = node.type if not node.is_named else node.type.replace("_", " ")
        return SyntaxProblem(
            start, start, f"missing `{what}`" if not node.is_named else f"missing {what}"
        )
    leaves = _leaves(node)
    text = (node.text or b"").strip()
    if text[:1] in _QUOTES and (len(text) == 1 or text[-1:] != text[:1]):
        return SyntaxProblem(start, _first_line_end(node), "unterminated string")
    opener = _unclosed(leaves)
    if opener is not None:
        where = (opener.start_point.row, opener.start_point.column)
        token = (opener.text or b"").decode()
        return SyntaxProblem(where, (where[0], where[1] + 1), f"unclosed `{token}`")
    last = next((leaf for leaf in reversed(leaves) if (leaf.text or b"").strip()), node)
    if (last.text or b"") in _DANGLING:
        where = (last.start_point.row, last.start_point.column)
        end = (last.end_point.row, last.end_point.column)
        token = (last.text or b"").decode()
        return SyntaxProblem(where, end, f"expected an expression after `{token}`")
    first = next((leaf for leaf in leaves if (leaf.text or b"").strip()), node)
    token = (first.text or b"").decode("utf-8", "replace").strip().split("\n")[0][:30]
    end = (first.end_point.row, first.end_point.column)
    if first.end_point.row != first.start_point.row:
        end = _first_line_end(first)
    begin = (first.start_point.row, first.start_point.column)
    return SyntaxProblem(begin, end, f"unexpected `{token}`" if token else "syntax error")


def syntax_problems(
    root: Node, limit: int = MAX_SYNTAX_ERRORS, ignore: Collection[int] = ()
) -> list[SyntaxProblem]:
    """Readable problems for the outermost ERROR and MISSING nodes of a tree, in order:
    "missing `)`", "unexpected `else`", "unterminated string", "unclosed `[`"."""
    if not root.has_error:
        return []
    found: list[SyntaxProblem] = []
    stack = [root]
    while stack and len(found) < limit:
        node = stack.pop()
        if node.id in ignore:
            continue
        if node.is_missing or node.is_error:
            found.append(_describe(node))
        else:
            stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return sorted(found, key=lambda p: (p.start, p.end))
