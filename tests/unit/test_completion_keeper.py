"""When the file being completed is read into the model, and which part of it."""

from __future__ import annotations

import asyncio

import pytest

from codeassist_lsp.completion.keeper import FileKeeper
from codeassist_lsp.llm.llama_backend import (
    FILE_GRID,
    TILE_ABOVE_TOKENS,
    TILE_BELOW_TOKENS,
    file_tiles,
)

DELAY = 0.05


def words(text: str) -> list[int]:
    """A stand-in tokenizer for the pure window arithmetic: one id per word."""
    return [hash(w) for w in text.split()]


def test_a_file_that_fits_is_kept_whole() -> None:
    text = "\n".join(f"line {n}" for n in range(10))
    assert file_tiles(words, "<fim>", text, 5, 100, 4) == [words("<fim>" + text)]


def _start(tile: list[int], lines: list[str]) -> int:
    return next(n for n, line in enumerate(lines) if hash(line.split()[0]) == tile[1])


def test_a_long_file_is_tiled_from_the_cursor_out() -> None:
    lines = [f"a{n} b{n}" for n in range(1000)]  # two ids a line
    text = "\n".join(lines)
    tiles = file_tiles(words, "<fim> ", text, 600, 1000, 9)
    assert [len(tile) for tile in tiles] == [1000, 977, 1000, 1000, 1000]  # the 2nd: to the end
    starts = [_start(tile, lines) for tile in tiles]
    assert all(start % FILE_GRID == 0 for start in starts)
    step = starts[1] - starts[0]
    assert step > 0 and starts[2] == starts[0] - step  # the nearest, below first
    assert file_tiles(words, "<fim> ", text, 605, 1000, 9) == tiles  # a small move: the same
    for line in range(0, 1000, 7):  # every line's own window holds its prefix and suffix
        start = _start(file_tiles(words, "<fim> ", text, line, 1000, 1)[0], lines)
        above, below = line - start, start + 499 - line
        assert above * 2 >= min(TILE_ABOVE_TOKENS, line * 2)
        assert below * 2 >= min(TILE_BELOW_TOKENS, (999 - line) * 2)


async def test_the_file_is_kept_after_a_quiet_delay() -> None:
    kept: list[tuple[str, int]] = []
    docs = {"a": "text of a"}

    async def keep(text: str, line: int) -> int:
        kept.append((text, line))
        return len(text)

    keeper = FileKeeper(keep, docs.get, delay=DELAY)
    keeper.completed("a", 3)
    await asyncio.sleep(DELAY / 2)
    assert kept == []
    await asyncio.sleep(DELAY)
    assert kept == [("text of a", 3)]
    assert keeper.kept == ("a", 9)
    docs["a"] = "new text"
    keeper.changed("a")
    keeper.changed("other")
    await asyncio.sleep(DELAY * 2)
    assert kept[-1] == ("new text", 3)
    assert len(kept) == 2


async def test_a_request_or_a_close_cancels_the_wait() -> None:
    kept: list[tuple[str, int]] = []

    async def keep(text: str, line: int) -> int:
        kept.append((text, line))
        return len(text)

    keeper = FileKeeper(keep, {"a": "x"}.get, delay=DELAY)
    keeper.completed("a", 1)
    keeper.hold()
    keeper.completed("a", 2)
    keeper.closed("a")
    keeper.changed("a")  # no longer kept: nothing is scheduled
    await asyncio.sleep(DELAY * 2)
    assert kept == []


async def test_a_failing_keep_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def keep(text: str, line: int) -> int:
        raise RuntimeError("no model")

    keeper = FileKeeper(keep, {"a": "x"}.get, delay=0)
    keeper.completed("a", 1)
    await asyncio.sleep(DELAY)
    assert "could not keep a read: no model" in caplog.text
    keeper.completed("a", 2)  # still schedules
    await asyncio.sleep(DELAY)
    assert caplog.text.count("no model") == 2
