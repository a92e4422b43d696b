"""A byte-count progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MB = 1024 * 1024


class Progress:
    """Report bytes done of a known total; silent unless the stream is a terminal."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self._label = label
        self._total = total
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._done = 0
        self._drawn_at = 0.0

    def advance(self, n: int) -> None:
        self.set(self._done + n)

    def set(self, done: int) -> None:
        self._done = done
        now = time.monotonic()
        if self._enabled and (now - self._drawn_at >= 0.1 or done == self._total):
            self._drawn_at = now
            self._draw()

    def close(self) -> None:
        if self._enabled:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self) -> None:
        if self._total <= 0:
            self._stream.write(f"\r{self._label} {self._done / MB:.0f} MB")
            self._stream.flush()
            return
        share = min(self._done / self._total, 1.0)
        bar = "#" * int(share * 30)
        self._stream.write(
            f"\r{self._label} [{bar:<30}] {share:4.0%} "
            f"{self._done / MB:.0f}/{self._total / MB:.0f} MB"
        )
        self._stream.flush()
