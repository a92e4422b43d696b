"""End-to-end: bad input to the real server (real embedder, DuckDB, LanceDB, tantivy).

Awkward files opened, changed and saved; an embedder that cannot run; a data dir that
fills up; a search cancelled while indexing runs; shutdown in the middle of an index.
Each test runs with Neovim's and with VS Code's client capabilities.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import duckdb
import lancedb
import pytest
from lsp_requests import request
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from codeassist_lsp.index.storage import workspace_dir
from codeassist_lsp.index.text_store import TextStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CLIENTS = pytest.mark.parametrize("spec", ["neovim", "visual-studio-code"])
SERVE = [sys.executable, "-m", "codeassist_lsp", "serve"]


def _data_dir(tmp_path: Path, embedder_cache: Path) -> Path:
    """A fresh data dir that shares the one exported embedder of the test session."""
    data = tmp_path / "data"
    (data / "workspaces").mkdir(parents=True)
    (data / "embedders").symlink_to(embedder_cache)
    return data


@asynccontextmanager
async def _session(
    spec: str,
    root: Path,
    data: Path,
    command: list[str] = SERVE,
    options: dict[str, Any] | None = None,
) -> AsyncIterator[LanguageClient]:
    """A started and initialised server on `root`; shut down and stopped afterwards."""
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(data / "no-config.json"),
    }
    client = await ClientServerConfig(server_command=command, server_env=env).start()
    assert isinstance(client, LanguageClient)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Both editors accept the server's file watcher registration."""

    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(spec),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                root_uri=root.as_uri(),
                initialization_options=options,
            )
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), 120)
    finally:
        server = client._server
        if server is not None and server.returncode is None:  # a failed test: no exit sent
            server.kill()
        await client.stop()


