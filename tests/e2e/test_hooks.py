"""End-to-end: document events reach every feature, and one feature's failure none other.

The real server runs with two probe features next to indexing (servers/with_probe_features.py):
one that raises in every document hook, registered before indexing, and one that logs
what it receives, registered after it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsp_requests import request
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "fixtures"
RUN_DIR = Path(tempfile.gettempdir()) / f"codeassist-hooks-{os.getpid()}"
WORKSPACE = RUN_DIR / "py-webclient"
ENV = {
    **os.environ,
    "CODEASSIST_DATA_DIR": str(RUN_DIR / "data"),
    "CODEASSIST_CONFIG": str(RUN_DIR / "no-config.json"),
    "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")]),
}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, str(HERE / "servers" / "with_probe_features.py")],
        server_env=ENV,
    ),
)
async def client(lsp_client: LanguageClient):
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    shutil.copytree(FIXTURES / "py-webclient", WORKSPACE)
    params = types.InitializeParams(
        capabilities=client_capabilities("neovim"),
        workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="ws")],
        root_uri=WORKSPACE.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(RUN_DIR, ignore_errors=True)


async def _search_finds(client: LanguageClient, query: str, path: str) -> bool:
    for _ in range(480):
        hits = await request(client, "codeassist/search", {"query": query, "limit": 3})
        if hits and hits[0]["path"] == path:
            return True
        await asyncio.sleep(0.5)
    return False


async def test_every_feature_gets_did_change_and_a_raising_one_stops_none(
    client: LanguageClient,
) -> None:
    uri = (WORKSPACE / "webclient" / "probe.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="def first():\n    pass\n"
            )
        )
    )
    edit = types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=0, character=4), end=types.Position(line=0, character=9)
        ),
        text="measure_quokka_gait",
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[edit],
        )
    )
    # indexing, registered between the two probes, indexed the edited (unsaved) text
    assert await _search_finds(client, "measure_quokka_gait", "webclient/probe.py")
    logs = [m.message for m in client.log_messages]
    assert f"recorder: open {uri} v1" in logs
    text = "def measure_quokka_gait():\n    pass\n"
    assert f"recorder: change {uri} v2 1 edits {len(text)} chars" in logs
    assert any("raiser.on_change failed" in m for m in logs)
    assert any("raiser.on_open failed" in m for m in logs)
    status = await request(client, "codeassist/status", {})
    assert status["version"]  # the server still answers
