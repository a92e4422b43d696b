"""Cleaning model output: one line or one block, no repeats, indentation kept."""

from __future__ import annotations

from codeassist_lsp.completion.postprocess import (
    after_typed_indent,
    clean,
    cut_block,
    enter_indent,
    multiline_allowed,
)
from codeassist_lsp.completion.window import CursorWindow, cursor_window


def at(text: str) -> CursorWindow:
    """The window at the `|` in `text`."""
    before, after = text.split("|")
    lines = before.split("\n")
    window = cursor_window(before + after, len(lines) - 1, len(lines[-1]))
    assert window is not None
    return window


def test_a_typed_line_gets_one_line() -> None:
    window = at("x = comp|\n")
    assert not multiline_allowed(window)
    cleaned = clean("ute(1)\ny = 2\n", window, 8)
    assert cleaned is not None and cleaned.text == "ute(1)"


def test_a_block_opener_gets_its_body_and_stops_where_indentation_falls_back() -> None:
    window = at("def f(x):|\n\nprint(f(1))\n")
    assert multiline_allowed(window)
    cleaned = clean("\n    y = x + 1\n\n    return y\ndef g():\n    pass\n", window, 8)
    assert cleaned is not None and cleaned.text == "\n    y = x + 1\n\n    return y"


def test_a_closing_bracket_at_the_openers_depth_ends_the_block_and_is_kept() -> None:
    window = at("  if (x) {|\n")
    cut = cut_block("\n    run();\n  }\n  other();\n", window, 8)
    assert cut.ended and cut.text == "\n    run();\n  }"


def test_a_suggestion_that_opens_a_block_at_the_end_of_the_typed_line_brings_its_body() -> None:
    window = at("  unknownOption(flag) {\n    if (this._allowUnknownOption) |\n  }\n")
    assert not multiline_allowed(window)
    cleaned = clean("{\n      return;\n    } else {\n      fail(flag);\n    }\n", window, 8)
    assert cleaned is not None and cleaned.text == "{\n      return;\n    }"
    one = clean("return;\n    fail(flag);\n", window, 8)
    assert one is not None and one.text == "return;", "no block opened: one line"


def test_a_blank_line_keeps_lines_as_deep_as_the_cursor_up_to_a_blank_line() -> None:
    window = at("def f():\n    |\n")
    cleaned = clean("a = 1\n    b = 2\n\n    c = 3\n", window, 8)
    assert cleaned is not None and cleaned.text == "a = 1\n    b = 2"


def test_max_lines_is_a_hard_stop() -> None:
    window = at("def f():|\n")
    body = "".join(f"\n    x{i} = {i}" for i in range(20))
    cleaned = clean(body, window, 3)
    assert cleaned is not None and cleaned.text.count("\n") == 2


def test_streaming_knows_the_block_ended_only_once_the_next_line_shows() -> None:
    window = at("def f():|\n")
    assert not cut_block("\n    return 1", window, 8).ended
    assert not cut_block("\n    return 1\n", window, 8).ended
    assert cut_block("\n    return 1\nd", window, 8).ended


def test_whitespace_only_and_repeats_of_the_suffix_or_next_line_are_dropped() -> None:
    assert clean("   \n", at("x = |\n"), 8) is None
    assert clean("foo)", at("call(|foo)\n"), 8) is None
    assert clean("y = 2", at("x = 1\n|\ny = 2\n"), 8) is None
    assert clean("\n    return 1", at("def f():|\n    return 1\n"), 8) is None


def test_a_suggestion_that_ends_with_the_text_right_of_the_cursor_replaces_it() -> None:
    cleaned = clean("a, b)", at("call(|)\n"), 8)
    assert cleaned is not None and cleaned.text == "a, b)" and cleaned.replaces_line_suffix
    plain = clean("a, b", at("call(|)\n"), 8)
    assert plain is not None and not plain.replaces_line_suffix


def test_typed_indentation_stands_and_other_output_goes_at_the_cursor_as_written() -> None:
    assert after_typed_indent("    return 1\n    y", at("def f():\n    |\n")) == "return 1\n    y"
    assert after_typed_indent("ers.get(k)", at("    x = self.head|\n")) == "ers.get(k)"
    assert after_typed_indent("    return 1", at("|\n")) == "    return 1"


def test_enter_keeps_the_indentation_and_deepens_it_after_a_block_opener() -> None:
    assert enter_indent("    x = 1", "") == "    "
    assert enter_indent("  if (x) {", "a {\n  b\n  c {\n    d\n") == "    "
    assert enter_indent("    def f():", "class A:\n    x = 1\n") == "        "
    assert enter_indent("\tif x:", "") == "\t\t"
