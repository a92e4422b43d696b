"""install.sh's `codeassist prepare-embedder`: the real int8 ONNX export, done once, then used.

install.sh itself is not run here (it installs packages); this runs the command it calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeassist_lsp.index.embed_onnx import OnnxEmbedder
from codeassist_lsp.index.embedder import create_embedder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _prepare(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data_dir),
        "CODEASSIST_CONFIG": str(data_dir / "no-config.json"),
    }
    cmd = [sys.executable, "-m", "codeassist_lsp", "prepare-embedder"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_install_exports_the_embedder_once_and_the_index_uses_it(tmp_path: Path) -> None:
    assert "-m codeassist_lsp prepare-embedder" in (ROOT / "install.sh").read_text()
    first = _prepare(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    model = Path(first.stdout.strip().rpartition(": ")[2])
    assert model.is_file() and model.parent.parent == tmp_path / "embedders"
    manifest = json.loads((model.parent / "manifest.json").read_text())
    assert manifest["size"] == model.stat().st_size > 1_000_000
    stamp = model.stat().st_mtime_ns

    again = _prepare(tmp_path)
    assert again.returncode == 0 and again.stdout == first.stdout
    embedder = create_embedder("minilm", tmp_path / "embedders", threads=1)
    assert isinstance(embedder, OnnxEmbedder)
    assert model.stat().st_mtime_ns == stamp  # nothing was exported a second time
    assert embedder.embed_query("retry a request").shape == (embedder.dim,)
