"""The read side of the index: queries of an IndexView, and views published by commits."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from codeassist_lsp.config import Settings
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.model import ParsedFile, symbol_node
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.index.workspace import WorkspaceIndex

FILES = {
    "app/base.py": """
        class Base:
            pass
        """,
    "app/core.py": """
        from app.base import Base


        class Engine(Base):
            def execute(self):
                clean()
                return helper()


        def clean():
            pass


        def helper():
            return 1
        """,
    "main.py": """
        from app.core import Engine

        def duplicated():
            Engine().execute()
        """,
    "other.py": """
        def duplicated():
            pass
        """,
    "box.py": """
        class Box:
            @property
            def size(self):
                return self._size

            @size.setter
            def size(self, value):
                self._size = value
        """,
}


def _parsed() -> list[ParsedFile]:
    return [parse_source(p, textwrap.dedent(t).lstrip("\n")) for p, t in FILES.items()]


def _view(root: Path = Path(".")) -> IndexView:
    files = _parsed()
    chunks = {c.chunk_id: c for f in files for c in f.chunks}
    state = GraphState(build_graph(files), {f.path: f for f in files})
    return IndexView(root, 0, chunks, graphs=lambda: state)


def _sym(path: str, qualname: str) -> str:
    return symbol_node(path, qualname)


def test_graph_queries() -> None:
    view = _view()
    clean = _sym("app/core.py", "clean")
    run = _sym("app/core.py", "Engine.execute")
    assert view.callers(clean) == [run]
    assert set(view.callees(run)) == {clean, _sym("app/core.py", "helper")}
    assert _sym("app/core.py", "Engine") in view.users(_sym("app/base.py", "Base"))
    assert clean in view.used_by(run)
    assert view.callers("sym:nowhere::x") == []
    assert view.imports("main.py") == ["app/core.py"]


def test_symbols_and_definitions() -> None:
    view = _view()
    assert [p for p, _ in view.definitions("duplicated")] == ["main.py", "other.py"]
    [(path, execute)] = view.definitions("Engine.execute")
    assert (path, execute.kind, execute.start_line) == ("app/core.py", "method", 5)
    at = view.symbol_at("app/core.py", 6)
    assert at is not None and at.qualname == "Engine.execute"
    at = view.symbol_at("app/core.py", 4)
    assert at is not None and at.qualname == "Engine"
    assert view.symbol_at("app/core.py", 1) is None
    setter = view.symbol_at("box.py", 8)  # in the setter, not just in the class
    assert setter is not None and (setter.qualname, setter.start_line) == ("Box.size", 6)
    assert {s.qualname for s in view.symbols_in("box.py")} == {"Box", "Box.size"}
    assert len(view.symbols()) == sum(len(f.symbols) for f in _parsed())


def test_references_and_chunks() -> None:
    view = _view()
    assert {p for p, r in view.references_named("execute")} == {"main.py"}
    chunks = view.chunks_in("app/core.py")
    assert chunks and chunks == sorted(chunks, key=lambda c: c.start_line)
    assert view.chunk(chunks[0].chunk_id) is chunks[0]
    assert view.derived("k", lambda: [1]) is view.derived("k", lambda: [2])


def test_file_text_reads_only_regular_files_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    (root / "big.py").write_text("#" * 2000)
    (tmp_path / "secret.txt").write_text("outside")
    os.mkfifo(root / "pipe")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    view = _view(root.resolve())
    assert view.file_text("a.py") == "x = 1\n"
    assert view.file_text("pipe") is None  # would block forever if opened
    assert view.file_text("../secret.txt") is None
    assert view.file_text("link") is None
    assert view.file_text("missing.py") is None
    assert view.file_text("big.py", max_bytes=1000) is None


@pytest.fixture
def index(tmp_path: Path) -> WorkspaceIndex:
    ws = tmp_path / "ws"
    for path, text in FILES.items():
        (ws / path).parent.mkdir(parents=True, exist_ok=True)
        (ws / path).write_text(textwrap.dedent(text).lstrip("\n"))
    opened = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "data"), FakeEmbedder())
    opened.refresh()
    return opened


def test_a_commit_publishes_a_new_view_and_leaves_the_old_one_as_it_was(
    index: WorkspaceIndex,
) -> None:
    before = index.view()
    assert index.view() is before  # nothing committed: the same view
    old_paths = {c.path for c in before.chunks.values()}
    old_graph = before.graph
    (index.root / "extra.py").write_text("def extra():\n    clean()\n")
    index.indexer.update_paths(["extra.py"])
    after = index.view()
    assert after is not before and after.generation > before.generation
    assert "extra.py" in {c.path for c in after.chunks.values()}
    assert {c.path for c in before.chunks.values()} == old_paths  # the old view is unchanged
    assert before.graph is old_graph
    assert [p for p, _ in after.definitions("extra")] == ["extra.py"]
    with pytest.raises(TypeError):
        after.chunks["x"] = after.chunks[next(iter(after.chunks))]  # type: ignore[index]
    index.close()


def test_files_that_status_counts_are_already_in_the_published_view(
    index: WorkspaceIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status counts files in DuckDB; a search sent when it says "64 files" must find them."""
    index.view()
    seen: list[tuple[int, set[str]]] = []
    missing_vectors = index.indexer._missing_vectors

    def right_after_the_commit() -> dict[str, str | None]:
        # what a reader on another thread sees once the writer lets go of the stores' lock
        files = index.status()["files"]
        seen.append((files, {c.path for c in index.view().chunks.values()}))
        return missing_vectors()

    monkeypatch.setattr(index.indexer, "_missing_vectors", right_after_the_commit)
    (index.root / "extra.py").write_text("def extra():\n    clean()\n")
    index.indexer.update_paths(["extra.py"])
    (files, paths), *_ = seen
    assert files == len(paths) and "extra.py" in paths
    index.close()
