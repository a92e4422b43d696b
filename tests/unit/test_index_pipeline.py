"""The refresh pipeline: one batch embedded in the background while the next is read."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.config import Settings
from codeassist_lsp.index import indexer
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.workspace import WorkspaceIndex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, noting which thread embeds and failing on call `fail_on`."""

    def __init__(self, fail_on: int = 0) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.fail_on = fail_on

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        if len(self.threads) == self.fail_on:
            raise RuntimeError("embedder failed")
        return super().embed_documents(texts)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(indexer, "BATCH_FILES", 2)
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "py-webclient", root)
    return root


def _consistent(index: WorkspaceIndex) -> set[str]:
    meta = index.stores.meta.chunk_ids()
    assert meta == set(index.stores.vectors.ids()) == set(index.stores.text.ids())
    return meta


def test_batches_embed_off_the_main_thread_and_match_one_by_one(ws: Path, tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    index = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "a"), embedder)
    reports: list[int] = []
    stats = index.refresh(progress=lambda done, total, _: reports.append(done))
    assert embedder.threads and all(t.startswith("index-embed") for t in embedder.threads)
    assert reports == sorted(reports) and reports[-1] == stats.parsed == stats.files
    pipelined = _consistent(index)
    files = sorted(index.stores.meta.files())
    index.close()

    serial = WorkspaceIndex(ws, Settings(data_dir=tmp_path / "b"), FakeEmbedder())
    serial.indexer.update_paths(files)  # all files in one batch, on this thread
    assert _consistent(serial) == pipelined
    serial.close()


def test_an_embedder_failure_keeps_the_batches_written_before_it(ws: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    index = WorkspaceIndex(ws, settings, RecordingEmbedder(fail_on=3))
    with pytest.raises(RuntimeError, match="embedder failed"):
        index.refresh()
    assert len(index.stores.meta.files()) == 4  # batches 1 and 2; batch 3 never embedded
    _consistent(index)
    index.close()

    index = WorkspaceIndex(ws, settings, FakeEmbedder())
    stats = index.refresh()
    assert stats.unchanged == 4 and stats.parsed == stats.files - 4
    _consistent(index)
    index.close()
