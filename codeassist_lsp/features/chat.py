"""`codeassist/chat` and the conversation requests: the protocol side of chat.

Sources go to the client as soon as retrieval is done, then the answer's pieces: as
`$/progress` partial results on the request's `partialResultToken`, or as
`codeassist/chatDelta` notifications when the client gave none. `$/cancelRequest`
cancels the handler's task, which stops the model within one token (the manager stores
the partial answer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import aclosing, suppress
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from codeassist_lsp.chat.conversation import ChatMessage, Citation
from codeassist_lsp.chat.history import History, HistoryError, UnknownConversation, open_history
from codeassist_lsp.chat.manager import (
    ChatError,
    ChatManager,
    ChatRequest,
    ChatResult,
    DeltaEvent,
    Selection,
    SourcesEvent,
)
from codeassist_lsp.chat.workspace import IndexWorkspace
from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.convert import lines_range, param, path_to_uri, range_json
from codeassist_lsp.features.feature import Feature
from codeassist_lsp.index.languages import language_for_path
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

CHAT = "codeassist/chat"
CHAT_DELTA = "codeassist/chatDelta"
CHAT_DRAFT = "codeassist/chatDraft"
CONVERSATIONS = "codeassist/conversations"
CONVERSATION = "codeassist/conversation"
DELETE_CONVERSATION = "codeassist/deleteConversation"
SEARCH_CONVERSATIONS = "codeassist/searchConversations"
FEEDBACK = "codeassist/feedback"
NEW_CONVERSATION = "codeassist.newConversation"


def citation_json(citation: Citation, root: str) -> dict[str, Any]:
    """A citation as clients see it: uri and LSP range, plus the relative path and lines."""
    rng = lines_range(citation.start_line, citation.end_line)
    return {
        "uri": path_to_uri(Path(root), citation.path) if root else citation.path,
        "range": range_json(rng),
        "symbol": citation.symbol,
        "path": citation.path,
        "startLine": citation.start_line,
        "endLine": citation.end_line,
    }


def message_json(message: ChatMessage, root: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created": message.created,
        "citations": [citation_json(c, root) for c in message.citations],
        "cancelled": message.cancelled,
        "feedback": message.feedback,
        "usage": message.usage.to_json(),
    }


def result_json(result: ChatResult, root: str) -> dict[str, Any]:
    return {
        "conversationId": result.conversation_id,
        "messageId": result.message_id,
        "answer": result.answer,
        "citations": [citation_json(c, root) for c in result.citations],
        "sources": [citation_json(c, root) for c in result.sources],
        "usage": result.usage.to_json(),
        "intent": result.intent,
        "grounded": result.grounded,
        "notices": list(result.notices),
        "cancelled": result.cancelled,
    }


class Chat(Feature):
    """Owns the chat manager and its history store (made on first use)."""

    name = "chat"

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx
        self._manager: ChatManager | None = None
        self.drafts = 0  # `codeassist/chatDraft` notifications received
        self.read_ahead_tokens = 0  # prompt tokens the model held after the last draft's read

    def manager(self) -> ChatManager:
        if self._manager is None:
            settings = self._ctx.settings
            history = open_history(
                settings.data_dir,
                settings.history.encrypt,
                settings.history.passphrase,
                self._ctx.embedder().embed_documents,
            )
            self._manager = ChatManager(history, self._ctx.backend, self._ctx.settings.chat)
        return self._manager

    def on_settings(self, settings: Settings) -> None:
        if self._manager is not None:
            self._manager.settings = settings.chat

    def workspace(self, uri: str | None, conversation_root: str = "") -> IndexWorkspace | None:
        """The workspace a chat is about: its conversation's when that is open, else the
        document's, else the first open one."""
        found = self._ctx.locate(uri) if uri else None
        index = self._ctx.indexes.get(Path(conversation_root)) if conversation_root else None
        index = index or (found[0] if found else next(iter(self._ctx.indexes.values()), None))
        if index is None:
            return None
        return IndexWorkspace(index, index.root in self._ctx.indexing)

    def located(self, uri: str | None) -> str | None:
        """The workspace-relative path of `uri`, when it is in an open workspace."""
        found = self._ctx.locate(uri) if uri else None
        return found[1] if found else None

    def roots(self) -> list[str] | None:
        """The workspaces whose history is shown (with conversations that began before any
        index was open); None when no index is open: all of it."""
        if not self._ctx.indexes:
            return None
        return ["", *(str(root) for root in self._ctx.indexes)]

    def selection(self, uri: str | None, rng: Any) -> Selection | None:
        """The selected lines of `uri` (None without a range: then the file only steers
        the search, see `ChatRequest.current_path`)."""
        if not uri or rng is None:
            return None
        found = self._ctx.locate(uri)
        doc = self._ctx.documents.get(uri)
        text = doc.text if doc is not None else None
        if text is None and found is not None:
            text = found[0].view().file_text(found[1])
        if text is None:
            return None
        path = found[1] if found else uri
        lines = text.splitlines()
        start = param(rng, "start", "line")
        end = param(rng, "end", "line")
        if not isinstance(start, int) or not isinstance(end, int):
            raise JsonRpcInvalidParams("'range' needs start and end positions")
        start = min(max(start, 0), max(len(lines) - 1, 0))
        end = min(max(end, start), max(len(lines) - 1, 0))
        if param(rng, "end", "character") == 0 and end > start:
            end -= 1  # a selection that ends at a line's start does not hold that line
        chosen = "\n".join(lines[start : end + 1])
        if not chosen.strip():
            return None
        return Selection(path, start + 1, end + 1, chosen, language_for_path(path) or "")


