"""The metadata catalog: schema migration and the per-file edge rows."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codeassist_lsp.index import meta_store
from codeassist_lsp.index.meta_store import SCHEMA_VERSION, FileRecord, MetaStore, open_database
from codeassist_lsp.index.model import Edge, ParsedFile, Symbol


def test_schema_1_keeps_its_facts_and_resolves_edges_again(tmp_path: Path) -> None:
    db = tmp_path / "meta.duckdb"
    con = open_database(db)
    con.execute("DROP TABLE edges")
    con.execute("CREATE TABLE edges (source VARCHAR, target VARCHAR, kind VARCHAR)")
    con.execute("INSERT INTO edges VALUES ('file:a.py', 'file:b.py', 'imports')")
    con.execute("INSERT INTO files VALUES ('a.py', 'h', 1, 2, 'python', 0, 0)")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('edges_fresh', '1')")
    con.close()
    meta = MetaStore(open_database(db))
    assert meta.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert not meta.edges_current()
    assert list(meta.files()) == ["a.py"] and meta.edges_by_path() == {}
    meta.close()


def test_edges_are_replaced_per_file(tmp_path: Path) -> None:
    meta = MetaStore(open_database(tmp_path / "meta.duckdb"))
    shared = Edge("sym:a.py::A", "sym:b.py::B", "calls")
    own = Edge("file:a.py", "file:b.py", "imports")
    meta.replace_edges({"a.py": [shared, own], "c.py": [shared]})
    assert meta.counts()["edges"] == 2  # an edge two files produce counts once
    meta.replace_edges({"a.py": [own], "c.py": []}, {"a.py"})
    assert meta.edges_by_path() == {"a.py": [own], "c.py": [shared]}
    meta.replace_edges({"b.py": [own]})
    assert meta.edges_by_path() == {"b.py": [own]}
    meta.close()


def _facts(path: str, name: str) -> list[tuple[FileRecord, ParsedFile]]:
    f = ParsedFile(path, "python", symbols=[Symbol(name, name, "function", 1, 2)])
    return [(FileRecord(path, name, 1, 2, "python"), f)]


EDGE = Edge("file:b.py", "sym:a.py::run", "calls")

# Commit facts, then die before anything else is written.
KILLED_AFTER_FACTS = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from codeassist_lsp.index.meta_store import FileRecord, MetaStore, open_database
    from codeassist_lsp.index.model import ParsedFile, Symbol

    meta = MetaStore(open_database(Path(sys.argv[1])))
    f = ParsedFile("a.py", "python", symbols=[Symbol("go", "go", "function", 1, 2)])
    meta.replace_files([(FileRecord("a.py", "h2", 1, 2, "python"), f)], [])
    os.kill(os.getpid(), 9)
    """
)


def test_edges_stop_being_current_in_the_commit_of_new_facts(tmp_path: Path) -> None:
    db = tmp_path / "meta.duckdb"
    meta = MetaStore(open_database(db))
    meta.replace_files(_facts("a.py", "run"), [])
    assert not meta.edges_current()
    meta.replace_edges({"b.py": [EDGE]}, current=True)
    assert meta.edges_current()
    meta.close()
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_FACTS, str(db)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    meta = MetaStore(open_database(db))
    assert [s.name for f in meta.facts() for s in f.symbols] == ["go"]
    assert not meta.edges_current()  # the edges still point at `run`: resolve again
    meta.close()


def test_edges_saved_as_not_current_or_by_another_resolver_are_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = MetaStore(open_database(tmp_path / "meta.duckdb"))
    meta.replace_files(_facts("a.py", "run"), [])
    meta.replace_edges({"b.py": [EDGE]}, current=True)
    meta.replace_edges({"b.py": []}, {"b.py"})  # newer facts were committed meanwhile
    assert not meta.edges_current()
    meta.replace_edges({"b.py": [EDGE]}, current=True)
    monkeypatch.setattr(meta_store, "RESOLUTION_VERSION", meta_store.RESOLUTION_VERSION + 1)
    assert not meta.edges_current()
    meta.close()
