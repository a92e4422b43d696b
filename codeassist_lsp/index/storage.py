"""Where a workspace's index lives and opening its three stores together.

`<data_dir>/workspaces/<name>-<hash of the real path>/` holds `meta.duckdb`, `lance/` and
`tantivy/`: never inside the user's repository. A corrupt store, an old schema or an
embedder of another dimension means the index is rebuilt from scratch, with a notice. A data
dir that refuses writes (full, over quota, read-only) is never a reason to rebuild: it
becomes one clear `IndexStorageError` and the index keeps its last complete state.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.index.meta_store import IndexCorrupt, MetaStore, open_database
from codeassist_lsp.index.text_store import TextStore
from codeassist_lsp.index.vector_store import VectorStore, VectorStoreMismatch

log = logging.getLogger(__name__)


class IndexStorageError(CodeAssistError):
    """The data directory cannot hold the index (read-only, full, not a directory, in use)."""


# What a refused write looks like: an OSError's errno, or the text DuckDB, LanceDB (Rust
# "os error N") and tantivy put in their own exception types.
_REFUSED_WRITES = (
    (errno.ENOSPC, ("no space left on device", "os error 28"), "the disk is full", "free space"),
    (errno.EDQUOT, ("disk quota exceeded", "os error 122"), "over quota", "free space"),
    (errno.EROFS, ("read-only file system", "os error 30"), "read-only", "make it writable"),
)


def refused_write(exc: BaseException, directory: Path) -> IndexStorageError | None:
    """A clear error if `exc`, or an exception it was raised from, is a refused write.

    The chain is walked because the store libraries often wrap the OS error, or fail again
    while rolling back and hide it behind that second error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        for code, markers, reason, advice in _REFUSED_WRITES:
            if getattr(current, "errno", None) == code or any(m in text for m in markers):
                return IndexStorageError(
                    f"cannot write the index under {directory}: {reason}; indexing stopped and "
                    f"the index stays consistent ({advice}, then index again)"
                )
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def storage_errors(directory: Path) -> Iterator[None]:
    """Turn a refused write inside the block into an `IndexStorageError`."""
    try:
        yield
    except IndexStorageError:
        raise
    except Exception as exc:
        clear = refused_write(exc, directory)
        if clear is None:
            raise
        raise clear from exc


def _raise_if_refused(exc: BaseException, directory: Path) -> None:
    """Rebuilding on a refused write would only throw the last complete state away."""
    refused = refused_write(exc, directory)
    if refused is not None:
        raise refused from exc


# DuckDB's words for a file another process holds; damage ("checksum … in block …") also
# says "lock", so the whole phrase is matched.
_HELD_LOCK = re.compile(r"could not set lock on file|conflicting lock is held", re.IGNORECASE)
_LOCK_PID = re.compile(r"\(PID (\d+)\)")  # DuckDB names the process that holds the lock


def workspace_dir(data_dir: Path, root: Path) -> Path:
    """The per-workspace folder under the data dir, stable for a given real path."""
    digest = hashlib.sha1(str(root).encode("utf-8", "replace")).hexdigest()[:12]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name)[:40] or "root"
    return data_dir / "workspaces" / f"{name}-{digest}"


@dataclass
class WorkspaceStores:
    """The opened stores of one workspace; `lock` serialises writers and DuckDB access."""

    root: Path
    directory: Path
    meta: MetaStore
    vectors: VectorStore
    text: TextStore
    notices: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    read_only: bool = False  # a complete index on a read-only disk: searched, never updated

    def close(self) -> None:
        self.meta.close()


def _open(
    root: Path, directory: Path, dim: int, embedder_name: str, read_only: bool = False
) -> WorkspaceStores:
    meta = MetaStore(open_database(directory / "meta.duckdb", read_only=read_only))
    stored = meta.get_meta("embedder")
    if stored is not None and stored != embedder_name:
        meta.close()
        raise IndexCorrupt(f"index was built with embedder {stored}, now {embedder_name}")
    for key, value in (("embedder", embedder_name), ("root", str(root))):
        if meta.get_meta(key) != value and not read_only:  # a search writes nothing
            meta.set_meta(key, value)
    vectors = VectorStore(directory / "lance", dim)
    text = TextStore(directory / "tantivy", read_only=read_only)
    return WorkspaceStores(root, directory, meta, vectors, text, read_only=read_only)


def _open_read_only(
    root: Path, directory: Path, dim: int, embedder_name: str, refused: IndexStorageError
) -> WorkspaceStores:
    """An index that cannot be written (a read-only disk) is still searched as it is."""
    if not (directory / "meta.duckdb").is_file():
        raise refused
    try:
        stores = _open(root, directory, dim, embedder_name, read_only=True)
    except (duckdb.Error, IndexCorrupt, VectorStoreMismatch, ValueError, OSError) as exc:
        raise refused from exc
    stores.notices.append(
        f"the index in {directory} cannot be written: searching it as it is, without updates"
    )
    return stores


def open_stores(data_dir: Path, root: Path, dim: int, embedder_name: str) -> WorkspaceStores:
    """Open the workspace's stores, rebuilding them when they are corrupt or outdated."""
    directory = workspace_dir(data_dir, root)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        marker, content = directory / "workspace.json", json.dumps({"root": str(root)})
        if not marker.is_file() or marker.read_text() != content:
            marker.write_text(content)
    except OSError as exc:
        raise refused_write(exc, directory) or IndexStorageError(
            f"cannot write the index under {directory}: {exc.strerror or exc}"
        ) from exc
    try:
        return _open(root, directory, dim, embedder_name)
    except duckdb.IOException as exc:
        if _HELD_LOCK.search(str(exc)):
            pid = _LOCK_PID.search(str(exc))
            holder = f" (PID {pid.group(1)})" if pid else ""
            raise IndexStorageError(
                f"the index in {directory} is in use by another codeassist process{holder}: "
                "an editor with this folder open serves it; close that project there, or wait "
                "for the other command to finish"
            ) from exc
        failure: BaseException = exc
    except (IndexCorrupt, VectorStoreMismatch, ValueError, OSError, RuntimeError) as exc:
        failure = exc
    except duckdb.Error as exc:
        _raise_if_refused(exc, directory)
        raise
    refused = refused_write(failure, directory)
    if refused is not None:  # rebuilding would only throw the last complete state away
        return _open_read_only(root, directory, dim, embedder_name, refused)
    reason = str(failure)
    notice = f"rebuilding the index of {root}: {reason.splitlines()[0] if reason else 'unreadable'}"
    log.warning(notice)
    try:
        shutil.rmtree(directory)
        directory.mkdir(parents=True)
        stores = _open(root, directory, dim, embedder_name)
    except (OSError, duckdb.Error, IndexCorrupt) as exc:
        raise IndexStorageError(f"cannot rebuild the index in {directory}: {exc}") from exc
    stores.notices.append(notice)
    return stores
