"""Where a workspace's index lives and opening its three stores together.

`<data_dir>/workspaces/<name>-<hash of the real path>/` holds `meta.duckdb`, `lance/` and
`tantivy/`: never inside the user's repository. A corrupt store, an old schema or an
embedder of another dimension means the index is rebuilt from scratch, with a notice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
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

    def close(self) -> None:
        self.meta.close()


def _open(root: Path, directory: Path, dim: int, embedder_name: str) -> WorkspaceStores:
    meta = MetaStore(open_database(directory / "meta.duckdb"))
    stored = meta.get_meta("embedder")
    if stored is not None and stored != embedder_name:
        meta.close()
        raise IndexCorrupt(f"index was built with embedder {stored}, now {embedder_name}")
    meta.set_meta("embedder", embedder_name)
    meta.set_meta("root", str(root))
    vectors = VectorStore(directory / "lance", dim)
    text = TextStore(directory / "tantivy")
    return WorkspaceStores(root, directory, meta, vectors, text)


def open_stores(data_dir: Path, root: Path, dim: int, embedder_name: str) -> WorkspaceStores:
    """Open the workspace's stores, rebuilding them when they are corrupt or outdated."""
    directory = workspace_dir(data_dir, root)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "workspace.json").write_text(json.dumps({"root": str(root)}))
    except OSError as exc:
        raise IndexStorageError(
            f"cannot write the index under {directory}: {exc.strerror or exc}"
        ) from exc
    try:
        return _open(root, directory, dim, embedder_name)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise IndexStorageError(
                f"the index in {directory} is in use by another codeassist process"
            ) from exc
        reason = str(exc)
    except (IndexCorrupt, VectorStoreMismatch, ValueError, OSError, RuntimeError) as exc:
        reason = str(exc)
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
