"""Run a blocking token generator in a worker thread and consume it as an async iterator.

The event loop never runs model code. The worker runs at most `AHEAD` pieces ahead of
the reader, so nothing is generated that nobody reads. Closing the async iterator sets a
stop event that the worker checks before each token, and waits for the worker to finish,
so the model is free again when the iterator is gone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor

Producer = Callable[[threading.Event], Iterator[str]]

AHEAD = 2
_PIECE = 0
_ERROR = 1
_END = 2


async def stream_in_thread(produce: Producer, executor: Executor) -> AsyncGenerator[str, None]:
    """Yield what `produce(stop)` yields, running it on `executor`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()
    stop = threading.Event()
    credits = threading.Semaphore(AHEAD)

    def post(kind: int, value: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:
            stop.set()  # the loop is closed: nobody listens any more

    def work() -> None:
        if stop.is_set():
            return
        try:
            for piece in produce(stop):
                while not credits.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                post(_PIECE, piece)
        except Exception as exc:
            post(_ERROR, exc)
        else:
            post(_END, None)

    done = loop.run_in_executor(executor, work)
    try:
        while True:
            kind, value = await queue.get()
            if kind == _PIECE:
                credits.release()
                yield str(value)
            elif kind == _ERROR:
                assert isinstance(value, Exception)
                raise value
            else:
                return
    finally:
        stop.set()
        await asyncio.wait([done])
