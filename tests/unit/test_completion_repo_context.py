"""Repository context: definitions in other files of the names near the cursor."""

from __future__ import annotations

from pathlib import Path

from codeassist_lsp.completion.repo_context import definition_context, region_names
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView

FILES = {
    "lib/store.py": (
        "class Store:\n"
        '    """Keeps values."""\n\n'
        "    def get(self, key):\n        return self.data[key]\n\n"
        "    def put(self, key, value):\n        self.data[key] = value\n"
    ),
    "lib/util.py": "def slug(text):\n    return text.lower().replace(' ', '-')\n",
    "app.py": (
        "from lib.store import Store\nfrom lib.util import slug\n\n\n"
        "def save(title):\n    store = Store()\n    \n"
    ),
}


def view(root: Path) -> IndexView:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    files = [parse_source(p, t) for p, t in FILES.items()]
    state = GraphState(build_graph(files), {f.path: f for f in files})
    return IndexView(root, 0, {}, graphs=lambda: state)


def words(text: str) -> int:
    return len(text.split())


def test_region_names_are_the_same_anywhere_in_a_grid_block() -> None:
    lines = ["a = b", "c(d)", *[""] * 60, "far_away"]
    assert region_names(lines, 1) == ["a", "b", "c", "d"]
    assert region_names(lines, 15) == region_names(lines, 1)
    assert "far_away" not in region_names(lines, 1)


def test_signatures_from_other_files_and_outlines_of_classes(tmp_path: Path) -> None:
    lines = FILES["app.py"].split("\n")
    files = dict(definition_context(view(tmp_path), "app.py", 6, lines, words, 200))
    assert files["lib/store.py"] == (
        "class Store:\n    def get(self, key):\n    def put(self, key, value):"
    )
    assert files["lib/util.py"] == "def slug(text):"
    assert list(files) == ["lib/store.py", "lib/util.py"]


def test_names_far_from_the_cursor_count_when_an_imported_file_defines_them(
    tmp_path: Path,
) -> None:
    lines = [*FILES["app.py"].split("\n"), *[""] * 80, "def later():", "    return 1"]
    files = dict(definition_context(view(tmp_path), "app.py", 85, lines, words, 200))
    assert list(files) == ["lib/store.py", "lib/util.py"]


def test_the_budget_keeps_only_what_fits(tmp_path: Path) -> None:
    lines = FILES["app.py"].split("\n")
    files = dict(definition_context(view(tmp_path), "app.py", 6, lines, words, 12))
    assert list(files) == ["lib/store.py"]
    assert definition_context(view(tmp_path), "app.py", 6, lines, words, 0) == ()
