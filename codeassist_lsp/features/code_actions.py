"""Explain, Fix and Improve on a selection or a diagnostic: `textDocument/codeAction`,
`codeAction/resolve` and the `codeassist.explain` / `.fix` / `.improve` commands.

Listing is instant and model-free: it only names the actions and packs what resolve needs
into their `data`. The model runs when one is chosen: in resolve for Fix and Improve
(a `WorkspaceEdit` of the changed lines, which the editor shows as a diff), and in the
`codeassist.explain` command for Explain, which resolve attaches: it streams like a chat
answer (`codeassist/chatDelta` notifications, `$/progress` reports), is kept as a turn of
a conversation in the chat history, is returned as Markdown and shown in short with
`window/showMessage`. Clients
without resolve support get each action with its command at once. Whatever goes wrong
(no model, a rewrite that does not parse, a document the server never saw), the user is
told why and nothing in the document changes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.chat import code_tasks
from codeassist_lsp.chat.code_facts import graph_facts
from codeassist_lsp.chat.code_target import Target, cut, find_target
from codeassist_lsp.chat.history import History, HistoryError, UnknownConversation, new_id
from codeassist_lsp.chat.rewrite_edits import TextChange
from codeassist_lsp.chat.tasks import TASK_KINDS, TaskKind, short_explanation
from codeassist_lsp.features.chat import CHAT_DELTA, Chat
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.diagnostics import document_language
from codeassist_lsp.features.feature import Document
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.errors import LLMError
from codeassist_lsp.llm.types import GenerationOptions

log = logging.getLogger(__name__)

T = TypeVar("T")

EXPLAIN_KIND = "refactor.codeassist.explain"
KINDS: dict[TaskKind, str] = {
    "explain": EXPLAIN_KIND,
    "fix": types.CodeActionKind.QuickFix,
    "improve": types.CodeActionKind.RefactorRewrite,
}
TITLES: dict[TaskKind, str] = {
    "explain": "Explain with CodeAssist",
    "fix": "Fix with CodeAssist",
    "improve": "Improve with CodeAssist",
}
COMMANDS: dict[TaskKind, str] = {kind: f"codeassist.{kind}" for kind in TASK_KINDS}


class TaskError(Exception):
    """Why a task cannot run or changes nothing; `str(exc)` is shown to the user."""


@dataclass(frozen=True)
class TaskArgs:
    """What an action's `data` (or a command's argument) says: which task, where."""

    kind: TaskKind
    uri: str
    range: types.Range
    problems: tuple[str, ...] = ()
    conversation_id: str | None = None  # Explain: the chat conversation to add it to

    def to_json(self) -> dict[str, Any]:
        start, end = self.range.start, self.range.end
        return {
            "task": self.kind,
            "uri": self.uri,
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, raw: Any, kind: TaskKind | None = None) -> TaskArgs:
        """Read the arguments back; a malformed one is a `TaskError`."""
        if not isinstance(raw, dict):
            raise TaskError(
                "needs one argument: {uri, range: {start, end}} of the code (and its task)"
            )
        try:
            kind = kind or raw["task"]
            if kind not in TASK_KINDS:
                raise TaskError(f"unknown task {kind!r}")
            rng = raw["range"]
            start = types.Position(int(rng["start"]["line"]), int(rng["start"]["character"]))
            end = types.Position(int(rng["end"]["line"]), int(rng["end"]["character"]))
            problems = tuple(str(p) for p in raw.get("problems") or ())
            conversation = raw.get("conversationId")
            conversation_id = str(conversation) if conversation else None
            return cls(kind, str(raw["uri"]), types.Range(start, end), problems, conversation_id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TaskError(f"malformed argument: {_missing(exc)}") from exc


def _missing(exc: Exception) -> str:
    """What is wrong with an argument, in words (a KeyError's text is only the key)."""
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc)


def _kind_wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(f"{o}.") for o in only)


def _problem_lines(diagnostics: list[types.Diagnostic]) -> tuple[str, ...]:
    return tuple(f"line {d.range.start.line + 1}: {d.message}" for d in diagnostics)


