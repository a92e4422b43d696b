"""Files that are not code: Markdown by headings, notebooks by cells, the rest as text.

Markdown headings and a go.mod's module path become symbols; the code cells of a notebook
go through the Python code path (`extract_code`) with lines mapped back into the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import PurePosixPath

from codeassist_lsp.index.chunker import (
    Cell,
    chunk_cells,
    chunk_markdown,
    chunk_text,
    markdown_sections,
)
from codeassist_lsp.index.model import ParsedFile, Symbol
from codeassist_lsp.index.parse_code import extract_code, split_lines

_MAGIC_RE = re.compile(r"^(\s*)([%!?])", re.MULTILINE)


def parse_text(path: str, text: str, language: str) -> ParsedFile:
    """Line-window chunks; a go.mod also yields its module path as a symbol."""
    lines = split_lines(text)
    symbols = _go_mod_symbols(lines) if PurePosixPath(path).name == "go.mod" else []
    return ParsedFile(
        path=path, language=language, symbols=symbols, chunks=chunk_text(path, language, lines)
    )


def _go_mod_symbols(lines: list[str]) -> list[Symbol]:
    """The module path of a go.mod, so Go imports can be mapped to directories."""
    for number, line in enumerate(lines, start=1):
        match = re.match(r"\s*module\s+(\S+)", line)
        if match:
            name = match.group(1).strip('"`')
            return [Symbol(name, name, "module", number, number, signature=line.strip())]
    return []


def parse_markdown(path: str, text: str) -> ParsedFile:
    """Headings become symbols; chunks follow the heading sections."""
    lines = split_lines(text)
    sections = markdown_sections(lines)
    symbols = [
        Symbol(
            name=s.title,
            qualname=s.heading_path,
            kind="heading",
            start_line=s.start_line,
            end_line=s.subtree_end_line,
            signature=lines[s.start_line - 1].strip(),
            parent=s.parent_path,
        )
        for s in sections
        if s.title
    ]
    return ParsedFile(
        path=path,
        language="markdown",
        symbols=symbols,
        chunks=chunk_markdown(path, lines, sections),
    )


def parse_notebook(path: str, text: str) -> ParsedFile:
    """Code cells parsed as Python (magics commented out), lines mapped into the .ipynb."""
    lines = split_lines(text)
    try:
        cells = notebook_cells(text)
    except ValueError as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else 1
        return ParsedFile(
            path=path,
            language="notebook",
            chunks=chunk_text(path, "notebook", lines),
            syntax_errors=[(line, f"invalid notebook: {exc}")],
        )
    result = ParsedFile(path=path, language="notebook")
    for cell in cells:
        if cell.kind != "code" or not cell.source.strip():
            continue
        code, _, _ = extract_code(path, _MAGIC_RE.sub(r"\1#\2", cell.source), "python")

        def at(line: int, cell: Cell = cell) -> int:
            return min(cell.start_line + line - 1, cell.end_line)

        cell.symbols = [
            replace(s, start_line=at(s.start_line), end_line=at(s.end_line)) for s in code.symbols
        ]
        result.symbols.extend(cell.symbols)
        result.imports.extend(replace(i, line=at(i.line)) for i in code.imports)
        result.references.extend(replace(r, line=at(r.line)) for r in code.references)
    result.chunks = chunk_cells(path, cells)
    return result


def notebook_cells(text: str) -> list[Cell]:
    """The cells of a .ipynb with the lines of the file their source sits on.

    Raises ValueError when the JSON is not a notebook. Line numbers are exact for the
    usual one-string-per-line layout and best effort otherwise.
    """
    data = json.loads(text)
    raw_cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(raw_cells, list):
        raise ValueError("no cells list")
    keys = [m for m in re.finditer(r'(?<!\\)"source"\s*:\s*(\[?)', text)]
    aligned = len(keys) == len(raw_cells)
    cells: list[Cell] = []
    for index, raw in enumerate(raw_cells):
        if not isinstance(raw, dict):
            continue
        source = raw.get("source", "")
        parts = source if isinstance(source, list) else [source]
        body = "".join(p for p in parts if isinstance(p, str))
        count = max(1, len(body.split("\n")) - (1 if body.endswith("\n") else 0))
        if aligned:
            match = keys[index]
            start = text.count("\n", 0, match.start()) + 1
            is_list = bool(match.group(1))
            rest = text[match.end() : match.end() + 200].lstrip(" \t")
            if is_list and rest.startswith(("\n", "\r")) and len(parts) == count:
                start += 1
                end = start + count - 1
            else:
                end = start
        else:
            start = end = 1
        cells.append(Cell(str(raw.get("cell_type", "code")), body, start, end))
    return cells
