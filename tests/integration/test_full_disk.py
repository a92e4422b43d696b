"""A data dir that fills up during indexing: the real CLI on a tiny tmpfs.

The data dir's `workspaces/` is a 4 MiB tmpfs mounted in a private mount namespace. After a
first index, a ballast file leaves ~64 KiB free and three new files need more than that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Runs inside the namespace, after the mount; prints one JSON object with every step.
DRIVER = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from pathlib import Path

    import duckdb, lancedb
    from codeassist_lsp.index.text_store import TextStore
    from codeassist_lsp.index.storage import workspace_dir

    ws, data = Path(sys.argv[1]), Path(sys.argv[2])
    spot = data / "workspaces"

    def cli(*args):
        cmd = [sys.executable, "-m", "codeassist_lsp", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}

    def stores():
        # Read-only, so looking cannot write to the full disk or change what it looks at.
        folder = workspace_dir(data, ws.resolve())
        con = duckdb.connect(str(folder / "meta.duckdb"), read_only=True)
        meta = {r[0] for r in con.execute("SELECT id FROM chunks").fetchall()}
        files = con.execute("SELECT count(*) FROM files").fetchone()[0]
        con.close()
        table = lancedb.connect(str(folder / "lance")).open_table("chunks")
        vectors = set(table.to_arrow().column("id").to_pylist())
        text = set(TextStore(folder / "tantivy").ids())
        return {"files": files, "chunks": len(meta), "meta_in_vectors": meta <= vectors,
                "meta_in_text": meta <= text, "equal": meta == vectors == text}

    out = {"first": cli("index", str(ws))}
    out["stores_first"] = stores()
    stat = os.statvfs(spot)
    (spot / "ballast").write_bytes(bytes(stat.f_bavail * stat.f_frsize - 64 * 1024))
    body = "".join(
        f"def step_{i}(value):\\n    '''Advance the state machine by step {i} of {i * 7}.'''\\n"
        f"    return value * {i} + {i * 3} - len(str(value)) * {i % 11}\\n\\n\\n"
        for i in range(600)
    )
    for n in range(3):
        (ws / f"added_{n}.py").write_text(body.replace("step_", f"step{n}_"))
    out["full"] = cli("index", str(ws))
    out["status_full"] = cli("status", str(ws), "--json")
    out["search_full"] = cli("search", str(ws), "retry failed requests", "--json")
    out["stores_full"] = stores()
    (spot / "ballast").unlink()
    out["again"] = cli("index", str(ws))
    out["stores_again"] = stores()
    print(json.dumps(out))
    """
)


def test_full_data_dir_is_one_clear_error_and_the_index_survives(
    tmp_path: Path, tmpfs_prefix: list[str], embedder_cache: Path
) -> None:
    ws = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", ws)
    data = tmp_path / "data"
    (data / "workspaces").mkdir(parents=True)
    (data / "embedders").symlink_to(embedder_cache)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(tmp_path / "no-config.json"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    mount = f'mount -t tmpfs -o size=4m tmpfs "{data}/workspaces" && exec "$@"'
    cmd = [*tmpfs_prefix, "sh", "-c", mount, "sh", sys.executable, str(script), str(ws), str(data)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps: dict[str, Any] = json.loads(proc.stdout)

    assert steps["first"]["rc"] == 0, steps["first"]["err"][-2000:]
    before = steps["stores_first"]
    assert before["files"] == 24 and before["equal"]

    full = steps["full"]
    assert full["rc"] == 2, full["err"][-2000:]
    assert full["err"].count("\n") == 1 and "Traceback" not in full["err"]
    assert full["err"].startswith("codeassist: error: cannot write the index under")
    assert "the disk is full" in full["err"]

    # the previous state is still the index: counted, searchable and consistent
    assert steps["status_full"]["rc"] == 0, steps["status_full"]["err"][-2000:]
    assert json.loads(steps["status_full"]["out"])["files"] == 24
    assert steps["search_full"]["rc"] == 0, steps["search_full"]["err"][-2000:]
    hits = json.loads(steps["search_full"]["out"])
    assert any(h["path"] == "webclient/retry.py" for h in hits)
    after = steps["stores_full"]
    assert after["files"] == 24 and after["chunks"] == before["chunks"]
    assert after["meta_in_vectors"] and after["meta_in_text"]

    # with space again the next run indexes the new files and leaves no orphans
    assert steps["again"]["rc"] == 0, steps["again"]["err"][-2000:]
    final = steps["stores_again"]
    assert final["files"] == 27 and final["equal"]
