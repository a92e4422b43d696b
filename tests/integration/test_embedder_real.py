"""The real packaged model, loaded with no network: ranking, backends agreeing, the cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.index.embed_onnx import OnnxEmbedder
from codeassist_lsp.index.embed_torch import TorchEmbedder
from codeassist_lsp.index.embedder import Embedder, create_embedder

pytestmark = pytest.mark.slow

RETRY = """src/net/http.py | function fetch_with_retry
def fetch_with_retry(session, url, attempts=3, backoff=0.5):
    for attempt in range(attempts):
        try:
            response = session.get(url, timeout=10)
            response.raise_for_status()
            return response
        except (ConnectionError, TimeoutError):
            if attempt == attempts - 1:
                raise
            time.sleep(backoff * 2 ** attempt)
"""
COLOR = """src/ui/colors.py | function hex_to_rgb
def hex_to_rgb(value):
    value = value.lstrip("#")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))
"""
CSV = """src/report/export.py | function write_rows
def write_rows(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow(row)
"""
DOCS = [COLOR, RETRY, CSV]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedder-cache")


@pytest.fixture(scope="module")
def onnx_embedder(cache_dir: Path) -> Embedder:
    return create_embedder("minilm-onnx", cache_dir, threads=2)


def _rank_of_retry(embedder: Embedder) -> list[int]:
    return _ranking(embedder, "retry a failed http request")


def _ranking(embedder: Embedder, query: str) -> list[int]:
    scores = embedder.embed_documents(DOCS) @ embedder.embed_query(query)
    return [int(i) for i in np.argsort(-scores)]


def test_default_embedder_is_int8_onnx(onnx_embedder: Embedder, cache_dir: Path) -> None:
    default = create_embedder("minilm", cache_dir, threads=2)
    assert isinstance(onnx_embedder, OnnxEmbedder)
    assert isinstance(default, OnnxEmbedder)
    assert default.dim == 384


def test_retry_query_finds_the_retry_function(onnx_embedder: Embedder) -> None:
    assert _rank_of_retry(onnx_embedder)[0] == DOCS.index(RETRY)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Few or no words shared with the code: a bag-of-words hash gets these wrong.
        ("try the download again when the network times out", RETRY),
        ("turn a web color into numbers", COLOR),
        ("save records to a spreadsheet file", CSV),
    ],
)
def test_paraphrased_queries_find_their_code(
    onnx_embedder: Embedder, query: str, expected: str
) -> None:
    assert _ranking(onnx_embedder, query)[0] == DOCS.index(expected)


def test_vectors_are_unit_length(onnx_embedder: Embedder) -> None:
    vectors = onnx_embedder.embed_documents([*DOCS, "", "x" * 5000])
    assert vectors.shape == (5, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)


def test_batch_order_is_kept(onnx_embedder: Embedder) -> None:
    # int8 activations are scaled per batch, so a text's vector moves slightly with its
    # batch-mates (cosine ~0.99); each row must still be its own text's vector.
    together = onnx_embedder.embed_documents(DOCS)
    alone = np.stack([onnx_embedder.embed_query(d) for d in DOCS])
    similarity = together @ alone.T
    assert list(np.argmax(similarity, axis=1)) == [0, 1, 2]
    assert np.diag(similarity).min() > 0.98


def test_int8_onnx_agrees_with_torch(onnx_embedder: Embedder, cache_dir: Path) -> None:
    torch_embedder = create_embedder("minilm-torch", cache_dir, threads=2)
    assert isinstance(torch_embedder, TorchEmbedder)
    assert _rank_of_retry(torch_embedder)[0] == DOCS.index(RETRY)
    cosines = np.sum(onnx_embedder.embed_documents(DOCS) * torch_embedder.embed_documents(DOCS), 1)
    assert cosines.min() > 0.97


def test_damaged_cache_is_rebuilt_into_a_working_model(
    onnx_embedder: Embedder, cache_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "cache"
    shutil.copytree(cache_dir, copy)
    model = next(copy.glob("*/model.onnx"))
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    rebuilt = create_embedder("minilm-onnx", copy, threads=2)
    assert _rank_of_retry(rebuilt)[0] == DOCS.index(RETRY)
    np.testing.assert_allclose(
        rebuilt.embed_documents(DOCS), onnx_embedder.embed_documents(DOCS), atol=1e-5
    )


def _can_unshare_network() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _can_unshare_network(), reason="needs `unshare -n` (root)")
def test_loads_with_no_network_at_all(cache_dir: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from codeassist_lsp.index.embedder import create_embedder
        for name, cache in (("minilm", {str(cache_dir)!r}), ("minilm-torch", {str(tmp_path)!r})):
            e = create_embedder(name, Path(cache), threads=2)
            print(type(e).__name__, e.embed_query("open a file").shape)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["OnnxEmbedder (384,)", "TorchEmbedder (384,)"]
