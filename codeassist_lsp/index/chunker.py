"""Cut a file into the chunks that get embedded: by symbol for code, by heading for docs.

Embedding is the slow step of indexing, so the aim is few chunks that each mean one
thing: a function, a class header, the module code between definitions. Oversized
symbols become overlapping windows that keep the symbol's name and signature; tiny
neighbours are merged so one-line getters do not become chunks of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from codeassist_lsp.index.model import Chunk, Symbol


@dataclass(frozen=True)
class ChunkLimits:
    """Size knobs, in lines and characters."""

    max_lines: int = 120  # a piece longer than this is split into windows
    max_chars: int = 4000
    overlap_lines: int = 8  # shared by consecutive windows of one symbol
    min_lines: int = 20  # pieces shorter than this merge with their neighbours…
    merge_lines: int = 80  # …while the merged piece stays within this many lines
    whole_lines: int = 100  # a class up to this size stays one chunk
    small_file_lines: int = 30  # a file up to this size is one chunk
    text_lines: int = 60  # window size for plain text


DEFAULT_LIMITS = ChunkLimits()

# Room for the joined signatures of a chunk that holds several definitions.
_GROUP_SIGNATURE_CHARS = 600
# Symbols that stay inside module code instead of cutting it apart.
_INLINE_KINDS = frozenset({"constant"})
_LINE_COMMENTS: dict[str, tuple[str, ...]] = {
    "python": ("#",),
    "ruby": ("#",),
    "rust": ("//", "/*", "*", "#["),
}
_C_LINE_COMMENTS = ("//", "/*", "*", "@")


@dataclass
class _Node:
    symbol: Symbol
    start: int
    end: int
    children: list[_Node] = field(default_factory=list)


@dataclass
class _Piece:
    """A line range on its way to becoming a chunk."""

    start: int
    end: int
    kind: str
    symbol: str | None
    signature: str
    docstring: str
    parent: str | None
    symbols: int = 0  # definitions it holds whole
    solo: bool = False  # holds a definition big enough to keep its own chunk
    window: bool = False  # part of a split symbol; never merged
    text: str | None = None  # set when a single long line was cut by characters
    signatures: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.end - self.start + 1


class _Lines:
    """File lines with cheap character counts over ranges (1-based, inclusive)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        self._prefix = [0]
        for line in self.lines:
            self._prefix.append(self._prefix[-1] + len(line) + 1)

    def chars(self, start: int, end: int) -> int:
        return self._prefix[end] - self._prefix[start - 1]

    def text(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start - 1 : end])

    def blank(self, number: int) -> bool:
        return not self.lines[number - 1].strip()

    def last_content_line(self) -> int:
        last = len(self.lines)
        while last > 0 and self.blank(last):
            last -= 1
        return last

    def content_bounds(self) -> tuple[int, int] | None:
        """First and last non-blank line, or None for a blank file."""
        last = self.last_content_line()
        if last == 0:
            return None
        first = 1
        while self.blank(first):
            first += 1
        return first, last


# --- code ---------------------------------------------------------------------------


def chunk_code(
    path: str,
    language: str,
    lines: Sequence[str],
    symbols: Sequence[Symbol],
    *,
    module_doc: str = "",
    limits: ChunkLimits = DEFAULT_LIMITS,
) -> list[Chunk]:
    """Chunks of a source file given its symbols (from `parse`)."""
    text = _Lines(lines)
    bounds = text.content_bounds()
    if bounds is None:
        return []
    first, last = bounds
    roots = _tree(symbols, last)
    if last <= limits.small_file_lines and text.chars(first, last) <= limits.max_chars:
        pieces = [_whole_file(first, last, roots, module_doc)]
    else:
        module = _Piece(first, last, "module", None, "", module_doc, None)
        pieces = _merge(_span(text, first, last, roots, module, language, limits), text, limits)
        for piece in pieces[1:]:
            if piece.kind == "module" and piece.docstring:
                piece.docstring = ""
    return [_to_chunk(path, language, text, piece) for piece in pieces]


