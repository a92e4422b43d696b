"""The text around the cursor, split the way llama.vim splits it.

`prefix` is the lines above the cursor's line, `middle` the cursor's line up to the
cursor and `suffix` the rest of that line and the lines below. While the user types on a
line only `middle` changes: the prefix can be cut on a grid of its own lines, and the
cache can tell typing on one line from moving elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CursorWindow:
    """One cursor position in one document's text."""

    prefix: str  # every line above the cursor's line, each ending in "\n"
    middle: str  # the cursor's line up to the cursor
    suffix: str  # the rest of the cursor's line, then the lines below
    line: int  # 0-based line of the cursor

    @property
    def line_suffix(self) -> str:
        """The text right of the cursor on its line."""
        return self.suffix.split("\n", 1)[0].rstrip("\r")

    @property
    def next_line(self) -> str:
        """The first line below the cursor's that holds more than whitespace, or ""."""
        for text in self.suffix.split("\n")[1:]:
            if text.strip():
                return text
        return ""

    @property
    def indent(self) -> str:
        """The leading whitespace of the cursor's line, as far as the cursor."""
        return self.middle[: len(self.middle) - len(self.middle.lstrip())]

    def auto_trigger_allowed(self, max_right_chars: int) -> bool:
        """llama.vim's rule: typing before a long tail of text is editing, not writing."""
        return len(self.line_suffix.strip()) <= max_right_chars


def accepted(window: CursorWindow, text: str, indent: str) -> CursorWindow:
    """The window once `text` is accepted at the cursor and Enter pressed: the cursor on a
    new line after the editor's `indent`, the same text below."""
    return CursorWindow(
        prefix=f"{window.prefix}{window.middle}{text}\n",
        middle=indent,
        suffix=window.suffix,
        line=window.line + text.count("\n") + 1,
    )


def utf16_to_index(line_text: str, character: int) -> int:
    """The Python index of an LSP (UTF-16) column in `line_text`, clamped to its end."""
    units = 0
    for index, ch in enumerate(line_text):
        if units >= character:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text)


def index_to_utf16(line_text: str, index: int) -> int:
    """The LSP (UTF-16) column of a Python index in `line_text`."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in line_text[:index])


def cursor_window(text: str, line: int, character: int) -> CursorWindow | None:
    """Split `text` at an LSP position (UTF-16 column); None when the line does not exist."""
    lines = text.split("\n")
    if line < 0 or line >= len(lines) or character < 0:
        return None
    current = lines[line]
    at = utf16_to_index(current, character)
    prefix = "".join(f"{text}\n" for text in lines[:line])
    suffix = "\n".join([current[at:], *lines[line + 1 :]])
    return CursorWindow(prefix=prefix, middle=current[:at], suffix=suffix, line=line)
