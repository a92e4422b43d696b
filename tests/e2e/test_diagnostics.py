"""End-to-end: syntax errors of open documents as publishDiagnostics, from the real server.

Each test runs with Neovim's and with VS Code's client capabilities.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RUN_DIR = Path(tempfile.gettempdir()) / f"codeassist-diag-{os.getpid()}"
WORKSPACE = RUN_DIR / "py-webclient"
ENV = {
    **os.environ,
    "CODEASSIST_DATA_DIR": str(RUN_DIR / "data"),
    "CODEASSIST_CONFIG": str(RUN_DIR / "no-config.json"),
}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "codeassist_lsp", "serve"], server_env=ENV
    ),
    params=["neovim", "visual-studio-code"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient):
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    shutil.copytree(FIXTURES / "py-webclient", WORKSPACE)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Both editors accept the server's file watcher registration."""

    params = types.InitializeParams(
        capabilities=client_capabilities(request.param),
        workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="ws")],
        root_uri=WORKSPACE.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, name: str, text: str, language: str = "python") -> str:
    uri = (WORKSPACE / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


def _change(client: LanguageClient, uri: str, version: int, line: int, col: int, text: str):
    at = types.Position(line=line, character=col)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


_versions: dict[str, int | None] = {}


@pytest.fixture(autouse=True)
def _track_versions(client: LanguageClient) -> None:
    """Remember the version each publishDiagnostics carried: pytest-lsp keeps only the
    list, so its handler is wrapped."""
    _versions.clear()
    features = client.protocol.fm.features
    keep = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def published(params: types.PublishDiagnosticsParams) -> None:
        keep(params)  # already bound to the client
        _versions[params.uri] = params.version

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = published


async def _diagnostics(
    client: LanguageClient, uri: str, version: int, timeout: float = 30
) -> list[types.Diagnostic]:
    """The diagnostics published for `uri` at `version` (waits for them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if _versions.get(uri) == version:
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {uri} at version {version}: {_versions}")


async def test_a_syntax_error_is_reported_and_cleared_when_fixed(client: LanguageClient) -> None:
    uri = _open(client, "webclient/broken.py", "def fetch(url:\n    return url\n")
    [diagnostic] = await _diagnostics(client, uri, 1)
    assert diagnostic.message == "unclosed `(`"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.source == "codeassist"
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (0, 9)
    _change(client, uri, 2, 0, 13, ")")
    assert await _diagnostics(client, uri, 2) == []


async def test_only_the_latest_text_is_reported_after_a_burst_of_edits(
    client: LanguageClient,
) -> None:
    uri = _open(client, "webclient/burst.py", "x = 1\n")
    text = "total = compute(1, 2"
    for version, ch in enumerate(text, start=2):
        _change(client, uri, version, 1, version - 2, ch)
    final = len(text) + 1
    [diagnostic] = await _diagnostics(client, uri, final)
    assert diagnostic.message == "unclosed `(`" and diagnostic.range.start.line == 1
    await asyncio.sleep(0.5)  # nothing older arrives after the final version
    assert _versions[uri] == final


async def test_prose_gets_no_diagnostics(client: LanguageClient) -> None:
    uri = _open(client, "NOTES.md", "# Notes\n\n(unclosed ( [ {\n", language="markdown")
    code = _open(client, "webclient/ok.py", "def f(:\n")  # a marker that checks ran
    await _diagnostics(client, code, 1)
    assert uri not in _versions
