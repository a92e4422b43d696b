"""End-to-end: the real server (real embedder, DuckDB, LanceDB, tantivy) over stdio.

Each test runs twice, once with Neovim's and once with VS Code's client capabilities.
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
from lsp_requests import request
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RUN_DIR = Path(tempfile.gettempdir()) / f"codeassist-e2e-{os.getpid()}"
WORKSPACE = RUN_DIR / "py-webclient"
ENV = {
    **os.environ,
    "CODEASSIST_DATA_DIR": str(RUN_DIR / "data"),
    "CODEASSIST_CONFIG": str(RUN_DIR / "no-config.json"),
}


def _fresh_workspace() -> Path:
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    shutil.copytree(FIXTURES / "py-webclient", WORKSPACE)
    return WORKSPACE


async def _wait_indexed(client: LanguageClient, timeout: float = 240) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await request(client, "codeassist/status", {})
        workspaces = status["workspaces"]
        if workspaces and not status["indexing"] and workspaces[0]["files"] > 0:
            return status
        await asyncio.sleep(0.5)
    raise AssertionError("the workspace was not indexed in time")


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "codeassist_lsp", "serve"], server_env=ENV
    ),
    params=["neovim", "visual-studio-code"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient):
    root = _fresh_workspace()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Both editors accept the server's file watcher registration."""

    params = types.InitializeParams(
        capabilities=client_capabilities(request.param),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        root_uri=root.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _uri(rel: str) -> str:
    return (WORKSPACE / rel).as_uri()


async def test_search_status_and_progress(client: LanguageClient) -> None:
    status = await _wait_indexed(client)
    ws = status["workspaces"][0]
    assert ws["chunks"] > 10 and ws["symbols"] > 10 and ws["edges"] > 0
    assert status["lastError"] is None
    assert str(RUN_DIR / "data") in ws["storage"]
    hits = await request(
        client, "codeassist/search", {"query": "where do we retry failed HTTP requests", "limit": 5}
    )
    assert 0 < len(hits) <= 5
    assert hits[0]["uri"].startswith("file://")
    assert set(hits[0]["why"]) <= {"vector", "keyword", "graph", "rerank"}
    assert any("retry" in h["path"] for h in hits)
    assert hits[0]["range"]["start"]["line"] == hits[0]["start_line"] - 1
    assert ws["vectors_pending"] == 0
    assert hits[0]["modes"] == ["vector", "keyword", "graph"]  # the index is complete
    caps = client_capabilities("neovim")
    if caps.window and caps.window.work_done_progress:
        titles = [
            r.title
            for reports in client.progress_reports.values()
            for r in reports
            if isinstance(r, types.WorkDoneProgressBegin)
        ]
        # searchable after the first phase; vectors in the second
        assert titles == ["Indexing py-webclient", "Embedding py-webclient"]
        assert all(
            isinstance(reports[-1], types.WorkDoneProgressEnd)
            for reports in client.progress_reports.values()
        )


async def test_edit_is_indexed_without_saving(client: LanguageClient) -> None:
    await _wait_indexed(client)
    uri = _uri("webclient/newmodule.py")
    text = "def compute_walrus_checksum(data):\n    return sum(data) % 251\n"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    for _ in range(60):
        hits = await request(
            client, "codeassist/search", {"query": "compute_walrus_checksum", "limit": 3}
        )
        if hits and hits[0]["path"] == "webclient/newmodule.py":
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the opened document never became searchable")

    # never saved: once closed, the file on disk (none) is the truth again
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    for _ in range(60):
        hits = await request(
            client, "codeassist/search", {"query": "compute_walrus_checksum", "limit": 3}
        )
        if all(hit["path"] != "webclient/newmodule.py" for hit in hits):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("a closed buffer of a file that does not exist stayed indexed")


async def test_symbols_definition_and_references(client: LanguageClient) -> None:
    await _wait_indexed(client)
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="RetryPolicy"))
    assert symbols and symbols[0].name == "RetryPolicy"
    target = symbols[0].location
    assert target.uri.endswith("webclient/retry.py")
    # find a use of RetryPolicy elsewhere and jump back to its definition
    user = next(
        p
        for p in sorted(WORKSPACE.rglob("*.py"))
        if p.name != "retry.py" and "RetryPolicy(" in p.read_text()
    )
    lines = user.read_text().splitlines()
    line = next(i for i, t in enumerate(lines) if "RetryPolicy(" in t)
    col = lines[line].index("RetryPolicy(") + 2
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=user.as_uri(), language_id="python", version=1, text=user.read_text()
            )
        )
    )
    pos = types.Position(line=line, character=col)
    doc = types.TextDocumentIdentifier(uri=user.as_uri())
    found = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=pos)
    )
    assert isinstance(found, list) and found[0].uri == target.uri
    assert found[0].range.start.line == target.range.start.line
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=pos,
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert refs and any(r.uri == user.as_uri() and r.range.start.line == line for r in refs)


async def test_hover_shows_what_the_graph_knows(client: LanguageClient) -> None:
    await _wait_indexed(client)
    # a call in a test file to a function defined in another file (not opened)
    position = types.Position(line=13, character=24)  # inside compute_backoff(...)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=_uri("tests/test_retry.py")),
            position=position,
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    assert text.startswith("```python\ndef compute_backoff(attempt: int, base: float")
    assert "Exponential backoff with full jitter" in text
    assert "defined at `webclient/retry.py:28`" in text
    assert "**Called by**" in text and "RetryPolicy" in text
    assert hover.range is not None
    assert (hover.range.start.character, hover.range.end.character) == (
        20,
        20 + len("compute_backoff"),
    )
    for uri, line in ((_uri("tests/test_retry.py"), 10_000), (_uri("missing.py"), 0)):
        nothing = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=0),
            )
        )
        assert nothing is None  # past the end, or a file that does not exist


async def test_bad_requests_get_errors_and_the_server_stays_up(client: LanguageClient) -> None:
    await _wait_indexed(client)
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("codeassist/noSuchMethod", {})
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("codeassist/search", {"query": 42})
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("codeassist/search", {"query": "x", "limit": -1})
    server = client._server
    assert server is not None and server.stdin is not None
    body = b'{"jsonrpc": "2.0", "id": 99, "method": '  # truncated JSON
    server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    await server.stdin.drain()
    status = await request(client, "codeassist/status", {})
    assert status["workspaces"][0]["files"] > 0
