"""Which files of a workspace get indexed, and reading them safely.

Honours nested `.gitignore` and `.codeassistignore` files and the `exclude` setting; skips
binary, oversized, minified, vendored and dependency lock files and never follows a symlink
(a link to a file inside the workspace is indexed at its real path, a link out of it not at
all). Every skip has a reason that is logged and counted.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codeassist_lsp.errors import CodeAssistError

if TYPE_CHECKING:
    import pathspec

log = logging.getLogger(__name__)

IGNORE_FILES = (".gitignore", ".codeassistignore")

# Directories that are never the user's own code: tool caches and vendored dependencies.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".jj",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".gradle",
        ".eggs",
        "site-packages",
        "vendor",
        "third_party",
        "target",
        ".next",
        ".nuxt",
    }
)

BINARY_EXTENSIONS = frozenset(
    ".png .jpg .jpeg .gif .bmp .ico .webp .tiff .pdf .zip .gz .tgz .bz2 .xz .7z .rar .jar"
    " .war .class .so .dylib .dll .exe .o .a .lib .pyc .pyo .whl .egg .bin .dat .db .sqlite"
    " .sqlite3 .duckdb .parquet .arrow .lance .npy .npz .pkl .pickle .pt .pth .onnx .gguf"
    " .safetensors .h5 .woff .woff2 .ttf .otf .eot .mp3 .mp4 .wav .ogg .flac .mov .avi"
    " .webm .iso .img .dmg .lock.bin".split()
)

# Dependency lock files: thousands of lines of pinned versions and hashes that only turn
# into chunks nobody asks about. Any `*.lock` name counts too (flake.lock, mix.lock, ...).
LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "cargo.lock",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "go.sum",
        "composer.lock",
        "gemfile.lock",
        "podfile.lock",
        "packages.lock.json",
    }
)

SNIFF_BYTES = 8192


@dataclass(frozen=True)
class WorkspaceFile:
    """A file chosen for indexing."""

    path: str  # workspace-relative, POSIX separators
    abs_path: Path
    size: int
    mtime_ns: int


@dataclass
class WalkResult:
    """The files to index and the ones skipped, each with its reason."""

    files: list[WorkspaceFile] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason


class WorkspaceError(CodeAssistError):
    """The workspace path cannot be indexed (missing, not a directory, unreadable)."""


def check_workspace(root: Path) -> Path:
    """Return the resolved workspace root or raise `WorkspaceError` with a clear message."""
    try:
        resolved = root.expanduser().resolve()
    except OSError as exc:
        raise WorkspaceError(f"cannot resolve {root}: {exc}") from exc
    if not resolved.exists():
        raise WorkspaceError(f"{root} does not exist")
    if not resolved.is_dir():
        raise WorkspaceError(f"{root} is not a directory")
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise WorkspaceError(f"{root} is not readable")
    return resolved


@dataclass
class _Rules:
    base: str  # workspace-relative directory the patterns are relative to ("" for root)
    spec: pathspec.GitIgnoreSpec


def _spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """Compiled ignore patterns; pathspec (~20 ms to import) loads with the first walk, as a
    search of an indexed workspace walks nothing."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _read_rules(directory: Path, base: str) -> list[_Rules]:
    rules = []
    for name in IGNORE_FILES:
        candidate = directory / name
        if candidate.is_file() and not candidate.is_symlink():
            try:
                lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError as exc:
                log.warning("cannot read %s: %s", candidate, exc)
                continue
            rules.append(_Rules(base, _spec(lines)))
    return rules


