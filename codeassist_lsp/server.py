"""The language server: wiring only. Each feature module registers its own handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pygls.lsp.server import LanguageServer

from codeassist_lsp import __version__
from codeassist_lsp.config import Settings
from codeassist_lsp.features import (
    chat,
    code_actions,
    completion,
    diagnostics,
    documents,
    hover,
    indexing,
    lifecycle,
    model,
    review,
    search,
    status,
    symbols,
)
from codeassist_lsp.features.context import BackendFactory, ServerContext
from codeassist_lsp.features.log import forward_logs
from codeassist_lsp.index.embedder import Embedder
from codeassist_lsp.protocol import CodeAssistServer

log = logging.getLogger(__name__)

Register = Callable[[LanguageServer, ServerContext], object]

# lifecycle and documents own their LSP methods and call the hooks of the features
# registered after them, in this order.
FEATURES: tuple[Register, ...] = (
    lifecycle.register,
    documents.register,
    indexing.register,
    model.register,
    diagnostics.register,
    review.register,
    search.register,
    status.register,
    symbols.register,
    hover.register,
    chat.register,
    code_actions.register,
    completion.register,
)


def create_server(
    settings: Settings,
    embedder_factory: Callable[[Settings], Embedder] | None = None,
    features: Sequence[Register] = FEATURES,
    backend_factory: BackendFactory | None = None,
) -> LanguageServer:
    """Build a server with every feature registered; nothing global is touched."""
    server = CodeAssistServer("codeassist", __version__)
    ctx = ServerContext(
        server=server,
        settings=settings,
        embedder_factory=embedder_factory,
        backend_factory=backend_factory,
    )
    ctx.log_handler = forward_logs(server)
    for register in features:
        register(server, ctx)
    return server
