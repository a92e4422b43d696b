"""The code graph: files and symbols joined by defines, contains, imports and uses.

Names are resolved without a type checker, in this order: the enclosing scopes and the
same file (with the enclosing class for `self.`/`this.` and Go receivers), explicitly
imported names, members of imported modules (`mod.func`), wildcard imports and the
same package (Go, Java), then a name defined exactly once in the workspace (same
language family). A name bound to something outside the workspace, or defined more than
once, gets no edge: the graph prefers a missing edge to a wrong one.
"""

from __future__ import annotations

import builtins
import posixpath
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from codeassist_lsp.index.model import (
    Edge,
    ParsedFile,
    Reference,
    Symbol,
    file_node,
    node_path,
    split_symbol_node,
    symbol_node,
)
from codeassist_lsp.index.module_names import (
    BLOCKED,
    LANGUAGE_FAMILY,
    MAX_DEPTH,
    PACKAGE_SCOPED,
    ModuleNames,
)

# Bump when resolution changes the edges of unchanged facts: stored edges resolved by
# another version are resolved again (see `MetaStore.edges_current`).
RESOLUTION_VERSION = 2


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SELF_NAMES = frozenset({"self", "this", "cls", "Self", "@"})
_IMPLICIT_THIS = frozenset({"java", "cpp", "ruby"})
_CLASS_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "type"})
# Names so common on unrelated types that a workspace-wide guess would mislead.
_COMMON_NAMES = _words(
    """
    get set append extend add update pop remove insert clear copy items keys values format
    join split strip replace startswith endswith lower upper encode decode read write close
    open run call apply bind push map filter reduce forEach then catch finally log error warn
    info debug toString valueOf slice splice concat indexOf includes find has delete send
    next iter into unwrap expect clone collect to_string len new default from as_ref as_str
    Println Printf Sprintf Errorf Error String equals hashCode size isEmpty sort index count
    main setUp tearDown length emit on off start stop reset init __init__ __call__ __enter__
    __exit__
    """
)
_PYTHON_BUILTINS = frozenset(dir(builtins))
_GO_RECEIVER = re.compile(r"^func\s*\(\s*(\w+)\s")
_SPLIT = re.compile(r"::|\.|->")
NAME_RE = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True)
class Resolved:
    """One reference of a file resolved to a graph node."""

    path: str
    line: int
    kind: str  # calls | references | inherits
    source: str  # node id
    target: str  # node id
    how: str  # local | import | package | global


