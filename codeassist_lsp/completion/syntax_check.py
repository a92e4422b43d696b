"""Drop a suggestion that would break the code: more syntax errors with it than without.

The small model sometimes closes a bracket twice or opens one it never closes. Typing is
often mid-statement, so the text without the suggestion may not parse either; only a
suggestion that adds errors is dropped. Both texts are parsed whole with tree-sitter
(a few milliseconds for a 2,000-line file, against hundreds for the model).
"""

from __future__ import annotations

from codeassist_lsp.completion.window import CursorWindow
from codeassist_lsp.index.languages import CODE_LANGUAGES, get_parser, language_for_path
from codeassist_lsp.index.syntax_errors import syntax_errors


def code_language(path: str) -> str | None:
    """The grammar for a document's path, when there is one."""
    language = language_for_path(path) if path else None
    return language if language in CODE_LANGUAGES else None


def error_count(language: str, text: str) -> int:
    root = get_parser(language).parse(text.encode("utf-8", "replace")).root_node
    return len(syntax_errors(root))


MAX_CHECKED_CHARS = 300_000  # beyond this, two parses would cost as much as the model


def breaks_syntax(
    window: CursorWindow, text: str, replaces_line_suffix: bool, language: str
) -> bool:
    """Whether the document has more syntax errors with `text` at the cursor (a document
    too large to parse twice quickly is not checked)."""
    if len(window.prefix) + len(window.suffix) > MAX_CHECKED_CHARS:
        return False
    suffix = window.suffix
    if replaces_line_suffix:
        suffix = suffix[len(window.suffix.split("\n", 1)[0]) :]
    before = window.prefix + window.middle + window.suffix
    after = window.prefix + window.middle + text + suffix
    return error_count(language, after) > error_count(language, before)
