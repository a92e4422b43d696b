"""`codeassist chat [PATH] [QUESTION]`: ask about a workspace from the terminal.

The answer streams to stdout, then the places it cites; `--json` prints one JSON object
instead. Without a question, an interactive session (`/new`, `/history`, `/search TEXT`,
`/quit`). The workspace is indexed first when it has not been.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from codeassist_lsp.cli_index import _run_index, _settings, open_index
from codeassist_lsp.errors import CodeAssistError

if TYPE_CHECKING:
    from codeassist_lsp.chat.manager import ChatManager, ChatResult
    from codeassist_lsp.chat.workspace import IndexWorkspace

HELP = "commands: /new (start over), /history, /search TEXT, /quit"


def split_args(words: list[str]) -> tuple[str, str]:
    """(PATH, question): the first word is the path when it names a folder, or when it
    looks like a path (a slash, a leading `~`, a file's name) and a question follows: then
    a missing folder or a file is an error (`open_index`), not words of a question about
    the current folder."""
    if words and os.path.isdir(words[0]):
        return words[0], " ".join(words[1:])
    first = words[0] if words else ""
    if len(words) > 1 and ("/" in first or first.startswith("~") or os.path.exists(first)):
        return first, " ".join(words[1:])
    return ".", " ".join(words)


async def ask(
    manager: ChatManager,
    workspace: IndexWorkspace,
    question: str,
    conversation_id: str | None,
    stream: bool,
) -> ChatResult:
    """One turn; with `stream`, the answer is printed as it is written."""
    from codeassist_lsp.chat.manager import ChatRequest, DeltaEvent, SourcesEvent

    result: ChatResult | None = None
    request = ChatRequest(question, conversation_id)
    async with aclosing(manager.ask(request, workspace)) as events:
        async for event in events:
            if isinstance(event, SourcesEvent):
                for notice in event.notices:
                    print(f"codeassist: {notice}", file=sys.stderr)
            elif isinstance(event, DeltaEvent):
                if stream:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
            else:
                result = event
    assert result is not None
    return result


def _print_sources(result: ChatResult) -> None:
    print()
    if result.grounded is False:
        print("(this answer cites none of the code it was given)")
    for n, c in enumerate(result.citations, 1):
        name = f"  {c.symbol}" if c.symbol else ""
        print(f"[{n}] {c.path}:{c.start_line}-{c.end_line}{name}")


def result_json(result: ChatResult) -> dict[str, Any]:
    return {
        "answer": result.answer,
        "citations": [c.to_json() for c in result.citations],
        "conversationId": result.conversation_id,
    }


async def _interactive(
    manager: ChatManager, workspace: IndexWorkspace, conversation_id: str | None
) -> None:
    import asyncio

    print(f"codeassist chat in {workspace.root}. {HELP}", file=sys.stderr)
    while True:
        try:
            line = await asyncio.to_thread(input, "> ")
        except EOFError:
            return
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line == "/new":
            conversation_id = None
            print("(new conversation)")
        elif line == "/history":
            for c in manager.history.conversations([workspace.root]):
                print(f"{c.id}  {c.title}")
        elif line.startswith("/search"):
            for found in manager.history.search(line[len("/search") :], [workspace.root], 10):
                text = " ".join(found.message.content.split())[:100]
                print(f"{found.conversation.id}  {found.message.role}: {text}")
        elif line.startswith("/"):
            print(HELP)
        else:
            result = await ask(manager, workspace, line, conversation_id, stream=True)
            conversation_id = result.conversation_id
            _print_sources(result)


def cmd_chat(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: `codeassist --help` imports this module

    from codeassist_lsp.chat.history import open_history
    from codeassist_lsp.chat.manager import ChatManager
    from codeassist_lsp.chat.workspace import IndexWorkspace
    from codeassist_lsp.llm.backend import create_backend

    path, question = split_args(args.words)
    if args.json and not question.strip():
        raise CodeAssistError("--json needs a question: codeassist chat [PATH] QUESTION --json")
    settings = _settings()
    index = open_index(path, settings)
    llm = dataclasses.replace(settings.llm, model=settings.llm.model_for("chat"))
    backend = create_backend(llm, settings.data_dir)
    try:
        if index.is_empty() or index.indexer.pending_vectors():
            stats = _run_index(index)
            print(f"indexed {index.root}: {stats.summary()}", file=sys.stderr)
        history = open_history(
            settings.data_dir,
            settings.history.encrypt,
            settings.history.passphrase,
            index.embedder.embed_documents,
        )
        manager = ChatManager(history, lambda: backend, settings.chat)
        workspace = IndexWorkspace(index)

        async def run() -> None:
            try:
                if not question.strip():
                    await _interactive(manager, workspace, args.conversation)
                    return
                result = await ask(manager, workspace, question, args.conversation, not args.json)
                if args.json:
                    json.dump(result_json(result), sys.stdout)
                    sys.stdout.write("\n")
                else:
                    _print_sources(result)
            finally:
                await backend.close()

        asyncio.run(run())
    finally:
        index.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "chat", help="ask about a workspace: the answer streams, then the places it cites"
    )
    p.add_argument("words", nargs="*", metavar="[PATH] [QUESTION]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--conversation", metavar="ID", help="continue a conversation")
    p.set_defaults(func=cmd_chat)
