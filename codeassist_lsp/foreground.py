"""Model requests someone is waiting for, and background work that gives way to them.

On 2 cores llama.cpp's two threads need both: an indexer parsing on one core or
embedding on two beside them stalls every step of the model (bench/
completion_during_indexing.py). So the local model counts the requests it runs for a
user (`MODEL_REQUESTS`), and the indexer, before each file it parses and each few chunks
it embeds, waits while any runs (`give_way`), for `GIVE_WAY_S` at most, so that it still
moves on when requests never stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

GIVE_WAY_S = 2.0  # the longest one step of background work waits for the model


class Running:
    """How many requests of one kind run in this process, and a way to wait until none."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._changed.notify_all()

    def wait_none(self, stop: threading.Event | None, limit: float) -> None:
        """Wait until none runs, `stop` is set or `limit` seconds have passed."""
        deadline = time.monotonic() + limit
        with self._changed:
            while self._count and not (stop is not None and stop.is_set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(left, 0.05))


MODEL_REQUESTS = Running()  # local model requests a user waits for (any purpose)


def give_way(stop: threading.Event | None = None) -> None:
    """Before a step of background work: let a running model request have the cores."""
    MODEL_REQUESTS.wait_none(stop, GIVE_WAY_S)
