"""Every kind of definition the tree-sitter queries capture has an LSP SymbolKind."""

from __future__ import annotations

import re
from pathlib import Path

import codeassist_lsp.index
from codeassist_lsp.features.symbols import KINDS

QUERIES = Path(codeassist_lsp.index.__file__).parent / "queries"


def test_each_captured_definition_kind_has_a_symbol_kind() -> None:
    captured = {
        kind
        for query in QUERIES.glob("*.scm")
        for kind in re.findall(r"@definition\.([a-z_]+)", query.read_text(encoding="utf-8"))
    }
    assert captured, f"no definition captures found in {QUERIES}"
    assert captured <= set(KINDS), captured - set(KINDS)
