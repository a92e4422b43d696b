"""Syntax errors in a tree-sitter tree: its ERROR and MISSING nodes, as (line, message).

Apart from symbol extraction so it can be called on its own: diagnostics on every keystroke
need only `syntax_errors(root)` of a fresh parse. One caveat the indexer handles: inside a
TypeScript `declare module`, a `global { … }` block is valid but the grammar reads its
keyword as an error; `global_keywords(defs)` finds those nodes among the tag query's
definitions, to pass as `ignore`.
"""

from __future__ import annotations

from collections.abc import Collection

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
