"""Explain / Fix / Improve without a server: prompts, reply parsing, targets, edit building,
and the rewrite loop against `FakeBackend` (a scripted fake model, never the real one)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from codeassist_lsp.chat.code_facts import fit_facts, graph_facts
from codeassist_lsp.chat.code_target import cut, find_target, selected_lines
from codeassist_lsp.chat.code_tasks import explain_turn, make_request, rewrite
from codeassist_lsp.chat.rewrite_edits import (
    minimal_changes,
    new_block,
    parse_verdict,
    reindent,
    replace_lines,
)
from codeassist_lsp.chat.tasks import (
    CodeRequest,
    build_messages,
    extract_code,
    retry_messages,
    short_explanation,
)
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.llm.types import GenerationOptions

DOC = textwrap.dedent(
    '''\
    import os


    class Stats:
        def average(self, values):
            """Mean of values."""
            total = 0
            for v in values:
                total += v
            return total / len(values) + 1


    def is_even(n):
        if n % 2 == 1:
            return True
        else:
            return False
    '''
)
AVERAGE_FIXED = textwrap.dedent(
    '''\
    def average(self, values):
        """Mean of values."""
        total = 0
        for v in values:
            total += v
        return total / len(values)'''
)


def _apply(text: str, changes: list) -> str:
    """Apply text changes (from last to first) to a text, as an editor would."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        start = offsets[change.start[0]] + change.start[1]
        end = offsets[change.end[0]] + change.end[1]
        text = text[:start] + change.text + text[end:]
    return text


# --- reply parsing -------------------------------------------------------------------


def test_extract_code_from_a_fenced_block_with_prose_around() -> None:
    reply = "Here is the fix:\n\n```python\ndef f():\n    return 1\n```\nThis returns 1."
    assert extract_code(reply) == "def f():\n    return 1"


def test_extract_code_from_a_block_a_stop_cut_before_its_closing_fence() -> None:
    assert extract_code("```python\n    x = 1\n    y = 2") == "    x = 1\n    y = 2"


def test_extract_code_without_fences_keeps_the_indentation() -> None:
    assert extract_code("\n\n    return x\n\n") == "    return x"


def test_extract_code_of_an_empty_or_blank_reply_is_none() -> None:
    assert extract_code("") is None
    assert extract_code("```python\n\n```") is None


def test_short_explanation_is_one_paragraph_cut_at_a_sentence() -> None:
    text = "It adds numbers. " * 30 + "\n\nSecond paragraph."
    short = short_explanation(text, limit=100)
    assert short.endswith(".") and len(short) <= 100 and "Second" not in short


# --- prompts -------------------------------------------------------------------------


def test_prompt_has_context_first_and_the_code_last() -> None:
    request = CodeRequest(
        "fix",
        "python",
        "stats.py",
        "    return total / len(values) + 1\n",
        enclosing="def average(self, values):\n    ...\n",
        facts=("`average` calls `len(x)`",),
        problems=("line 10: missing `)`",),
    )
    messages = build_messages(request)
    assert [m.role for m in messages] == ["system", "user"]
    user = messages[1].content
    assert user.index("calls `len(x)`") < user.index("def average") < user.index("missing")
    assert user.rstrip().endswith("```python\n    return total / len(values) + 1\n```")
    assert "one ```python block" in user


def test_explain_prompt_says_when_the_selection_was_cut() -> None:
    request = CodeRequest("explain", "python", "a.py", "x = 1\n", cut_from=5000)
    user = build_messages(request)[1].content
    assert "5000-line selection" in user and "block" not in user


def test_retry_keeps_the_first_turns_and_says_why() -> None:
    first = build_messages(CodeRequest("improve", "go", "a.go", "x := 1\n"))
    again = retry_messages(first, "garbage", "the model's answer holds no code", "go")
    assert again[:2] == first and again[2].content == "garbage"
    assert "holds no code" in again[3].content and "```go" in again[3].content