def list_actions(
    uri: str,
    rng: types.Range,
    context: types.CodeActionContext,
    rewritable: bool,
    resolvable: bool,
) -> list[types.CodeAction]:
    """The actions for a selection, without touching the model. `rewritable`: the
    document's language has a grammar, so a rewrite can be checked; `resolvable`: the
    client resolves actions (else each carries its command)."""
    wanted = [k for k in TASK_KINDS if _kind_wanted(KINDS[k], list(context.only or []))]
    actions = []
    for kind in wanted:
        if kind != "explain" and not rewritable:
            continue
        diagnostics = list(context.diagnostics) if kind == "fix" else []
        args = TaskArgs(kind, uri, rng, _problem_lines(diagnostics)).to_json()
        command = types.Command(title=TITLES[kind], command=COMMANDS[kind], arguments=[args])
        actions.append(
            types.CodeAction(
                title=TITLES[kind],
                kind=KINDS[kind],
                diagnostics=diagnostics or None,
                data=args,
                command=None if resolvable else command,
            )
        )
    return actions


def _client_column(line: str, column: int, encoding: str) -> int:
    """A column in Python characters as the client counts it."""
    head = line[:column]
    if encoding == "utf-8":
        return len(head.encode("utf-8"))
    if encoding == "utf-32" or head.isascii():
        return len(head)
    return len(head.encode("utf-16-le")) // 2


def to_text_edits(changes: list[TextChange], text: str, encoding: str) -> list[types.TextEdit]:
    lines = text.split("\n")

    def position(point: tuple[int, int]) -> types.Position:
        line, column = point
        if column and line < len(lines):
            column = _client_column(lines[line], column, encoding)
        return types.Position(line=line, character=column)

    return [
        types.TextEdit(
            range=types.Range(start=position(c.start), end=position(c.end)), new_text=c.text
        )
        for c in changes
    ]