class Workspace(ModuleNames):
    """Resolves references against the lookup tables over all parsed files; one instance
    per resolution run."""

    def __init__(self, files: Sequence[ParsedFile]) -> None:
        super().__init__(files)
        self._bases: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def member(self, path: str, owner: str, name: str, depth: int = 0) -> str | None:
        """`owner.name` in the file of owner, its package siblings or its base classes."""
        qualname = f"{owner}.{name}"
        found = self.symbol_in(path, qualname)
        if found is not None:
            return found
        language = self.language(path)
        if language in PACKAGE_SCOPED or language == "rust":
            directory = posixpath.dirname(path)
            for sibling in self.dirs.get(directory, ()):
                found = self.symbol_in(sibling, qualname)
                if found is not None:
                    return found
        if depth >= MAX_DEPTH:
            return None
        for base_path, base in self.bases(path, owner):
            found = self.member(base_path, base, name, depth + 1)
            if found is not None:
                return found
        return None

    def bases(self, path: str, owner: str) -> list[tuple[str, str]]:
        """The classes `owner` inherits from, resolved to (path, qualname)."""
        key = (path, owner)
        cached = self._bases.get(key)
        if cached is not None:
            return cached
        self._bases[key] = []
        f = self.files.get(path)
        found: list[tuple[str, str]] = []
        for ref in f.references if f is not None else ():
            if ref.kind == "inherits" and ref.source == owner:
                target, _ = self.resolve(path, ref)
                if target and target.startswith("sym:"):
                    base_path, base = split_symbol_node(target)
                    found.append((base_path, base))
        self._bases[key] = found
        return found

    # --- resolution ----------------------------------------------------------------

    def resolve(self, path: str, ref: Reference) -> tuple[str | None, str]:
        """The node a reference points at and how it was found; (None, "") if unsure."""
        parts = [p for p in _SPLIT.split(ref.target) if p]
        if not parts:
            return None, ""
        if len(parts) == 1:
            return _settled(self.resolve_name(path, ref.source, parts[0]))
        if parts[0] == "super" or parts[0].startswith("super("):
            return self._super_member(path, ref, parts)
        if parts[0] in _SELF_NAMES or parts[0] == self._receiver(path, ref.source):
            owner = self._enclosing_class(path, ref.source)
            if owner is not None and len(parts) == 2:
                found = self.member(path, owner, parts[1]) or self._member_elsewhere(
                    path, owner, parts[1]
                )
                return (found, "local") if found is not None else (None, "")
            return self._guess_member(path, ref, parts)
        if self.language(path) == "rust" and parts[0] in ("crate", "super", "self"):
            return self._rust_qualified(path, ref.target)
        return self._qualified(path, ref, parts)

    def _super_member(self, path: str, ref: Reference, parts: list[str]) -> tuple[str | None, str]:
        owner = self._enclosing_class(path, ref.source)
        if owner is None or len(parts) != 2:
            return None, ""
        for base_path, base in self.bases(path, owner):
            found = self.member(base_path, base, parts[1])
            if found is not None:
                return found, "local"
        return None, ""

    def _member_elsewhere(self, path: str, owner: str, name: str) -> str | None:
        """A member of a class declared in another file (Rust impl, Go receiver)."""
        found, _ = self.resolve_name(path, None, owner.split(".")[0])
        if found is None or not found.startswith("sym:"):
            return None
        owner_path, qualname = split_symbol_node(found)
        return self.member(owner_path, qualname, name)

    def _qualified(self, path: str, ref: Reference, parts: list[str]) -> tuple[str | None, str]:
        """`mod.func`, `pkg.sub.Class.method`, `Router().add`: resolve the head, then walk."""
        if parts[0].startswith("…") or any("[" in p for p in parts[:-1]):
            return self._guess_member(path, ref, parts)
        names, _, _ = self.bindings(path)
        start = 1
        current: str | None = None
        how = "import"
        for k in range(len(parts) - 1, 1, -1):
            dotted = ".".join(parts[:k])
            if dotted in names:
                current = self._follow(names[dotted], 0)
                if current == BLOCKED:
                    return None, ""
                start = k
                break
        if current is None:
            current, how = self.resolve_name(
                path, ref.source, parts[0].removesuffix("()"), guess=False
            )
            if how == BLOCKED:
                return None, ""
            if current is None:
                return self._guess_member(path, ref, parts)
        found = self._walk(current, parts[start - 1 : start], parts[start:])
        if found is None and any(p.endswith("()") for p in parts[:-1]):
            return self._guess_member(path, ref, parts)
        return (found, how) if found is not None else (None, "")

    def _walk(self, current: str, head: list[str], rest: list[str]) -> str | None:
        """Follow members from a node; calling a class gives an instance of it."""
        called = bool(head) and head[0].endswith("()")
        for part in rest:
            if called and not self._is_class(current):
                return None
            name = part.removesuffix("()")
            called = part.endswith("()")
            if current.startswith("file:"):
                found = self.export(node_path(current), name)
            else:
                owner_path, owner = split_symbol_node(current)
                found = self.member(owner_path, owner, name)
            if found is None:
                return None
            current = found
        return current

    def _is_class(self, node: str) -> bool:
        if not node.startswith("sym:"):
            return False
        path, qualname = split_symbol_node(node)
        symbol = self.symbols.get(path, {}).get(qualname)
        return symbol is not None and symbol.kind in _CLASS_KINDS

    def _rust_qualified(self, path: str, target: str) -> tuple[str | None, str]:
        file, rest = self.tables.rust_path(path, target)
        if file is None or not rest:
            return (file_node(file), "import") if file is not None else (None, "")
        found = self.export(file, rest[0])
        for part in rest[1:]:
            if found is None or not found.startswith("sym:"):
                return None, ""
            owner_path, owner = split_symbol_node(found)
            found = self.member(owner_path, owner, part)
        return (found, "import") if found is not None else (None, "")

    def resolve_name(
        self, path: str, source: str | None, name: str, *, guess: bool = True
    ) -> tuple[str | None, str]:
        """A bare name: enclosing scopes, the file, imports, wildcards, package, workspace.

        `how` is "blocked" when the name is bound to something outside the workspace.
        """
        table = self.symbols.get(path, {})
        language = self.language(path)
        scope = source
        while scope:
            owner = table.get(scope)
            if owner is None or owner.kind not in _CLASS_KINDS or language in _IMPLICIT_THIS:
                qualname = f"{scope}.{name}"
                if qualname in table:
                    return symbol_node(path, qualname), "local"
            scope = scope.rpartition(".")[0]
        top = self.top.get(path, {}).get(name)
        if top is not None:
            return symbol_node(path, top), "local"
        names, wildcards, _ = self.bindings(path)
        binding = names.get(name)
        if binding is not None:
            target = self._follow(binding, 0)
            return (None, BLOCKED) if target == BLOCKED else (target, "import")
        for source_path in wildcards:
            found = self.export(source_path, name)
            if found is not None:
                return found, "import"
        sibling = self._in_package(path, name)
        if sibling is not None:
            return sibling, "package"
        if not guess or self._too_common(language, name):
            return None, ""
        family = LANGUAGE_FAMILY.get(language, "")
        candidates = [s for s in self.by_name.get((family, name), ()) if s[1].parent is None]
        if len(candidates) != 1:
            return None, ""
        return symbol_node(candidates[0][0], candidates[0][1].qualname), "global"

    def _too_common(self, language: str, name: str) -> bool:
        return name in _COMMON_NAMES or (language == "python" and name in _PYTHON_BUILTINS)

    def _guess_member(self, path: str, ref: Reference, parts: list[str]) -> tuple[str | None, str]:
        """`x.name()` with x of unknown type: a method of that name on a class that x's
        name resembles (`st` → Store, `self.client` → Client); with no name to go by
        (a call chain), the one method so named in the workspace."""
        name, receiver = parts[-1], parts[-2]
        language = self.language(path)
        if self._too_common(language, name):
            return None, ""
        source = self.source_node(path, ref.source)
        candidates = [
            (p, s)
            for p, s in self.by_name.get((LANGUAGE_FAMILY.get(language, ""), name), ())
            if s.kind == "method" and symbol_node(p, s.qualname) != source
        ]
        if NAME_RE.fullmatch(receiver):
            candidates = [
                (p, s)
                for p, s in candidates
                if _resembles(receiver, (s.parent or "").split(".")[-1])
            ]
        if len(candidates) != 1:
            return None, ""
        return symbol_node(candidates[0][0], candidates[0][1].qualname), "global"

    def _enclosing_class(self, path: str, source: str | None) -> str | None:
        """The innermost class around a scope; a scope that is no symbol here (a Rust
        impl, a Go receiver declared in another file) counts as the class."""
        table = self.symbols.get(path, {})
        scope = source
        while scope:
            symbol = table.get(scope)
            if symbol is None or symbol.kind in _CLASS_KINDS:
                return scope
            scope = scope.rpartition(".")[0]
        return None

    def _receiver(self, path: str, source: str | None) -> str | None:
        if source is None or self.language(path) != "go":
            return None
        symbol = self.symbols.get(path, {}).get(source)
        match = _GO_RECEIVER.match(symbol.signature) if symbol is not None else None
        return match.group(1) if match else None

    def source_node(self, path: str, source: str | None) -> str:
        if source is None:
            return file_node(path)
        if source in self.symbols.get(path, {}):
            return symbol_node(path, source)
        found, _ = self.resolve_name(path, None, source.split(".")[0])
        return found if found is not None and found.startswith("sym:") else file_node(path)