def test_make_request_drops_a_long_enclosing_definition_for_its_signature() -> None:
    target = find_target(DOC, "python", (9, 0), (9, 10))
    assert target is not None and target.enclosing_code
    roomy = make_request("fix", target, "python", "s.py", [], (), 400)
    assert "def average" in roomy.enclosing
    tight = make_request("fix", target, "python", "s.py", ["`a` calls `b()`"], (), 20)
    assert tight.enclosing == ""
    assert tight.facts[0].startswith("the code is inside `def average")


def test_fit_facts_keeps_what_fits_the_budget() -> None:
    facts = [f"fact number {i} " * 3 for i in range(10)]
    kept = fit_facts(facts, 40)
    assert 0 < len(kept) < 10 and list(kept) == facts[: len(kept)]


# --- targets -------------------------------------------------------------------------


def test_a_selection_grows_to_whole_lines_and_a_line_start_end_is_left_out() -> None:
    assert selected_lines((2, 5), (4, 3), 10) == (2, 5)
    assert selected_lines((2, 5), (4, 0), 10) == (2, 4)
    assert selected_lines((4, 3), (2, 5), 10) == (2, 5)  # backwards selection
    assert selected_lines((50, 0), (60, 0), 10) == (9, 10)  # clamped to the text


def test_an_empty_selection_means_the_function_around_the_cursor() -> None:
    target = find_target(DOC, "python", (7, 4), (7, 4))
    assert target is not None
    assert (target.first, target.end) == (4, 10)
    assert target.code.startswith("    def average") and target.enclosing is not None


def test_an_empty_selection_outside_any_function_is_its_line() -> None:
    target = find_target(DOC, "python", (0, 0), (0, 0))
    assert target is not None and target.code == "import os\n"


def test_no_grammar_means_lines_only() -> None:
    target = find_target("local x = 1\nprint(x)\n", None, (1, 0), (1, 0))
    assert target is not None and target.code == "print(x)\n" and target.enclosing is None


def test_an_empty_document_has_no_target() -> None:
    assert find_target("", "python", (0, 0), (0, 0)) is None


def test_a_long_target_is_cut_for_explain() -> None:
    text = "".join(f"x{i} = {i}\n" for i in range(5000))
    target = find_target(text, "python", (0, 0), (5000, 0))
    assert target is not None and target.line_count == 5000
    head = cut(target, 150)
    assert head.line_count == 150 and head.code.count("\n") == 150


# --- edits ---------------------------------------------------------------------------


def test_reindent_restores_the_selection_indentation() -> None:
    original = "    def f(self):\n        return 1\n"
    assert reindent("def f(self):\n    return 2", original) == "    def f(self):\n        return 2"


def test_minimal_changes_touch_only_the_changed_lines() -> None:
    target = find_target(DOC, "python", (4, 0), (4, 0))
    assert target is not None
    block = new_block(target.code, reindent(AVERAGE_FIXED, target.code))
    changes = minimal_changes(target.code, block, target.first)
    assert len(changes) == 1
    assert changes[0].start == (9, 0) and changes[0].end == (10, 0)
    assert changes[0].text == "        return total / len(values)\n"
    assert _apply(DOC, changes) == DOC.replace(" + 1\n", "\n")


def test_minimal_changes_at_a_last_line_without_newline() -> None:
    text = "a = 1\nb = 2"
    changes = minimal_changes("b = 2", new_block("b = 2", "b = 3"), 1)
    assert [(c.start, c.end, c.text) for c in changes] == [((1, 0), (1, 5), "b = 3")]
    assert _apply(text, changes) == "a = 1\nb = 3"


def test_new_block_keeps_crlf_line_endings() -> None:
    assert new_block("x = 1\r\ny = 2\r\n", "x = 1\ny = 3") == "x = 1\r\ny = 3\r\n"


def test_an_identical_rewrite_has_no_changes() -> None:
    assert minimal_changes("x = 1\n", "x = 1\n", 0) == []


