"""Definitions captured by the tree-sitter tag queries, turned into `Symbol`s.

Holds the per-file `Source` and `Definition` records the other `parse_*` modules share,
and everything about a definition itself: its range (decorators and `export` included),
qualified name from nesting, kind, one-line signature and docstring or leading comment.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass, field

from tree_sitter import Node

from codeassist_lsp.index.model import Symbol

_SIGNATURE_CHARS = 300
_DOCSTRING_CHARS = 2000

# Kinds whose nested functions are methods.
_CLASS_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
# Nodes that wrap a definition and belong to its range (decorators, `export`, `declare`,
# `type (…)`).
_WRAPPERS = frozenset(
    {
        "decorated_definition",
        "export_statement",
        "ambient_declaration",
        "type_declaration",
        "const_declaration",
        "var_declaration",
        "template_declaration",
    }
)
# Wrappers whose text is the better start of a signature.
_SIGNATURE_WRAPPERS = frozenset({"type_declaration", "const_declaration", "var_declaration"})
# Siblings just above a definition that still belong to it.
_LEADING_SIBLINGS = frozenset({"decorator", "attribute_item", "annotation", "marker_annotation"})
_COMMENT_PREFIXES: dict[str, tuple[str, ...]] = {
    "python": ("#",),
    "ruby": ("#",),
}
_C_COMMENT_PREFIXES = ("//", "/*", "*")
# The scope kind of a TypeScript `declare global { … }` block: its names are top-level.
GLOBAL = "global"


@dataclass
class Definition:
    """A definition or a naming scope (a Rust impl) found by the tag query."""

    node: Node
    name: str
    kind: str
    start_byte: int  # with decorators, attributes and `export`
    end_byte: int
    start_row: int
    end_row: int
    receiver: str | None = None
    is_scope: bool = False
    qualname: str = ""


@dataclass
class Source:
    """The bytes and lines of a file plus what node text extraction needs."""

    data: bytes
    lines: list[str]
    language: str
    defs: dict[int, Definition] = field(default_factory=dict)  # by node id

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def add_definition(
    src: Source, node: Node, name: str, kind: str, receiver: str | None, *, is_scope: bool
) -> None:
    """Record a tag-query definition once per node, its range widened to its wrappers."""
    name = " ".join(name.split())
    known = src.defs.get(node.id)
    if known is not None:
        if known.kind == "constant":  # a function-valued export: the function wins
            known.kind = kind
        return
    if not name:
        return
    outer = node
    while outer.parent is not None and outer.parent.type in _WRAPPERS:
        if outer.parent.type in _SIGNATURE_WRAPPERS and outer.parent.named_child_count > 1:
            break
        outer = outer.parent
    first = outer
    sibling = outer.prev_named_sibling
    while sibling is not None and sibling.type in _LEADING_SIBLINGS:
        first = sibling
        sibling = sibling.prev_named_sibling
    src.defs[node.id] = Definition(
        node,
        name,
        kind,
        first.start_byte,
        outer.end_byte,
        first.start_point.row,
        _end_row(outer),
        receiver=receiver,
        is_scope=is_scope,
    )


def add_global_scope(src: Source, block: Node) -> None:
    """A `global { … }` block: a scope that takes what it declares back to the top level."""
    src.defs.setdefault(
        block.id,
        Definition(
            block,
            GLOBAL,
            GLOBAL,
            block.start_byte,
            block.end_byte,
            block.start_point.row,
            _end_row(block),
            is_scope=True,
        ),
    )


def _end_row(node: Node) -> int:
    end = node.end_point
    if end.column == 0 and end.row > node.start_point.row:
        return end.row - 1
    return end.row


def build_symbols(src: Source, defs: list[Definition]) -> list[Symbol]:
    """Qualified names come from nesting: a stack of open definitions in source order."""
    stack: list[Definition] = []
    symbols: list[Symbol] = []
    for d in defs:
        while stack and stack[-1].end_byte <= d.start_byte:
            stack.pop()
        enclosing = stack[-1] if stack else None
        parts = [p for p in d.name.split("::") if p]
        prefix: list[str] = []
        if d.receiver:
            prefix = [d.receiver]
        elif enclosing is not None and enclosing.qualname:
            prefix = [enclosing.qualname]
        prefix += parts[:-1]
        d.qualname = ".".join([*prefix, parts[-1] if parts else d.name])
        if d.kind == GLOBAL and d.is_scope:
            d.qualname = ""
        stack.append(d)
        if d.is_scope:
            continue
        parent_name = ".".join(prefix) or None
        kind = d.kind
        parent_kind = enclosing.kind if enclosing is not None else None
        if kind == "function" and (d.receiver or parent_kind in _CLASS_KINDS or len(parts) > 1):
            kind = "method"
        symbols.append(
            Symbol(
                name=parts[-1] if parts else d.name,
                qualname=d.qualname,
                kind=kind,
                start_line=d.start_row + 1,
                end_line=d.end_row + 1,
                signature=_signature(src, d.node),
                docstring=_docstring(src, d.node, d.start_row),
                parent=parent_name,
            )
        )
    return symbols


def _body(node: Node) -> Node | None:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.named_children:
        if child.type == "variable_declarator":
            value = child.child_by_field_name("value")
            if value is not None:
                return value.child_by_field_name("body")
    return None


def _signature(src: Source, node: Node) -> str:
    """The declaration up to its body, on one line."""
    wrapper = node.parent
    if wrapper is not None and wrapper.type in _SIGNATURE_WRAPPERS:
        node = wrapper if wrapper.named_child_count == 1 else node
    body = _body(node)
    end = node.end_byte
    if body is not None:
        end = body.start_byte
        if body.parent == node:
            end = node.start_byte
            for child in node.children:
                if child == body:
                    break
                if "comment" not in child.type:
                    end = child.end_byte
    elif node.end_point.row - node.start_point.row > 2:
        end = min(end, node.start_byte + len(src.lines[node.start_point.row].encode()))
    text = src.data[node.start_byte : end].decode("utf-8", "replace")
    text = re.sub(r"\s+", " ", text).strip()
    text = text.replace("( ", "(").replace(" )", ")").rstrip("{").rstrip()
    if node.parent is not None and node.parent.type == "ambient_declaration":
        text = f"declare {text}"
    if len(text) > _SIGNATURE_CHARS:
        text = text[: _SIGNATURE_CHARS - 1] + "…"
    return text


def _docstring(src: Source, node: Node, start_row: int) -> str:
    if src.language == "python":
        doc = python_docstring(src, node.child_by_field_name("body"))
        if doc:
            return doc
    return _comment_above(src.lines, start_row, src.language)


def python_docstring(src: Source, body: Node | None) -> str:
    """The docstring opening a Python body (or module), cleaned and clipped; "" if none."""
    if body is None:
        return ""
    for child in body.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count:
            child = child.named_children[0]
        if child.type == "string":
            return clip(inspect.cleandoc(_string_value(src.text(child))), _DOCSTRING_CHARS)
        return ""
    return ""


def _string_value(literal: str) -> str:
    body = literal.lstrip("rRbBuUfF")
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote):
            body = body[len(quote) :]
            return body[: -len(quote)] if body.endswith(quote) else body
    return body


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in … when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _comment_above(lines: list[str], row: int, language: str) -> str:
    """The comment block that ends on the line just above `row` (0-based), cleaned."""
    prefixes = _COMMENT_PREFIXES.get(language, _C_COMMENT_PREFIXES)
    block: list[str] = []
    index = row - 1
    in_block = False
    while index >= 0:
        stripped = lines[index].strip()
        if in_block or stripped.endswith("*/"):
            block.append(stripped)
            in_block = "/*" not in stripped
        elif stripped.startswith(prefixes) and not stripped.startswith("#!"):
            block.append(stripped)
        else:
            break
        index -= 1
    if not block:
        return ""
    cleaned = [_strip_comment_marker(line) for line in reversed(block)]
    text = textwrap.dedent("\n".join(cleaned)).strip()
    return clip(text, _DOCSTRING_CHARS)


def _strip_comment_marker(line: str) -> str:
    for marker in ("///", "//!", "//", "/**", "/*", "#"):
        if line.startswith(marker):
            line = line[len(marker) :]
            break
    else:
        if line.startswith("*") and not line.startswith("*/"):
            line = line[1:]
    if line.endswith("*/"):
        line = line[:-2]
    return line[1:] if line.startswith(" ") else line