def _tree(symbols: Sequence[Symbol], last: int) -> list[_Node]:
    """Nest symbols by line containment (Rust impl methods sit outside their struct)."""
    ordered = sorted(
        (s for s in symbols if s.kind not in _INLINE_KINDS and 1 <= s.start_line <= last),
        key=lambda s: (s.start_line, -s.end_line),
    )
    roots: list[_Node] = []
    stack: list[_Node] = []
    for symbol in ordered:
        node = _Node(symbol, symbol.start_line, min(symbol.end_line, last))
        while stack and stack[-1].end < node.start:
            stack.pop()
        if stack and (stack[-1].start, stack[-1].end) == (node.start, node.end):
            continue
        if stack and node.end > stack[-1].end:
            node.end = stack[-1].end
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def _whole_file(first: int, last: int, roots: list[_Node], module_doc: str) -> _Piece:
    if len(roots) == 1 and roots[0].end - roots[0].start + 1 >= (last - first + 1) // 2:
        piece = _symbol_piece(roots[0].symbol, first, last)
        piece.docstring = piece.docstring or module_doc
        return piece
    signatures = [n.symbol.signature for n in roots if n.symbol.signature]
    piece = _Piece(first, last, "module", None, "", module_doc, None, symbols=len(roots))
    piece.signature = "\n".join(signatures)[:_GROUP_SIGNATURE_CHARS]
    return piece


def _symbol_piece(symbol: Symbol, start: int, end: int) -> _Piece:
    return _Piece(
        start,
        end,
        symbol.kind,
        symbol.qualname,
        symbol.signature,
        symbol.docstring,
        symbol.parent,
        symbols=1,
        signatures=[symbol.signature] if symbol.signature else [],
    )


def _comment_prefixes(language: str) -> tuple[str, ...]:
    return _LINE_COMMENTS.get(language, _C_LINE_COMMENTS)


def _span(
    text: _Lines,
    start: int,
    end: int,
    nodes: list[_Node],
    context: _Piece,
    language: str,
    limits: ChunkLimits,
) -> list[_Piece]:
    """Pieces covering lines start..end: the nodes and the code between them."""
    prefixes = _comment_prefixes(language)
    out: list[_Piece] = []
    cursor = start
    for node in nodes:
        node_start = max(node.start, cursor)
        while node_start - 1 >= cursor and text.lines[node_start - 2].strip().startswith(prefixes):
            node_start -= 1
        if node_start > cursor:
            out.extend(_gap(text, cursor, node_start - 1, context, limits))
        out.extend(_node_pieces(text, node, node_start, context, language, limits))
        cursor = max(cursor, node.end + 1)
    if cursor <= end:
        out.extend(_gap(text, cursor, end, context, limits))
    return out


def _node_pieces(
    text: _Lines, node: _Node, start: int, context: _Piece, language: str, limits: ChunkLimits
) -> list[_Piece]:
    lines = node.end - start + 1
    chars = text.chars(start, node.end)
    if node.children and (lines > limits.whole_lines or chars > limits.max_chars):
        header = _symbol_piece(node.symbol, start, node.end)
        header.symbols = 0
        header.signatures = []
        inner = _span(text, start, node.end, node.children, header, language, limits)
        return _merge(inner, text, limits)
    if lines <= limits.max_lines and chars <= limits.max_chars:
        piece = _symbol_piece(node.symbol, start, node.end)
        piece.solo = lines >= limits.min_lines
        return [piece]
    return _windows(text, _symbol_piece(node.symbol, start, node.end), limits, limits.max_lines)


