"""`codeassist/status` -> index counts (and descriptions written, when the server writes
them), model, backend, memory, the file inline completion keeps read and where its
answers came from, the chat drafts read ahead, last error."""

from __future__ import annotations

import resource
from typing import Any

from pygls.lsp.server import LanguageServer

from codeassist_lsp import __version__
from codeassist_lsp.features.chat import Chat
from codeassist_lsp.features.completion import CompletionFeature
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.describing import describe_enabled
from codeassist_lsp.index import descriptions

STATUS = "codeassist/status"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def completion_status(feature: CompletionFeature) -> dict[str, Any]:
    """The file inline completion keeps read, and where its answers came from."""
    kept = feature.keeper.kept
    counts = feature.completer.counts
    return {
        "keptFile": kept[0] if kept else None,
        "keptTokens": kept[1] if kept else 0,
        "fromCache": counts.from_cache,
        "fromModel": counts.from_model,
        "speculated": counts.speculated,
        "speculationHits": counts.speculation_hits,
    }


def register(server: LanguageServer, ctx: ServerContext) -> None:
    @server.feature(STATUS)
    async def status(ls: LanguageServer, params: Any) -> dict[str, Any]:
        workspaces = []
        for root, index in list(ctx.indexes.items()):
            info = await ctx.run(index.status)
            info["indexing"] = root in ctx.indexing
            info["progress"] = ctx.progress.get(root)
            if describe_enabled(ctx.settings):
                done, wanted = await ctx.run(descriptions.counts, index.stores)
                info["described"] = {"done": done, "of": wanted}
            workspaces.append(info)
        loaded = ctx.model.loaded() if ctx.model is not None else []
        completion = next(
            (f for f in ctx.features.features if isinstance(f, CompletionFeature)), None
        )
        chat = next((f for f in ctx.features.features if isinstance(f, Chat)), None)
        return {
            "version": __version__,
            "workspaces": workspaces,
            "indexing": bool(ctx.indexing),
            "model": ctx.settings.llm.model,
            "chatModel": ctx.settings.llm.model_for("chat"),
            "backend": ctx.settings.llm.backend,
            "modelActive": bool(loaded),
            "loadedModels": loaded,
            "embedder": ctx.settings.index.embedder,
            "dataDir": str(ctx.settings.data_dir),
            "memory": {"peakRssMb": round(peak_rss_mb(), 1)},
            "completion": completion_status(completion) if completion is not None else None,
            "chat": (
                {"drafts": chat.drafts, "readAheadTokens": chat.read_ahead_tokens}
                if chat is not None
                else None
            ),
            "lastError": ctx.last_error,
        }