def _ignored(rel: str, is_dir: bool, rules: list[_Rules]) -> bool:
    """Git semantics: later (deeper) rules win, negations included."""
    verdict = False
    for rule in rules:
        sub = rel[len(rule.base) + 1 :] if rule.base else rel
        if is_dir:
            sub += "/"
        result = rule.spec.check_file(sub)
        if result.include is not None:
            verdict = result.include
    return verdict


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def walk_workspace(
    root: Path, max_file_bytes: int = 1_000_000, exclude: list[str] | None = None
) -> WalkResult:
    """List the indexable files under `root` (already checked with `check_workspace`)."""
    result = WalkResult()
    base_rules = [_Rules("", _spec(exclude or []))]
    stack: list[tuple[Path, str, list[_Rules]]] = [(root, "", base_rules + _read_rules(root, ""))]
    while stack:
        directory, rel_dir, rules = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            result.skipped[rel_dir or "."] = f"unreadable directory: {exc.strerror}"
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not _utf8(entry.name):  # the stores and the protocol speak UTF-8 only
                result.skipped[_printable(rel)] = "its name is not valid UTF-8"
                continue
            try:
                if entry.is_symlink():
                    target = Path(entry.path).resolve()
                    where = "inside" if _inside(target, root) else "outside"
                    result.skipped[rel] = f"symlink to {where} the workspace"
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    if entry.name in SKIP_DIRS:
                        result.skipped[rel + "/"] = "vendored or tool directory"
                    elif _ignored(rel, True, rules):
                        result.skipped[rel + "/"] = "ignored"
                    else:
                        stack.append(
                            (Path(entry.path), rel, rules + _read_rules(Path(entry.path), rel))
                        )
                    continue
                if not entry.is_file(follow_symlinks=False) or entry.name in IGNORE_FILES:
                    continue
                if _ignored(rel, False, rules):
                    result.skipped[rel] = "ignored"
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                result.skipped[rel] = f"unreadable: {exc.strerror}"
                continue
            reason = _skip_reason(Path(entry.path), entry.name, st, max_file_bytes)
            if reason:
                result.skipped[rel] = reason
                continue
            result.files.append(WorkspaceFile(rel, Path(entry.path), st.st_size, st.st_mtime_ns))
    result.files.sort(key=lambda f: f.path)
    for path, reason in result.skipped.items():
        log.debug("skip %s: %s", path, reason)
    return result


def _utf8(name: str) -> bool:
    """Whether a file name decoded from the file system is UTF-8 (Python keeps the other
    bytes as lone surrogates, which no UTF-8 store or JSON message can carry)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(name: str) -> str:
    """`name` with the bytes that are not UTF-8 shown as replacement characters."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _skip_reason(path: Path, name: str, st: os.stat_result, max_bytes: int) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    lower = name.lower()
    if lower in LOCK_FILES or lower.endswith(".lock"):
        return "lock file"
    suffix = os.path.splitext(lower)[1]
    if suffix in BINARY_EXTENSIONS:
        return "binary file type"
    if st.st_size > max_bytes:
        return f"larger than {max_bytes} bytes"
    if ".min." in lower or lower.endswith(".map"):
        return "minified or generated"
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    if b"\0" in head:
        return "binary content"
    if looks_minified(head):
        return "minified or generated"
    return None


def looks_minified(head: bytes) -> bool:
    """Very long lines with little whitespace: bundled or minified output."""
    lines = head.split(b"\n")
    longest = max((len(line) for line in lines), default=0)
    return longest > 2000 and len(lines) < 8


def skip_reason_for_text(text: str, max_file_bytes: int = 1_000_000) -> str | None:
    """Why an unsaved editor buffer would not be indexed: the file rules applied to its text."""
    data = text.encode("utf-8", errors="replace")
    if len(data) > max_file_bytes:
        return f"larger than {max_file_bytes} bytes"
    head = data[:SNIFF_BYTES]
    if b"\0" in head:
        return "binary content"
    if looks_minified(head):
        return "minified or generated"
    return None


def read_text(path: Path) -> str:
    """Read a file as text; undecodable bytes are replaced, never fatal."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def skip_reason_for(
    root: Path, rel: str, max_file_bytes: int = 1_000_000, exclude: list[str] | None = None
) -> str | None:
    """Why one workspace file would not be indexed (None: it would be), for single updates."""
    parts = rel.split("/")
    if any(part in SKIP_DIRS for part in parts[:-1]):
        return "vendored or tool directory"
    if parts[-1] in IGNORE_FILES:
        return "ignore file"
    rules = [_Rules("", _spec(exclude or []))]
    rules += _read_rules(root, "")
    for depth in range(1, len(parts)):
        sub = "/".join(parts[:depth])
        if _ignored(sub, True, rules):
            return "ignored"
        rules += _read_rules(root / sub, sub)
    if _ignored(rel, False, rules):
        return "ignored"
    path = root / rel
    try:
        if path.is_symlink():
            return "symlink"
        if not _inside(path.resolve(), root):
            return "outside the workspace"
        st = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return _skip_reason(path, parts[-1], st, max_file_bytes)
