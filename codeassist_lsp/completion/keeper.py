"""Keep the file being completed read by the model while the editor is idle.

The first completion at a new place of a file reads its whole prompt (~300 tokens, ~1.7 s
on 2 cores), because its prefix shares nothing with the last prompt. After each
completion request, and after each change of that document, this waits for `delay`
seconds of quiet and then asks the backend to read the file around the last cursor
(`Backend.keep_file`). A request in between cancels the wait, and the backend stops
reading as soon as any request comes (llama.cpp gives up the batch in progress within a
few milliseconds), so the keeping never holds the editor up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

KEEP_DELAY = 1.0  # seconds of quiet before the file is read: typing pauses are shorter

Keep = Callable[[str, int], Awaitable[int]]
TextOf = Callable[[str], "str | None"]


class FileKeeper:
    """Schedules `keep(text, line)` for the last document a completion was asked in."""

    def __init__(self, keep: Keep, text_of: TextOf, delay: float = KEEP_DELAY) -> None:
        self._keep = keep
        self._text_of = text_of
        self._delay = delay
        self._uri: str | None = None
        self._line = 0
        self._pending: asyncio.Task[None] | None = None
        self.kept: tuple[str, int] | None = None  # the last file read: uri, tokens held

    def hold(self) -> None:
        """A request is coming: no reading until it is answered."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def completed(self, uri: str, line: int) -> None:
        """A completion was asked at `line` of `uri`: keep that file once it is quiet."""
        self._uri, self._line = uri, line
        self._schedule()

    def changed(self, uri: str) -> None:
        """A document changed; the kept one is read again (only what changed) when quiet."""
        if uri == self._uri:
            self._schedule()

    def closed(self, uri: str) -> None:
        if uri == self._uri:
            self.hold()
            self._uri = None

    def _schedule(self) -> None:
        self.hold()
        self._pending = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(self._delay)
        uri = self._uri
        text = self._text_of(uri) if uri is not None else None
        if uri is None or text is None:
            return
        try:
            self.kept = (uri, await self._keep(text, self._line))
        except Exception as exc:  # background work: logged, never raised
            log.warning("could not keep %s read: %s", uri, exc)
