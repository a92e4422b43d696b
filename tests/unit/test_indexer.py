"""The incremental indexer over real DuckDB, LanceDB and tantivy, with the named fake embedder."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist_lsp import foreground
from codeassist_lsp.cli import main
from codeassist_lsp.config import Settings
from codeassist_lsp.foreground import MODEL_REQUESTS
from codeassist_lsp.index import code_graph
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.graph_build import build_graph, resolve_file_edges
from codeassist_lsp.index.indexer import LIVE_COMPACT_WRITES
from codeassist_lsp.index.parse import PARSER_VERSION
from codeassist_lsp.index.storage import IndexStorageError, workspace_dir
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.rag.retriever import search_index

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "py-webclient", root)
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _open(ws: Path, settings: Settings) -> WorkspaceIndex:
    return WorkspaceIndex(ws, settings, FakeEmbedder())


def _all_ids(index: WorkspaceIndex) -> tuple[set[str], set[str], set[str]]:
    return (
        index.stores.meta.chunk_ids(),
        set(index.stores.vectors.ids()),
        set(index.stores.text.ids()),
    )


def test_cold_then_unchanged_refresh_does_no_work(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    first = index.refresh()
    assert first.files > 5 and first.chunks >= first.files and first.symbols > 10
    assert first.parsed == first.files and first.embedded > 0
    assert first.edges > 0
    again = index.refresh()
    assert again.parsed == 0 and again.embedded == 0 and again.unchanged == first.files
    meta, vectors, text = _all_ids(index)
    assert meta == vectors == text
    index.close()


def test_a_file_name_that_is_not_utf8_is_skipped_and_the_rest_indexed(
    ws: Path, settings: Settings
) -> None:
    with open(os.fsencode(ws) + b"/bad\xffname.py", "wb") as file:
        file.write(b"def bad_name():\n    pass\n")
    os.mkdir(os.fsencode(ws) + b"/dir\xfe")
    index = _open(ws, settings)
    stats = index.refresh()
    assert stats.files > 5
    assert stats.skipped["bad\ufffdname.py"] == "its name is not valid UTF-8"
    assert stats.skipped["dir\ufffd"] == "its name is not valid UTF-8"
    assert index.stores.meta.chunk_ids()
    index.close()


def test_facts_of_another_parser_version_are_parsed_again_without_embedding(
    ws: Path, settings: Settings
) -> None:
    index = _open(ws, settings)
    first = index.refresh()
    index.stores.meta.set_meta("parser_version", "1")
    index.close()
    index = _open(ws, settings)
    again = index.refresh()
    assert again.parsed == first.files and again.unchanged == 0
    assert again.embedded == 0  # the same chunks keep their vectors
    assert index.stores.meta.get_meta("parser_version") == str(PARSER_VERSION)
    assert index.refresh().parsed == 0
    index.close()


def test_changed_deleted_and_renamed_files_leave_no_ghosts(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    py_files = sorted(p for p in ws.rglob("*.py") if p.stat().st_size > 200)
    changed, deleted, renamed = py_files[0], py_files[1], py_files[2]
    changed.write_text(changed.read_text() + "\n\ndef zebra_unicorn_helper():\n    return 42\n")
    deleted_rel = deleted.relative_to(ws).as_posix()
    deleted.unlink()
    renamed_rel = renamed.relative_to(ws).as_posix()
    renamed.rename(renamed.with_name("moved_" + renamed.name))
    stats = index.refresh()
    assert stats.parsed == 2  # the changed file and the renamed one
    assert stats.removed == 2
    paths = {c.path for c in index.view().chunks.values()}
    assert deleted_rel not in paths and renamed_rel not in paths
    assert any(p.endswith("moved_" + renamed.name) for p in paths)
    hits = search_index(index, "zebra_unicorn_helper", limit=3)
    assert hits and "def zebra_unicorn_helper" in hits[0].chunk.text
    assert hits[0].chunk.path == changed.relative_to(ws).as_posix()
    meta, vectors, text = _all_ids(index)
    assert meta == vectors == text
    index.close()


def test_unsaved_editor_text_is_indexed_for_one_file(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    target = sorted(ws.rglob("*.py"))[0].relative_to(ws).as_posix()
    stats = index.indexer.update_paths([target], {target: "def quokka_marmot():\n    pass\n"})
    assert stats.parsed == 1
    hits = search_index(index, "quokka_marmot", limit=1)
    assert hits[0].chunk.path == target
    index.close()


def test_lance_versions_do_not_pile_up(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    victim = sorted(ws.rglob("*.py"))[0]
    for i in range(4):
        victim.write_text(victim.read_text() + f"\nVALUE_{i} = {i}\n")
        index.refresh()
    assert index.stores.vectors.version_count() <= 2
    index.close()


def test_lance_versions_stay_bounded_under_editor_edits(ws: Path, settings: Settings) -> None:
    """Edits of open buffers write the vector table without a full refresh: every few dozen
    of them compact it, or versions and fragments pile up on disk and slow every load."""
    index = _open(ws, settings)
    index.refresh()
    target = sorted(ws.rglob("*.py"))[0].relative_to(ws).as_posix()
    text = (ws / target).read_text()
    last = 2 * LIVE_COMPACT_WRITES - 1
    for i in range(last + 1):
        text += f"\nVALUE_{i} = {i}\n"
        index.indexer.update_paths([target], {target: text})
    assert index.stores.vectors.version_count() <= LIVE_COMPACT_WRITES + 1
    assert search_index(index, f"VALUE_{last}", limit=1)[0].chunk.path == target
    index.close()


def test_corrupt_and_old_schema_index_is_rebuilt(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    index.close()
    db = workspace_dir(settings.data_dir, ws.resolve()) / "meta.duckdb"
    db.write_bytes(b"this is not a database" * 100)
    index = _open(ws, settings)
    assert index.notices and "rebuilding" in index.notices[0]
    assert index.refresh().parsed > 0
    index.stores.meta.set_meta("schema_version", "0")
    index.close()
    index = _open(ws, settings)
    assert any("schema" in n for n in index.notices)
    index.close()


def test_a_damaged_database_is_rebuilt_and_a_held_one_is_said_to_be_in_use(
    ws: Path, settings: Settings
) -> None:
    index = _open(ws, settings)
    index.refresh()
    index.close()
    db = workspace_dir(settings.data_dir, ws.resolve()) / "meta.duckdb"
    holder = subprocess.Popen(  # another process holding the database
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexStorageError, match="in use by another codeassist process") as e:
            _open(ws, settings)
        assert f"(PID {holder.pid})" in str(e.value) and "close that project" in str(e.value)
    finally:
        holder.kill()
        holder.wait()
    data = bytearray(db.read_bytes())
    rng = random.Random(3)
    for _ in range(200):  # damage: DuckDB's checksum error mentions a "block"
        data[rng.randrange(4096, len(data))] = rng.randrange(256)
    db.write_bytes(bytes(data))
    index = _open(ws, settings)
    assert index.notices and index.notices[0].startswith("rebuilding the index of")
    assert index.refresh().parsed == index.stores.meta.counts()["files"] > 0
    index.close()


def test_unusable_data_dir_is_a_clear_error(ws: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(IndexStorageError, match="cannot write the index"):
        WorkspaceIndex(ws, Settings(data_dir=blocker), FakeEmbedder())


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from codeassist_lsp.config import Settings
    from codeassist_lsp.index import indexer, meta_store
    from codeassist_lsp.index.embed_fake import FakeEmbedder
    from codeassist_lsp.index.workspace import WorkspaceIndex

    indexer.BATCH_FILES = 2
    calls = {"n": 0}
    original = meta_store.MetaStore.replace_files

    def crashing(self, parsed, removed):
        calls["n"] += 1
        if calls["n"] == 3:  # vectors and keywords of this batch are written: die now
            os.kill(os.getpid(), 9)
        return original(self, parsed, removed)

    meta_store.MetaStore.replace_files = crashing
    index = WorkspaceIndex(Path(sys.argv[1]), Settings(data_dir=Path(sys.argv[2])), FakeEmbedder())
    index.refresh()
    """
)