async def _request(
    params: Any, feature: Chat, run: Callable[..., Any]
) -> tuple[ChatRequest, IndexWorkspace | None]:
    message = param(params, "message")
    if not isinstance(message, str) or not message.strip():
        raise JsonRpcInvalidParams("codeassist/chat needs a non-empty 'message' string")
    conversation_id = param(params, "conversationId")
    if conversation_id is not None and not isinstance(conversation_id, str):
        raise JsonRpcInvalidParams("'conversationId' must be a string")
    uri = param(params, "textDocument", "uri")
    uri = uri if isinstance(uri, str) else None
    selection = feature.selection(uri, param(params, "range"))
    found = feature.located(uri)
    request = ChatRequest(message, conversation_id, selection, found)
    root = ""
    if conversation_id:
        manager = await run(feature.manager)
        with suppress(UnknownConversation):  # the manager says so with the rest
            root = (await run(manager.history.conversation, conversation_id)).root
    return request, feature.workspace(uri, root)


def _conversation_id(params: Any) -> str:
    value = param(params, "conversationId")
    if not isinstance(value, str) or not value:
        raise JsonRpcInvalidParams("needs a 'conversationId' string")
    return value


def register(server: LanguageServer, ctx: ServerContext) -> Chat:
    feature = ctx.features.add(Chat(ctx))

    def history_failed(exc: HistoryError) -> JsonRpcInternalError:
        ctx.error(str(exc))
        return JsonRpcInternalError(str(exc))

    @server.feature(CHAT)
    async def chat(ls: LanguageServer, params: Any) -> dict[str, Any]:
        try:
            request, workspace = await _request(params, feature, ctx.run)
        except HistoryError as exc:
            raise history_failed(exc) from exc
        root = workspace.root if workspace else ""
        token = param(params, "partialResultToken")

        def send(value: dict[str, Any]) -> None:
            if token is not None:
                ls.progress(types.ProgressParams(token=token, value=value))
            else:
                ls.protocol.notify(CHAT_DELTA, value)

        result: ChatResult | None = None
        try:
            manager = await ctx.run(feature.manager)
            async with aclosing(manager.ask(request, workspace, ctx.run)) as events:
                async for event in events:
                    if isinstance(event, SourcesEvent):
                        send(
                            {
                                "conversationId": event.conversation_id,
                                "messageId": event.message_id,
                                "citations": [citation_json(c, root) for c in event.citations],
                                "notices": list(event.notices),
                            }
                        )
                    elif isinstance(event, DeltaEvent):
                        send(
                            {
                                "conversationId": event.conversation_id,
                                "messageId": event.message_id,
                                "delta": event.text,
                            }
                        )
                    else:
                        result = event
        except (ChatError, UnknownConversation) as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except HistoryError as exc:
            raise history_failed(exc) from exc
        if result is None:
            raise JsonRpcInternalError("the chat ended without an answer")
        if any(n.startswith("the model is not available") for n in result.notices):
            ctx.error(next(n for n in result.notices if n.startswith("the model")))
        return result_json(result, root)

    @server.feature(CHAT_DRAFT)
    async def chat_draft(ls: LanguageServer, params: Any) -> None:
        """A question still being typed (a notification): its sources are found and read
        by the model ahead of the question (`ChatManager.prime`). Nothing is answered or
        stored; a draft that cannot be read ahead is only logged."""
        message = param(params, "message")
        feature.drafts += 1
        if not ctx.settings.chat.read_ahead or not isinstance(message, str) or not message.strip():
            return
        try:
            request, workspace = await _request(params, feature, ctx.run)
            manager = await ctx.run(feature.manager)
            held = await manager.prime(request, workspace, ctx.run)
        except (
            JsonRpcInvalidParams,
            ChatError,
            HistoryError,
            ModelUnavailable,
            BackendError,
        ) as exc:
            log.debug("chat draft not read ahead: %s", exc)
            return
        if held:
            feature.read_ahead_tokens = held
        log.debug("chat draft read ahead: the model holds %d prompt tokens", held)

    async def history(call: Callable[..., T], *args: Any) -> T:
        """Run a history call off the loop; its errors become clear replies."""
        try:
            manager = await ctx.run(feature.manager)
            return await ctx.run(call, manager.history, *args)
        except UnknownConversation as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except HistoryError as exc:
            raise history_failed(exc) from exc

    @server.feature(CONVERSATIONS)
    async def conversations(ls: LanguageServer, params: Any) -> list[dict[str, Any]]:
        found = await history(History.conversations, feature.roots())
        return [c.to_json() for c in found]

    @server.feature(CONVERSATION)
    async def conversation(ls: LanguageServer, params: Any) -> dict[str, Any]:
        conversation_id = _conversation_id(params)
        head = await history(History.conversation, conversation_id)
        messages = await history(History.messages, conversation_id)
        return {**head.to_json(), "messages": [message_json(m, head.root) for m in messages]}

    @server.feature(DELETE_CONVERSATION)
    async def delete_conversation(ls: LanguageServer, params: Any) -> dict[str, bool]:
        return {"deleted": await history(History.delete, _conversation_id(params))}

    @server.feature(SEARCH_CONVERSATIONS)
    async def search_conversations(ls: LanguageServer, params: Any) -> list[dict[str, Any]]:
        query = param(params, "query")
        if not isinstance(query, str) or not query.strip():
            raise JsonRpcInvalidParams("codeassist/searchConversations needs a 'query' string")
        found = await history(History.search, query, feature.roots())
        return [f.to_json() for f in found]

    @server.feature(FEEDBACK)
    async def feedback(ls: LanguageServer, params: Any) -> dict[str, bool]:
        message_id = param(params, "messageId")
        value = param(params, "value")
        if not isinstance(message_id, str) or value not in (-1, 0, 1) or isinstance(value, bool):
            raise JsonRpcInvalidParams("needs 'messageId' (string) and 'value' (-1, 0 or 1)")
        if not await history(History.set_feedback, message_id, value):
            raise JsonRpcInvalidParams(f"no answer {message_id!r}")
        return {"stored": True}

    @server.command(NEW_CONVERSATION)
    async def new_conversation(ls: LanguageServer, *args: Any) -> dict[str, str]:
        workspace = feature.workspace(None)
        root = workspace.root if workspace else ""
        made = await history(History.create, root, "New conversation")
        return {"conversationId": made.id}

    return feature
