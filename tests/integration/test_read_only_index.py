"""A complete index on a disk that cannot be written stays searchable (README promises
it): the real CLI, with the data dir bind-mounted read-only in a private mount namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_search_of_a_read_only_index(
    tmp_path: Path, embedder_cache: Path, tmpfs_prefix: list[str]
) -> None:
    workspace = tmp_path / "ts-tasks"
    shutil.copytree(FIXTURES / "ts-tasks", workspace)
    data = tmp_path / "data"
    data.mkdir()
    (data / "embedders").symlink_to(embedder_cache)
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(tmp_path / "none"),
    }
    cli = [sys.executable, "-m", "codeassist_lsp"]
    indexed = subprocess.run(
        [*cli, "index", str(workspace)], env=env, capture_output=True, text=True, timeout=600
    )
    assert indexed.returncode == 0, indexed.stderr[-2000:]

    spot = data / "workspaces"
    search = " ".join(
        [*cli, "search", str(workspace), "'how are repeating tasks scheduled'", "--json"]
    )
    script = f"mount --bind {spot} {spot} && mount -o remount,bind,ro {spot} && {search}"
    found = subprocess.run(
        [*tmpfs_prefix, "sh", "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout), "hits from the index as it is"
    assert "cannot be written" in found.stderr
