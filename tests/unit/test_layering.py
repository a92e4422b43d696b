"""The import rules that keep the rooms apart (DESIGN.md, "Doors between the rooms").

index/ is the bottom: it imports none of rag/, chat/, features/ or llm/. rag/ reads the
index and nothing above it; chat/ uses rag/ and llm/ but knows nothing of the
protocol; describe/ writes into the index with llm/ and needs nothing else. Imports
inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "codeassist_lsp"

FORBIDDEN = {
    "index": ("rag", "chat", "features", "llm", "server", "cli"),
    "rag": ("chat", "features", "llm", "server", "cli"),
    "chat": ("features", "server", "cli"),
    "describe": ("rag", "chat", "features", "server", "cli"),
}


def imported_modules(source: str, package: str) -> set[str]:
    """Every module some code imports, absolute names (relative imports resolved)."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    wrong = []
    for path in files:
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
        for module in imported_modules(path.read_text(encoding="utf-8"), package):
            parts = module.split(".")
            if parts[0] == "codeassist_lsp" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_imports_inside_functions_and_relative_ones() -> None:
    source = "def f():\n    from codeassist_lsp.rag import retriever\nfrom ..llm import x\n"
    found = imported_modules(source, "codeassist_lsp.index")
    assert "codeassist_lsp.rag.retriever" in found
    assert "codeassist_lsp.llm" in found
