"""Offline is a promise: index, search and a model answer with no network at all.

Runs the real CLI under `unshare -n` (a fresh network namespace with nothing in it), with
the real packaged embedder and the real smoke model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _unshare_works(), reason="unshare -n is not permitted here (needs root or user namespaces)"
)


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = ["unshare", "-n", sys.executable, "-m", "codeassist_lsp", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def test_index_search_and_answer_without_network(tmp_path: Path) -> None:
    workspace = tmp_path / "ts-tasks"
    shutil.copytree(FIXTURES / "ts-tasks", workspace)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"llm": {"model": "smollm2-135m"}}))
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(tmp_path / "data"),
        "CODEASSIST_CONFIG": str(config),
    }
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(var, None)  # the server must set these itself

    indexed = _run(["index", str(workspace)], env)
    assert indexed.returncode == 0, indexed.stderr[-3000:]
    assert "files" in indexed.stdout and "chunks" in indexed.stdout

    found = _run(["search", str(workspace), "how are repeating tasks scheduled", "--json"], env)
    assert found.returncode == 0, found.stderr[-3000:]
    hits = json.loads(found.stdout)
    assert hits and {"path", "start_line", "end_line", "score", "symbol", "kind", "why"} <= set(
        hits[0]
    )
    assert all(not h["path"].startswith("/") for h in hits)

    installed = _run(["models", "install", "smollm2-135m"], env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    answer = _run(["ask", "--max-tokens", "24", "--temperature", "0", "Say hello."], env)
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert len(answer.stdout.strip()) > 0
