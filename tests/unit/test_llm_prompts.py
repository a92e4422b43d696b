"""Prompt building and token budgeting (pure functions, a word-count tokenizer)."""

from __future__ import annotations

import re

import pytest

from codeassist_lsp.llm.prompts import QWEN_FIM, fim_prompt, fit_head, fit_messages, fit_tail
from codeassist_lsp.llm.stops import StopMatcher
from codeassist_lsp.llm.types import FimRequest, Message


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def numbered(n: int) -> str:
    return "".join(f"line {i} x\n" for i in range(n))


def test_fit_tail_keeps_whole_text_when_it_fits() -> None:
    text = numbered(5)
    assert fit_tail(text, 100, words) == text


def test_fit_tail_cuts_at_grid_line_and_fits() -> None:
    text = numbered(100)  # 3 words per line
    out = fit_tail(text, 60, words, grid=8)
    assert words(out) <= 60
    assert text.endswith(out)
    assert out.startswith("line 80 ")  # 20 lines of 3 words: exactly the budget
    assert fit_tail(text, 59, words, grid=8).startswith("line 88 ")
    assert fit_tail(text, 59, words, grid=1).startswith("line 81 ")


def test_fit_tail_start_is_stable_while_typing() -> None:
    text = numbered(100)
    first = fit_tail(text, 61, words)
    typed = fit_tail(text + "more", 61, words)
    assert typed.startswith(first[:20])


def test_fit_tail_falls_back_to_characters_for_one_huge_line() -> None:
    text = " ".join(f"w{i}" for i in range(50))
    out = fit_tail(text, 10, words)
    assert words(out) <= 10 and text.endswith(out) and out


def test_fit_head_ends_at_line_boundary() -> None:
    text = numbered(50)
    out = fit_head(text, 31, words)
    assert out == numbered(10)
    assert fit_head(text, 0, words) == ""


def test_fim_prompt_is_psm_with_repo_context_first() -> None:
    request = FimRequest(
        prefix="def add(a, b):\n    return ",
        suffix="\n\nprint(add(1, 2))\n",
        path="pkg/calc.py",
        repo_name="demo",
        context=(("pkg/util.py", "X = 1"), ("pkg/more.py", "Y = 2")),
    )
    prompt = fim_prompt(request, QWEN_FIM, 1000, words)
    assert prompt.startswith("<|repo_name|>demo\n<|file_sep|>pkg/util.py\nX = 1\n")
    assert prompt.index("pkg/more.py") < prompt.index("<|file_sep|>pkg/calc.py\n")
    assert prompt.endswith(
        "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n"
        "<|fim_middle|>"
    )


def test_fim_prompt_fits_budget_and_drops_oldest_context_first() -> None:
    request = FimRequest(
        prefix=numbered(200),
        suffix=numbered(200),
        path="a.py",
        context=(("old.py", numbered(30)), ("new.py", "Z = 3")),
    )
    prompt = fim_prompt(request, QWEN_FIM, 300, words)
    assert words(prompt) <= 300
    assert "new.py" in prompt and "old.py" not in prompt
    suffix_part = prompt.split("<|fim_suffix|>")[1].split("<|fim_middle|>")[0]
    assert words(suffix_part) <= 75


def test_fim_prompt_without_repo_tokens_is_file_level() -> None:
    tokens = QWEN_FIM.__class__(prefix="<P>", suffix="<S>", middle="<M>")
    prompt = fim_prompt(FimRequest("a", "b", path="x.py", context=(("y", "z"),)), tokens, 99, words)
    assert prompt == "<P>a<S>b<M>"


def chat_words(messages: list[Message] | tuple[Message, ...]) -> int:
    return sum(words(m.content) + 2 for m in messages)


def test_fit_messages_drops_oldest_turns_keeps_system_and_last() -> None:
    msgs = [Message("system", "be brief")]
    for i in range(10):
        msgs += [Message("user", f"question {i} " * 5), Message("assistant", f"answer {i} " * 5)]
    msgs.append(Message("user", "final question"))
    out = fit_messages(msgs, 60, chat_words)
    assert out[0] == msgs[0] and out[-1] == msgs[-1]
    assert chat_words(out) <= 60
    assert out[1:] == msgs[len(msgs) - (len(out) - 1) :]
    assert len(out) > 2


def test_fit_messages_cuts_a_huge_last_message_from_its_start() -> None:
    msgs = [Message("system", "sys"), Message("user", numbered(100))]
    out = fit_messages(msgs, 50, chat_words)
    assert chat_words(out) <= 50
    assert out[0].content == "sys" and msgs[1].content.endswith(out[1].content)


@pytest.mark.parametrize(
    ("pieces", "stops", "expected"),
    [
        (["hel", "lo wor", "ld"], (), "hello world"),
        (["abc", "<|e", "nd|>tail"], ("<|end|>",), "abc"),
        (["a<", "b"], ("<|end|>",), "a<b"),
        (["x\n\n", "y"], ("\n\n",), "x"),
        (["one STOP", " two"], ("STOP", "one"), ""),
    ],
)
def test_stop_matcher_never_emits_part_of_a_stop(
    pieces: list[str], stops: tuple[str, ...], expected: str
) -> None:
    matcher = StopMatcher(stops)
    out = "".join(matcher.feed(p) for p in pieces) + matcher.flush()
    assert out == expected
