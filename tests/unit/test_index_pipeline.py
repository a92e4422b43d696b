"""The two-phase refresh: facts and keywords for every file first, then vectors in slices."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.config import Settings
from codeassist_lsp.index import indexer
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.rag.retriever import search_index

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, noting the texts it embeds and failing on call `fail_on`."""

    def __init__(self, fail_on: int = 0) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.calls = 0
        self.fail_on = fail_on

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("embedder failed")
        self.texts.extend(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return FakeEmbedder.embed_documents(self, [text])[0]  # a question is not a document


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(indexer, "BATCH_FILES", 2)
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "py-webclient", root)
    return root


def _consistent(index: WorkspaceIndex) -> set[str]:
    meta = index.stores.meta.chunk_ids()
    assert meta == set(index.stores.vectors.ids()) == set(index.stores.text.ids())
    assert index.indexer.pending_vectors() == 0 and index.view().vectors_missing == 0
    return meta


def test_keyword_search_works_before_the_vectors_and_slices_complete_them(
    ws: Path, tmp_path: Path
) -> None:
    embedder = RecordingEmbedder()
    index = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "a"), embedder)
    reports: list[int] = []
    stats = index.refresh(progress=lambda done, total, _: reports.append(done), vectors=False)
    assert embedder.calls == 0 and stats.vectors_pending == stats.chunks > 0
    assert reports == sorted(reports) and reports[-1] == stats.parsed == stats.files
    meta = index.stores.meta.chunk_ids()
    assert meta == set(index.stores.text.ids()) and not index.stores.vectors.ids()
    assert index.view().vectors_missing == len(meta)
    hits = search_index(index, "compute_backoff", 3)
    assert hits and hits[0].chunk.path == "webclient/retry.py" and "vector" not in hits[0].why
    slices = 0
    while index.indexer.embed_pending(10):
        slices += 1
    assert slices == -(-len(meta) // 10)
    two_phase = _consistent(index)
    files = sorted(index.stores.meta.files())
    index.close()

    serial = RecordingEmbedder()
    one_go = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "b"), serial)
    one_go.indexer.update_paths(files)  # all files in one batch, embedded before the write
    assert _consistent(one_go) == two_phase
    assert sorted(serial.texts) == sorted(embedder.texts)  # the same words were embedded
    one_go.close()


def test_vectors_left_by_a_stopped_process_are_embedded_from_the_stored_facts(
    ws: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    index = WorkspaceIndex(ws, settings, FakeEmbedder())
    index.refresh(vectors=False)
    index.close()
    embedder = RecordingEmbedder()
    index = WorkspaceIndex(ws, settings, embedder)
    stats = index.refresh()
    assert stats.parsed == 0 and stats.embedded == stats.chunks and stats.vectors_pending == 0
    _consistent(index)
    index.close()

    fresh = RecordingEmbedder()
    index = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "fresh"), fresh)
    index.refresh()
    assert sorted(fresh.texts) == sorted(embedder.texts)  # words rebuilt as when parsed
    index.close()


def test_an_embedder_failure_keeps_what_was_written(ws: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    index = WorkspaceIndex(ws, settings, RecordingEmbedder(fail_on=2))
    index.refresh(vectors=False)
    index.indexer.embed_pending(5)
    with pytest.raises(RuntimeError, match="embedder failed"):
        index.indexer.embed_pending(5)
    meta = index.stores.meta.chunk_ids()
    assert len(index.stores.vectors.ids()) == 5 and meta == set(index.stores.text.ids())
    assert index.indexer.pending_vectors() == len(meta) - 5
    index.close()

    index = WorkspaceIndex(ws, settings, FakeEmbedder())
    stats = index.refresh()
    assert stats.parsed == 0 and stats.embedded == len(meta) - 5
    _consistent(index)
    index.close()
