"""sha256 of model files, with results cached by path, size and mtime.

Hashing half a gigabyte takes seconds; a file whose size and mtime are unchanged since it
was hashed is taken as verified, so a server start does not re-hash it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from codeassist_lsp.llm.progress import Progress

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
CACHE_FILE = "verified.json"


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def _load_cache(cache: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON through a temp file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _stamp(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def remember_fact(path: Path, cache: Path, key: str, value: object) -> None:
    """Record a fact about `path` as it is now (facts of an older version are dropped)."""
    entries = _load_cache(cache)
    name = str(path.resolve())
    stamp = _stamp(path)
    entry = entries.get(name)
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in stamp.items()):
        entry = dict(stamp)
    entry[key] = value
    entries[name] = entry
    try:
        write_json_atomic(cache, entries)
    except OSError as exc:
        log.warning("cannot write %s: %s", cache, exc)


def recall_fact(path: Path, cache: Path, key: str) -> object | None:
    """A fact recorded for `path` if the file has not changed since, else None."""
    entry = _load_cache(cache).get(str(path.resolve()))
    if not isinstance(entry, dict):
        return None
    if any(entry.get(k) != v for k, v in _stamp(path).items()):
        return None
    return entry.get(key)


def remember(path: Path, sha256: str, cache: Path) -> None:
    """Record that `path`, as it is now, has this sha256."""
    remember_fact(path, cache, "sha256", sha256)


def cached_sha256(path: Path, cache: Path) -> str | None:
    """The sha256 recorded for `path` if it has not changed since, else None."""
    value = recall_fact(path, cache, "sha256")
    return value if isinstance(value, str) else None


def file_sha256(path: Path, cache: Path, *, force: bool = False) -> str:
    """sha256 of `path`, from the cache unless it changed or `force` is set."""
    if not force:
        known = cached_sha256(path, cache)
        if known:
            return known
    bar = Progress(f"verifying {path.name}", path.stat().st_size)
    try:
        digest = sha256_file(path, bar.advance)
    finally:
        bar.close()
    remember(path, digest, cache)
    return digest
