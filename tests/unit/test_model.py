"""Node ids: built by `file_node` and `symbol_node`, taken apart by their inverses."""

from __future__ import annotations

import pytest

from codeassist_lsp.index.model import file_node, node_path, split_symbol_node, symbol_node


def test_node_path_inverts_file_node_and_symbol_node() -> None:
    assert node_path(file_node("pkg/mod.py")) == "pkg/mod.py"
    assert node_path(symbol_node("pkg/mod.py", "Client.send")) == "pkg/mod.py"
    assert node_path(file_node("")) == ""


def test_split_symbol_node_inverts_symbol_node() -> None:
    for path, qualname in [
        ("pkg/mod.py", "Client.send"),
        ("src/lib.rs", "Store"),
        ("a b/c.go", "T.m"),
        ("x.py", "a::b"),  # only the first "::" separates the path
    ]:
        assert split_symbol_node(symbol_node(path, qualname)) == (path, qualname)


def test_node_helpers_reject_other_strings() -> None:
    with pytest.raises(ValueError):
        split_symbol_node(file_node("pkg/mod.py"))
    with pytest.raises(ValueError):
        node_path("pkg/mod.py")
