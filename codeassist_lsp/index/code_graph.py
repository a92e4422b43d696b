"""The incremental code graph the indexer keeps: updated as files change, re-resolving
only the files whose edges the change can alter.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.graph_build import (
    file_edges,
    graph_from_edges,
    graph_nodes,
    resolve_file_edges,
)
from codeassist_lsp.index.model import Edge, ParsedFile
from codeassist_lsp.index.resolve import NAME_RE, Workspace


class CodeGraph:
    """The resolved graph with the facts and per-file edges it came from, so that a change
    re-resolves only the files whose edges it can alter.

    What one file's resolution reads of another file is its language, path, imports,
    `inherits` references and symbols (name, qualname, kind, parent). So:

    - a change to a file's path, language, imports or inherits (or to a go.mod) can reach
      any file through import chains and base classes: everything is re-resolved;
    - a change to its symbols can only alter lookups of the names that came or went, so
      the files mentioning one of those names are re-resolved with it; if that changes
      any of their inherits edges, base classes moved and everything is re-resolved;
    - a body-only edit re-resolves the file alone.

    `graph` is a new object after each update, never changed in place: readers on other
    threads may still be walking the previous one.
    """

    def __init__(self, files: Iterable[ParsedFile], edges: dict[str, list[Edge]]) -> None:
        self.files = {f.path: f for f in files}
        self.edges = edges
        self._mentions: dict[str, frozenset[str]] = {}
        self.graph = self._build()

    @classmethod
    def resolve(cls, files: Sequence[ParsedFile]) -> CodeGraph:
        return cls(files, resolve_file_edges(files))

    def update(self, changed: Mapping[str, ParsedFile | None]) -> set[str] | None:
        """Swap in new facts of files (None: deleted); return the paths whose edges were
        re-resolved, or None when every file's were."""
        old = {path: self.files.get(path) for path in changed}
        for path, f in changed.items():
            self._mentions.pop(path, None)
            if f is None:
                self.files.pop(path, None)
            else:
                self.files[path] = f
        workspace = Workspace(list(self.files.values()))
        paths = self._affected(old, changed)
        redone: set[str] | None = None
        if paths is not None:
            found = {p: file_edges(workspace, self.files[p]) for p in paths if p in self.files}
            if all(_inherits(found.get(p, ())) == _inherits(self.edges.get(p, ())) for p in paths):
                self.edges.update(found)
                redone = paths
        if redone is None:
            self.edges = {f.path: file_edges(workspace, f) for f in self.files.values()}
        self.graph = self._build()
        return redone

    def _affected(
        self, old: Mapping[str, ParsedFile | None], changed: Mapping[str, ParsedFile | None]
    ) -> set[str] | None:
        """The files whose edges the change may alter; None when that may be any file."""
        names: set[str] = set()
        for path, new in changed.items():
            before = old[path]
            if before is None and new is None:
                continue
            if before is None or new is None or _shape(before) != _shape(new):
                return None
            names |= _changed_names(before, new)
        present = {path for path in changed if path in self.files}
        if not names:
            return present
        names.add("default")  # a default import stands for a module's sole export
        return present | {p for p in self.files if not names.isdisjoint(self._mentions_of(p))}

    def _mentions_of(self, path: str) -> frozenset[str]:
        found = self._mentions.get(path)
        if found is None:
            found = self._mentions[path] = _mentions(self.files[path])
        return found

    def _build(self) -> Digraph:
        edges = (e for found in self.edges.values() for e in found)
        return graph_from_edges(edges, graph_nodes(self.files.values()))


def _shape(f: ParsedFile) -> tuple[object, ...]:
    """What other files read of a file besides its symbols (lines left out); a go.mod's
    module name decides where every Go import leads."""
    return (
        f.language,
        [s.name for s in f.symbols] if posixpath.basename(f.path) == "go.mod" else None,
        [(i.module, i.names, i.alias) for i in f.imports],
        [(r.target, r.source) for r in f.references if r.kind == "inherits"],
    )


def _changed_names(before: ParsedFile, after: ParsedFile) -> set[str]:
    """Names of symbols that came, went or changed kind or place (counted: a second
    definition makes a unique name ambiguous)."""
    old = Counter((s.name, s.qualname, s.kind, s.parent) for s in before.symbols)
    new = Counter((s.name, s.qualname, s.kind, s.parent) for s in after.symbols)
    return {key[0] for key in (old - new) + (new - old)}


def _mentions(f: ParsedFile) -> frozenset[str]:
    """Every name resolving a file's facts may look up: reference targets and scopes,
    imported names and modules, and the classes of methods declared outside them."""
    words: set[str] = set()
    for ref in f.references:
        words.update(NAME_RE.findall(ref.target))
        words.update((ref.source or "").split("."))
    for imp in f.imports:
        words.update(imp.names)
        words.update(NAME_RE.findall(f"{imp.module} {imp.alias or ''}"))
    for s in f.symbols:
        words.update((s.parent or "").split("."))
    return frozenset(words)


def _inherits(edges: Iterable[Edge]) -> set[Edge]:
    return {e for e in edges if e.kind == "inherits"}
