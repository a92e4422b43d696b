"""`codeassist --help` (building the parser) imports no index, model engine or LSP library.

Each subcommand imports what it runs inside its handler; this catches a module-level
import that drags a heavy library back in. Run in a fresh interpreter: this test process
has imported most of them already. No timings: the module list is the contract.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = (
    "lancedb",
    "lance",
    "pyarrow",
    "duckdb",
    "networkx",
    "numpy",
    "tantivy",
    "tree_sitter",
    "tree_sitter_language_pack",
    "pathspec",
    "torch",
    "sentence_transformers",
    "transformers",
    "onnxruntime",
    "tokenizers",
    "llama_cpp",
    "jinja2",
    "pygls",
    "lsprotocol",
    "asyncio",
)


def _imported_after(code: str) -> list[str]:
    script = (
        f"import json, sys\n{code}\n"
        f"heavy = {set(HEAVY)!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_building_the_parser_imports_no_heavy_library() -> None:
    code = "from codeassist_lsp.cli import build_parser\nbuild_parser()"
    assert _imported_after(code) == []


def test_help_imports_no_heavy_library() -> None:
    code = (
        "from codeassist_lsp.cli import main\n"
        "for argv in (['--help'], ['search', '--help'], ['models', 'list', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert _imported_after(code) == []


def test_the_modules_of_a_search_import_no_parser_walker_or_graph_library() -> None:
    """A search of an indexed workspace parses nothing and walks no folder, and its graph is
    our own `Digraph`: tree-sitter, pathspec and networkx are not imported for it."""
    code = "import codeassist_lsp.index.workspace, codeassist_lsp.rag.retriever"
    imported = set(_imported_after(code))
    assert not imported & {"networkx", "tree_sitter", "tree_sitter_language_pack", "pathspec"}
