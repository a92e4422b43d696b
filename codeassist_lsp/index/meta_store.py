"""Metadata in DuckDB: the catalog of files with hashes, chunks, symbols, facts and edges.

DuckDB is the source of truth for what the index holds. The vector and keyword stores may
briefly hold rows that DuckDB does not (after a crash between writes); search keeps only
chunk ids that DuckDB knows, so a `kill -9` leaves the previous consistent state.

Edges are derived from the facts. Each commit of facts advances a generation counter in
its own transaction, and edges record the generation (and resolver version) they were
resolved for in theirs, so no crash between two commits can leave stale edges that look
current.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from codeassist_lsp.index.model import Chunk, Edge, Import, ParsedFile, Reference, Symbol
from codeassist_lsp.index.parse import PARSER_VERSION
from codeassist_lsp.index.resolve import RESOLUTION_VERSION

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_FACTS_GENERATION = "facts_generation"  # advanced by every commit of facts
_EDGES_RESOLVED_FOR = "edges_resolved_for"  # "<facts generation>/<resolution version>"
_PARSED_BY = "parser_version"  # the PARSER_VERSION that produced the stored facts

_EDGE_COLUMNS = "path VARCHAR, source VARCHAR, target VARCHAR, kind VARCHAR"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS files (
    path VARCHAR PRIMARY KEY, hash VARCHAR, mtime_ns BIGINT, size BIGINT, language VARCHAR,
    n_chunks INTEGER, n_errors INTEGER);
CREATE TABLE IF NOT EXISTS chunks (
    id VARCHAR, path VARCHAR, start_line INTEGER, end_line INTEGER, kind VARCHAR,
    symbol VARCHAR, signature VARCHAR, docstring VARCHAR, parent VARCHAR, language VARCHAR,
    text VARCHAR);
CREATE TABLE IF NOT EXISTS symbols (
    path VARCHAR, name VARCHAR, qualname VARCHAR, kind VARCHAR, start_line INTEGER,
    end_line INTEGER, signature VARCHAR, docstring VARCHAR, parent VARCHAR);
CREATE TABLE IF NOT EXISTS imports (
    path VARCHAR, module VARCHAR, names VARCHAR, alias VARCHAR, line INTEGER);
CREATE TABLE IF NOT EXISTS refs (
    path VARCHAR, kind VARCHAR, name VARCHAR, target VARCHAR, source VARCHAR, line INTEGER);
CREATE TABLE IF NOT EXISTS edges ({_EDGE_COLUMNS});
CREATE TABLE IF NOT EXISTS descriptions (key VARCHAR PRIMARY KEY, text VARCHAR);
"""

_PER_FILE_TABLES = ("chunks", "symbols", "imports", "refs")

_TEXT, _INT, _BIG = pa.string(), pa.int32(), pa.int64()
# Arrow column types in the order of each table's columns in `_SCHEMA`.
_COLUMNS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "files": (
        ("path", _TEXT),
        ("hash", _TEXT),
        ("mtime_ns", _BIG),
        ("size", _BIG),
        ("language", _TEXT),
        ("n_chunks", _INT),
        ("n_errors", _INT),
    ),
    "chunks": (
        ("id", _TEXT),
        ("path", _TEXT),
        ("start_line", _INT),
        ("end_line", _INT),
        ("kind", _TEXT),
        ("symbol", _TEXT),
        ("signature", _TEXT),
        ("docstring", _TEXT),
        ("parent", _TEXT),
        ("language", _TEXT),
        ("text", _TEXT),
    ),
    "symbols": (
        ("path", _TEXT),
        ("name", _TEXT),
        ("qualname", _TEXT),
        ("kind", _TEXT),
        ("start_line", _INT),
        ("end_line", _INT),
        ("signature", _TEXT),
        ("docstring", _TEXT),
        ("parent", _TEXT),
    ),
    "imports": (
        ("path", _TEXT),
        ("module", _TEXT),
        ("names", _TEXT),
        ("alias", _TEXT),
        ("line", _INT),
    ),
    "refs": (
        ("path", _TEXT),
        ("kind", _TEXT),
        ("name", _TEXT),
        ("target", _TEXT),
        ("source", _TEXT),
        ("line", _INT),
    ),
    "edges": (("path", _TEXT), ("source", _TEXT), ("target", _TEXT), ("kind", _TEXT)),
    "touched": (("path", _TEXT), ("mtime_ns", _BIG), ("size", _BIG)),
}