def _killed(script: str, ws: Path, settings: Settings) -> None:
    """Run `script` on the workspace in a child Python and check that it died by kill -9."""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(ws), str(settings.data_dir)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]


def test_kill_9_mid_index_keeps_a_consistent_index_and_resumes(
    ws: Path, settings: Settings
) -> None:
    _killed(CRASH_SCRIPT, ws, settings)
    index = _open(ws, settings)
    meta, vectors, text = _all_ids(index)
    assert len(index.stores.meta.files()) == 4  # two committed batches of two files
    assert meta == text  # orphans of the killed batch were reconciled away
    # it died before the second phase: what DuckDB knows waits for its vectors
    assert vectors <= meta and index.indexer.pending_vectors() == len(meta - vectors) > 0
    stats = index.refresh()
    assert stats.unchanged == 4 and stats.parsed == stats.files - 4
    meta, vectors, text = _all_ids(index)
    assert meta == vectors == text
    index.close()


def _graph_matches_stored_facts(index: WorkspaceIndex) -> None:
    """The live graph and the stored edges equal a full resolution of the stored facts."""
    graph = index.view().graph
    facts = index.stores.meta.facts()
    full = build_graph(facts)
    assert dict(graph.nodes) == dict(full.nodes)
    assert set(graph.edges()) == set(full.edges())
    stored = {p: set(e) for p, e in index.stores.meta.edges_by_path().items()}
    assert stored == {p: set(e) for p, e in resolve_file_edges(facts).items() if e}
    assert index.stores.meta.edges_current()


