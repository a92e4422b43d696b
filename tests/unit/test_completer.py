"""The completer against `FakeBackend` (a scripted fake model): prompt layout, cache,
cancellation of superseded requests."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from codeassist_lsp.completion.completer import CompletionCounts, InlineCompleter, Place
from codeassist_lsp.completion.window import CursorWindow, cursor_window
from codeassist_lsp.config import CompletionSettings
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.llm.prompts import Counter

SOURCE = "import os\n\n\ndef cwd():\n    return os.getc\n\nprint(cwd())\n"
SETTINGS = CompletionSettings(debounce_ms=0)


def window(text: str = SOURCE, line: int = 4, character: int = 18) -> CursorWindow:
    found = cursor_window(text, line, character)
    assert found is not None
    return found


def completer(fake: FakeBackend, settings: CompletionSettings = SETTINGS) -> InlineCompleter:
    return InlineCompleter(lambda: settings, lambda: fake)


async def test_the_prompt_is_repo_context_then_the_file_around_the_cursor() -> None:
    fake = FakeBackend("wd()")

    async def context(count: Counter, budget: int) -> tuple[tuple[str, str], ...]:
        return (("lib/util.py", "def helper(): ..."),)

    found = await completer(fake).suggest(window(), Place("app.py", "repo"), False, context)
    assert found is not None and found.text == "wd()" and not found.from_cache
    [prompt] = fake.prompts
    assert prompt.startswith("<|repo_name|>repo\n<|file_sep|>lib/util.py\ndef helper(): ...")
    assert prompt.index("<|file_sep|>app.py\n") < prompt.index("<|fim_prefix|>import os")
    assert prompt.endswith("    return os.getc<|fim_suffix|>\n\nprint(cwd())\n<|fim_middle|>")


async def test_without_repo_context_the_prompt_is_the_plain_layout() -> None:
    fake = FakeBackend("wd()")
    await completer(fake).suggest(window(), Place("app.py", "repo"), False)
    [prompt] = fake.prompts
    assert prompt.startswith("<|fim_prefix|>import os") and "<|repo_name|>" not in prompt


async def test_a_block_the_suggestion_opens_on_the_typed_line_is_generated_whole() -> None:
    text = "func f() error {\n\tif err != nil \n\treturn nil\n}\n"
    fake = FakeBackend("{\n\t\treturn err\n\t}\n\tlog(err)\n")
    found = await completer(fake).suggest(window(text, 1, 15), Place("f.go"), False)
    assert found is not None and found.text == "{\n\t\treturn err\n\t}"
    fake = FakeBackend("wd()\nprint(1)\n")
    found = await completer(fake).suggest(window(), Place("app.py"), False)
    assert found is not None and found.text == "wd()" and fake.produced == 3  # up to the newline


async def test_typing_through_a_suggestion_is_served_from_the_cache() -> None:
    fake = FakeBackend("wd() + '/x'")
    assist = completer(fake)
    place = Place("app.py")
    assert await assist.suggest(window(), place, False) is not None
    typed = SOURCE.replace("os.getc", "os.getcwd")
    found = await assist.suggest(window(typed, 4, 20), place, True)
    assert found is not None and found.text == "() + '/x'" and found.from_cache
    assert len(fake.prompts) == 1
    assert (assist.counts.from_cache, assist.counts.speculation_hits) == (1, 0)


async def test_a_newer_request_stops_the_running_one_and_only_it_answers() -> None:
    # valid Python before `cwd())` at the second cursor: a suggestion that does not parse
    # would be dropped
    fake = FakeBackend("os.getcwd() if a and b and c and d and e else os.", delay=0.05)
    assist = completer(fake)
    place = Place("app.py")
    first = asyncio.create_task(assist.suggest(window(), place, False))
    await asyncio.sleep(0.12)
    produced_before = fake.produced
    second = await assist.suggest(window(SOURCE, 6, 6), place, False)
    assert await first is None
    assert second is not None
    assert produced_before < 16 and fake.produced < 2 * 16


async def test_a_burst_within_the_debounce_reaches_the_model_once() -> None:
    fake = FakeBackend("getcwd()")
    assist = completer(fake, dataclasses.replace(SETTINGS, debounce_ms=50))
    place = Place("app.py")
    text = SOURCE.replace("os.getc", "os.g")
    tasks = [
        asyncio.create_task(assist.suggest(window(text, 4, 15 + i), place, True)) for i in range(3)
    ]
    results = await asyncio.gather(*tasks)
    assert results[:2] == [None, None]
    assert len(fake.prompts) == 1


async def test_no_automatic_request_before_a_long_tail_and_nothing_from_whitespace() -> None:
    fake = FakeBackend("   ")
    assist = completer(fake)
    text = "x = f(|alpha, beta, gamma)\n".replace("|", "")
    assert await assist.suggest(window(text, 0, 6), Place("a.py"), True) is None
    assert fake.prompts == []
    assert await assist.suggest(window(text, 0, 6), Place("a.py"), False) is None
    assert len(fake.prompts) == 1


async def test_on_a_blank_line_the_typed_indentation_stands() -> None:
    fake = FakeBackend("  return 1")
    text = "def f():\n    \n"
    found = await completer(fake).suggest(window(text, 1, 4), Place("a.py"), False)
    assert found is not None and found.text == "return 1"
    assert fake.prompts[0].endswith("def f():\n    <|fim_suffix|>\n<|fim_middle|>")


NEXT = "def f():\n    x = 1\n\nprint(f())\n"


def _after_accept(prompt: str) -> str:
    """The fake model's answers: the end of the line, then the line after it."""
    return "    return x" if "x = 1 + 2\n" in prompt else " + 2"


