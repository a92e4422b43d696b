"""End-to-end: the server writes descriptions in the background with the real default
model once the index is complete (`index.describe: "on"`), reports them in
`codeassist/status`, a restarted server keeps them instead of asking again, and an edited
function is described again."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lsp_requests import request
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

CODE = {
    "shop/prices.py": """
        def discounted(price, percent):
            cut = price * percent / 100
            return round(price - cut, 2)
        """,
    "shop/stock.py": """
        def restock(levels, item, amount):
            levels[item] = levels.get(item, 0) + amount
            return levels[item]
        """,
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "shop-ws"
    for rel, text in CODE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture
def server_env(tmp_path: Path, embedder_cache: Path, installed_models: Path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "embedders").symlink_to(embedder_cache)
    (data / "models").symlink_to(installed_models)
    return {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(data / "no-config.json"),
    }


async def _session(workspace: Path, env: dict[str, str]) -> LanguageClient:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "codeassist_lsp", "serve"], server_env=env
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Accept the server's file watcher registration."""

    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="shop-ws")],
            initialization_options={"index": {"describe": "on"}, "llm": {"threads": 1}},
        )
    )
    return client


async def _described(client: LanguageClient, timeout: float) -> dict[str, Any]:
    """The workspace's `described` counts once every wanted chunk has one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    counts: dict[str, Any] = {}
    while loop.time() < deadline:
        status = await request(client, "codeassist/status", {})
        spaces = status["workspaces"]
        counts = spaces[0].get("described", {}) if spaces else {}
        if counts.get("of") and counts["done"] == counts["of"] and not status["indexing"]:
            return counts
        await asyncio.sleep(0.5)
    raise AssertionError(f"descriptions not written in {timeout} s: {counts}")


async def test_descriptions_are_written_in_the_background_and_kept(
    workspace: Path, server_env: dict[str, str]
) -> None:
    client = await _session(workspace, server_env)
    try:
        assert await _described(client, 300) == {"done": 2, "of": 2}
    finally:
        await client.shutdown_session()

    again = await _session(workspace, server_env)
    try:
        # kept by content: the new server describes nothing and never loads the model
        assert await _described(again, 60) == {"done": 2, "of": 2}
        assert (await request(again, "codeassist/status", {}))["loadedModels"] == []

        # an edited function is described again: the model is loaded for it alone
        path = workspace / "shop" / "prices.py"
        edited = path.read_text().replace("round(price - cut, 2)", "max(0, price - cut)")
        again.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id="python", version=1, text=edited
                )
            )
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300
        while not (await request(again, "codeassist/status", {}))["loadedModels"]:
            assert loop.time() < deadline, "the edit was not described"
            await asyncio.sleep(0.5)
        assert await _described(again, 300) == {"done": 2, "of": 2}
    finally:
        await again.shutdown_session()
