"""`codeassist chat` as other tools use it: one JSON object, a conversation continued by
id, an interactive session; the real default model and index, with no network at all
(`unshare -n`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _unshare_works(), reason="unshare -n is not permitted here (needs root or user namespaces)"
)


@pytest.fixture
def env(tmp_path: Path, embedder_cache: Path, installed_models: Path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "embedders").symlink_to(embedder_cache)
    (data / "models").symlink_to(installed_models)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"chat": {"answerTokens": 24}}))
    return {**os.environ, "CODEASSIST_DATA_DIR": str(data), "CODEASSIST_CONFIG": str(config)}


def _chat(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess:
    cmd = ["unshare", "-n", sys.executable, "-m", "codeassist_lsp", "chat", *args]
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=600)


def test_chat_json_continue_and_interactive_offline(tmp_path: Path, env: dict[str, str]) -> None:
    workspace = tmp_path / "go-kvstore"
    shutil.copytree(FIXTURES / "go-kvstore", workspace)

    first = _chat([str(workspace), "How are expired keys removed?", "--json"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "indexed" in first.stderr, "a workspace never indexed is indexed first"
    reply = json.loads(first.stdout)
    assert set(reply) == {"answer", "citations", "conversationId"}
    assert reply["answer"].strip()
    for citation in reply["citations"]:
        assert set(citation) == {"path", "start_line", "end_line", "symbol"}
        assert (workspace / citation["path"]).is_file()
        assert 1 <= citation["start_line"] <= citation["end_line"]

    follow = _chat(
        [
            str(workspace),
            "And where is that called?",
            "--json",
            "--conversation",
            reply["conversationId"],
        ],
        env,
    )
    assert follow.returncode == 0, follow.stderr[-3000:]
    assert json.loads(follow.stdout)["conversationId"] == reply["conversationId"]

    session = _chat([str(workspace)], env, stdin="/history\n/search expired keys\n/quit\n")
    assert session.returncode == 0, session.stderr[-3000:]
    assert reply["conversationId"] in session.stdout
    assert "How are expired keys removed?" in session.stdout

    unknown = _chat([str(workspace), "hi", "--conversation", "no-such-id"], env)
    assert unknown.returncode == 2 and "no conversation" in unknown.stderr


def test_history_survives_a_kill_9_mid_answer(tmp_path: Path, env: dict[str, str]) -> None:
    from codeassist_lsp.chat.history import HISTORY_FILE, History

    workspace = tmp_path / "py-webclient"
    shutil.copytree(FIXTURES / "py-webclient", workspace)
    first = _chat([str(workspace), "How is the retry backoff computed?", "--json"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    reply = json.loads(first.stdout)

    long_env = {**env, "CODEASSIST_CONFIG": str(tmp_path / "long.json")}
    (tmp_path / "long.json").write_text(json.dumps({"chat": {"answerTokens": 400}}))
    cmd = [sys.executable, "-m", "codeassist_lsp", "chat", str(workspace)]
    cmd += [
        "Explain every function of the client in detail.",
        "--conversation",
        reply["conversationId"],
    ]
    proc = subprocess.Popen(cmd, env=long_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    streamed = b""
    while len(streamed) < 40:
        piece = proc.stdout.read1(64)
        assert piece, "the answer never began"
        streamed += piece
    proc.kill()  # SIGKILL, mid-answer
    proc.wait(timeout=30)

    history = History(Path(env["CODEASSIST_DATA_DIR"]) / HISTORY_FILE)
    messages = history.messages(reply["conversationId"])
    assert [m.role for m in messages] == ["user", "assistant"], "the finished turn, intact"
    assert messages[1].content == reply["answer"]
    again = _chat(
        [str(workspace), "Where is it used?", "--json", "--conversation", reply["conversationId"]],
        env,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(history.messages(reply["conversationId"])) == 4


def test_a_path_that_is_not_a_folder_and_an_empty_json_question_are_clear_errors(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "notes.py").write_text("x = 1\n")
    missing = _chat([str(tmp_path / "nope"), "what does it do?", "--json"], env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr, missing.stderr
    a_file = _chat([str(tmp_path / "notes.py"), "what does x hold?"], env)
    assert a_file.returncode == 2 and "is not a directory" in a_file.stderr, a_file.stderr
    empty = _chat([str(tmp_path), "  ", "--json"], env, stdin="")
    assert empty.returncode == 2 and "--json needs a question" in empty.stderr, empty.stderr
    assert not missing.stdout and not a_file.stdout and not empty.stdout
    assert not (Path(env["CODEASSIST_DATA_DIR"]) / "workspaces").exists(), "nothing was indexed"
