"""`codeassist/search` {query, limit} -> ranked chunks with uri, range, score and why.

Each hit also lists the `modes` that covered the whole workspace when it was found: right
after a folder opens, keyword search and the graph do, while vectors are still computed.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import hit_to_lsp, param
from codeassist_lsp.rag.retriever import search_index

log = logging.getLogger(__name__)

SEARCH = "codeassist/search"
MAX_LIMIT = 100


def register(server: LanguageServer, ctx: ServerContext) -> None:
    @server.feature(SEARCH)
    async def search(ls: LanguageServer, params: Any) -> list[dict[str, Any]]:
        query = param(params, "query")
        limit = param(params, "limit") or ctx.settings.search.limit
        if not isinstance(query, str) or not query.strip():
            raise JsonRpcInvalidParams("codeassist/search needs a non-empty 'query' string")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise JsonRpcInvalidParams("'limit' must be a positive integer")
        limit = min(limit, MAX_LIMIT)
        results: list[tuple[float, dict[str, Any]]] = []
        for root, index in list(ctx.indexes.items()):
            hits = await ctx.run(search_index, index, query, limit)
            # vector search covers only the chunks embedded so far while indexing goes on
            modes = ["keyword", "graph"] if index.views.missing else ["vector", "keyword", "graph"]
            notice = ctx.progress.get(root, "indexing") if root in ctx.indexing else None
            for hit in hits:
                item = hit_to_lsp(hit, root)
                item["modes"] = modes
                if notice:
                    item["notice"] = f"the index is not complete yet ({notice})"
                results.append((hit.score, item))
        results.sort(key=lambda pair: -pair[0])
        if not ctx.indexes:
            ls.window_log_message(
                types.LogMessageParams(type=types.MessageType.Warning, message="no index is open")
            )
        return [item for _, item in results[:limit]]
