"""Which files are build output that mirrors a source file of the workspace.

A `dist/` bundle, the `.d.ts` written next to its `.ts`, or a `build/lib/` copy of a Python
package repeat the names and words of their sources, so they match the same questions and
push the source down. Retrieval ranks them lower (`rag/priors.py`); they stay searchable.

A file counts as generated when:
- it is `NAME.d.ts` and `NAME.ts` or `NAME.tsx` sits in the same folder;
- it lies under a build folder (`dist/`, `build/`, `out/`) and the same path with that
  folder left out, or with it replaced by `src/`, is a source file of the workspace (a
  compiled `.js`, `.mjs` or `.cjs` matches its `.ts`, `.tsx`, `.js` or `.jsx`, and a
  `.d.ts` its `.d.ts`, `.ts` or `.tsx`);
- its text ends with a `sourceMappingURL` comment (a bundler's output).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from codeassist_lsp.index.model import Chunk

BUILD_DIRS = frozenset({"dist", "build", "out"})
_COMPILED = {
    ".js": (".ts", ".tsx", ".js", ".jsx"),
    ".mjs": (".ts", ".mts", ".js"),
    ".cjs": (".ts", ".cts", ".js"),
}
_SOURCE_MAP = "sourceMappingURL="
_TAIL_CHARS = 300  # of a file's last chunk: where a bundler writes its source map comment


def _declaration_source(path: PurePosixPath, paths: set[str]) -> str | None:
    if not path.name.endswith(".d.ts"):
        return None
    stem = path.name[: -len(".d.ts")]
    for ext in (".ts", ".tsx"):
        candidate = str(path.with_name(stem + ext))
        if candidate in paths:
            return candidate
    return None


def _source_names(path: PurePosixPath) -> list[str]:
    """File names that `path` may have been compiled from (`x.d.ts` from `x.ts`)."""
    if path.name.endswith(".d.ts"):
        stem = path.name[: -len(".d.ts")]
        return [path.name, stem + ".ts", stem + ".tsx"]
    return [path.stem + ext for ext in _COMPILED.get(path.suffix, (path.suffix,))]


def _mirror_source(path: PurePosixPath, paths: set[str]) -> str | None:
    names = _source_names(path)
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part not in BUILD_DIRS:
            continue
        above, rest = parts[:i], parts[i + 1 :]
        tails = [rest, rest[1:]] if rest[0] == "lib" and len(rest) > 1 else [rest]
        for tail in tails:  # `build/lib/pkg/mod.py` is setuptools' copy of `pkg/mod.py`
            for base in (above, (*above, "src")):
                same = PurePosixPath(*base, *tail)
                for name in names:
                    candidate = str(same.with_name(name))
                    if candidate != str(path) and candidate in paths:
                        return candidate
    return None


def generated_files(paths: Iterable[str], tails: Mapping[str, str]) -> dict[str, str]:
    """Generated files of the workspace and why (the source they come from, or "source
    map"), from every file's path and the end of its text (`tails`)."""
    known = set(paths)
    found: dict[str, str] = {}
    for path in sorted(known):
        pure = PurePosixPath(path)
        source = _declaration_source(pure, known) or _mirror_source(pure, known)
        if source is not None:
            found[path] = f"a build copy of {source}"
        elif _SOURCE_MAP in tails.get(path, ""):
            found[path] = "it ends with a source map comment"
    return found


def generated_chunk_files(chunks: Iterable[Chunk]) -> dict[str, str]:
    """`generated_files` over an index's chunks: the paths they cover, and the end of the
    last chunk of each file as its tail."""
    last: dict[str, Chunk] = {}
    for chunk in chunks:
        seen = last.get(chunk.path)
        if seen is None or chunk.end_line > seen.end_line:
            last[chunk.path] = chunk
    tails = {path: chunk.text[-_TAIL_CHARS:] for path, chunk in last.items()}
    return generated_files(last, tails)
