"""End-to-end: chat through the real server with the real default model (Qwen2.5-Coder
0.5B), real index and real history, as Neovim and as VS Code.

Answers are kept short (`chat.answerTokens`) so each turn costs a few seconds of model
time; what is checked is the protocol: sources before the answer, the answer streamed,
citations that point into the workspace, history that remembers, cancel that stops.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_requests import plain, request
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ANSWER_TOKENS = 24


@pytest.fixture(scope="module")
def data_dir(
    tmp_path_factory: pytest.TempPathFactory, embedder_cache: Path, installed_models: Path
) -> Path:
    data = tmp_path_factory.mktemp("chat-data")
    (data / "embedders").symlink_to(embedder_cache)
    (data / "models").symlink_to(installed_models)
    return data


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chat-ws") / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", root)
    return root


@pytest.fixture(scope="module")
def server_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data_dir),
        "CODEASSIST_CONFIG": str(data_dir / "no-config.json"),
    }


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "codeassist_lsp", "serve"]),
    params=["neovim", "visual-studio-code"],
)
async def client(
    request: pytest.FixtureRequest,
    lsp_client: LanguageClient,
    workspace: Path,
):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Both editors accept the server's file watcher registration."""

    params = types.InitializeParams(
        capabilities=client_capabilities(request.param),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
        root_uri=workspace.as_uri(),
        initialization_options={"chat": {"answerTokens": ANSWER_TOKENS}},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def _start_vscode(lsp_client: LanguageClient, workspace: Path, options: dict) -> None:
    """Initialize a session with VS Code's capabilities and the given server settings."""

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """VS Code accepts the server's file watcher registration."""

    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
        initialization_options=options,
    )
    await lsp_client.initialize_session(params)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "codeassist_lsp", "serve"]),
)
async def vscode(lsp_client: LanguageClient, workspace: Path):
    """One client (VS Code's capabilities) for what does not depend on the editor."""
    await _start_vscode(lsp_client, workspace, {"chat": {"answerTokens": ANSWER_TOKENS}})
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(autouse=True)
def _server_env(monkeypatch: pytest.MonkeyPatch, server_env: dict[str, str]) -> None:
    """The server inherits the test's environment: point it at the linked data dir."""
    for key in ("CODEASSIST_DATA_DIR", "CODEASSIST_CONFIG"):
        monkeypatch.setenv(key, server_env[key])


