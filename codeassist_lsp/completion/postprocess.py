"""What the model wrote, cut to what is worth showing (rules of llama.vim and Continue).

One line unless the cursor's line is empty or opens a block, typed or suggested; a block
ends where the indentation falls back; nothing that only repeats the text right of the
cursor or the next line; nothing that is only whitespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist_lsp.completion.window import CursorWindow

BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then")
CLOSERS = ")]}"


def multiline_allowed(window: CursorWindow) -> bool:
    """True when the cursor's line is blank up to the cursor or opens a block."""
    typed = window.middle.rstrip()
    return not typed.strip() or typed.endswith(BLOCK_OPENERS)


def opens_block(window: CursorWindow, text: str) -> bool:
    """True when the suggestion's first line ends the typed line with a block opener
    (`if err != nil ` + `{`): its body then belongs to it, and one `{` alone would be
    dropped as unbalanced."""
    first = text.split("\n", 1)[0]
    typed = window.middle
    return bool(typed.strip() and first.strip()) and (typed + first).rstrip().endswith(
        BLOCK_OPENERS
    )


def enter_indent(line: str, prefix: str) -> str:
    """The indentation an editor gives the line after `line` when Enter is pressed: the
    same, one level deeper after a block opener (the level as `prefix` indents)."""
    indent = line[: len(line) - len(line.lstrip())]
    if not line.rstrip().endswith(BLOCK_OPENERS):
        return indent
    return indent + ("\t" if indent.startswith("\t") else " " * _indent_step(prefix))


def _indent_step(text: str, lines: int = 200) -> int:
    """The most common deepening from one line to the next in the last `lines` lines of
    `text` (4 when none)."""
    tail = text[-lines * 120 :]
    rows = tail.split("\n")
    if len(tail) < len(text):
        rows = rows[1:]  # cut inside a line: its indentation is not known
    rows = rows[-lines:]
    steps: dict[int, int] = {}
    last = 0
    for line in rows:
        if line.strip():
            width = _indent_width(line)
            if width > last:
                steps[width - last] = steps.get(width - last, 0) + 1
            last = width
    return max(steps, key=lambda step: (steps[step], -step)) if steps else 4


def after_typed_indent(text: str, window: CursorWindow) -> str:
    """The model's output as it goes at the cursor: after a line's bare indentation the
    model's own leading whitespace is dropped, so the indentation the user typed stands."""
    if window.middle and not window.middle.strip():
        return text.lstrip(" \t")
    return text


def _indent_width(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip())


@dataclass(frozen=True)
class BlockCut:
    """The lines of a suggestion that belong to the cursor's block, and whether the text
    after them shows the block has ended (so generation can stop)."""

    text: str
    ended: bool


def cut_block(text: str, window: CursorWindow, max_lines: int) -> BlockCut:
    """Keep the lines of `text` (inserted at the cursor) that stay in the cursor's block.

    After a block opener (typed, or the suggestion's first line on a blank line) the block
    is the lines indented deeper than the opener's line, plus one closing bracket line at
    its depth. Otherwise it is the lines at least as deep as the cursor, up to a blank
    line. A line that repeats the next line of the file ends it: the model is writing
    what is already there.
    """
    lines = text.split("\n")
    if window.middle.strip():
        block, base = True, _indent_width(window.indent)
    else:
        block, base = lines[0].rstrip().endswith(BLOCK_OPENERS), _indent_width(window.middle)
    next_line = window.next_line.strip()
    kept = [lines[0]]
    for index, line in enumerate(lines[1:], start=1):
        if index >= max_lines:
            return BlockCut("\n".join(kept), True)
        complete = index < len(lines) - 1
        if not line.strip():
            if complete and not block:
                return BlockCut("\n".join(kept), True)
            kept.append(line)
            continue
        if next_line and complete and line.strip() == next_line:
            return BlockCut("\n".join(kept), True)
        width = _indent_width(line)
        if block and width == base and line.lstrip()[:1] in CLOSERS:
            if not complete:
                return BlockCut("\n".join(kept), False)
            kept.append(_closing(line))
            return BlockCut("\n".join(kept), True)
        if width < base or (block and width == base):
            return BlockCut("\n".join(kept), True)
        kept.append(line)
    return BlockCut("\n".join(kept), False)


def _closing(line: str) -> str:
    """A block's closing line as kept: the whole line, or only its closing brackets when
    it opens the next block (`} else {`), which the suggestion would leave unbalanced."""
    if not line.rstrip().endswith(BLOCK_OPENERS):
        return line
    body = line.lstrip()
    end = len(body) - len(body.lstrip(CLOSERS + ",;"))
    return line[: len(line) - len(body)] + body[:end].rstrip()


@dataclass(frozen=True)
class Cleaned:
    """A suggestion to show: `text` goes at the cursor; with `replaces_line_suffix` it
    replaces the text right of the cursor (it ends with that text already)."""

    text: str
    replaces_line_suffix: bool = False


def clean(text: str, window: CursorWindow, max_lines: int) -> Cleaned | None:
    """The suggestion worth showing for raw model output, or None."""
    if multiline_allowed(window) or opens_block(window, text):
        text = cut_block(text + "\n", window, max_lines).text
    else:
        text = text.split("\n", 1)[0]
    lines = [line.rstrip() for line in text.split("\n")]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    text = "\n".join(lines)
    if not text.strip():
        return None
    line_suffix = window.line_suffix
    if len(lines) == 1:
        if line_suffix.strip() and text.strip() == line_suffix.strip():
            return None
        if (window.middle + text).strip() == window.next_line.strip():
            return None
        if line_suffix.strip() and text.rstrip().endswith(line_suffix.strip()):
            return Cleaned(text.rstrip(), replaces_line_suffix=True)
        return Cleaned(text)
    if not lines[0].strip() and _repeats_below(lines[1:], window):
        return None
    return Cleaned(text)


def _repeats_below(lines: list[str], window: CursorWindow) -> bool:
    below = [line for line in window.suffix.split("\n")[1:] if line.strip()]
    wanted = [line.strip() for line in lines if line.strip()]
    return bool(wanted) and [line.strip() for line in below[: len(wanted)]] == wanted