KILLED_AFTER_FACTS = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from codeassist_lsp.config import Settings
    from codeassist_lsp.index import meta_store
    from codeassist_lsp.index.embed_fake import FakeEmbedder
    from codeassist_lsp.index.workspace import WorkspaceIndex

    original = meta_store.MetaStore.replace_files

    def commit_then_die(self, parsed, removed):
        original(self, parsed, removed)
        os.kill(os.getpid(), 9)  # facts committed; nothing after them is written

    meta_store.MetaStore.replace_files = commit_then_die
    index = WorkspaceIndex(Path(sys.argv[1]), Settings(data_dir=Path(sys.argv[2])), FakeEmbedder())
    index.indexer.update_paths(["webclient/retry.py"])
    """
)


def test_a_search_after_an_interrupted_first_index_finishes_it_first(
    ws: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _killed(CRASH_SCRIPT, ws, settings)  # two batches of two files committed, no vectors
    config = settings.data_dir / "config.json"
    config.write_text('{"index": {"embedder": "fake"}}')
    monkeypatch.setenv("CODEASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CODEASSIST_CONFIG", str(config))
    assert main(["search", str(ws), "compute_backoff", "--json"]) == 0
    out = capsys.readouterr()
    assert "indexed" in out.err  # it said it finished the index before searching
    index = _open(ws, settings)
    meta, vectors, text = _all_ids(index)
    assert meta == vectors == text and len(index.stores.meta.files()) > 4
    index.close()


def test_kill_9_after_committing_facts_leaves_no_stale_edges(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    assert index.stores.meta.edges_current()
    index.close()
    retry = ws / "webclient" / "retry.py"
    retry.write_text(retry.read_text().replace("compute_backoff", "backoff_delay"))
    _killed(KILLED_AFTER_FACTS, ws, settings)
    index = _open(ws, settings)
    assert not index.stores.meta.edges_current()
    _graph_matches_stored_facts(index)  # the renamed function's edges are resolved again
    graph = index.view().graph
    assert any("backoff_delay" in node for node in graph.nodes)
    index.close()


def test_graph_follows_saves_without_resolving_everything(
    ws: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = _open(ws, settings)
    index.refresh()
    resolved: list[str] = []
    original = code_graph.file_edges
    monkeypatch.setattr(
        code_graph, "file_edges", lambda w, f: resolved.append(f.path) or original(w, f)
    )
    retry = ws / "webclient" / "retry.py"
    edits = [
        ("webclient/retry.py", retry.read_text().replace("rng = rng or random", "rng = rng")),
        ("webclient/retry.py", retry.read_text() + "\n\ndef backoff_two():\n    return 1\n"),
        ("webclient/retry.py", retry.read_text().replace("compute_backoff", "backoff_delay")),
        ("webclient/cache.py", (ws / "webclient/cache.py").read_text() + "\n\nclass Attempt:\n"),
        ("webclient/cache.py", None),
    ]
    for rel, text in edits:
        if text is None:
            (ws / rel).unlink()
        else:
            (ws / rel).write_text(text)
        index.indexer.update_paths([rel])
        resolved.clear()
        index.view().graph.number_of_nodes()
        if rel == "webclient/retry.py":  # body edit, new name, rename: a few files at most
            assert 1 <= len(resolved) <= 3, resolved
        _graph_matches_stored_facts(index)
    edges = index.view().graph.number_of_edges()
    index.close()
    index = _open(ws, settings)  # loads the stored edges, resolves nothing
    assert index.view().graph.number_of_edges() == edges
    _graph_matches_stored_facts(index)
    index.close()


def test_a_lost_keyword_index_and_damaged_vectors_are_rebuilt(ws: Path, settings: Settings) -> None:
    index = _open(ws, settings)
    index.refresh()
    meta_ids, _, _ = _all_ids(index)
    directory = index.stores.directory
    index.close()

    shutil.rmtree(directory / "tantivy")
    for data in sorted((directory / "lance").rglob("*.lance")):
        if data.is_file() and data.parent.name == "data":
            damaged = bytearray(data.read_bytes())
            for i in range(100, len(damaged), 97):
                damaged[i] ^= 0xFF
            data.write_bytes(bytes(damaged))

    index = _open(ws, settings)
    assert any("keyword index was missing" in n for n in index.notices)
    assert set(index.stores.text.ids()) == meta_ids
    hits = search_index(index, "retry backoff", 3)  # damaged vectors: keyword still answers
    assert hits
    assert index.indexer.pending_vectors() == len(meta_ids), "every vector is computed again"
    assert any("damaged" in n for n in index.notices)
    index.refresh()
    assert _all_ids(index) == (meta_ids, meta_ids, meta_ids)
    index.close()


def _runs_while_a_model_request_runs(work: Callable[[], object]) -> tuple[bool, bool]:
    """Whether `work` finished while a model request ran, and once it ended."""
    done = threading.Event()
    thread = threading.Thread(target=lambda: (work(), done.set()))
    with MODEL_REQUESTS.one():
        thread.start()
        during = done.wait(0.5)
    thread.join(30)
    return during, done.is_set()


def test_indexing_and_embedding_wait_while_the_model_answers_someone(
    ws: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(foreground, "GIVE_WAY_S", 30.0)
    index = _open(ws, settings)
    assert _runs_while_a_model_request_runs(lambda: index.refresh(vectors=False)) == (False, True)
    assert index.indexer.pending_vectors() > 0
    assert _runs_while_a_model_request_runs(index.indexer.embed_pending) == (False, True)
    assert index.indexer.pending_vectors() == 0
    index.close()
