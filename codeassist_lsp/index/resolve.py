"""Name resolution: which graph node each reference of a file points at.

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
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from codeassist_lsp.index.model import (
    ParsedFile,
    Reference,
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
