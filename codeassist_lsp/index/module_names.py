"""What the module-level names of each workspace file stand for: its own top-level
definitions, the names its imports bind (modules, symbols, default exports, things
outside the workspace), names re-exported through other files, and the top-level names
of its Go or Java package.

`resolve.Workspace` builds reference resolution on top of these tables.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from codeassist_lsp.index.import_targets import FileTables, join_dotted
from codeassist_lsp.index.model import Import, ParsedFile, Symbol, file_node, symbol_node

LANGUAGE_FAMILY = {
    "python": "python",
    "notebook": "python",
    "javascript": "ecma",
    "typescript": "ecma",
    "tsx": "ecma",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "c",
    "ruby": "ruby",
}

PACKAGE_SCOPED = frozenset({"go", "java"})
MAX_DEPTH = 12
# What an imported name leading to nothing in the workspace stands for: no node, and no
# workspace-wide guess either.
BLOCKED = "blocked"


@dataclass(frozen=True)
class _Binding:
    """What a name bound by an import refers to."""

    kind: str  # module | symbol | default | external
    paths: tuple[str, ...] = ()
    name: str = ""


_EXTERNAL = _Binding("external")


class ModuleNames:
    """Lookup tables over all parsed files and the names bound at their top level; one
    instance per resolution run."""

    def __init__(self, files: Sequence[ParsedFile]) -> None:
        self.tables = FileTables(files)
        self.files = self.tables.files
        self.dirs = self.tables.dirs
        self.symbols: dict[str, dict[str, Symbol]] = {}
        self.top: dict[str, dict[str, str]] = {}
        self.by_name: dict[tuple[str, str], list[tuple[str, Symbol]]] = defaultdict(list)
        for f in files:
            self._add(f)
        self._bindings: dict[str, tuple[dict[str, _Binding], list[str], list[str]]] = {}
        self._exports: dict[tuple[str, str], str | None] = {}

    def _add(self, f: ParsedFile) -> None:
        table: dict[str, Symbol] = {}
        top: dict[str, str] = {}
        family = LANGUAGE_FAMILY.get(f.language)
        for s in f.symbols:
            if s.qualname in table:
                continue  # an overload, a setter, a redefinition: the same node again
            table[s.qualname] = s
            if s.parent is None:
                top.setdefault(s.name, s.qualname)
            if family is not None:
                self.by_name[(family, s.name)].append((f.path, s))
        self.symbols[f.path] = table
        self.top[f.path] = top

    def language(self, path: str) -> str:
        return self.tables.language(path)

    # --- bindings ------------------------------------------------------------------

    def bindings(self, path: str) -> tuple[dict[str, _Binding], list[str], list[str]]:
        """Names bound by the imports of a file, its wildcard sources and import targets."""
        cached = self._bindings.get(path)
        if cached is not None:
            return cached
        names: dict[str, _Binding] = {}
        wildcards: list[str] = []
        targets: list[str] = []
        self._bindings[path] = (names, wildcards, targets)
        f = self.files.get(path)
        for imp in f.imports if f is not None else ():
            found = self.tables.import_targets(path, imp)
            targets.extend(p for p in found if p != path)
            self._bind(path, imp, found, names, wildcards)
        return names, wildcards, targets

    def _bind(
        self,
        path: str,
        imp: Import,
        found: tuple[str, ...],
        names: dict[str, _Binding],
        wildcards: list[str],
    ) -> None:
        language = self.language(path)
        if imp.names == ("*",) or language in ("c", "cpp", "ruby"):
            wildcards.extend(found if language in ("go", "java", "c", "cpp", "ruby") else found[:1])
            return
        if not imp.names:
            if language in ("python", "notebook") and imp.alias is None:
                names[imp.module] = _Binding("module", found) if found else _EXTERNAL
                head = self.tables.python_module(path, imp.module.split(".")[0])
                names.setdefault(
                    imp.module.split(".")[0], _Binding("module", head) if head else _EXTERNAL
                )
                return
            local = imp.alias or _default_alias(language, imp.module)
            if local:
                names[local] = _Binding("module", found) if found else _EXTERNAL
            return
        python = language in ("python", "notebook")
        base = self.tables.python_module(path, imp.module) if python else found[:1]
        for name in imp.names:
            local = imp.alias if imp.alias and len(imp.names) == 1 else name
            names[local] = self._member_binding(path, imp, base, name)

    def _member_binding(
        self, path: str, imp: Import, module: tuple[str, ...], name: str
    ) -> _Binding:
        language = self.language(path)
        if language in ("python", "notebook"):
            sub = self.tables.python_module(path, join_dotted(imp.module, name))
            if sub:
                return _Binding("module", sub)
        if not module:
            return _EXTERNAL
        if name == "default":
            return _Binding("default", module, imp.alias or name)
        if language == "rust":
            file, rest = self.tables.rust_path(path, f"{imp.module}::{name}")
            if file is not None and not rest and file != module[0]:
                return _Binding("module", (file,))
            _, rest = self.tables.rust_path(path, imp.module)
            return _Binding("symbol", module, ".".join([*rest, name]))
        elif (
            language == "java"
            and module
            and module[0].endswith("/" + imp.module.replace(".", "/") + ".java")
        ):
            return _Binding("symbol", module, f"{imp.module.rsplit('.', 1)[-1]}.{name}")
        elif language == "java":
            exact = [p for p in module if posixpath.basename(p) == f"{name}.java"]
            return _Binding("symbol", tuple(exact) or module, name)
        return _Binding("symbol", module, name)

    # --- lookups -------------------------------------------------------------------

    def export(self, path: str, name: str, depth: int = 0) -> str | None:
        """The node a module-level name of a file stands for, following re-exports."""
        key = (path, name)
        if key in self._exports:
            return self._exports[key]
        self._exports[key] = None  # a re-export cycle ends here
        found = self._export(path, name, depth) if depth <= MAX_DEPTH else None
        self._exports[key] = found
        return found

    def _export(self, path: str, name: str, depth: int) -> str | None:
        qualname = self.top.get(path, {}).get(name)
        if qualname is not None:
            return symbol_node(path, qualname)
        sibling = self._in_package(path, name)
        if sibling is not None:
            return sibling
        names, wildcards, _ = self.bindings(path)
        binding = names.get(name)
        if binding is not None:
            target = self._follow(binding, depth + 1)
            return target if target != BLOCKED else None
        for source in wildcards:
            found = self.export(source, name, depth + 1)
            if found is not None:
                return found
        return None

    def _follow(self, binding: _Binding, depth: int) -> str | None:
        if binding.kind == "external":
            return BLOCKED
        if binding.kind == "module":
            return file_node(binding.paths[0]) if binding.paths else BLOCKED
        for path in binding.paths:
            if binding.kind == "default":
                found = self.export(path, binding.name, depth) or self._sole_export(path)
                return found or file_node(path)
            if "." in binding.name:
                found = self.symbol_in(path, binding.name)
            else:
                found = self.export(path, binding.name, depth)
            if found is not None:
                return found
        return BLOCKED

    def _in_package(self, path: str, name: str) -> str | None:
        """A top-level name of another file of the same Go or Java package."""
        language = self.language(path)
        if language not in PACKAGE_SCOPED:
            return None
        for sibling in self.dirs.get(posixpath.dirname(path), ()):
            if sibling != path and self.language(sibling) == language:
                qualname = self.top.get(sibling, {}).get(name)
                if qualname is not None:
                    return symbol_node(sibling, qualname)
        return None

    def _sole_export(self, path: str) -> str | None:
        top = [
            q
            for q in self.top.get(path, {}).values()
            if self.symbols[path][q].kind in ("class", "function")
        ]
        return symbol_node(path, top[0]) if len(top) == 1 else None

    def symbol_in(self, path: str, qualname: str) -> str | None:
        return symbol_node(path, qualname) if qualname in self.symbols.get(path, {}) else None


def _default_alias(language: str, module: str) -> str:
    if language == "go":
        parts = module.split("/")
        last = parts[-1]
        if re.fullmatch(r"v\d+", last) and len(parts) > 1:
            last = parts[-2]
        return re.sub(r"^go-|[.-]go$", "", last).replace("-", "_")
    if language == "rust":
        return module.split("::")[-1]
    return ""
