"""`codeassist search` / `status` as a program on an indexed workspace (fake embedder).

A search of an indexed workspace only reads: it must not import `lancedb` (~1 s of
imports) and it ends without the interpreter's teardown, so its output must still be
complete when stdout is a pipe. Module lists, not timings, are asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "fixtures" / "py-webclient"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli-search")
    config = home / "config.json"
    config.write_text(json.dumps({"index": {"embedder": "fake", "threads": 1}}))
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},  # pipes buffer
        "CODEASSIST_DATA_DIR": str(home / "data"),
        "CODEASSIST_CONFIG": str(config),
    }
    _run(env, "index", str(WORKSPACE))
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-X", "importtime", "-m", "codeassist_lsp", *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _imported(proc: subprocess.CompletedProcess[str]) -> set[str]:
    """Top-level package names from `-X importtime` lines on stderr."""
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_search_prints_every_hit_and_does_not_import_lancedb(env: dict[str, str]) -> None:
    proc = _run(env, "search", str(WORKSPACE), "retry a failed request", "--json", "--limit", "5")
    hits = json.loads(proc.stdout)
    assert len(hits) == 5
    assert any(h["path"] == "webclient/retry.py" for h in hits)
    imported = _imported(proc)
    assert "lance" in imported and "codeassist_lsp" in imported
    assert not imported & {"lancedb", "torch", "pygls", "llama_cpp", "sentence_transformers"}


def test_search_text_output_is_complete(env: dict[str, str]) -> None:
    proc = _run(env, "search", str(WORKSPACE), "token bucket throttle", "--limit", "3")
    ranks = [line.split(".", 1)[0] for line in proc.stdout.splitlines() if line[:1].isdigit()]
    assert ranks == ["1", "2", "3"]


def test_status_reads_without_lancedb(env: dict[str, str]) -> None:
    proc = _run(env, "status", str(WORKSPACE), "--json")
    status = json.loads(proc.stdout)
    assert status["files"] == 24 and status["lance_versions"] >= 1
    assert "lancedb" not in _imported(proc)


def test_a_query_with_invalid_bytes_is_searched_and_a_limit_below_one_refused(
    env: dict[str, str],
) -> None:
    cmd = [sys.executable, "-m", "codeassist_lsp", "search", str(WORKSPACE)]
    proc = subprocess.run(
        [*cmd, b"retry a failed request \xff\xfe", "--json"],  # argv bytes that are not UTF-8
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert any(h["path"] == "webclient/retry.py" for h in json.loads(proc.stdout))
    for limit in ("0", "-3", "many"):
        bad = subprocess.run(
            [*cmd, "retry", "--limit", limit], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert bad.returncode == 2 and "must be a whole number of at least 1" in bad.stderr
        assert "Traceback" not in bad.stderr
