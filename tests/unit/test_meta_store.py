"""The metadata catalog: schema migration and the per-file edge rows."""

from __future__ import annotations

from pathlib import Path

from codeassist_lsp.index.meta_store import SCHEMA_VERSION, MetaStore, open_database
from codeassist_lsp.index.model import Edge


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
    assert meta.get_meta("edges_fresh") == "0"
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