class CodeActions:
    """Runs the tasks for the handlers below; one per server."""

    def __init__(self, server: LanguageServer, ctx: ServerContext) -> None:
        self.server = server
        self.ctx = ctx

    @property
    def encoding(self) -> str:
        kind = self.server.workspace.position_encoding or "utf-16"
        return str(getattr(kind, "value", kind))

    def resolvable(self) -> bool:
        """The client resolves an action's `edit` lazily (else it gets commands)."""
        caps = self.server.client_capabilities.text_document
        action = caps.code_action if caps else None
        support = action.resolve_support if action else None
        return bool(support and "edit" in support.properties)

    def actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        settings = self.ctx.settings.code_actions
        doc = self.ctx.documents.get(params.text_document.uri)
        if not settings.enabled or doc is None:
            return []
        rewritable = document_language(doc) is not None
        return list_actions(doc.uri, params.range, params.context, rewritable, self.resolvable())

    def _document(self, uri: str) -> Document:
        doc = self.ctx.documents.get(uri)
        if doc is None:
            raise TaskError(f"{uri} is not open in the editor: open it and try again")
        return doc

    def _request(
        self, args: TaskArgs, doc: Document, target: Target, cut_from: int = 0
    ) -> code_tasks.CodeRequest:
        """The task's prompt input, with graph facts when an index holds the file."""
        settings = self.ctx.settings.code_actions
        language = document_language(doc)
        tag = language or doc.language_id or ""
        found = self.ctx.locate(doc.uri)
        path, facts = doc.uri.rsplit("/", 1)[-1], []
        if found is not None:
            index, path = found
            facts = graph_facts(index.view(), path, target.first, target.end)
        return code_tasks.make_request(
            args.kind, target, tag, path, facts, args.problems, settings.context_tokens, cut_from
        )

    def _target(self, args: TaskArgs, doc: Document) -> Target:
        start, end = args.range.start, args.range.end
        language = document_language(doc)
        target = find_target(
            doc.text, language, (start.line, start.character), (end.line, end.character)
        )
        if target is None:
            raise TaskError("the document is empty: there is nothing to work on")
        if not target.code.strip():
            raise TaskError("the selection holds only blank lines")
        return target

    async def rewrite(self, args: TaskArgs) -> types.WorkspaceEdit:
        """Run Fix or Improve; the edit of the changed lines, or a `TaskError` saying why
        there is none."""
        settings = self.ctx.settings.code_actions
        doc = self._document(args.uri)
        language = document_language(doc)
        if language is None:
            raise TaskError("this file's language has no grammar, so a rewrite cannot be checked")
        target = await self.ctx.run(self._target, args, doc)
        if target.line_count > settings.max_lines:
            raise TaskError(
                f"the selection has {target.line_count} lines and {args.kind.capitalize()} "
                f"rewrites at most {settings.max_lines}: select one function"
            )
        request = await self.ctx.run(self._request, args, doc, target)
        options = code_tasks.rewrite_options(
            target.code, settings.rewrite_max_tokens, settings.prompt_lookup
        )
        backend = self._backend()
        outcome = await self._model_call(
            code_tasks.rewrite(backend, request, target, doc.text, language, options)
        )
        if outcome.error is not None:
            raise TaskError(f"no {args.kind}: {outcome.error}")
        if not outcome.changes:
            raise TaskError(f"{args.kind}: the model suggests no change")
        now = self.ctx.documents.get(args.uri)
        if now is None or now.text != doc.text:
            raise TaskError("the document changed while the model worked: try again")
        edits = to_text_edits(outcome.changes, doc.text, self.encoding)
        return self._workspace_edit(doc, edits)

    def _workspace_edit(self, doc: Document, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        caps = self.server.client_capabilities.workspace
        edit_caps = caps.workspace_edit if caps else None
        if edit_caps and edit_caps.document_changes:
            ident = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=ident, edits=edits)]
            )
        return types.WorkspaceEdit(changes={doc.uri: edits})

    async def explain(self, args: TaskArgs) -> dict[str, Any]:
        """The model's explanation, streamed as `$/progress` reports (when the client takes
        them) and as `codeassist/chatDelta` notifications of the conversation it is stored
        in (a new one unless `conversationId` names one), like a chat answer."""
        settings = self.ctx.settings.code_actions
        doc = self._document(args.uri)
        target = await self.ctx.run(self._target, args, doc)
        shown = cut(target, settings.max_lines)
        cut_from = target.line_count if shown is not target else 0
        request = await self.ctx.run(self._request, args, doc, shown, cut_from)
        options = GenerationOptions(max_tokens=settings.explain_max_tokens, temperature=0.0)
        backend = self._backend()
        history, conversation_id = await self._conversation(args, request.path, shown.first)
        message_id = new_id()
        token = await self._progress_begin("CodeAssist: explaining")
        pieces: list[str] = []
        started = time.perf_counter()

        def report(piece: str) -> None:
            pieces.append(piece)
            if token is not None:
                tail = "".join(pieces)[-120:].replace("\n", " ")
                self.server.work_done_progress.report(
                    token, types.WorkDoneProgressReport(message=tail)
                )
            if conversation_id is not None:
                delta = {"conversationId": conversation_id, "messageId": message_id}
                self.server.protocol.notify(CHAT_DELTA, {**delta, "delta": piece})

        try:
            text = await self._model_call(code_tasks.explain(backend, request, options, report))
        finally:
            if token is not None:
                self.server.work_done_progress.end(token, types.WorkDoneProgressEnd())
        if not text:
            raise TaskError("the model gave no explanation")
        result: dict[str, Any] = {"markdown": text}
        if history is not None and conversation_id is not None:
            took = (time.perf_counter() - started) * 1000
            turn = code_tasks.explain_turn(
                conversation_id, request, shown.first + 1, text, message_id, took
            )
            try:
                await self.ctx.run(history.add_turn, *turn)
                result.update(conversationId=conversation_id, messageId=message_id)
            except HistoryError as exc:
                log.warning("the explanation is not kept in the history: %s", exc)
        return result

    async def _conversation(
        self, args: TaskArgs, path: str, first: int
    ) -> tuple[History | None, str | None]:
        """The chat history and the conversation an explanation goes to; (None, None) when
        there is no chat or its store cannot be opened (the explanation is still given)."""
        chat = next((f for f in self.ctx.features.features if isinstance(f, Chat)), None)
        if chat is None:
            return None, None
        try:
            history = (await self.ctx.run(chat.manager)).history
            if args.conversation_id is not None:
                await self.ctx.run(history.conversation, args.conversation_id)
                return history, args.conversation_id
            found = self.ctx.locate(args.uri)
            root = str(found[0].root) if found is not None else ""
            made = await self.ctx.run(history.create, root, f"Explain {path}:{first + 1}")
            return history, made.id
        except UnknownConversation as exc:
            raise TaskError(str(exc)) from exc
        except HistoryError as exc:
            log.warning("the explanation is not kept in the history: %s", exc)
            return None, None

    def _backend(self) -> Backend:
        try:
            return self.ctx.backend()
        except LLMError as exc:
            raise TaskError(str(exc)) from exc

    async def _model_call(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except LLMError as exc:
            raise TaskError(str(exc)) from exc

    async def _progress_begin(self, title: str) -> str | None:
        """A `$/progress` token the client agreed to, or None when it takes none."""
        caps = self.server.client_capabilities.window
        if not (caps and caps.work_done_progress):
            return None
        token = f"codeassist-explain-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:
            log.warning("client refused a progress token: %s", exc)
            return None
        self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title))
        return token

    def tell(self, message: str, level: types.MessageType) -> None:
        """Say why a task changed nothing (or what Explain found)."""
        log.info("%s", message)
        self.server.window_show_message(
            types.ShowMessageParams(type=level, message=f"CodeAssist: {message}")
        )

    async def guarded(self, title: str, work: Awaitable[None]) -> str | None:
        """Run a task; on failure tell the user why and return it (never raise but for
        cancellation)."""
        try:
            await work
        except TaskError as exc:
            self.tell(str(exc), types.MessageType.Warning)
            return str(exc)
        except Exception as exc:
            log.exception("%s failed", title)
            message = f"{title} failed: {exc}"
            self.tell(message, types.MessageType.Error)
            return message
        return None


