"""Repository context for a completion: the signatures, in other files, of the names used
around the cursor and of the names the document takes from files it imports, within a
token budget.

The names come from a region of lines aligned on a grid, and only names defined in
other files count, so the context (which goes first in the prompt) stays the same while
the user types or moves within the region, and the model keeps it in its KV cache; it
changes when the region moves or a name that resolves elsewhere is typed or deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from codeassist_lsp.index import navigate
from codeassist_lsp.index.model import Symbol
from codeassist_lsp.index.view import IndexView

Counter = Callable[[str], int]

_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
REGION_GRID = 16  # the region moves in steps of this many lines
REGION_ABOVE = 32
REGION_BELOW = 16
MAX_NAMES = 40
OUTLINE_KINDS = frozenset({"class", "interface", "struct", "enum", "trait"})


def region_names(lines: list[str], cursor_line: int) -> list[str]:
    """Distinct identifiers of the grid region around `cursor_line` (0-based), in the
    order they appear."""
    anchor = cursor_line - cursor_line % REGION_GRID
    start, end = max(0, anchor - REGION_ABOVE), anchor + REGION_GRID + REGION_BELOW
    seen: dict[str, None] = {}
    for number in range(start, min(end, len(lines))):
        for match in _NAME.finditer(lines[number]):
            seen.setdefault(match.group(0), None)
    return list(seen)[:MAX_NAMES]


def _signature(sym: Symbol, source: list[str]) -> str:
    line = source[sym.start_line - 1] if 0 < sym.start_line <= len(source) else ""
    indent = line[: len(line) - len(line.lstrip())]
    return indent + (sym.signature or line.strip())


def _excerpt(view: IndexView, path: str, sym: Symbol, source: list[str]) -> str:
    """A definition's signature; for a type, its header and the signatures of its members
    (signatures only: more definitions fit the budget, and names and parameters are what
    a completion needs)."""
    if sym.kind not in OUTLINE_KINDS:
        return _signature(sym, source)
    members = sorted(
        (s for s in view.symbols_in(path) if s.parent == sym.qualname),
        key=lambda s: s.start_line,
    )
    return "\n".join(_signature(s, source) for s in (sym, *members))


def _document_names(lines: list[str], skip: set[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        for match in _NAME.finditer(line):
            if match.group(0) not in skip:
                seen.setdefault(match.group(0), None)
    return list(seen)


def definition_context(
    view: IndexView,
    path: str,
    cursor_line: int,
    lines: list[str],
    count: Counter,
    budget: int,
) -> tuple[tuple[str, str], ...]:
    """(path, excerpts) per file for the names used near the cursor, then for the other
    names of the document that files it imports define, skipping definitions in the
    document's own file; files in the order their first name comes, within `budget`."""
    if budget <= 0:
        return ()
    symbols = view.symbols()
    imported = set(view.imports(path))
    near = region_names(lines, cursor_line)
    near_set = set(near)
    by_file: dict[str, list[str]] = {}
    shown: set[tuple[str, str]] = set()
    left = budget
    for name in (*near, *_document_names(lines, near_set)):
        candidates = view.definitions(name)
        if not candidates:
            continue
        if name not in near_set and not any(p in imported for p, _ in candidates):
            continue
        found = navigate.definitions(name, path, cursor_line + 1, symbols, view.graph)
        if not found or found[0][0] == path or (found[0][0], found[0][1].qualname) in shown:
            continue
        where, sym = found[0]
        source = (view.file_text(where) or "").split("\n")
        excerpt = _excerpt(view, where, sym, source)
        cost = count(excerpt) + 2
        if not excerpt.strip() or cost > left:
            continue
        shown.add((where, sym.qualname))
        by_file.setdefault(where, []).append(excerpt)
        left -= cost
    return tuple((where, "\n".join(parts)) for where, parts in by_file.items())
