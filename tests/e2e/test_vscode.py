"""The VS Code extension (`clients/vscode`): its Node unit tests (stub `vscode` module), the
chat panel in headless Chromium, and the built `.vsix` in a real VS Code (code-server,
driven by Playwright) with the real server. Node, npm packages, Chromium and code-server
come from `./install.sh`; a missing one fails here rather than skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codeassist_lsp.config import Settings, default_data_dir
from codeassist_lsp.server import create_server

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "clients" / "vscode"
FIXTURES = ROOT / "fixtures"
CODE_SERVER = ROOT / ".cache" / "code-server" / "node_modules" / ".bin" / "code-server"

pytestmark = pytest.mark.slow


def _need(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        pytest.fail(f"{what} is missing: run ./install.sh")
    return path


def _node(args: list[str], env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(
        ["node", "--test", *args],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]


@pytest.fixture(scope="module")
def vsix() -> Path:
    """The extension built from the current sources and packaged, as CI ships it."""
    _need(EXTENSION / "node_modules", "clients/vscode/node_modules")
    npm = shutil.which("npm")
    assert npm, "npm is missing: run ./install.sh"
    done = subprocess.run(
        [npm, "run", "package"], cwd=EXTENSION, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return EXTENSION / "codeassist.vsix"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the browser tests leave their screenshots (kept for a failed run)."""
    out = Path(os.environ.get("CODEASSIST_SCREENSHOTS", tmp_path / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_extension_logic_with_a_stub_vscode(vsix: Path) -> None:
    _node(
        ["test/logic.test.js", "test/chat.test.js", "test/switchModel.test.js"],
        dict(os.environ),
        timeout=120,
    )


def test_chat_panel_in_chromium(vsix: Path, screenshots: Path) -> None:
    _need(Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")), "chromium")
    env = {**os.environ, "CODEASSIST_SCREENSHOTS": str(screenshots)}
    _node(["test/webview.test.js"], env, timeout=180)


def _server_methods() -> set[str]:
    """The LSP methods this server answers (the features other issues add come and go)."""
    return set(create_server(Settings()).protocol.fm.features)


# Each end-to-end file, and the server method whose feature it exercises.
E2E = [
    ("codeServer.test.js", "textDocument/hover"),
    ("chat.test.js", "codeassist/chat"),
    ("rewrite.test.js", "textDocument/codeAction"),
    ("inline.test.js", "textDocument/inlineCompletion"),
]


@pytest.mark.parametrize(("script", "method"), E2E, ids=[s for s, _ in E2E])
def test_extension_in_a_real_vs_code(
    script: str,
    method: str,
    vsix: Path,
    tmp_path: Path,
    embedder_cache: Path,
    screenshots: Path,
) -> None:
    if method not in _server_methods():
        pytest.skip(f"the server has no {method} yet: the extension's side is ready")
    code_server = _need(Path(os.environ.get("CODE_SERVER", CODE_SERVER)), "code-server")
    _need(Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")), "chromium")
    workspace = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", workspace)
    data = tmp_path / "data"
    data.mkdir()
    (data / "embedders").symlink_to(embedder_cache)
    models = default_data_dir() / "models"
    if models.is_dir():
        (data / "models").symlink_to(models)
    server = tmp_path / "codeassist"
    server.write_text(
        f'#!/bin/sh\nexport PYTHONPATH="{ROOT}"\nexec "{sys.executable}" -m codeassist_lsp "$@"\n'
    )
    server.chmod(0o755)
    env = {
        **os.environ,
        "CODE_SERVER": str(code_server),
        "CODEASSIST_VSIX": str(vsix),
        "CODEASSIST_WORKSPACE": str(workspace),
        "CODEASSIST_SERVER_PATH": str(server),
        "CODEASSIST_SCREENSHOTS": str(screenshots),
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(tmp_path / "no-config.json"),
    }
    _node([f"test/e2e/{script}"], env, timeout=900)