def _settled(found: tuple[str | None, str]) -> tuple[str | None, str]:
    return (None, "") if found[1] == BLOCKED else found


def _resembles(variable: str, type_name: str) -> bool:
    """Whether a variable's name suggests its type: st/Store, cfg/Config, http_client/Client."""
    short, full = variable.lower().strip("_"), type_name.lower()
    if not short or not full:
        return False
    if full.startswith(short) or full.endswith(short) or short.endswith(full):
        return True
    if short[0] != full[0]:
        return False
    letters = iter(full)
    return all(ch in letters for ch in short)


def resolve_references(
    files: Sequence[ParsedFile], paths: Collection[str] | None = None
) -> list[Resolved]:
    """Every reference (of the files in `paths`, default all) that resolves, with its line."""
    workspace = Workspace(files)
    out: list[Resolved] = []
    for f in files:
        if paths is not None and f.path not in paths:
            continue
        for ref in f.references:
            target, how = workspace.resolve(f.path, ref)
            if target is None:
                continue
            source = workspace.source_node(f.path, ref.source)
            if source == target and ref.kind != "calls":
                continue
            out.append(Resolved(f.path, ref.line, ref.kind, source, target, how))
    return out


def resolve_edges(files: Sequence[ParsedFile], paths: Collection[str] | None = None) -> list[Edge]:
    """Deduplicated edges that start in the files of `paths` (default: all files).

    Targets may lie in any file: `CodeGraph.update` works out which files to re-resolve.
    """
    edges: dict[Edge, None] = {}
    for found in resolve_file_edges(files, paths).values():
        edges.update(dict.fromkeys(found))
    return list(edges)