def test_a_rewrite_that_breaks_the_parse_is_refused() -> None:
    edited = replace_lines(DOC, 9, 10, "        return (total / len(values)\n")
    verdict = parse_verdict("python", DOC, edited, 9, 10)
    assert verdict is not None and verdict.startswith("the rewritten code does not parse")


def test_a_fix_of_broken_code_must_parse_better() -> None:
    broken = DOC.replace("return total / len(values) + 1", "return (total / len(values)")
    still = parse_verdict("python", broken, broken.replace("(total", "((total"), 9, 10)
    assert still is not None
    assert parse_verdict("python", broken, DOC, 9, 10) is None


# --- the rewrite loop with a fake model ----------------------------------------------


def _rewrite(replies: list[str], language: str | None = "python"):
    asked: list[str] = []

    def reply(prompt: str) -> str:
        asked.append(prompt)
        return replies[min(len(asked), len(replies)) - 1]

    backend = FakeBackend(reply)
    target = find_target(DOC, language, (12, 0), (12, 0) if language else (17, 0))
    assert target is not None
    request = make_request("improve", target, "python", "s.py", [], (), 200)
    options = GenerationOptions(max_tokens=200)
    outcome = asyncio.run(rewrite(backend, request, target, DOC, language, options))
    return outcome, asked


IS_EVEN = "```python\ndef is_even(n):\n    return n % 2 == 0\n```"


def test_a_fenced_rewrite_becomes_minimal_changes() -> None:
    outcome, asked = _rewrite([IS_EVEN])
    assert outcome.error is None and outcome.attempts == 1 and len(asked) == 1
    assert _apply(DOC, outcome.changes).endswith("def is_even(n):\n    return n % 2 == 0\n")


def test_garbage_then_a_good_rewrite_takes_a_second_attempt() -> None:
    outcome, asked = _rewrite(["Sorry, as an AI I cannot (", IS_EVEN])
    assert outcome.error is None and outcome.attempts == 2
    assert "cannot be used: the rewritten code does not parse" in asked[1]


def test_garbage_twice_changes_nothing_and_says_why() -> None:
    outcome, asked = _rewrite(["```\n```", "```python\ndef is_even(n:\n```"])
    assert outcome.changes == [] and len(asked) == 2
    assert outcome.error is not None and "does not parse" in outcome.error


def test_an_unchanged_rewrite_is_no_error_and_no_change() -> None:
    same = "```python\n" + DOC.split("\n\n\n")[-1].strip() + "\n```"
    outcome, _ = _rewrite([same])
    assert outcome.error is None and outcome.changes == []


# --- graph facts ---------------------------------------------------------------------


def test_graph_facts_name_callees_and_callers_with_signatures() -> None:
    files = {
        "lib.py": "def helper(x: int) -> int:\n    return x\n\n\n"
        "def work(y):\n    return helper(y)\n",
        "app.py": "from lib import work\n\n\ndef main():\n    return work(1)\n",
    }
    parsed = [parse_source(p, t) for p, t in files.items()]
    state = GraphState(build_graph(parsed), {f.path: f for f in parsed})
    view = IndexView(Path("."), 0, {}, graphs=lambda: state)
    facts = graph_facts(view, "lib.py", 4, 6)
    assert facts[0] == "`work` calls `def helper(x: int) -> int` (lib.py:1)"
    assert any("is called by `def main()` (app.py:4)" in f for f in facts)


def test_an_explanation_becomes_a_chat_turn_citing_its_lines() -> None:
    request = CodeRequest("explain", "python", "calc.py", "def f():\n    return 1\n")
    question, answer = explain_turn("c1", request, 5, "It returns one.", "m1", 1234.0)
    assert question.role == "user" and question.conversation_id == "c1"
    assert question.content.startswith("Explain calc.py:5-6\n\n```python\ndef f():")
    assert answer.id == "m1" and answer.content == "It returns one." and answer.grounded
    assert [(c.path, c.start_line, c.end_line) for c in answer.citations] == [("calc.py", 5, 6)]
    assert answer.usage.total_ms == 1234.0
