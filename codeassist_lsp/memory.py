"""Keep the long-running server's memory from fragmenting.

glibc gives each thread that allocates its own malloc arena, up to eight per core, and a
freed block stays in the arena it came from. The server runs many native threads (ONNX
Runtime, tantivy, Lance, DuckDB, the editor's requests), so memory freed after every edit
is kept in a dozen arenas instead of being reused: `bench/server_load.py` saw RSS grow by
13–20% under edits with the default, and far less with two arenas.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at `count` (call before threads start); False where the
    C library is not glibc or the user set MALLOC_ARENA_MAX, whose choice stands."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    done = bool(mallopt(M_ARENA_MAX, count))
    log.debug("malloc arenas capped at %d: %s", count, done)
    return done
