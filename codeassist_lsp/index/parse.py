"""Turn one file's text into symbols, imports, references, chunks and syntax errors.

Code goes through tree-sitter and a tag query per language (`queries/*.scm`); Markdown
is split by headings, notebooks by cells, anything else into line windows. The entry
point never raises: a file that cannot be understood still becomes text chunks.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from tree_sitter import Node, QueryCursor

from codeassist_lsp.index.chunker import (
    Cell,
    chunk_cells,
    chunk_code,
    chunk_markdown,
    chunk_text,
    markdown_sections,
)
from codeassist_lsp.index.languages import CODE_LANGUAGES, get_parser, get_query, language_for_path
from codeassist_lsp.index.model import Import, ParsedFile, Reference, Symbol

log = logging.getLogger(__name__)

# Bump when parsing changes what unchanged files yield: an index parsed by another version
# parses every file again (chunks that come out the same keep their vectors).
PARSER_VERSION = 2
MAX_SYNTAX_ERRORS = 50
_SIGNATURE_CHARS = 300
_DOCSTRING_CHARS = 2000
_TARGET_CHARS = 200

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
_REFERENCE_KINDS = {"call": "calls", "inherits": "inherits", "type": "references"}
_IDENT_TYPES = frozenset(
    {
        "identifier",
        "field_identifier",
        "property_identifier",
        "type_identifier",
        "package_identifier",
        "namespace_identifier",
        "shorthand_property_identifier",
        "private_property_identifier",
        "constant",
        "this",
        "self",
        "super",
        "crate",
        "primitive_type",
    }
)
# (object field, name field) of member-access nodes, per node type.
_MEMBER_FIELDS: dict[str, tuple[str, str]] = {
    "attribute": ("object", "attribute"),
    "member_expression": ("object", "property"),
    "field_expression": ("value", "field"),
    "selector_expression": ("operand", "field"),
    "scoped_identifier": ("path", "name"),
    "scoped_type_identifier": ("path", "name"),
    "qualified_identifier": ("scope", "name"),
    "qualified_type": ("package", "name"),
    "field_access": ("object", "field"),
    "scope_resolution": ("scope", "name"),
    "nested_identifier": ("object", "property"),
    "method_invocation": ("object", "name"),
}
_SCOPE_SEPARATED = frozenset(
    {"scoped_identifier", "scoped_type_identifier", "qualified_identifier", "scope_resolution"}
)
_CALL_TYPES = frozenset({"call", "call_expression", "method_invocation", "new_expression"})
# Wrappers to look through, with the field of the inner node ("" for the first child).
_UNWRAP_FIELDS: dict[str, tuple[str, ...]] = {
    "generic_function": ("function",),
    "generic_type": ("type", "name"),
    "index_expression": ("operand",),
    "template_function": ("name",),
    "template_type": ("name",),
    "non_null_expression": ("",),
    "parenthesized_expression": ("",),
    "await_expression": ("",),
    "pointer_type": ("",),
}
_MAX_DOTTED_DEPTH = 24
# The scope kind of a TypeScript `declare global { … }` block: its names are top-level.
_GLOBAL = "global"
_NAME_RE = re.compile(r"[A-Za-z_$][\w$]*")
_MAGIC_RE = re.compile(r"^(\s*)([%!?])", re.MULTILINE)


def parse_source(path: str, text: str) -> ParsedFile:
    """Everything the index learns from one file; never raises."""
    language = language_for_path(path) or "text"
    try:
        if language in CODE_LANGUAGES:
            return _parse_code(path, text, language)
        if language == "markdown":
            return _parse_markdown(path, text)
        if language == "notebook":
            return _parse_notebook(path, text)
        return _parse_text(path, text, language)
    except Exception:  # a parser bug must not stop indexing: keep the file as plain text
        log.warning("could not parse %s; indexing it as text", path, exc_info=True)
        return _parse_text(path, text, language)


def _split_lines(text: str) -> list[str]:
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _parse_text(path: str, text: str, language: str) -> ParsedFile:
    lines = _split_lines(text)
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


# --- code ---------------------------------------------------------------------------


@dataclass
class _Def:
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
class _Source:
    """The bytes and lines of a file plus what node text extraction needs."""

    data: bytes
    lines: list[str]
    language: str
    defs: dict[int, _Def] = field(default_factory=dict)  # by node id

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _parse_code(path: str, text: str, language: str) -> ParsedFile:
    parsed, lines, module_doc = _extract(path, text, language)
    parsed.chunks = chunk_code(path, language, lines, parsed.symbols, module_doc=module_doc)
    return parsed


def _extract(path: str, text: str, language: str) -> tuple[ParsedFile, list[str], str]:
    """Symbols, imports, references and errors of code; also its lines and module doc."""
    src = _Source(text.encode("utf-8", "replace"), _split_lines(text), language)
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
        symbols=_symbols(src, defs),
        imports=_imports(src, import_nodes),
        references=_references(src, defs, refs),
        syntax_errors=syntax_errors(root, ignore=_global_keywords(defs)),
    )
    module_doc = _python_docstring(src, root) if language == "python" else ""
    return parsed, src.lines, module_doc


def _collect(
    src: _Source,
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
        if capture == f"scope.{_GLOBAL}":
            _add_global(src, node)
        elif head in ("definition", "scope") and "name" in captures:
            name = src.text(captures["name"][0])
            receiver = src.text(captures["receiver"][0]) if "receiver" in captures else None
            _add_def(src, node, name, kind, receiver, is_scope=head == "scope")
        elif head == "reference":
            refs.extend((n.start_byte, kind, n) for n in nodes)
        elif head == "import":
            import_nodes.append(node)


def _add_def(
    src: _Source, node: Node, name: str, kind: str, receiver: str | None, *, is_scope: bool
) -> None:
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
    src.defs[node.id] = _Def(
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


def _add_global(src: _Source, block: Node) -> None:
    """A `global { … }` block: a scope that takes what it declares back to the top level."""
    src.defs.setdefault(
        block.id,
        _Def(
            block,
            _GLOBAL,
            _GLOBAL,
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


def _symbols(src: _Source, defs: list[_Def]) -> list[Symbol]:
    """Qualified names come from nesting: a stack of open definitions in source order."""
    stack: list[_Def] = []
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
        if d.kind == _GLOBAL and d.is_scope:
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


def _signature(src: _Source, node: Node) -> str:
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


def _docstring(src: _Source, node: Node, start_row: int) -> str:
    if src.language == "python":
        doc = _python_docstring(src, node.child_by_field_name("body"))
        if doc:
            return doc
    return _comment_above(src.lines, start_row, src.language)


def _python_docstring(src: _Source, body: Node | None) -> str:
    if body is None:
        return ""
    for child in body.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count:
            child = child.named_children[0]
        if child.type == "string":
            return _clip(inspect.cleandoc(_string_value(src.text(child))), _DOCSTRING_CHARS)
        return ""
    return ""


def _string_value(literal: str) -> str:
    body = literal.lstrip("rRbBuUfF")
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote):
            body = body[len(quote) :]
            return body[: -len(quote)] if body.endswith(quote) else body
    return body


def _clip(text: str, limit: int) -> str:
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
    return _clip(text, _DOCSTRING_CHARS)


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


# --- references -------------------------------------------------------------------


def _references(
    src: _Source, defs: list[_Def], refs: list[tuple[int, str, Node]]
) -> list[Reference]:
    """Each reference with the qualname of the innermost definition around it."""
    refs.sort(key=lambda r: r[0])
    stack: list[_Def] = []
    index = 0
    out: list[Reference] = []
    seen: set[tuple[str, str, str | None, int]] = set()
    for position, kind, node in refs:
        while index < len(defs) and defs[index].start_byte <= position:
            d = defs[index]
            while stack and stack[-1].end_byte <= d.start_byte:
                stack.pop()
            stack.append(d)
            index += 1
        while stack and stack[-1].end_byte <= position:
            stack.pop()
        target = _dotted(src, node, 0)
        if node.type in _CALL_TYPES and target.endswith("()"):
            target = target[:-2]
        name = _last_name(target)
        if not name:
            continue
        source = (stack[-1].qualname if stack else None) or None
        ref = Reference(
            kind=_REFERENCE_KINDS.get(kind, "references"),
            name=name,
            target=_clip(target, _TARGET_CHARS),
            source=source,
            line=node.start_point.row + 1,
        )
        key = (ref.kind, ref.target, ref.source, ref.line)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def _dotted(src: _Source, node: Node | None, depth: int) -> str:
    """A callee or type as a dotted path: `self.http.retry`, `a.b().c`, `crate::x::f`."""
    if node is None or depth > _MAX_DOTTED_DEPTH:
        return "…"
    kind = node.type
    if kind in _IDENT_TYPES or node.child_count == 0:
        return " ".join(src.text(node).split())
    if kind in _MEMBER_FIELDS:
        obj_field, name_field = _MEMBER_FIELDS[kind]
        obj = node.child_by_field_name(obj_field) or node.child_by_field_name("argument")
        name = src.text(node.child_by_field_name(name_field)).strip()
        sep = "::" if kind in _SCOPE_SEPARATED else "."
        head = _dotted(src, obj, depth + 1) + sep if obj is not None else ""
        tail = "()" if kind in _CALL_TYPES else ""
        return f"{head}{name}{tail}"
    if kind in _CALL_TYPES:
        callee = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        method = node.child_by_field_name("method")  # Ruby: receiver.method
        if callee is None and method is not None:
            receiver = node.child_by_field_name("receiver")
            head = _dotted(src, receiver, depth + 1) + "." if receiver is not None else ""
            return f"{head}{src.text(method)}()"
        return _dotted(src, callee, depth + 1) + "()"
    if kind in _UNWRAP_FIELDS:
        inner = None
        for name in _UNWRAP_FIELDS[kind]:
            inner = node.child_by_field_name(name) if name else _first_named(node)
            if inner is not None:
                break
        return _dotted(src, inner, depth + 1)
    if kind == "subscript":
        return _dotted(src, node.child_by_field_name("value"), depth + 1) + "[]"
    text = " ".join(src.text(node).split())
    return text if _NAME_RE.fullmatch(text) else "…"


def _first_named(node: Node) -> Node | None:
    return node.named_children[0] if node.named_child_count else None


def _last_name(target: str) -> str:
    target = re.sub(r"<[^<>]*>", "", target)
    names = _NAME_RE.findall(target)
    return names[-1] if names else ""


# --- imports ------------------------------------------------------------------------


def _imports(src: _Source, nodes: list[Node]) -> list[Import]:
    handler = _IMPORT_HANDLERS.get(src.language)
    if handler is None:
        return []
    out: list[Import] = []
    for node in sorted(nodes, key=lambda n: n.start_byte):
        out.extend(handler(src, node))
    return out


def _compact(text: str) -> str:
    return "".join(text.split())


def _imports_python(src: _Source, node: Node) -> list[Import]:
    line = node.start_point.row + 1
    out: list[Import] = []
    if node.type == "import_statement":
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                module = _compact(src.text(child.child_by_field_name("name")))
                alias = src.text(child.child_by_field_name("alias")) or None
                out.append(Import(module, (), alias, line))
            else:
                out.append(Import(_compact(src.text(child)), (), None, line))
        return out
    module = _compact(src.text(node.child_by_field_name("module_name")))
    if any(child.type == "wildcard_import" for child in node.children):
        return [Import(module, ("*",), None, line)]
    plain: list[str] = []
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            name = _compact(src.text(child.child_by_field_name("name")))
            alias = src.text(child.child_by_field_name("alias")) or None
            out.append(Import(module, (name,), alias, line))
        else:
            plain.append(_compact(src.text(child)))
    if plain:
        out.insert(0, Import(module, tuple(plain), None, line))
    return out


def _string_literal(src: _Source, node: Node | None) -> str:
    if node is None:
        return ""
    return src.text(node).strip().strip("\"'`")


def _imports_ecma(src: _Source, node: Node) -> list[Import]:
    line = node.start_point.row + 1
    if node.type == "call_expression":
        return _imports_require(src, node, line)
    module = _string_literal(src, node.child_by_field_name("source"))
    if not module:
        return []
    out: list[Import] = []
    plain: list[str] = []
    for child in node.named_children:
        if child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":
                    out.append(Import(module, ("default",), src.text(part), line))
                elif part.type == "namespace_import":
                    alias = src.text(part.named_children[0]) if part.named_child_count else None
                    out.append(Import(module, (), alias, line))
                elif part.type == "named_imports":
                    _specifiers(src, part, module, line, out, plain)
        elif child.type == "import_require_clause":
            out.append(Import(module, (), src.text(child.named_children[0]), line))
        elif child.type == "export_clause":
            _specifiers(src, child, module, line, out, plain)
        elif child.type == "namespace_export":
            alias = src.text(child.named_children[0]) if child.named_child_count else None
            out.append(Import(module, (), alias, line))
    if node.type == "export_statement" and not out and not plain:
        plain.append("*")
    if plain or not out:
        out.insert(0, Import(module, tuple(plain), None, line))
    return out


def _specifiers(
    src: _Source, node: Node, module: str, line: int, out: list[Import], plain: list[str]
) -> None:
    for spec in node.named_children:
        name = src.text(spec.child_by_field_name("name"))
        alias = src.text(spec.child_by_field_name("alias"))
        if not name:
            continue
        if alias and alias != name:
            out.append(Import(module, (name,), alias, line))
        else:
            plain.append(name)


def _imports_require(src: _Source, node: Node, line: int) -> list[Import]:
    args = node.child_by_field_name("arguments")
    if args is None or not args.named_child_count:
        return []
    module = _string_literal(src, args.named_children[0])
    holder = node.parent
    if holder is not None and holder.type == "await_expression":
        holder = holder.parent
    if holder is None or holder.type != "variable_declarator":
        return [Import(module, (), None, line)]
    target = holder.child_by_field_name("name")
    if target is not None and target.type == "identifier":
        return [Import(module, (), src.text(target), line)]
    out: list[Import] = []
    plain: list[str] = []
    for part in target.named_children if target is not None else []:
        if part.type == "shorthand_property_identifier_pattern":
            plain.append(src.text(part))
        elif part.type == "pair_pattern":
            key = src.text(part.child_by_field_name("key"))
            value = src.text(part.child_by_field_name("value"))
            out.append(Import(module, (key,), value if value != key else None, line))
    if plain or not out:
        out.insert(0, Import(module, tuple(plain), None, line))
    return out


def _imports_go(src: _Source, node: Node) -> list[Import]:
    out: list[Import] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "import_spec":
            module = _string_literal(src, current.child_by_field_name("path"))
            alias = src.text(current.child_by_field_name("name")) or None
            out.append(Import(module, (), alias, current.start_point.row + 1))
        else:
            stack.extend(reversed(current.named_children))
    return out


def _imports_rust(src: _Source, node: Node) -> list[Import]:
    line = node.start_point.row + 1
    if node.type == "mod_item":
        return [Import("self::" + src.text(node.child_by_field_name("name")), (), None, line)]
    out: list[Import] = []
    _expand_use(src, node.child_by_field_name("argument"), "", line, out)
    return out


def _join_path(prefix: str, path: str) -> str:
    return f"{prefix}::{path}" if prefix and path else prefix or path


def _split_path(path: str) -> tuple[str, str]:
    head, _, last = path.rpartition("::")
    return head, last


def _expand_use(src: _Source, node: Node | None, prefix: str, line: int, out: list[Import]) -> None:
    if node is None:
        return
    kind = node.type
    if kind == "use_as_clause":
        full = _join_path(prefix, _compact(src.text(node.child_by_field_name("path"))))
        alias = src.text(node.child_by_field_name("alias")) or None
        head, last = _split_path(full)
        out.append(Import(head, (last,), alias, line) if head else Import(last, (), alias, line))
    elif kind == "scoped_use_list":
        path = _compact(src.text(node.child_by_field_name("path")))
        _expand_use(src, node.child_by_field_name("list"), _join_path(prefix, path), line, out)
    elif kind == "use_list":
        for child in node.named_children:
            _expand_use(src, child, prefix, line, out)
    elif kind == "use_wildcard":
        path = _compact(src.text(node)).removesuffix("::*").removesuffix("*")
        out.append(Import(_join_path(prefix, path), ("*",), None, line))
    elif kind == "self":
        out.append(Import(prefix, (), None, line))
    else:
        full = _join_path(prefix, _compact(src.text(node)))
        head, last = _split_path(full)
        out.append(Import(head, (last,), None, line) if head else Import(last, (), None, line))


def _imports_java(src: _Source, node: Node) -> list[Import]:
    line = node.start_point.row + 1
    path = ""
    wildcard = False
    for child in node.named_children:
        if child.type in ("scoped_identifier", "identifier"):
            path = _compact(src.text(child))
        elif child.type == "asterisk":
            wildcard = True
    if not path:
        return []
    if wildcard:
        return [Import(path, ("*",), None, line)]
    head, _, last = path.rpartition(".")
    return [Import(head, (last,), None, line)] if head else [Import(last, (), None, line)]


def _imports_c(src: _Source, node: Node) -> list[Import]:
    path = node.child_by_field_name("path")
    if path is None:
        return []
    text = src.text(path).strip()
    module = text if text.startswith("<") else text.strip('"')
    return [Import(module, (), None, node.start_point.row + 1)]


def _imports_ruby(src: _Source, node: Node) -> list[Import]:
    method = src.text(node.child_by_field_name("method"))
    args = node.child_by_field_name("arguments")
    if args is None or not args.named_child_count:
        return []
    module = _string_literal(src, args.named_children[0])
    if method == "require_relative" and not module.startswith("."):
        module = "./" + module
    return [Import(module, (), None, node.start_point.row + 1)]


_IMPORT_HANDLERS: dict[str, Callable[[_Source, Node], list[Import]]] = {
    "python": _imports_python,
    "javascript": _imports_ecma,
    "typescript": _imports_ecma,
    "tsx": _imports_ecma,
    "go": _imports_go,
    "rust": _imports_rust,
    "java": _imports_java,
    "c": _imports_c,
    "cpp": _imports_c,
    "ruby": _imports_ruby,
}


# --- syntax errors ------------------------------------------------------------------


def syntax_errors(
    root: Node, limit: int = MAX_SYNTAX_ERRORS, ignore: Collection[int] = ()
) -> list[tuple[int, str]]:
    """(line, message) for each ERROR and MISSING node, outermost first; nodes whose id
    is in `ignore` are valid code the grammar cannot read, and are skipped."""
    if not root.has_error:
        return []
    found: list[tuple[int, str]] = []
    stack = [root]
    while stack and len(found) < limit:
        node = stack.pop()
        if node.id in ignore:
            continue
        if node.is_missing:
            found.append((node.start_point.row + 1, f"syntax error: missing {node.type!r}"))
        elif node.is_error:
            text = (node.text or b"").decode("utf-8", "replace").strip().split("\n")[0]
            near = f" near {text[:40]!r}" if text else ""
            found.append((node.start_point.row + 1, f"syntax error{near}"))
        else:
            stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return sorted(found)


def _global_keywords(defs: list[_Def]) -> set[int]:
    """The nodes holding the `global` of each `global { … }` inside an ambient module:
    valid TypeScript that the grammar reads as an error or a statement missing its `;`."""
    found: set[int] = set()
    for d in defs:
        keyword = d.node.prev_sibling if d.kind == _GLOBAL else None
        if (
            keyword is not None
            and keyword.type in ("ERROR", "expression_statement")
            and keyword.named_child_count == 1  # the `global` alone, nothing else
        ):
            found.add(keyword.id)
    return found


# --- markdown and notebooks -------------------------------------------------------------


def _parse_markdown(path: str, text: str) -> ParsedFile:
    lines = _split_lines(text)
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


def _parse_notebook(path: str, text: str) -> ParsedFile:
    lines = _split_lines(text)
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
        code, _, _ = _extract(path, _MAGIC_RE.sub(r"\1#\2", cell.source), "python")

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
