"""The Neovim plugin's Lua logic (rendering, citations, diffs, ghost text, chat streaming)
in a real headless Neovim, one spec file at a time, on 0.11 and 0.12."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.neovim_runner import PLUGIN, nvim_binary

SPECS = sorted((PLUGIN / "tests" / "unit").glob("*_spec.lua"))


@pytest.mark.parametrize("version", ["0.11", "0.12"])
@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_lua_spec(spec: Path, version: str, tmp_path: Path) -> None:
    nvim = nvim_binary(version)
    if nvim is None:
        pytest.fail(f"no nvim {version}: install the dev extras (./install.sh)")
    env = {
        **os.environ,
        **{f"XDG_{d}_HOME": str(tmp_path / d) for d in ("CONFIG", "DATA", "STATE", "CACHE")},
    }
    done = subprocess.run(
        [nvim, "--headless", "--clean", "-l", str(PLUGIN / "tests" / "run.lua"), str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed, 0 failed" in done.stdout
