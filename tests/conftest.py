"""Fixtures shared by the tests that start the real CLI or server with the real embedder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def embedder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real int8 ONNX export (~25 s) shared by the tests that link it into a data dir."""
    data = tmp_path_factory.mktemp("embedder-data")
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(data / "no-config.json"),
    }
    cmd = [sys.executable, "-m", "codeassist_lsp", "prepare-embedder"]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
    return data / "embedders"


@pytest.fixture(scope="session")
def tmpfs_prefix(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A command prefix whose command runs in a private mount namespace and may mount a
    tmpfs there (`unshare -m` as root, `unshare -rm` otherwise); skips when neither works."""
    probe_dir = tmp_path_factory.mktemp("tmpfs-probe")
    for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
        cmd = [*prefix, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe_dir)]
        try:
            probe = subprocess.run(cmd, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            break
        if probe.returncode == 0:
            return prefix
    pytest.skip("cannot mount a tmpfs in a private mount namespace (unshare -m / -rm refused)")


@pytest.fixture(scope="session")
def installed_models() -> Path:
    """The models folder `install.sh` filled (`codeassist models install`): tests link it
    into their own data dirs instead of assembling the 0.5 GB default model again."""
    from codeassist_lsp.config import default_data_dir

    models = default_data_dir() / "models"
    if not any(models.glob("*.gguf")):
        pytest.fail(f"no model in {models}: run ./install.sh (or `codeassist models install`)")
    return models