def register(server: LanguageServer, ctx: ServerContext) -> CodeActions:
    assist = CodeActions(server, ctx)
    options = types.CodeActionOptions(code_action_kinds=list(KINDS.values()), resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return assist.actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: LanguageServer, action: types.CodeAction) -> types.CodeAction:
        async def work() -> None:
            args = TaskArgs.from_json(action.data)
            if args.kind == "explain":  # the command streams it: resolve only names it
                action.command = types.Command(
                    title=TITLES["explain"], command=COMMANDS["explain"], arguments=[args.to_json()]
                )
            else:
                action.edit = await assist.rewrite(args)

        error = await assist.guarded(action.title, work())
        if error is not None:
            action.data = {**(action.data or {}), "error": error}
        return action

    def rewrite_command(kind: TaskKind) -> None:
        @server.command(COMMANDS[kind])
        async def run(ls: LanguageServer, *args: Any) -> dict[str, Any]:
            applied = False

            async def work() -> None:
                nonlocal applied
                edit = await assist.rewrite(TaskArgs.from_json(args[0] if args else None, kind))
                result = await server.workspace_apply_edit_async(
                    types.ApplyWorkspaceEditParams(edit=edit, label=TITLES[kind])
                )
                applied = bool(result.applied)

            error = await assist.guarded(TITLES[kind], work())
            return {"applied": applied} if error is None else {"applied": False, "error": error}

    rewrite_command("fix")
    rewrite_command("improve")

    @server.command(COMMANDS["explain"])
    async def explain(ls: LanguageServer, *args: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}

        async def work() -> None:
            task = TaskArgs.from_json(args[0] if args else None, "explain")
            result.update(await assist.explain(task))

        error = await assist.guarded(TITLES["explain"], work())
        if error is not None:
            return {"error": error}
        assist.tell(short_explanation(result["markdown"]), types.MessageType.Info)
        return result

    return assist