async def _status_when(
    client: LanguageClient, ready: Callable[[dict], bool], what: str, timeout: float
) -> dict:
    """`codeassist/status` once `ready` holds for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await request(client, "codeassist/status", {})
        if ready(status):
            return status
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what} did not come in time")


def _indexed(status: dict) -> bool:
    ws = status["workspaces"]
    return bool(
        ws and not status["indexing"] and ws[0]["files"] > 0 and not ws[0]["vectors_pending"]
    )


async def _wait_indexed(client: LanguageClient, timeout: float = 240) -> None:
    await _status_when(client, _indexed, "the index", timeout)


class Deltas:
    """The `codeassist/chatDelta` notifications a client received, in order."""

    def __init__(self, client: LanguageClient) -> None:
        self.items: list[dict[str, Any]] = []

        @client.feature("codeassist/chatDelta")
        def on_delta(params: Any) -> None:
            self.items.append(plain(params))


async def test_chat_streams_sources_then_answer_and_remembers(
    client: LanguageClient, workspace: Path
) -> None:
    await _wait_indexed(client)
    deltas = Deltas(client)
    result = await request(
        client, "codeassist/chat", {"message": "How is the retry backoff delay computed?"}
    )
    assert result["answer"].strip()
    assert result["usage"]["completionTokens"] > 0 and result["usage"]["promptTokens"] > 0
    first = deltas.items[0]
    assert "citations" in first and "delta" not in first, "sources come before the answer"
    assert any(c["path"] == "webclient/retry.py" for c in first["citations"])
    streamed = "".join(d.get("delta", "") for d in deltas.items)
    assert streamed.strip()
    assert {d["messageId"] for d in deltas.items} == {result["messageId"]}
    for citation in result["citations"]:
        assert citation in result["sources"]
        assert citation["uri"].startswith(workspace.as_uri())
    conversation_id = result["conversationId"]

    follow = await request(
        client,
        "codeassist/chat",
        {"conversationId": conversation_id, "message": "And where is it used?"},
    )
    assert follow["conversationId"] == conversation_id
    assert follow["usage"]["cachedTokens"] > 0, "the system prompt stays in the KV cache"

    listed = await request(client, "codeassist/conversations", {})
    assert listed[0]["id"] == conversation_id
    assert listed[0]["title"] == "How is the retry backoff delay computed?"
    whole = await request(client, "codeassist/conversation", {"conversationId": conversation_id})
    assert [m["role"] for m in whole["messages"]] == ["user", "assistant"] * 2
    assert whole["messages"][1]["content"] == result["answer"]

    found = await request(client, "codeassist/searchConversations", {"query": "backoff delay"})
    assert found and found[0]["conversationId"] == conversation_id
    stored = await request(
        client, "codeassist/feedback", {"messageId": result["messageId"], "value": 1}
    )
    assert stored == {"stored": True}
    deleted = await request(
        client, "codeassist/deleteConversation", {"conversationId": conversation_id}
    )
    assert deleted == {"deleted": True}
    with pytest.raises(JsonRpcInvalidParams):
        await request(client, "codeassist/conversation", {"conversationId": conversation_id})


async def test_chat_streams_as_partial_results_with_a_token(client: LanguageClient) -> None:
    await _wait_indexed(client)
    partial: list[dict[str, Any]] = []
    deltas = Deltas(client)

    def on_progress(params: types.ProgressParams) -> None:
        if params.token == "chat-1":
            partial.append(plain(params.value))

    # pytest-lsp's own $/progress handler takes only work-done reports; partial results of
    # a request are another use of the same notification
    client.protocol.fm.features[types.PROGRESS] = on_progress

    result = await request(
        client,
        "codeassist/chat",
        {
            "message": "Which function parses the Retry-After header?",
            "partialResultToken": "chat-1",
        },
    )
    assert partial and "citations" in partial[0]
    assert "".join(p.get("delta", "") for p in partial).strip()
    assert not deltas.items, "with a token, nothing goes out as chatDelta"
    assert result["answer"]


async def test_cancel_stops_the_answer_and_the_next_chat_is_served(
    vscode: LanguageClient,
) -> None:
    client = vscode
    await _wait_indexed(client)
    deltas = Deltas(client)
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            "codeassist/chat",
            {"message": "Explain everything the Client class does, in detail."},
            msg_id="chat-to-cancel",
        )
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while not any("delta" in d for d in deltas.items):
        assert loop.time() < deadline, "no answer began within two minutes"
        await asyncio.sleep(0.05)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-to-cancel"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, 10)
    conversation_id = deltas.items[0]["conversationId"]
    loop_deadline = loop.time() + 30
    messages: list[dict[str, Any]] = []
    while loop.time() < loop_deadline:
        whole = await request(
            client, "codeassist/conversation", {"conversationId": conversation_id}
        )
        messages = whole["messages"]
        if messages:
            break
        await asyncio.sleep(0.1)
    assert messages and messages[-1]["cancelled"] is True

    after = await request(client, "codeassist/chat", {"message": "What is a Python list?"})
    assert after["answer"] and after["intent"] == "general" and after["sources"] == []


async def test_bad_chat_requests_get_clear_errors(vscode: LanguageClient) -> None:
    client = vscode
    with pytest.raises(JsonRpcInvalidParams, match="non-empty"):
        await request(client, "codeassist/chat", {"message": "   "})
    with pytest.raises(JsonRpcInvalidParams, match="no conversation"):
        await request(
            client, "codeassist/chat", {"message": "hello", "conversationId": "not-a-real-id"}
        )
    with pytest.raises(JsonRpcInvalidParams):
        await request(client, "codeassist/feedback", {"messageId": "nope", "value": 5})


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "codeassist_lsp", "serve"]),
)
async def no_model(lsp_client: LanguageClient, workspace: Path, tmp_path: Path):
    """A server whose configured model file does not exist."""
    await _start_vscode(lsp_client, workspace, {"llm": {"model": str(tmp_path / "missing.gguf")}})
    yield
    await lsp_client.shutdown_session()


async def test_without_a_model_chat_lists_the_sources_and_says_why(
    no_model: LanguageClient,
) -> None:
    client = no_model
    await _wait_indexed(client)
    result = await request(client, "codeassist/chat", {"message": "How is the backoff computed?"})
    assert "No model is available" in result["answer"]
    assert result["sources"] and "webclient/retry.py" in result["answer"]
    assert any("missing.gguf" in n for n in result["notices"])
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any("model" in m for m in shown), "the user is told what to fix"
    status = await request(client, "codeassist/status", {})
    assert "missing.gguf" in (status["lastError"] or "")


async def test_two_chats_at_once_are_both_answered(vscode: LanguageClient) -> None:
    client = vscode
    await _wait_indexed(client)
    first, second = await asyncio.gather(
        request(client, "codeassist/chat", {"message": "What does parse_retry_after return?"}),
        request(client, "codeassist/chat", {"message": "Where is the user agent header set?"}),
    )
    assert first["answer"] and second["answer"]
    assert first["conversationId"] != second["conversationId"]


async def test_a_question_read_ahead_while_typed_leaves_little_to_read(
    vscode: LanguageClient,
) -> None:
    client = vscode
    await _wait_indexed(client)
    cold = await request(client, "codeassist/chat", {"message": "What does the client send?"})
    draft = "Which function parses the Retry-After"
    for n in range(3, 6):  # as the chat panel sends it, a word at a time
        words = " ".join(draft.split()[:n])
        client.protocol.notify("codeassist/chatDraft", {"message": words})
    client.protocol.notify("codeassist/chatDraft", {"message": "   "})  # ignored
    status = await _status_when(
        client, lambda s: s["chat"]["readAheadTokens"] > 0, "the draft's read", 120
    )
    assert status["chat"]["drafts"] == 4 and status["chat"]["readAheadTokens"] > 100
    asked = await request(
        client, "codeassist/chat", {"message": "Which function parses the Retry-After header?"}
    )
    usage, before = asked["usage"], cold["usage"]
    assert usage["promptTokens"] - usage["cachedTokens"] < 40, "only the question's end is read"
    assert before["promptTokens"] - before["cachedTokens"] > 100
    assert asked["answer"] and asked["sources"]


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "codeassist_lsp", "serve"]),
)
async def split_models(lsp_client: LanguageClient, workspace: Path):
    """A server with a model of its own for chat (the smoke tier, which install.sh packages)."""
    await _start_vscode(
        lsp_client,
        workspace,
        {
            "chat": {"answerTokens": ANSWER_TOKENS},
            "llm": {"chatModel": "smollm2-135m"},
        },
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_chat_model_answers_chat_while_completion_keeps_the_model(
    split_models: LanguageClient, workspace: Path
) -> None:
    client = split_models
    await _wait_indexed(client)
    status = await request(client, "codeassist/status", {})
    assert status["loadedModels"] == [] and status["chatModel"] == "smollm2-135m"
    result = await request(client, "codeassist/chat", {"message": "How is the backoff computed?"})
    assert result["answer"].strip()
    status = await request(client, "codeassist/status", {})
    assert status["loadedModels"] == ["smollm2-135m"]
    path = workspace / "webclient" / "retry.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=1, text=path.read_text()
            )
        )
    )
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=0, character=0),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    status = await request(client, "codeassist/status", {})
    assert status["loadedModels"] == ["smollm2-135m", "qwen2.5-coder-0.5b"]
