"""The cursor's window: prefix, typed middle, suffix, and the auto-trigger rule."""

from __future__ import annotations

from codeassist_lsp.completion.window import (
    accepted,
    cursor_window,
    index_to_utf16,
    utf16_to_index,
)

TEXT = "import os\n\ndef main():\n    print(os.getcwd())\n    return 0\n"


def test_window_splits_at_the_cursor_line() -> None:
    window = cursor_window(TEXT, 3, 10)
    assert window is not None
    assert window.prefix == "import os\n\ndef main():\n"
    assert window.middle == "    print("
    assert window.suffix == "os.getcwd())\n    return 0\n"
    assert window.line_suffix == "os.getcwd())"
    assert window.next_line == "    return 0"
    assert window.indent == "    "


def test_positions_past_the_text_give_nothing_and_columns_clamp() -> None:
    assert cursor_window(TEXT, 99, 0) is None
    window = cursor_window(TEXT, 0, 500)
    assert window is not None and window.middle == "import os" and window.line_suffix == ""


def test_utf16_columns_count_astral_characters_twice() -> None:
    line = "s = '😀' + x"
    assert utf16_to_index(line, 7) == 6  # after the emoji (2 UTF-16 units)
    assert index_to_utf16(line, 6) == 7


def test_no_automatic_trigger_before_a_long_tail() -> None:
    short = cursor_window("x = f()\n", 0, 6)
    long = cursor_window("x = f(alpha, beta)\n", 0, 6)
    assert short is not None and short.auto_trigger_allowed(8)
    assert long is not None and not long.auto_trigger_allowed(8)


def test_accepting_a_suggestion_and_pressing_enter_is_the_window_the_editor_sends() -> None:
    at_end = cursor_window(TEXT, 3, 22)
    assert at_end is not None
    text = TEXT.replace("getcwd())\n", "getcwd())  # cwd\n    \n")
    assert accepted(at_end, "  # cwd", "    ") == cursor_window(text, 4, 4)
    inside = cursor_window(TEXT, 3, 10)  # the text right of the cursor goes down a line
    assert inside is not None
    text = TEXT.replace("print(os.getcwd())", "print(sep, 1\nos.getcwd())")
    assert accepted(inside, "sep, 1", "") == cursor_window(text, 4, 0)
