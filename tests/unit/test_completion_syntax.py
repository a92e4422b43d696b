"""Suggestions that would add syntax errors are dropped; unfinished typing is not held
against them."""

from __future__ import annotations

from codeassist_lsp.completion.syntax_check import breaks_syntax, code_language
from codeassist_lsp.completion.window import CursorWindow, cursor_window


def at_end_of(text: str, line: int) -> CursorWindow:
    window = cursor_window(text, line, len(text.split("\n")[line]))
    assert window is not None
    return window


def test_a_suggestion_that_adds_an_error_breaks_the_code() -> None:
    code = "def f(a, b):\n    return g(a, b)\n\n\nx = 1\n"
    window = cursor_window(code, 1, len("    return g(a, b"))  # the editor closed `(`
    assert window is not None and window.line_suffix == ")"
    assert not breaks_syntax(window, ", c", False, "python")
    assert breaks_syntax(window, ", c)", False, "python")


def test_unfinished_typing_is_no_reason_to_drop() -> None:
    window = at_end_of("def f(x):\n    if x == 1\n", 1)
    assert not breaks_syntax(window, ":", False, "python")
    window = at_end_of("const a = [1, 2\n", 0)
    assert not breaks_syntax(window, ", 3", False, "javascript")


def test_a_suggestion_that_replaces_the_rest_of_the_line_is_checked_as_it_will_read() -> None:
    code = "def f():\n    print()\n"
    window = cursor_window(code, 1, len("    print("))
    assert window is not None and window.line_suffix == ")"
    assert not breaks_syntax(window, "'hi')", True, "python")
    assert breaks_syntax(window, "'hi'))", True, "python")


def test_only_documents_with_a_grammar_are_checked() -> None:
    assert code_language("pkg/mod.py") == "python"
    assert code_language("README.md") is None
    assert code_language("") is None
