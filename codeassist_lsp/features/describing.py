"""Descriptions written in the background after an index is complete (issue 22).

The describer runs only while nobody is using the model: it waits until no interactive
request has asked for the model for `QUIET_SECONDS`, and a request that arrives while a
description is being written stops it at the next token (the description is asked again
later). What it writes is kept by content hash, so a restart resumes and an edited
function is described again (`index/descriptions.py`): after an edit the describer starts
again unless it is still running.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from codeassist_lsp.config import Settings
from codeassist_lsp.describe.job import describe_pending
from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.index import descriptions
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.sysinfo import physical_cores

if TYPE_CHECKING:
    from codeassist_lsp.features.model import ModelHolder

log = logging.getLogger(__name__)

QUIET_SECONDS = 3.0
AUTO_MIN_CORES = 4


def describe_enabled(settings: Settings, cores: int | None = None) -> bool:
    """Whether to describe in the background: `index.describe` "on", or "auto" with
    enough cores for the model to write while the editor stays quick, or with a remote
    endpoint, where the work does not compete with the editor for this CPU."""
    choice = settings.index.describe
    if choice != "auto":
        return choice == "on"
    if settings.llm.backend == "openai":
        return True
    return (_cores() if cores is None else cores) >= AUTO_MIN_CORES


@functools.cache
def _cores() -> int:
    return physical_cores()  # read once: the check runs on every edit and status


async def _when_free(holder: ModelHolder, stopping: threading.Event) -> None:
    """Return once nobody has asked for the model for `QUIET_SECONDS`."""
    while time.monotonic() - holder.wanted_at < QUIET_SECONDS:
        await asyncio.sleep(QUIET_SECONDS / 3)
    if stopping.is_set():
        raise asyncio.CancelledError


async def work_waiting(
    ctx: ServerContext, index: WorkspaceIndex, stopping: threading.Event
) -> bool:
    """Wait for the model to be free (a burst of edits asks once, after it), then say
    whether `index` has chunks to describe; no progress is shown before this is known."""
    if ctx.model is None:
        return False
    await _when_free(ctx.model, stopping)
    return bool(await asyncio.to_thread(descriptions.pending, index.stores))


async def describe_index(
    ctx: ServerContext,
    index: WorkspaceIndex,
    report: Callable[[int, int, str], None],
    stopping: threading.Event,
) -> int:
    """Describe `index`'s pending chunks while the model is free; returns how many."""
    holder = ctx.model
    if holder is None:
        return 0
    try:
        backend = holder.get("chat", interactive=False)
    except CodeAssistError as exc:
        log.info("no descriptions for %s: %s", index.root, exc)
        return 0

    def keep_going() -> bool:
        return time.monotonic() - holder.wanted_at >= QUIET_SECONDS and not stopping.is_set()

    stats = await describe_pending(
        index.stores,
        backend,
        before_each=lambda: _when_free(holder, stopping),
        keep_going=keep_going,
        progress=lambda done, total: report(done, total, "chunks described"),
    )
    return stats.described
