"""The syntax tree of an open document, kept current by incremental parsing.

A keystroke in a 2,000-line file should not cost a full parse: each edit the editor sends
is applied to the tree (`Tree.edit`) and to the text, and the next parse reuses every
subtree the edit did not touch. Positions arrive as the editor counts them (UTF-16 code
units by default in LSP) and are turned into the byte offsets and points tree-sitter uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Point, Tree

from codeassist_lsp.index.languages import get_parser

_NEWLINE = re.compile(rb"\n")


@dataclass(frozen=True)
class Edit:
    """Replace `start`..`end` ((line, character), 0-based) with `text`; no range: the whole."""

    text: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


def _line_starts(source: bytes) -> list[int]:
    return [0, *(m.end() for m in _NEWLINE.finditer(source))]


class LiveTree:
    """A document's text (UTF-8) and its tree, edited in step."""

    def __init__(self, language: str, text: str, encoding: str = "utf-16") -> None:
        self.language = language
        self.encoding = encoding
        self._parser = get_parser(language)
        self.source = text.encode("utf-8")
        self.line_starts = _line_starts(self.source)
        self.tree: Tree = self._parser.parse(self.source)
        self._dirty = False
        self.full_parses = 1  # how often the whole text was parsed (for tests and benches)

    def apply(self, edits: Sequence[Edit]) -> None:
        """Apply the editor's edits in order (parsing waits for `current`)."""
        for edit in edits:
            if edit.start is None or edit.end is None:
                self.reset(edit.text)
                continue
            start_byte, start_point = self._locate(edit.start)
            end_byte, end_point = self._locate(edit.end)
            if end_byte < start_byte:
                start_byte, end_byte, start_point, end_point = (
                    end_byte,
                    start_byte,
                    end_point,
                    start_point,
                )
            inserted = edit.text.encode("utf-8")
            lines = inserted.split(b"\n")
            if len(lines) == 1:
                new_end = Point(start_point.row, start_point.column + len(inserted))
            else:
                new_end = Point(start_point.row + len(lines) - 1, len(lines[-1]))
            self.tree.edit(
                start_byte=start_byte,
                old_end_byte=end_byte,
                new_end_byte=start_byte + len(inserted),
                start_point=start_point,
                old_end_point=end_point,
                new_end_point=new_end,
            )
            self.source = self.source[:start_byte] + inserted + self.source[end_byte:]
            self.line_starts = _line_starts(self.source)
            self._dirty = True

    def reset(self, text: str) -> None:
        """Take a whole new text: the next `current` parses it from scratch."""
        self.source = text.encode("utf-8")
        self.line_starts = _line_starts(self.source)
        self.tree = self._parser.parse(self.source)
        self.full_parses += 1
        self._dirty = False

    def current(self, expected: str | None = None) -> Tree:
        """The tree of the text after every edit applied. With `expected` (the editor's
        text as the server holds it), a text that disagrees is parsed afresh instead, so a
        mistaken edit can never leave a wrong tree behind."""
        if expected is not None and expected.encode("utf-8") != self.source:
            self.reset(expected)
        elif self._dirty:
            self.tree = self._parser.parse(self.source, old_tree=self.tree)
            self._dirty = False
        return self.tree

    def _locate(self, position: tuple[int, int]) -> tuple[int, Point]:
        """Byte offset and tree-sitter point of an editor position (clamped to the text)."""
        line, character = position
        if line >= len(self.line_starts):
            end = len(self.source)
            return end, Point(len(self.line_starts) - 1, end - self.line_starts[-1])
        begin = self.line_starts[line]
        stop = (
            self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.source)
        )
        raw = self.source[begin:stop]
        column = min(self._column_bytes(raw, max(character, 0)), len(raw))
        return begin + column, Point(line, column)

    def position(self, point: tuple[int, int]) -> tuple[int, int]:
        """The editor position (line, character in the client's units) of a tree-sitter
        point (row, byte column): the inverse of `_locate`."""
        row, column = point
        begin = self.line_starts[row] if row < len(self.line_starts) else len(self.source)
        prefix = self.source[begin : begin + column]
        if prefix.isascii() or self.encoding == "utf-8":
            return row, len(prefix)
        text = prefix.decode("utf-8", "replace")
        if self.encoding == "utf-32":
            return row, len(text)
        return row, len(text.encode("utf-16-le")) // 2

    def _column_bytes(self, raw: bytes, character: int) -> int:
        """UTF-8 bytes of the first `character` units of a line, in the client's encoding."""
        if raw.isascii() or self.encoding == "utf-8":
            return character
        text = raw.decode("utf-8", "replace")
        if self.encoding == "utf-32":
            return len(text[:character].encode("utf-8"))
        units = text.encode("utf-16-le")[: 2 * character]
        return len(units.decode("utf-16-le", "ignore").encode("utf-8"))