def _gap(text: _Lines, start: int, end: int, context: _Piece, limits: ChunkLimits) -> list[_Piece]:
    while start <= end and text.blank(start):
        start += 1
    while end >= start and text.blank(end):
        end -= 1
    if start > end:
        return []
    piece = _Piece(
        start, end, context.kind, context.symbol, context.signature, context.docstring,
        context.parent,
    )  # fmt: skip
    if piece.lines <= limits.max_lines and text.chars(start, end) <= limits.max_chars:
        return [piece]
    return _windows(text, piece, limits, limits.max_lines)


def _windows(text: _Lines, model: _Piece, limits: ChunkLimits, size: int) -> list[_Piece]:
    """Overlapping line windows over model's range, each carrying model's metadata."""
    out: list[_Piece] = []
    start = model.start
    while start <= model.end:
        line = text.lines[start - 1]
        if len(line) > limits.max_chars:
            for offset in range(0, len(line), limits.max_chars):
                out.append(_copy(model, start, start, line[offset : offset + limits.max_chars]))
            start += 1
            continue
        end = start
        while (
            end < model.end
            and end - start + 1 < size
            and text.chars(start, end + 1) <= limits.max_chars
        ):
            end += 1
        out.append(_copy(model, start, end, None))
        if end >= model.end:
            break
        start = max(start + 1, end + 1 - limits.overlap_lines)
    return out


def _copy(model: _Piece, start: int, end: int, sliced: str | None) -> _Piece:
    return _Piece(
        start,
        end,
        model.kind,
        model.symbol,
        model.signature,
        model.docstring,
        model.parent,
        window=True,
        text=sliced,
    )


def _merge(pieces: list[_Piece], text: _Lines, limits: ChunkLimits) -> list[_Piece]:
    """Greedily join small neighbours; never two pieces that each deserve a chunk."""
    led: list[_Piece] = []
    for piece in pieces:
        lead = led[-1] if led else None
        if _leads(lead, piece) and _can_merge(lead, piece, text, limits):
            led[-1] = _combine(lead, piece)
            continue
        led.append(piece)
    out: list[_Piece] = []
    for piece in led:
        if out and _can_merge(out[-1], piece, text, limits):
            out[-1] = _combine(out[-1], piece)
        else:
            out.append(piece)
    return out


def _leads(lead: _Piece | None, piece: _Piece) -> TypeGuard[_Piece]:
    """A line or two of plain code (`impl X {`) just before a definition that stands alone."""
    return lead is not None and not lead.symbols and lead.lines <= 2 and piece.solo


def _can_merge(a: _Piece, b: _Piece, text: _Lines, limits: ChunkLimits) -> bool:
    if a.window or b.window or text.chars(a.start, b.end) > limits.max_chars:
        return False
    span = b.end - a.start + 1
    if a.solo and b.solo:
        return False
    if a.solo or b.solo:
        # Code between definitions may trail a definition; only a line or two (an
        # `impl X {`, a lone decorator) may lead one, so its chunk starts with it.
        other = b if a.solo else a
        if other.symbols:
            return False
        if other.lines <= 2:
            return span <= limits.max_lines
        return a.solo and other.lines < limits.min_lines and span <= limits.merge_lines
    return span <= limits.merge_lines and (a.lines < limits.min_lines or b.lines < limits.min_lines)


def _combine(a: _Piece, b: _Piece) -> _Piece:
    if a.symbols + b.symbols <= 1:
        # The definition inside, else a class header, names the merged piece.
        main = b if (b.symbols, bool(b.symbol)) > (a.symbols, bool(a.symbol)) else a
        merged = _Piece(
            a.start, b.end, main.kind, main.symbol, main.signature, main.docstring, main.parent
        )
    else:
        kind = a.kind if a.kind == b.kind else "module"
        merged = _Piece(a.start, b.end, kind, None, "", "", a.parent if a.symbols else b.parent)
        if a.symbols == 0:
            merged.kind, merged.symbol = a.kind, a.symbol
            merged.docstring, merged.parent = a.docstring, a.parent
    merged.symbols = a.symbols + b.symbols
    merged.solo = a.solo or b.solo
    merged.signatures = a.signatures + b.signatures
    if merged.symbols > 1:
        merged.signature = "\n".join(merged.signatures)[:_GROUP_SIGNATURE_CHARS]
    return merged


