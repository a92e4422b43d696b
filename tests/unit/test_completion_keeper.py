"""When the file being completed is read into the model, and which part of it."""

from __future__ import annotations

import asyncio

import pytest

from codeassist_lsp.completion.keeper import FileKeeper
from codeassist_lsp.llm.llama_backend import FILE_GRID, file_window

DELAY = 0.05


def words(text: str) -> list[int]:
    """A stand-in tokenizer for the pure window arithmetic: one id per word."""
    return [hash(w) for w in text.split()]


def test_a_file_that_fits_is_kept_whole() -> None:
    text = "\n".join(f"line {n}" for n in range(10))
    assert file_window(words, "<fim>", text, 5, 100) == words("<fim>" + text)


def test_a_long_file_is_kept_from_a_grid_line_above_the_cursor() -> None:
    lines = [f"a{n} b{n}" for n in range(1000)]  # two ids a line
    ids = file_window(words, "<fim> ", "\n".join(lines), 600, 300)
    assert len(ids) == 300
    first = ids[1]
    start = next(n for n, line in enumerate(lines) if hash(line.split()[0]) == first)
    assert start % FILE_GRID == 0
    assert start <= 600 < start + 149  # the cursor's line is inside the window
    assert 600 - start >= 30  # with lines above it for the prompt's prefix
    near = file_window(words, "<fim> ", "\n".join(lines), 605, 300)
    assert near == ids  # a small move keeps the same window


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