async def test_the_line_after_an_accepted_suggestion_is_ready_when_the_editor_asks() -> None:
    fake = FakeBackend(_after_accept)
    assist = completer(fake)
    place = Place("app.py")
    first = await assist.suggest(window(NEXT, 1, 9), place, False)
    assert first is not None and first.text == " + 2"
    await asyncio.sleep(0.1)  # the speculation runs while the user reads the suggestion
    assert len(fake.prompts) == 2
    accepted = NEXT.replace("x = 1\n", "x = 1 + 2\n    \n")
    found = await assist.suggest(window(accepted, 2, 4), place, True)  # editor's indent
    assert found is not None and found.text == "return x" and found.from_cache
    assert len(fake.prompts) == 2
    assert assist.counts == CompletionCounts(
        from_cache=1, from_model=1, speculated=1, speculation_hits=1
    )
    assert [o.background for o in fake.options] == [False, True]  # no chat waits for it


@pytest.mark.parametrize(
    ("line", "character", "expected"),
    [("    ", 4, "return x"), ("    r", 5, "eturn x")],  # the indentation, then a key more
)
async def test_a_request_for_that_line_waits_for_the_speculation_instead_of_starting_again(
    line: str, character: int, expected: str
) -> None:
    fake = FakeBackend(_after_accept, delay=0.02)
    assist = completer(fake)
    place = Place("app.py")
    assert await assist.suggest(window(NEXT, 1, 9), place, False) is not None
    typed = NEXT.replace("x = 1\n", f"x = 1 + 2\n{line}\n")
    found = await assist.suggest(window(typed, 2, character), place, True)
    assert found is not None and found.text == expected and found.from_cache
    assert len(fake.prompts) == 2


async def test_a_request_elsewhere_stops_the_speculation() -> None:
    fake = FakeBackend(_after_accept, delay=0.05)
    settings = CompletionSettings(debounce_ms=0, max_tokens=200)
    assist = completer(fake, settings)
    place = Place("app.py")
    assert await assist.suggest(window(NEXT, 1, 9), place, False) is not None
    await asyncio.sleep(0.02)
    elsewhere = await assist.suggest(window(NEXT, 3, 5), place, False)
    assert elsewhere is not None and elsewhere.text == " + 2"
    accepted = NEXT.replace("x = 1\n", "x = 1 + 2\n    \n")
    found = await assist.suggest(window(accepted, 2, 4), place, True)
    assert found is not None and not found.from_cache  # the speculation never finished
    assert assist.counts.speculated == 0 and assist.counts.speculation_hits == 0
