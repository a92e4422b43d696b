"""The only handlers of the server's lifecycle: initialize, initialized, shutdown,
configuration and workspace-folder changes. Each applies what it owns (settings, folders)
and then calls every feature's hook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.config import apply_options
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import uri_to_path

log = logging.getLogger(__name__)


def initial_folders(params: types.InitializeParams) -> list[Path]:
    """The workspace folders of an `initialize` request (or its root, from older clients)."""
    uris = [f.uri for f in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    if not uris and params.root_path:
        return [Path(params.root_path)]
    return [path for uri in uris if (path := uri_to_path(uri)) is not None]


def _paths(folders: Sequence[types.WorkspaceFolder] | None) -> list[Path]:
    return [path for f in folders or [] if (path := uri_to_path(f.uri)) is not None]


def register(server: LanguageServer, ctx: ServerContext) -> None:
    features = ctx.features

    @server.feature(types.INITIALIZE)
    def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
        if ctx.log_handler is not None:
            ctx.log_handler.loop = asyncio.get_running_loop()
        options: Any = params.initialization_options
        ctx.settings, errors = apply_options(ctx.settings, options)
        for error in errors:
            log.warning("initializationOptions: %s", error)
        ctx.folders = initial_folders(params)
        features.call("on_initialize", params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
        await features.call_async("on_initialized", list(ctx.folders))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: LanguageServer, params: None) -> None:
        features.call("on_shutdown")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: LanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        ctx.settings, errors = apply_options(ctx.settings, params.settings)
        for error in errors:
            ctx.error(f"setting {error}")
        features.call("on_settings", ctx.settings)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: LanguageServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        added = _paths(params.event.added)
        removed = _paths(params.event.removed)
        gone = {p.resolve() for p in removed}
        ctx.folders = [f for f in ctx.folders if f.resolve() not in gone] + added
        await features.call_async("on_folders_changed", added, removed)
