"""The ONNX embedder runs its batches on several threads: same vectors, same order."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.index.embed_onnx import OnnxEmbedder
from codeassist_lsp.index.embedder import create_embedder

pytestmark = pytest.mark.slow

# Lengths from one word to past the 96-token cut, so the batches differ in width.
TEXTS = [
    f"function step {i} " + "compute the next value of the counter " * (i % 13) for i in range(40)
]


def _embedder(cache: Path, threads: int) -> OnnxEmbedder:
    embedder = create_embedder("minilm-onnx", cache, threads=threads)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_threads_give_the_vectors_of_one_thread(embedder_cache: Path) -> None:
    one = _embedder(embedder_cache, 1).embed_documents(TEXTS)
    two = _embedder(embedder_cache, 2).embed_documents(TEXTS)
    np.testing.assert_allclose(two, one, atol=1e-6)


def test_concurrent_callers_each_get_their_own_vectors(embedder_cache: Path) -> None:
    """A search embeds its query while the indexer embeds a batch on the same embedder."""
    embedder = _embedder(embedder_cache, 2)
    expected = embedder.embed_documents(TEXTS)
    queries = [embedder.embed_query(t) for t in TEXTS[:5]]
    results: dict[str, np.ndarray] = {}

    def bulk() -> None:
        results["bulk"] = embedder.embed_documents(TEXTS)

    worker = threading.Thread(target=bulk)
    worker.start()
    during = [embedder.embed_query(t) for t in TEXTS[:5]]
    worker.join()
    np.testing.assert_allclose(results["bulk"], expected, atol=1e-6)
    np.testing.assert_allclose(np.stack(during), np.stack(queries), atol=1e-6)