def _arrow(table: str, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """Rows (at least one) as one Arrow table typed like `table`'s columns."""
    columns = _COLUMNS[table]
    values = list(zip(*rows, strict=True))
    return pa.table(
        {name: pa.array(col, type=kind) for (name, kind), col in zip(columns, values, strict=True)}
    )


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows in one statement: `executemany` costs ~1 ms a row on duckdb 1.4."""
    if rows:
        con.from_arrow(_arrow(table, rows)).insert_into(table)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo an open transaction; a failed COMMIT has often ended it, so errors are dropped.

    Raising here would hide the error that made the transaction fail (a full disk).
    """
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        log.debug("rollback after a failed transaction did nothing", exc_info=True)


class IndexCorrupt(Exception):
    """The metadata database cannot be opened or has another schema: rebuild it."""


@dataclass(frozen=True)
class FileRecord:
    path: str
    hash: str
    mtime_ns: int
    size: int
    language: str


def open_database(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (or create) the metadata database; raise `IndexCorrupt` if it is unusable."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise
        raise IndexCorrupt(f"cannot open {path}: {exc}") from exc
    except duckdb.Error as exc:
        raise IndexCorrupt(f"cannot open {path}: {exc}") from exc
    try:
        if not read_only:
            con.execute(_SCHEMA)
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        con.close()
        raise IndexCorrupt(f"unreadable metadata in {path}: {exc}") from exc
    if row is not None and row[0] == "1" and not read_only:
        _migrate_from_1(con)
        row = (str(SCHEMA_VERSION),)
    if row is None:
        if read_only:
            con.close()
            raise IndexCorrupt(f"{path} has no schema version")
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif row[0] != str(SCHEMA_VERSION):
        con.close()
        raise IndexCorrupt(f"index schema {row[0]} is not the current {SCHEMA_VERSION}")
    if not read_only:
        _reparse_if_parser_changed(con)
    return con


def _reparse_if_parser_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Facts of another parser version are outdated though their files are not: forget
    the files' hashes and mtimes so the next refresh parses them all again. Chunk ids
    are content hashes, so unchanged chunks are not embedded again."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [_PARSED_BY]).fetchone()
    if row is not None and row[0] == str(PARSER_VERSION):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        changed = con.execute("UPDATE files SET hash = '', mtime_ns = -1").fetchone()
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [_PARSED_BY, str(PARSER_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    if changed and changed[0]:
        log.warning("the parser changed: the next refresh parses all %d files again", changed[0])


def _migrate_from_1(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 1 stored edges without the file that produced them. Edges are derived from
    the stored facts, so they are dropped and resolved again: no re-embedding."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DROP TABLE edges")
        con.execute(f"CREATE TABLE edges ({_EDGE_COLUMNS})")
        con.execute("DELETE FROM meta WHERE key = ?", [_EDGES_RESOLVED_FOR])
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise


class MetaStore:
    """Typed access to the metadata tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def close(self) -> None:
        self.con.close()

    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def files(self) -> dict[str, FileRecord]:
        rows = self.con.execute("SELECT path, hash, mtime_ns, size, language FROM files").fetchall()
        return {r[0]: FileRecord(*r) for r in rows}

    def chunk_ids(self, paths: Sequence[str] | None = None) -> set[str]:
        if paths is None:
            rows = self.con.execute("SELECT id FROM chunks").fetchall()
        else:
            if not paths:
                return set()
            rows = self.con.execute(
                "SELECT id FROM chunks WHERE list_contains(?, path)", [list(paths)]
            ).fetchall()
        return {r[0] for r in rows}

    def touch_files(self, records: Iterable[FileRecord]) -> None:
        """Record a new mtime for files whose content hash did not change."""
        rows = [(r.path, r.mtime_ns, r.size) for r in records]
        if not rows:
            return
        self.con.register("touched", _arrow("touched", rows))
        try:
            self.con.execute(
                "UPDATE files SET mtime_ns = t.mtime_ns, size = t.size"
                " FROM touched t WHERE files.path = t.path"
            )
        finally:
            self.con.unregister("touched")

    def replace_files(
        self, parsed: Sequence[tuple[FileRecord, ParsedFile]], removed: Sequence[str]
    ) -> None:
        """Atomically swap in the facts of changed files and drop removed ones."""
        paths = [rec.path for rec, _ in parsed] + list(removed)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if paths:
                for table in (*_PER_FILE_TABLES, "files"):
                    con.execute(f"DELETE FROM {table} WHERE list_contains(?, path)", [paths])
            self._insert(parsed)
            self.set_meta(_FACTS_GENERATION, str(self._facts_generation() + 1))
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise

    def _insert(self, parsed: Sequence[tuple[FileRecord, ParsedFile]]) -> None:
        files: list[tuple[Any, ...]] = []
        chunks: list[tuple[Any, ...]] = []
        symbols: list[tuple[Any, ...]] = []
        imports: list[tuple[Any, ...]] = []
        refs: list[tuple[Any, ...]] = []
        for rec, pf in parsed:
            files.append(
                (
                    rec.path,
                    rec.hash,
                    rec.mtime_ns,
                    rec.size,
                    rec.language,
                    len(pf.chunks),
                    len(pf.syntax_errors),
                )
            )
            chunks.extend(_chunk_row(c) for c in pf.chunks)
            symbols.extend(
                (
                    pf.path,
                    s.name,
                    s.qualname,
                    s.kind,
                    s.start_line,
                    s.end_line,
                    s.signature,
                    s.docstring,
                    s.parent,
                )
                for s in pf.symbols
            )
            imports.extend(
                (pf.path, i.module, json.dumps(list(i.names)), i.alias, i.line) for i in pf.imports
            )
            refs.extend(
                (pf.path, r.kind, r.name, r.target, r.source, r.line) for r in pf.references
            )
        for table, rows in (
            ("files", files),
            ("chunks", chunks),
            ("symbols", symbols),
            ("imports", imports),
            ("refs", refs),
        ):
            _append(self.con, table, rows)

    def descriptions(self, keys: Sequence[str] | None = None) -> dict[str, str]:
        """Plain-English descriptions by chunk content key (all of them, or of `keys`)."""
        sql = "SELECT key, text FROM descriptions"
        if keys is None:
            rows = self.con.execute(sql).fetchall()
        else:
            if not keys:
                return {}
            rows = self.con.execute(sql + " WHERE list_contains(?, key)", [list(keys)]).fetchall()
        return {r[0]: r[1] for r in rows}

    def save_descriptions(self, described: Mapping[str, str]) -> None:
        """Store descriptions by content key; they outlive their chunks (an edit undone, a
        file moved back), and are few and small."""
        if described:
            self.con.executemany(
                "INSERT OR REPLACE INTO descriptions VALUES (?, ?)", list(described.items())
            )

    def target_counts(self) -> dict[str, int]:
        """How many edges point at each node: how much the rest of the code leans on it."""
        rows = self.con.execute(
            "SELECT target, count(*) FROM (SELECT DISTINCT source, target, kind FROM edges)"
            " GROUP BY target"
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def chunks_by_id(self, ids: Sequence[str] | None = None) -> dict[str, Chunk]:
        sql = (
            "SELECT id, path, start_line, end_line, kind, symbol, signature, docstring, parent,"
            " language, text FROM chunks"
        )
        if ids is None:
            rows = self.con.execute(sql).fetchall()
        else:
            rows = self.con.execute(sql + " WHERE list_contains(?, id)", [list(ids)]).fetchall()
        return {r[0]: _row_chunk(r) for r in rows}

    def facts(self, paths: Sequence[str] | None = None) -> list[ParsedFile]:
        """Symbols, imports and references of every file (or of `paths`), for resolving
        the graph."""
        where, args = ("", []) if paths is None else (" WHERE list_contains(?, path)", [paths])
        out: dict[str, ParsedFile] = {
            p: ParsedFile(path=p, language=lang)
            for p, lang in self.con.execute(
                "SELECT path, language FROM files" + where, args
            ).fetchall()
        }
        for r in self.con.execute(
            "SELECT path, name, qualname, kind, start_line, end_line, signature, docstring, parent"
            " FROM symbols" + where,
            args,
        ).fetchall():
            if r[0] in out:
                out[r[0]].symbols.append(Symbol(*r[1:]))
        for r in self.con.execute(
            "SELECT path, module, names, alias, line FROM imports" + where, args
        ).fetchall():
            if r[0] in out:
                out[r[0]].imports.append(Import(r[1], tuple(json.loads(r[2])), r[3], r[4]))
        for r in self.con.execute(
            "SELECT path, kind, name, target, source, line FROM refs" + where, args
        ).fetchall():
            if r[0] in out:
                out[r[0]].references.append(Reference(*r[1:]))
        return list(out.values())

    def _facts_generation(self) -> int:
        return int(self.get_meta(_FACTS_GENERATION) or 0)

    def _resolved_for(self) -> str:
        return f"{self._facts_generation()}/{RESOLUTION_VERSION}"

    def edges_current(self) -> bool:
        """Whether the stored edges were resolved, by this resolver, from the stored facts."""
        return self.get_meta(_EDGES_RESOLVED_FOR) == self._resolved_for()

    def replace_edges(
        self,
        edges: Mapping[str, Sequence[Edge]],
        paths: Collection[str] | None = None,
        *,
        current: bool = False,
    ) -> None:
        """Store the edges each file produces: of `paths` only, or all (None) in place of
        every stored edge. One transaction, so a crash leaves the previous edges.

        `current`: with these stored, all edges are those of the facts stored now. It is
        recorded in the same transaction, so `edges_current` holds until facts change;
        without it, stored edges no longer count as current.
        """
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if paths is None:
                con.execute("DELETE FROM edges")
            elif paths:
                con.execute("DELETE FROM edges WHERE list_contains(?, path)", [list(paths)])
            rows = [
                (path, e.source, e.target, e.kind)
                for path, found in edges.items()
                if paths is None or path in paths
                for e in found
            ]
            _append(con, "edges", rows)
            if current:
                self.set_meta(_EDGES_RESOLVED_FOR, self._resolved_for())
            else:
                con.execute("DELETE FROM meta WHERE key = ?", [_EDGES_RESOLVED_FOR])
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise

    def edges_by_path(self) -> dict[str, list[Edge]]:
        """Stored edges by the file that produced them (an edge two files produce is in both)."""
        out: dict[str, list[Edge]] = {}
        rows = self.con.execute("SELECT path, source, target, kind FROM edges").fetchall()
        for path, source, target, kind in rows:
            out.setdefault(path, []).append(Edge(source, target, kind))
        return out

    def chunk_count(self) -> int:
        """How many chunks there are (one cheap query; `counts` also counts distinct edges)."""
        row = self.con.execute("SELECT count(*) FROM chunks").fetchone()
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, table in (
            ("files", "files"),
            ("chunks", "chunks"),
            ("symbols", "symbols"),
            ("edges", "(SELECT DISTINCT source, target, kind FROM edges)"),  # as in the graph
        ):
            row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[name] = int(row[0]) if row else 0
        row = self.con.execute("SELECT coalesce(sum(n_errors), 0) FROM files").fetchone()
        out["syntax_errors"] = int(row[0]) if row else 0
        return out


def _chunk_row(c: Chunk) -> tuple[Any, ...]:
    return (
        c.chunk_id,
        c.path,
        c.start_line,
        c.end_line,
        c.kind,
        c.symbol,
        c.signature,
        c.docstring,
        c.parent,
        c.language,
        c.text,
    )


def _row_chunk(r: Sequence[Any]) -> Chunk:
    return Chunk(
        path=r[1],
        start_line=r[2],
        end_line=r[3],
        kind=r[4],
        symbol=r[5],
        signature=r[6] or "",
        docstring=r[7] or "",
        parent=r[8],
        language=r[9] or "",
        text=r[10] or "",
    )
