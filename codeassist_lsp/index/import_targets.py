"""Which workspace files an import statement points to, per language: Python modules
(absolute and relative), JS/TS paths, Go packages (by go.mod or directory), Rust module
paths, Java packages and classes, and relative paths for C/C++ and Ruby.

Only paths are involved here, never names: what an imported name stands for is
`module_names`' business.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence

from codeassist_lsp.index.model import Import, ParsedFile

_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


class FileTables:
    """Where the workspace's files are: by path, directory, basename, Python module name
    and Go module; one instance per resolution run."""

    def __init__(self, files: Sequence[ParsedFile]) -> None:
        self.files = {f.path: f for f in files}
        self.dirs: dict[str, list[str]] = defaultdict(list)
        self.basenames: dict[str, list[str]] = defaultdict(list)
        self.python_modules: dict[str, list[str]] = defaultdict(list)
        self.go_modules: list[tuple[str, str]] = []  # (directory, module path)
        for f in files:
            self._add(f)

    def _add(self, f: ParsedFile) -> None:
        directory = posixpath.dirname(f.path)
        self.dirs[directory].append(f.path)
        self.basenames[posixpath.basename(f.path)].append(f.path)
        if f.language == "python" and f.path.endswith((".py", ".pyi")):
            parts = f.path.rsplit(".", 1)[0].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            for i in range(len(parts)):
                self.python_modules[".".join(parts[i:])].append(f.path)
        if posixpath.basename(f.path) == "go.mod":
            for s in f.symbols:
                if s.kind == "module":
                    self.go_modules.append((directory, s.name))

    def language(self, path: str) -> str:
        f = self.files.get(path)
        return f.language if f is not None else ""

    def import_targets(self, path: str, imp: Import) -> tuple[str, ...]:
        """The workspace files an import statement brings in (none if external)."""
        language = self.language(path)
        if language in ("python", "notebook"):
            found = self.python_module(path, imp.module)
            if imp.names and imp.names != ("*",):
                subs = [self.python_module(path, join_dotted(imp.module, n)) for n in imp.names]
                found = (*found, *(s[0] for s in subs if s))
            return found
        if language in ("javascript", "typescript", "tsx"):
            return self._js_module(path, imp.module)
        if language == "go":
            return self._go_package(imp.module)
        if language == "rust":
            file, _ = self.rust_path(path, imp.module)
            if file is None:
                return ()
            children = [self.rust_path(path, f"{imp.module}::{n}")[0] for n in imp.names]
            sub_paths = [c for c in children if c is not None and c != file]
            return (file, *sub_paths)
        if language == "java":
            return self._java_files(imp)
        if language in ("c", "cpp", "ruby"):
            return self._relative_file(path, imp.module)
        return ()

    def python_module(self, path: str, module: str) -> tuple[str, ...]:
        """The file of a Python module, absolute or relative to `path` (none if external)."""
        if module.startswith("."):
            level = len(module) - len(module.lstrip("."))
            base = posixpath.dirname(path)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            rest = module[level:].replace(".", "/")
            target = posixpath.join(base, rest) if rest else base
            for candidate in (
                f"{target}.py",
                f"{target}/__init__.py",
                f"{target}.pyi",
                f"{target}/__init__.pyi",
            ):
                if candidate in self.files:
                    return (candidate,)
            return ()
        candidates = self.python_modules.get(module)
        if not candidates:
            return ()
        depth = module.count(".") + 1
        best = min(
            candidates,
            key=lambda c: (
                _module_depth(c) - depth,
                -_common_prefix(c, path),
                c.endswith(".pyi"),
            ),
        )
        return (best,)

    def _js_module(self, path: str, module: str) -> tuple[str, ...]:
        if module.startswith("."):
            base = posixpath.normpath(posixpath.join(posixpath.dirname(path), module))
            bases = [base]
        elif module.startswith(("@/", "~/")):
            bases = [module[2:], f"src/{module[2:]}"]
        elif module.startswith("/"):
            bases = [module.lstrip("/")]
        else:
            return ()
        for base in bases:
            stem = re.sub(r"\.(js|jsx|mjs|cjs)$", "", base)
            candidates = [base, *(stem + e for e in _JS_EXTENSIONS)]
            candidates += [f"{base}/index{e}" for e in _JS_EXTENSIONS]
            for candidate in candidates:
                if candidate in self.files:
                    return (candidate,)
        return ()

    def _go_package(self, module: str) -> tuple[str, ...]:
        for directory, prefix in self.go_modules:
            if module == prefix or module.startswith(prefix + "/"):
                rest = module[len(prefix) :].strip("/")
                target = posixpath.join(directory, rest) if rest else directory
                return tuple(p for p in self.dirs.get(target, ()) if p.endswith(".go"))
        for directory, paths in self.dirs.items():
            if directory and (module == directory or module.endswith("/" + directory)):
                go_files = tuple(p for p in paths if p.endswith(".go"))
                if go_files:
                    return go_files
        return ()

    def _rust_module_dir(self, path: str) -> str:
        directory, name = posixpath.split(path)
        if name in ("lib.rs", "main.rs", "mod.rs"):
            return directory
        return posixpath.join(directory, name[:-3])

    def _rust_module_file(self, directory: str) -> str | None:
        for candidate in ("mod.rs", "lib.rs", "main.rs"):
            joined = posixpath.join(directory, candidate)
            if joined in self.files:
                return joined
        parent, name = posixpath.split(directory)
        joined = posixpath.join(parent, f"{name}.rs")
        return joined if joined in self.files else None

    def _rust_crate_root(self, path: str) -> str | None:
        directory = posixpath.dirname(path)
        while True:
            for root in ("lib.rs", "main.rs"):
                if posixpath.join(directory, root) in self.files:
                    return directory
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def rust_path(self, path: str, module: str) -> tuple[str | None, list[str]]:
        """The file a `crate::a::b` path leads to and the segments left over as items."""
        segments = [s for s in module.split("::") if s]
        if not segments:
            return None, []
        head = segments[0]
        directory: str | None
        if head == "crate":
            directory = self._rust_crate_root(path)
        elif head == "self":
            directory = self._rust_module_dir(path)
        elif head == "super":
            directory = posixpath.dirname(self._rust_module_dir(path))
            while len(segments) > 1 and segments[1] == "super":
                directory = posixpath.dirname(directory)
                segments.pop(1)
        else:
            directory = self._rust_module_dir(path)
            if self._rust_child(directory, head) is None:
                return None, segments
            segments.insert(0, "self")
        if directory is None:
            return None, segments
        current = self._rust_module_file(directory)
        rest = segments[1:]
        while rest:
            child = self._rust_child(directory, rest[0])
            if child is None:
                break
            current, directory = child, posixpath.join(directory, rest[0])
            rest = rest[1:]
        return current, rest

    def _rust_child(self, directory: str, name: str) -> str | None:
        for candidate in (f"{directory}/{name}.rs", f"{directory}/{name}/mod.rs"):
            candidate = candidate.lstrip("/")
            if candidate in self.files:
                return candidate
        return None

    def _java_files(self, imp: Import) -> tuple[str, ...]:
        package_dir = imp.module.replace(".", "/")
        if imp.names == ("*",):
            return tuple(
                p
                for d, paths in self.dirs.items()
                if d == package_dir or d.endswith("/" + package_dir)
                for p in paths
                if p.endswith(".java")
            )
        as_class = self._path_with_suffix(f"{package_dir}.java")
        if as_class:
            return as_class
        found: list[str] = []
        for name in imp.names:
            found.extend(self._path_with_suffix(f"{package_dir}/{name}.java"))
        return tuple(found)

    def _path_with_suffix(self, suffix: str) -> tuple[str, ...]:
        name = posixpath.basename(suffix)
        return tuple(
            p for p in self.basenames.get(name, ()) if p == suffix or p.endswith("/" + suffix)
        )

    def _relative_file(self, path: str, module: str) -> tuple[str, ...]:
        module = module.strip("<>")
        language = self.language(path)
        names = [module, f"{module}.rb"] if language == "ruby" else [module]
        directory = posixpath.dirname(path)
        for name in names:
            local = posixpath.normpath(posixpath.join(directory, name))
            if local in self.files:
                return (local,)
        if module.startswith("."):
            return ()
        for name in names:
            found = self._path_with_suffix(name)
            if len(found) == 1:
                return found
        return ()


def join_dotted(module: str, name: str) -> str:
    return module + name if module.endswith(".") else f"{module}.{name}"


def _module_depth(path: str) -> int:
    parts = path.rsplit(".", 1)[0].split("/")
    return len(parts) - (1 if parts[-1] == "__init__" else 0)


def _common_prefix(a: str, b: str) -> int:
    return len(posixpath.commonpath([posixpath.dirname(a) or ".", posixpath.dirname(b) or "."]))
