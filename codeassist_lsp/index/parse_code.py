"""Code files through tree-sitter: one parse and one tag-query pass, then chunks.

Runs the language's tag query (`queries/*.scm`) once and hands what it captured to
`parse_symbols`, `parse_references`, `parse_imports` and `syntax_errors`. Notebook cells
come through `extract_code` too.
"""

from __future__ import annotations

from tree_sitter import Node, QueryCursor

from codeassist_lsp.index.chunker import chunk_code
from codeassist_lsp.index.languages import get_parser, get_query
from codeassist_lsp.index.model import ParsedFile
from codeassist_lsp.index.parse_imports import build_imports
from codeassist_lsp.index.parse_references import build_references
from codeassist_lsp.index.parse_symbols import (
    GLOBAL,
    Source,
    add_definition,
    add_global_scope,
    build_symbols,
    python_docstring,
)
from codeassist_lsp.index.syntax_errors import global_keywords, syntax_errors


def split_lines(text: str) -> list[str]:
    """The lines of a text, split on newlines, with the CR of CRLF endings dropped."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def parse_code(path: str, text: str, language: str) -> ParsedFile:
    """A code file's symbols, imports, references, syntax errors and chunks."""
    parsed, lines, module_doc = extract_code(path, text, language)
    parsed.chunks = chunk_code(path, language, lines, parsed.symbols, module_doc=module_doc)
    return parsed


def extract_code(path: str, text: str, language: str) -> tuple[ParsedFile, list[str], str]:
    """Symbols, imports, references and errors of code; also its lines and module doc."""
    src = Source(text.encode("utf-8", "replace"), split_lines(text), language)
    root = get_parser(language).parse(src.data).root_node
    query = get_query(language)
    refs: list[tuple[int, str, Node]] = []
    import_nodes: list[Node] = []
    seen: set[tuple[int, str]] = set()
    if query is not None:
        for _, captures in QueryCursor(query).matches(root):
            _collect(src, captures, refs, import_nodes, seen)
    defs = sorted(src.defs.values(), key=lambda d: (d.start_byte, -d.end_byte))
    parsed = ParsedFile(
        path=path,
        language=language,
        symbols=build_symbols(src, defs),
        imports=build_imports(src, import_nodes),
        references=build_references(src, defs, refs),
        syntax_errors=syntax_errors(root, ignore=global_keywords(defs)),
    )
    module_doc = python_docstring(src, root) if language == "python" else ""
    return parsed, src.lines, module_doc


def _collect(
    src: Source,
    captures: dict[str, list[Node]],
    refs: list[tuple[int, str, Node]],
    import_nodes: list[Node],
    seen: set[tuple[int, str]],
) -> None:
    for capture, nodes in captures.items():
        node = nodes[0]
        head, _, kind = capture.partition(".")
        key = (node.id, capture)
        if key in seen:
            continue
        seen.add(key)
        if capture == f"scope.{GLOBAL}":
            add_global_scope(src, node)
        elif head in ("definition", "scope") and "name" in captures:
            name = src.text(captures["name"][0])
            receiver = src.text(captures["receiver"][0]) if "receiver" in captures else None
            add_definition(src, node, name, kind, receiver, is_scope=head == "scope")
        elif head == "reference":
            refs.extend((n.start_byte, kind, n) for n in nodes)
        elif head == "import":
            import_nodes.append(node)