def _to_chunk(path: str, language: str, text: _Lines, piece: _Piece) -> Chunk:
    return Chunk(
        path=path,
        start_line=piece.start,
        end_line=piece.end,
        kind=piece.kind,
        text=piece.text if piece.text is not None else text.text(piece.start, piece.end),
        language=language,
        symbol=piece.symbol,
        signature=piece.signature,
        docstring=piece.docstring,
        parent=piece.parent,
    )


# --- plain text ---------------------------------------------------------------------


def chunk_text(
    path: str, language: str, lines: Sequence[str], *, limits: ChunkLimits = DEFAULT_LIMITS
) -> list[Chunk]:
    """Overlapping line windows for files without structure."""
    text = _Lines(lines)
    bounds = text.content_bounds()
    if bounds is None:
        return []
    first, last = bounds
    model = _Piece(first, last, "text", None, "", "", None)
    windows = _windows(text, model, limits, limits.text_lines)
    return [_to_chunk(path, language, text, piece) for piece in windows]


# --- markdown -----------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Section:
    """A heading and the lines up to the next heading (any level)."""

    title: str  # "" for text before the first heading
    level: int
    start_line: int
    end_line: int
    subtree_end_line: int  # up to the next heading of the same or a higher level
    heading_path: str  # "Install > Linux"
    parent_path: str | None


