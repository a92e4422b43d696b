"""References in code: calls, inheritance and type uses, each with its enclosing definition.

The tag query marks the reference nodes; this module spells each one as a dotted target
(`self.http.retry`, `crate::x::f`) and attributes it to the innermost definition around it.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from codeassist_lsp.index.model import Reference
from codeassist_lsp.index.parse_symbols import Definition, Source, clip

_TARGET_CHARS = 200
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
_NAME_RE = re.compile(r"[A-Za-z_$][\w$]*")


def build_references(
    src: Source, defs: list[Definition], refs: list[tuple[int, str, Node]]
) -> list[Reference]:
    """Each reference with the qualname of the innermost definition around it."""
    refs.sort(key=lambda r: r[0])
    stack: list[Definition] = []
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
            target=clip(target, _TARGET_CHARS),
            source=source,
            line=node.start_point.row + 1,
        )
        key = (ref.kind, ref.target, ref.source, ref.line)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def _dotted(src: Source, node: Node | None, depth: int) -> str:
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
