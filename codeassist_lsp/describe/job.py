"""Describe the chunks of one index that have no description yet, one at a time.

Each description is a short model call (~2 s for a 0.5B model on two cores). They are
stored in small batches, so an interrupted run keeps what it wrote and the next run
resumes where it stopped. `before_each` lets the server hold the job while a person is
waiting on the model, and `keep_going` lets it stop a description midway for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from codeassist_lsp.describe.prompt import clean_description, describe_messages
from codeassist_lsp.index import descriptions
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.index.storage import WorkspaceStores
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.types import GenerationOptions

log = logging.getLogger(__name__)

OPTIONS = GenerationOptions(max_tokens=72, temperature=0.0, stop=("\n\n", "```"), background=True)
SAVE_EVERY = 8


class Preempted(Exception):
    """A person wants the model: the description in progress is dropped, asked again later."""


@dataclass
class DescribeStats:
    described: int = 0
    failed: int = 0
    seconds: float = 0.0


async def describe_one(
    backend: Backend, chunk: Chunk, keep_going: Callable[[], bool] | None = None
) -> str | None:
    """One chunk's description, or None when the model gave nothing usable; raises
    `Preempted` (the stream is closed, so the model stops) once `keep_going` says no."""
    parts: list[str] = []
    async with aclosing(backend.chat(describe_messages(chunk), OPTIONS)) as stream:
        async for piece in stream:
            if keep_going is not None and not keep_going():
                raise Preempted
            parts.append(piece)
    return clean_description("".join(parts))


async def describe_pending(
    stores: WorkspaceStores,
    backend: Backend,
    *,
    limit: int | None = None,
    before_each: Callable[[], Awaitable[None]] | None = None,
    keep_going: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DescribeStats:
    """Describe up to `limit` pending chunks, most useful first; stores as it goes.

    `before_each` may wait (the server waits until nobody is using the model); a chunk
    whose description `keep_going` interrupts is asked again after the next wait."""
    loop = asyncio.get_running_loop()
    todo = await asyncio.to_thread(descriptions.pending, stores)
    if limit is not None:
        todo = todo[:limit]
    stats = DescribeStats()
    started = loop.time()
    batch: dict[str, str] = {}
    try:
        for done, chunk in enumerate(todo):
            while True:
                if before_each is not None:
                    await before_each()
                try:
                    text = await describe_one(backend, chunk, keep_going)
                    break
                except Preempted:
                    log.debug("describing %s:%d gave way", chunk.path, chunk.start_line)
            if text is None:
                # stored empty, so that it is not asked again on every run
                stats.failed += 1
                log.debug("no usable description for %s:%d", chunk.path, chunk.start_line)
            else:
                stats.described += 1
            batch[chunk.chunk_id] = text or ""
            if len(batch) >= SAVE_EVERY:
                await asyncio.to_thread(descriptions.add, stores, batch)
                batch = {}
            if progress is not None:
                progress(done + 1, len(todo))
    finally:
        if batch:
            await asyncio.to_thread(descriptions.add, stores, batch)
        stats.seconds = loop.time() - started
    return stats
