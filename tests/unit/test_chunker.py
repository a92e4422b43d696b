"""Chunking: one chunk per real definition, split giants, merge crumbs, keep ranges exact."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from codeassist_lsp.index.chunker import (
    Cell,
    ChunkLimits,
    chunk_cells,
    chunk_code,
    chunk_markdown,
    chunk_text,
    markdown_sections,
)
from codeassist_lsp.index.model import Chunk, Symbol
from codeassist_lsp.index.parse import parse_source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _function(name: str, body_lines: int, indent: str = "") -> list[str]:
    lines = [f"{indent}def {name}(x):", f'{indent}    """Doc of {name}."""']
    lines += [f"{indent}    x = x + {i}" for i in range(body_lines)]
    lines.append(f"{indent}    return x")
    return lines


def _assert_exact(text: str, chunks: list[Chunk]) -> None:
    lines = text.split("\n")
    for chunk in chunks:
        assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])


def _by_symbol(chunks: list[Chunk], symbol: str) -> Chunk:
    found = [c for c in chunks if c.symbol == symbol]
    assert len(found) == 1, [(c.symbol, c.start_line, c.end_line) for c in chunks]
    return found[0]


def test_small_file_is_one_chunk() -> None:
    text = "import os\n\n\ndef f():\n    return os.sep\n"
    pf = parse_source("a.py", text)
    assert [(c.kind, c.start_line, c.end_line, c.symbol) for c in pf.chunks] == [
        ("function", 1, 5, "f")
    ]


def test_functions_get_their_own_chunks_and_module_code_its_own() -> None:
    lines = ['"""Tools."""', "import os", "import sys", "", "CONSTANT = 1", ""]
    for i in range(3):
        lines += ["", "", *_function(f"f{i}", 30)]
    lines += ["", "", "if __name__ == '__main__':", "    f0(1)"]
    text = "\n".join(lines) + "\n"
    pf = parse_source("tools.py", text)
    _assert_exact(text, pf.chunks)
    for i in range(3):
        chunk = _by_symbol(pf.chunks, f"f{i}")
        symbol = next(s for s in pf.symbols if s.qualname == f"f{i}")
        assert chunk.start_line == symbol.start_line
        assert chunk.end_line == symbol.end_line or i == 2
        assert chunk.kind == "function"
        assert chunk.signature == f"def f{i}(x):"
        assert chunk.docstring == f"Doc of f{i}."
    head = pf.chunks[0]
    assert (head.kind, head.start_line, head.symbol) == ("module", 1, None)
    assert "CONSTANT = 1" in head.text
    assert head.docstring == "Tools."
    assert "__main__" in pf.chunks[-1].text


def test_big_class_is_split_into_header_and_methods() -> None:
    lines = ["class Service:", '    """Runs jobs."""', ""]
    lines += [f"    field_{i}: int = {i}" for i in range(25)]
    for name in ("start", "stop", "status"):
        lines += ["", *_function(name, 30, indent="    ")]
    text = "\n".join(lines) + "\n"
    pf = parse_source("service.py", text)
    _assert_exact(text, pf.chunks)
    header = pf.chunks[0]
    assert (header.kind, header.symbol, header.start_line) == ("class", "Service", 1)
    assert "field_24" in header.text
    assert "def start" not in header.text
    assert header.docstring == "Runs jobs."
    for name in ("start", "stop", "status"):
        method = _by_symbol(pf.chunks, f"Service.{name}")
        assert (method.kind, method.parent) == ("method", "Service")
    assert len(pf.chunks) == 4


def test_small_class_stays_whole() -> None:
    lines = ["import os", "", "", *_function("pre", 30), "", ""]
    lines += ["class Point:", "    def x(self):", "        return 1", "    def y(self):"]
    lines += ["        return 2"]
    text = "\n".join(lines) + "\n"
    pf = parse_source("p.py", text)
    point = _by_symbol(pf.chunks, "Point")
    assert "def y" in point.text


def test_oversized_function_becomes_overlapping_windows_with_its_signature() -> None:
    limits = ChunkLimits(max_lines=40, overlap_lines=5)
    lines = _function("giant", 150)
    symbol = Symbol("giant", "giant", "function", 1, len(lines), "def giant(x):", "Big.")
    chunks = chunk_code("g.py", "python", lines, [symbol], limits=limits)
    assert len(chunks) >= 4
    assert all(c.symbol == "giant" and c.signature == "def giant(x):" for c in chunks)
    assert all(c.end_line - c.start_line + 1 <= 40 for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == len(lines)
    for before, after in itertools.pairwise(chunks):
        assert after.start_line == before.end_line - 4
    _assert_exact("\n".join(lines), chunks)


def test_tiny_neighbours_are_merged_with_their_signatures() -> None:
    lines: list[str] = ["class Box:", '    """Holds values."""']
    getters = [f"v{i}" for i in range(12)]
    for name in getters:
        lines += [f"    def {name}(self):", f"        return self._{name}", ""]
    lines += _function("tail", 60, indent="    ")
    text = "\n".join(lines) + "\n"
    pf = parse_source("box.py", text)
    _assert_exact(text, pf.chunks)
    assert len(pf.chunks) <= 3
    grouped = [c for c in pf.chunks if "def v5" in c.text]
    assert len(grouped) == 1
    assert "def v5(self):" in grouped[0].signature
    assert _by_symbol(pf.chunks, "Box.tail").kind == "method"


def test_comment_block_above_a_function_belongs_to_its_chunk() -> None:
    lines = ["package p", "", 'import "fmt"', ""]
    lines += ["// Big does a lot.", "// Really."]
    lines += ["func Big() {"] + [f"\tfmt.Println({i})" for i in range(30)] + ["}", ""]
    lines += ["// Other too."]
    lines += ["func Other() {"] + [f"\tfmt.Println({i})" for i in range(30)] + ["}"]
    text = "\n".join(lines) + "\n"
    pf = parse_source("p.go", text)
    big = _by_symbol(pf.chunks, "Big")
    assert big.text.startswith("// Big does a lot.")
    assert big.docstring == "Big does a lot.\nReally."
    assert _by_symbol(pf.chunks, "Other").text.startswith("// Other too.")


def test_rust_impl_header_rides_along_with_its_method() -> None:
    lines = ["struct S;", "", "impl S {", "    fn work(&self) {"]
    lines += [f"        step({i});" for i in range(40)]
    lines += ["    }", "}"]
    text = "\n".join(lines) + "\n"
    pf = parse_source("s.rs", text)
    work = _by_symbol(pf.chunks, "S.work")
    assert "impl S {" in work.text
    assert work.parent == "S"


def test_long_line_is_cut_by_characters() -> None:
    line = "x" * 10_000
    chunks = chunk_text("blob.txt", "text", [line], limits=ChunkLimits(max_chars=4000))
    assert [len(c.text) for c in chunks] == [4000, 4000, 2000]
    assert all((c.start_line, c.end_line) == (1, 1) for c in chunks)


def test_text_windows_overlap_and_skip_blank_edges() -> None:
    lines = ["", ""] + [f"line {i}" for i in range(100)] + ["", ""]
    chunks = chunk_text("notes.txt", "text", lines, limits=ChunkLimits(text_lines=40))
    assert chunks[0].start_line == 3
    assert chunks[-1].end_line == 102
    assert all(c.kind == "text" for c in chunks)
    assert chunks[1].start_line < chunks[0].end_line
    assert chunk_text("empty.txt", "text", ["", "  "]) == []


def test_markdown_sections_and_merging() -> None:
    lines = ["# Guide", "", "Short intro.", "", "## Install", ""]
    lines += [f"Install step {i}." for i in range(90)]
    lines += ["", "## Tiny", "one line", "## Also tiny", "two"]
    sections = markdown_sections(lines)
    assert [s.heading_path for s in sections] == [
        "Guide",
        "Guide > Install",
        "Guide > Tiny",
        "Guide > Also tiny",
    ]
    chunks = chunk_markdown("guide.md", lines, sections)
    assert [c.symbol for c in chunks] == ["Guide", "Guide > Install", "Guide > Tiny"]
    assert chunks[0].text == "# Guide\n\nShort intro."
    assert chunks[2].text == "## Tiny\none line\n## Also tiny\ntwo"
    assert chunks[2].parent == "Guide"


def test_notebook_tiny_cells_join_and_big_cells_split() -> None:
    cells = [
        Cell("code", "import os\n", 10, 10),
        Cell("code", "x = 1\n", 20, 20),
        Cell("markdown", "# Results\n", 30, 30),
        Cell("code", "\n".join(f"print({i})" for i in range(200)), 40, 239),
        Cell("code", "   \n", 250, 250),
    ]
    chunks = chunk_cells("nb.ipynb", cells, limits=ChunkLimits(max_lines=100))
    assert chunks[0].text == "import os\n\nx = 1"
    assert (chunks[0].start_line, chunks[0].end_line) == (10, 20)
    assert chunks[1].symbol == "Results"
    big = chunks[2:]
    assert len(big) >= 2
    assert big[0].start_line == 40 and big[-1].end_line == 239
    assert big[0].text.split("\n")[0] == "print(0)"


@pytest.mark.parametrize("workspace", ["py-webclient", "ts-tasks", "go-kvstore", "rust-logq"])
def test_fixture_chunks_cover_code_with_exact_text(workspace: str) -> None:
    root = FIXTURES / workspace
    if not root.is_dir():
        pytest.skip(f"fixture {workspace} is not present")
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".ipynb"]
    total = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        pf = parse_source(path.relative_to(root).as_posix(), text)
        total += len(pf.chunks)
        _assert_exact(text.replace("\r\n", "\n"), pf.chunks)
        lines = text.split("\n")
        covered = {n for c in pf.chunks for n in range(c.start_line, c.end_line + 1)}
        for symbol in pf.symbols:
            if symbol.kind != "heading":
                assert symbol.start_line in covered or not lines[symbol.start_line - 1].strip()
    assert total < 6 * len(files)


def test_class_header_names_the_chunk_it_shares_with_module_code() -> None:
    lines = ["const fs = require('fs')", "const path = require('path')", ""]
    lines += ["class Install extends Base {", "  static description = 'Install'"]
    lines += ["  static name = 'install'", "  static params = ['save']", ""]
    for name in ("completion", "exec"):
        lines += [f"  async {name} (args) {{"] + [f"    step({i})" for i in range(60)] + ["  }"]
    lines += ["}", "module.exports = Install"]
    text = "\n".join(lines) + "\n"
    pf = parse_source("install.js", text)
    first = pf.chunks[0]
    assert (first.kind, first.symbol, first.start_line) == ("class", "Install", 1)
    assert first.signature == "class Install extends Base"
    assert [c.symbol for c in pf.chunks[1:]] == ["Install.completion", "Install.exec"]