def markdown_sections(lines: Sequence[str]) -> list[Section]:
    """Headings found outside fenced code blocks, ATX and setext alike."""
    headings: list[tuple[int, int, str]] = []  # (line, level, title)
    fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((index + 1, len(atx.group(1)), (atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        after_text = index > 0 and _is_paragraph_line(lines[index - 1])
        if setext and after_text and (not headings or headings[-1][0] != index):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append((index, level, lines[index - 1].strip()))
    total = len(lines)
    while total > 0 and not lines[total - 1].strip():
        total -= 1
    sections: list[Section] = []
    if headings and headings[0][0] > 1 and any(s.strip() for s in lines[: headings[0][0] - 1]):
        sections.append(Section("", 0, 1, headings[0][0] - 1, headings[0][0] - 1, "", None))
    elif not headings and total:
        sections.append(Section("", 0, 1, total, total, "", None))
    trail: list[tuple[int, str]] = []  # (level, title) of the open headings
    for position, (number, level, title) in enumerate(headings):
        end = headings[position + 1][0] - 1 if position + 1 < len(headings) else total
        subtree_end = total
        for later_line, later_level, _ in headings[position + 1 :]:
            if later_level <= level:
                subtree_end = later_line - 1
                break
        while trail and trail[-1][0] >= level:
            trail.pop()
        parent = " > ".join(t for _, t in trail) or None
        trail.append((level, title))
        heading_path = " > ".join(t for _, t in trail)
        sections.append(
            Section(
                title,
                level,
                number,
                max(end, number),
                max(subtree_end, number),
                heading_path,
                parent,
            )
        )
    return sections


def _is_paragraph_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", ">", "-", "*", "+", "|", "```", "~~~"))


def chunk_markdown(
    path: str,
    lines: Sequence[str],
    sections: Sequence[Section],
    *,
    limits: ChunkLimits = DEFAULT_LIMITS,
) -> list[Chunk]:
    """One chunk per section; small sections join the next, long ones become windows."""
    text = _Lines(lines)
    pieces: list[_Piece] = []
    for section in sections:
        start, end = section.start_line, min(section.end_line, len(lines))
        while start <= end and text.blank(start):
            start += 1
        while end >= start and text.blank(end):
            end -= 1
        if start > end:
            continue
        piece = _Piece(
            start,
            end,
            "doc",
            section.heading_path or None,
            lines[section.start_line - 1].strip() if section.title else "",
            "",
            section.parent_path,
        )
        if piece.lines <= limits.max_lines and text.chars(start, end) <= limits.max_chars:
            pieces.append(piece)
        else:
            pieces.extend(_windows(text, piece, limits, limits.max_lines))
    merged = _merge(pieces, text, limits)
    return [_to_chunk(path, "markdown", text, piece) for piece in merged]


# --- notebooks ----------------------------------------------------------------------


@dataclass
class Cell:
    """A notebook cell: its source and where that source sits in the .ipynb file."""

    kind: str  # code | markdown | raw
    source: str
    start_line: int
    end_line: int
    symbols: list[Symbol] = field(default_factory=list)


def chunk_cells(
    path: str, cells: Sequence[Cell], *, limits: ChunkLimits = DEFAULT_LIMITS
) -> list[Chunk]:
    """One chunk per non-empty cell; runs of tiny cells are joined, huge ones windowed."""
    chunks: list[Chunk] = []
    for cell in cells:
        source = cell.source.rstrip()
        if not source.strip():
            continue
        chunk = _cell_chunk(path, cell, source)
        previous = chunks[-1] if chunks else None
        if previous is not None and _joinable(previous, chunk, limits):
            previous.text += "\n\n" + chunk.text
            previous.end_line = max(previous.end_line, chunk.end_line)
            previous.signature = "\n".join(s for s in (previous.signature, chunk.signature) if s)
            previous.symbol = previous.symbol if not chunk.symbol else None
            continue
        chunks.extend(_split_cell(chunk, limits))
    return chunks


def _cell_chunk(path: str, cell: Cell, source: str) -> Chunk:
    language = "python" if cell.kind == "code" else "markdown"
    top = [s for s in cell.symbols if s.parent is None and s.kind not in _INLINE_KINDS]
    symbol = top[0].qualname if len(top) == 1 else None
    if cell.kind == "markdown":
        heading = next((m for m in map(_ATX.match, source.split("\n")) if m), None)
        symbol = (heading.group(2) or "").strip() or None if heading else None
    return Chunk(
        path=path,
        start_line=cell.start_line,
        end_line=max(cell.end_line, cell.start_line),
        kind="cell",
        text=source,
        language=language,
        symbol=symbol,
        signature="\n".join(s.signature for s in top if s.signature)[:_GROUP_SIGNATURE_CHARS],
        docstring=top[0].docstring if len(top) == 1 else "",
    )


def _joinable(a: Chunk, b: Chunk, limits: ChunkLimits) -> bool:
    a_lines, b_lines = a.text.count("\n") + 1, b.text.count("\n") + 1
    return (
        a.language == b.language
        and a_lines < limits.min_lines
        and b_lines < limits.min_lines
        and a_lines + b_lines <= limits.merge_lines
        and len(a.text) + len(b.text) <= limits.max_chars
    )


def _split_cell(chunk: Chunk, limits: ChunkLimits) -> list[Chunk]:
    lines = chunk.text.split("\n")
    if len(lines) <= limits.max_lines and len(chunk.text) <= limits.max_chars:
        return [chunk]
    text = _Lines(lines)
    model = _Piece(1, len(lines), "cell", chunk.symbol, chunk.signature, chunk.docstring, None)
    out: list[Chunk] = []
    exact = chunk.end_line - chunk.start_line + 1 == len(lines)
    for piece in _windows(text, model, limits, limits.max_lines):
        start = chunk.start_line + piece.start - 1 if exact else chunk.start_line
        end = chunk.start_line + piece.end - 1 if exact else chunk.end_line
        part = _to_chunk(chunk.path, chunk.language, text, piece)
        part.start_line, part.end_line = start, end
        out.append(part)
    return out