async def _wait_status(client: LanguageClient, done: Any, timeout: float = 300) -> dict:
    """Poll `codeassist/status` until `done(status)` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await request(client, "codeassist/status", {})
        if done(status):
            return status
        await asyncio.sleep(0.3)
    raise AssertionError(f"status never got there: {status}")


def _indexed(status: dict) -> bool:
    ws = status["workspaces"]
    return bool(ws) and not status["indexing"] and ws[0]["files"] > 0


def _stores(folder: Path) -> dict[str, Any]:
    """What a workspace's three stores hold, read-only (no server may hold DuckDB's lock)."""
    con = duckdb.connect(str(folder / "meta.duckdb"), read_only=True)
    try:
        meta = {r[0] for r in con.execute("SELECT id FROM chunks").fetchall()}
        files = {r[0] for r in con.execute("SELECT path FROM files").fetchall()}
        texts = dict(
            con.execute("SELECT path, string_agg(text, '') FROM chunks GROUP BY path").fetchall()
        )
        dirty = con.execute("SELECT value FROM meta WHERE key = 'dirty'").fetchone()
    finally:
        con.close()
    vectors = set(lancedb.connect(str(folder / "lance")).open_table("chunks").to_arrow()["id"])
    vector_ids = {str(v) for v in vectors}
    text_ids = set(TextStore(folder / "tantivy").ids())
    return {
        "files": files,
        "texts": texts,
        "dirty": dirty[0] if dirty else None,
        "equal": meta == vector_ids == text_ids,  # complete
        # stopped before the vectors were done: every known chunk is keyword-searchable,
        # and no store holds a row DuckDB does not know
        "consistent": meta == text_ids and vector_ids <= meta,
        "served": meta <= text_ids,  # every chunk search can return has its keyword row
    }


def _log_text(client: LanguageClient) -> str:
    return "\n".join(m.message for m in client.log_messages)


def _open(client: LanguageClient, path: Path, text: str, version: int = 1) -> None:
    _open_uri(client, path.as_uri(), text, version)


def _open_uri(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )


def _generated_workspace(root: Path, files: int) -> Path:
    """Enough real-looking Python that indexing it takes a while on two cores."""
    for n in range(files):
        body = "".join(
            f"def handler_{n}_{i}(request, retries={i}):\n"
            f"    '''Route request {i} of module {n} to its queue, retrying on failure.'''\n"
            f"    for attempt in range(retries):\n"
            f"        if request.send(attempt * {i + n}):\n"
            f"            return attempt\n"
            f"    return None\n\n\n"
            for i in range(12)
        )
        path = root / f"pkg{n % 10}" / f"module_{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


@CLIENTS
async def test_awkward_files_opened_changed_and_saved(
    spec: str, tmp_path: Path, embedder_cache: Path
) -> None:
    root = tmp_path / "bad-input"
    shutil.copytree(FIXTURES / "bad-input", root)
    src = root / "src"
    huge = src / "huge.py"
    huge.write_text("VALUE = 1\n" * 150_000)  # 1.5 MB: over the 1 MB default
    data = _data_dir(tmp_path, embedder_cache)
    async with _session(spec, root, data) as client:
        status = await _wait_status(client, _indexed)
        files_before = status["workspaces"][0]["files"]

        latin1 = src / "latin1_comments.py"
        binary = src / "not_really_python.py"
        _open(client, huge, huge.read_text())
        _open(client, src / "big_unsaved.py", "x = 1\n" * 200_000)
        _open(client, binary, binary.read_bytes().decode("latin-1"))
        _open(client, src / "empty.py", "")
        _open(client, src / "new_empty.py", "")
        _open(client, latin1, latin1.read_bytes().decode("latin-1"))
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=(src / "empty.py").as_uri(), version=2
                ),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(
                        text="def freshly_typed_kumquat():\n    return 0\n"
                    )
                ],
            )
        )
        # saved without text: the server re-reads the (non-UTF-8, binary, huge) files
        for path in (latin1, binary, huge):
            client.text_document_did_save(
                types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=path.as_uri())
                )
            )

        for _ in range(120):
            hits = await request(
                client, "codeassist/search", {"query": "freshly_typed_kumquat", "limit": 3}
            )
            if hits and hits[0]["path"] == "src/empty.py":
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("the changed empty file never became searchable")
        logs = _log_text(client)
        assert "not indexing src/huge.py: larger than 1000000 bytes" in logs
        assert "not indexing src/big_unsaved.py: larger than 1000000 bytes" in logs
        assert "not indexing src/not_really_python.py: binary content" in logs
        hits = await request(client, "codeassist/search", {"query": "price label", "limit": 5})
        assert any(h["path"] == "src/latin1_comments.py" for h in hits)
        status = await request(client, "codeassist/status", {})
        assert status["lastError"] is None
        assert status["workspaces"][0]["files"] == files_before + 1  # new_empty.py
        assert not client.messages or all(
            m.type != types.MessageType.Error for m in client.messages
        )
    stores = _stores(workspace_dir(data, root.resolve()))
    assert stores["equal"]
    assert {"src/huge.py", "src/big_unsaved.py", "src/not_really_python.py"}.isdisjoint(
        stores["files"]
    )
    assert "caf\ufffd" in stores["texts"]["src/latin1_comments.py"]  # saved: read from disk


@CLIENTS
async def test_requests_on_files_that_must_not_be_read_are_answered(
    spec: str, tmp_path: Path, embedder_cache: Path
) -> None:
    """A FIFO in the workspace and /dev/zero used to be read whole, on the event loop: the
    server went deaf or grew without bound. A path leaving the workspace through `..` was
    indexed as `../outside.py`."""
    root = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", root)
    os.mkfifo(root / "webclient" / "pipe.py")
    data = _data_dir(tmp_path, embedder_cache)
    async with _session(spec, root, data) as client:
        status = await _wait_status(client, _indexed)
        files = status["workspaces"][0]["files"]
        at = types.Position(line=0, character=0)
        for uri in ((root / "webclient" / "pipe.py").as_uri(), "file:///dev/zero"):
            doc = types.TextDocumentIdentifier(uri=uri)
            found = await asyncio.wait_for(
                client.text_document_definition_async(
                    types.DefinitionParams(text_document=doc, position=at)
                ),
                30,
            )
            assert found is None
            refs = await asyncio.wait_for(
                client.text_document_references_async(
                    types.ReferenceParams(
                        text_document=doc,
                        position=at,
                        context=types.ReferenceContext(include_declaration=True),
                    )
                ),
                30,
            )
            assert refs is None
            hover = await asyncio.wait_for(
                client.text_document_hover_async(types.HoverParams(text_document=doc, position=at)),
                30,
            )
            assert hover is None
        outside = f"{root.as_uri()}/../outside_walrus.py"
        _open_uri(client, outside, "def outside_walrus_marker():\n    pass\n")
        await asyncio.sleep(2)  # past the debounce: an index update would have happened
        hits = await request(client, "codeassist/search", {"query": "outside_walrus_marker"})
        assert not any("outside" in h["path"] for h in hits)
        status = await request(client, "codeassist/status", {})
        assert status["workspaces"][0]["files"] == files and status["lastError"] is None


@CLIENTS
async def test_an_unavailable_embedder_is_shown_and_the_server_stays_up(
    spec: str, tmp_path: Path, embedder_cache: Path
) -> None:
    root = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", root)
    data = _data_dir(tmp_path, embedder_cache)
    options = {"index": {"embedder": "word2vec"}}
    async with _session(spec, root, data, options=options) as client:
        status = await _wait_status(client, lambda s: s["lastError"] is not None, 60)
        assert "unknown embedder 'word2vec'" in status["lastError"]
        assert status["workspaces"] == []
        shown = [m for m in client.messages if m.type == types.MessageType.Error]
        assert shown and "unknown embedder 'word2vec'" in shown[0].message
        assert "Traceback" not in _log_text(client)
        assert await request(client, "codeassist/search", {"query": "retry"}) == []


@CLIENTS
async def test_a_full_data_dir_is_shown_and_the_index_keeps_serving(
    spec: str, tmp_path: Path, embedder_cache: Path, tmpfs_prefix: list[str]
) -> None:
    root = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", root)
    data = _data_dir(tmp_path, embedder_cache)
    # the index lives on a 3 MiB tmpfs that only the server's mount namespace sees
    mount = f'mount -t tmpfs -o size=3m tmpfs "{data}/workspaces" && exec "$@"'
    command = [*tmpfs_prefix, "sh", "-c", mount, "sh", *SERVE]
    async with _session(spec, root, data, command=command) as client:
        before = (await _wait_status(client, _indexed))["workspaces"][0]
        words = " ".join(f"w{i * 7919 % 100003}" for i in range(250))
        body = "".join(
            f'def filler_{i}(x):\n    """{words} {i}"""\n    return x\n\n\n' for i in range(150)
        )
        for n in range(3):  # ~0.7 MB of chunk text, more than the tmpfs has left
            (root / "webclient" / f"filler_{n}.py").write_text(body.replace("filler_", f"f{n}_"))
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codeassist.reindex")
        )
        status = await request(client, "codeassist/status", {})
        assert status["lastError"] and "the disk is full" in status["lastError"]
        shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert any("the disk is full" in m for m in shown)
        assert "Traceback" not in _log_text(client)
        # the disk filled before or after DuckDB took the batch: either state is whole
        ws = status["workspaces"][0]
        assert ws["files"] == before["files"] + 3 or (ws["files"], ws["chunks"]) == (
            before["files"],
            before["chunks"],
        )
        hits = await request(client, "codeassist/search", {"query": "retry failed requests"})
        assert any(h["path"] == "webclient/retry.py" for h in hits)
        # the tmpfs ends with the server: copy the idle index out through its /proc root
        server = client._server
        assert server is not None
        folder = workspace_dir(data, root.resolve())
        shutil.copytree(f"/proc/{server.pid}/root{folder}", tmp_path / "snapshot")
    stores = _stores(tmp_path / "snapshot")
    assert stores["served"] and len(stores["files"]) == ws["files"]


@CLIENTS
async def test_search_cancelled_while_indexing(
    spec: str, tmp_path: Path, embedder_cache: Path
) -> None:
    root = _generated_workspace(tmp_path / "generated", 160)
    data = _data_dir(tmp_path, embedder_cache)
    async with _session(spec, root, data) as client:
        await _wait_status(client, lambda s: s["indexing"], 120)
        params = {"query": "route a request to its queue", "limit": 5}
        cancelled = client.protocol.send_request(
            "codeassist/search", params, msg_id="search-to-cancel"
        )
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="search-to-cancel"))
        answered = await request(client, "codeassist/search", params)
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(cancelled), 60)
        except JsonRpcRequestCancelled:
            result = None  # cancelled before it finished: the expected outcome
        except JsonRpcException as exc:
            raise AssertionError(f"a cancelled search must not fail: {exc!r}") from exc
        assert result is None or isinstance(result, list)
        assert isinstance(answered, list)
        status = await request(client, "codeassist/status", {})
        assert status["indexing"] and status["lastError"] is None
        status = await _wait_status(client, _indexed)
        assert status["workspaces"][0]["files"] == 160 and status["lastError"] is None
    stores = _stores(workspace_dir(data, root.resolve()))
    assert stores["equal"] and stores["dirty"] == "0" and len(stores["files"]) == 160


@CLIENTS
async def test_shutdown_and_exit_during_indexing(
    spec: str, tmp_path: Path, embedder_cache: Path
) -> None:
    root = _generated_workspace(tmp_path / "generated", 1000)
    data = _data_dir(tmp_path, embedder_cache)
    async with _session(spec, root, data) as client:
        status = await _wait_status(
            client, lambda s: s["indexing"] and s["workspaces"][0]["files"] >= 64, 240
        )
        progress = status["workspaces"][0]["progress"]
        assert progress is None or re.match(r"(indexing|embedding): \d+ of \d+ ", progress)
        # the file count is the metadata store's; search sees a batch once its view is
        # published, a moment later
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        hits: list[dict[str, Any]] = []
        while not hits and loop.time() < deadline:
            hits = await request(
                client, "codeassist/search", {"query": "route request", "limit": 2}
            )
            await asyncio.sleep(0 if hits else 0.2)
        assert hits and all("not complete" in hit["notice"] for hit in hits), "it says so"
        server = client._server
        assert server is not None
        started = loop.time()
    # `_session` sent shutdown and exit and waited for the process
    assert server.returncode == 0
    assert asyncio.get_running_loop().time() - started < 60
    stores = _stores(workspace_dir(data, root.resolve()))
    assert stores["consistent"] and stores["dirty"] == "0"
    assert 64 <= len(stores["files"]) < 1000  # stopped between batches, not at the end
