"""Import statements in code, one reader per language, as `Import`s for the graph.

The tag query marks the import nodes; each language's reader turns one node into the
module, the names taken from it and their alias.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from codeassist_lsp.index.model import Import
from codeassist_lsp.index.parse_symbols import Source


def build_imports(src: Source, nodes: list[Node]) -> list[Import]:
    """The imports of the nodes the tag query marked, in source order."""
    handler = _IMPORT_HANDLERS.get(src.language)
    if handler is None:
        return []
    out: list[Import] = []
    for node in sorted(nodes, key=lambda n: n.start_byte):
        out.extend(handler(src, node))
    return out


def _compact(text: str) -> str:
    return "".join(text.split())


def _imports_python(src: Source, node: Node) -> list[Import]:
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


def _string_literal(src: Source, node: Node | None) -> str:
    if node is None:
        return ""
    return src.text(node).strip().strip("\"'`")


def _imports_ecma(src: Source, node: Node) -> list[Import]:
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
    src: Source, node: Node, module: str, line: int, out: list[Import], plain: list[str]
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


def _imports_require(src: Source, node: Node, line: int) -> list[Import]:
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


def _imports_go(src: Source, node: Node) -> list[Import]:
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


def _imports_rust(src: Source, node: Node) -> list[Import]:
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


def _expand_use(src: Source, node: Node | None, prefix: str, line: int, out: list[Import]) -> None:
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


def _imports_java(src: Source, node: Node) -> list[Import]:
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


def _imports_c(src: Source, node: Node) -> list[Import]:
    path = node.child_by_field_name("path")
    if path is None:
        return []
    text = src.text(path).strip()
    module = text if text.startswith("<") else text.strip('"')
    return [Import(module, (), None, node.start_point.row + 1)]


def _imports_ruby(src: Source, node: Node) -> list[Import]:
    method = src.text(node.child_by_field_name("method"))
    args = node.child_by_field_name("arguments")
    if args is None or not args.named_child_count:
        return []
    module = _string_literal(src, args.named_children[0])
    if method == "require_relative" and not module.startswith("."):
        module = "./" + module
    return [Import(module, (), None, node.start_point.row + 1)]


_IMPORT_HANDLERS: dict[str, Callable[[Source, Node], list[Import]]] = {
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