def resolve_file_edges(
    files: Sequence[ParsedFile], paths: Collection[str] | None = None
) -> dict[str, list[Edge]]:
    """The edges each file (of `paths`, default all) produces, kept apart so that one
    file's edges can be replaced without resolving the others again."""
    workspace = Workspace(files)
    return {f.path: _file_edges(workspace, f) for f in files if paths is None or f.path in paths}


def _file_edges(workspace: Workspace, f: ParsedFile) -> list[Edge]:
    """The deduplicated edges of one file's facts; a source may lie in another file."""
    edges: dict[Edge, None] = dict.fromkeys(_structure(workspace, f))
    _, _, imported = workspace.bindings(f.path)
    for path in imported:
        edges.setdefault(Edge(file_node(f.path), file_node(path), "imports"))
    for ref in f.references:
        target, _ = workspace.resolve(f.path, ref)
        if target is None:
            continue
        source = workspace.source_node(f.path, ref.source)
        if source != target or ref.kind == "calls":
            edges.setdefault(Edge(source, target, ref.kind))
    return list(edges)


def _structure(workspace: Workspace, f: ParsedFile) -> Iterable[Edge]:
    table = workspace.symbols[f.path]
    for s in f.symbols:
        node = symbol_node(f.path, s.qualname)
        if s.parent is not None and s.parent in table:
            yield Edge(symbol_node(f.path, s.parent), node, "contains")
            continue
        yield Edge(file_node(f.path), node, "defines")
        if s.parent is not None:
            owner, _ = workspace.resolve_name(f.path, None, s.parent.split(".")[0])
            if owner is not None and owner.startswith("sym:"):
                yield Edge(owner, node, "contains")


def graph_nodes(files: Iterable[ParsedFile]) -> list[tuple[str, dict[str, object]]]:
    """Node ids with the attributes the graph keeps: what hover and search need.

    Definitions sharing a qualified name in a file (overloads, a property's getter and
    setter, a redefinition) are one node, as a reference by name cannot tell them apart:
    it describes the first and lists the line ranges of all, in file order, as `ranges`.
    """
    nodes: dict[str, dict[str, object]] = {}
    for f in files:
        nodes[file_node(f.path)] = {"type": "file", "path": f.path, "language": f.language}
        ranges: dict[str, list[tuple[int, int]]] = {}
        for s in f.symbols:
            node = symbol_node(f.path, s.qualname)
            if node not in ranges:
                ranges[node] = []
                nodes[node] = _symbol_attributes(f, s, ranges[node])
            ranges[node].append((s.start_line, s.end_line))
    return list(nodes.items())


def _symbol_attributes(
    f: ParsedFile, s: Symbol, ranges: list[tuple[int, int]]
) -> dict[str, object]:
    return {
        "type": "symbol",
        "path": f.path,
        "language": f.language,
        "name": s.name,
        "qualname": s.qualname,
        "kind": s.kind,
        "start_line": s.start_line,
        "end_line": s.end_line,
        "ranges": ranges,
        "signature": s.signature,
    }


def graph_from_edges(
    edges: Iterable[Edge], nodes: Iterable[tuple[str, dict[str, object]]]
) -> nx.MultiDiGraph:
    """A graph from stored rows; one edge per (source, target, kind), keyed by kind."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(nodes)
    for edge in edges:
        graph.add_edge(edge.source, edge.target, key=edge.kind, kind=edge.kind)
    return graph


def build_graph(files: Sequence[ParsedFile]) -> nx.MultiDiGraph:
    """Resolve and assemble the whole graph in one go."""
    return graph_from_edges(resolve_edges(files), graph_nodes(files))


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
            found = {p: _file_edges(workspace, self.files[p]) for p in paths if p in self.files}
            if all(_inherits(found.get(p, ())) == _inherits(self.edges.get(p, ())) for p in paths):
                self.edges.update(found)
                redone = paths
        if redone is None:
            self.edges = {f.path: _file_edges(workspace, f) for f in self.files.values()}
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

    def _build(self) -> nx.MultiDiGraph:
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
