from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeassist_lsp.index.files import (
    WorkspaceError,
    check_workspace,
    read_text,
    skip_reason_for,
    skip_reason_for_text,
    walk_workspace,
)


def _write(root: Path, rel: str, data: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    _write(root, "app/main.py", "print('hi')\n")
    _write(root, "app/util.py", "def f():\n    return 1\n")
    _write(root, ".gitignore", "build/\n*.log\n")
    _write(root, "build/out.py", "x = 1\n")
    _write(root, "debug.log", "log\n")
    _write(root, ".codeassistignore", "secret/\n")
    _write(root, "secret/key.py", "KEY = 1\n")
    _write(root, "app/.gitignore", "local_*.py\n!local_keep.py\n")
    _write(root, "app/local_x.py", "x = 1\n")
    _write(root, "app/local_keep.py", "x = 1\n")
    _write(root, "node_modules/lib/index.js", "module.exports = 1\n")
    _write(root, "img.png", b"\x89PNG\r\n\x1a\n\0\0")
    _write(root, "blob.py", b"abc\0def")
    _write(root, "big.txt", "x = 1\n" * 600)
    _write(root, "app.min.js", "var a=1;")
    _write(root, "bundle.js", "var a=1;" * 300)
    _write(root, "empty.py", "")
    return root


def test_walk_applies_ignore_rules_and_skips(ws: Path) -> None:
    result = walk_workspace(ws, max_file_bytes=3000)
    paths = {f.path for f in result.files}
    assert paths == {"app/main.py", "app/util.py", "app/local_keep.py", "empty.py"}
    assert result.skipped["build/"] == "ignored"
    assert result.skipped["debug.log"] == "ignored"
    assert result.skipped["secret/"] == "ignored"
    assert result.skipped["app/local_x.py"] == "ignored"
    assert result.skipped["node_modules/"] == "vendored or tool directory"
    assert result.skipped["img.png"] == "binary file type"
    assert result.skipped["blob.py"] == "binary content"
    assert result.skipped["big.txt"].startswith("larger than")
    assert result.skipped["app.min.js"] == "minified or generated"
    assert result.skipped["bundle.js"] == "minified or generated"


def test_symlinks_are_never_followed(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.py").write_text("SECRET = 1\n")
    os.symlink(outside, ws / "link_dir")
    os.symlink(outside / "stolen.py", ws / "link_file.py")
    os.symlink(ws / "app" / "main.py", ws / "alias.py")
    result = walk_workspace(ws)
    paths = {f.path for f in result.files}
    assert not any("stolen" in p or p.startswith("link") for p in paths)
    assert result.skipped["link_dir"] == "symlink to outside the workspace"
    assert result.skipped["alias.py"] == "symlink to inside the workspace"
    assert skip_reason_for(ws, "link_dir/stolen.py") == "outside the workspace"


def test_skip_reason_for_single_files(ws: Path) -> None:
    assert skip_reason_for(ws, "app/main.py") is None
    assert skip_reason_for(ws, "build/out.py") == "ignored"
    assert skip_reason_for(ws, "secret/key.py") == "ignored"
    assert skip_reason_for(ws, "app/local_x.py") == "ignored"
    assert skip_reason_for(ws, "app/local_keep.py") is None
    assert skip_reason_for(ws, "node_modules/lib/index.js") == "vendored or tool directory"


def test_check_workspace_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        check_workspace(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="not a directory"):
        check_workspace(tmp_path / "f.txt")


def test_read_text_replaces_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(b"# caf\xe9\nx = 1\n")
    assert read_text(path) == "# caf\ufffd\nx = 1\n"


LOCK_FILES = [
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "poetry.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "uv.lock",
]


def test_dependency_lock_files_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _write(root, "src/app.py", "x = 1\n")
    _write(root, "package.json", '{"name": "app"}\n')
    _write(root, "pyproject.toml", "[project]\nname = 'app'\n")
    for name in LOCK_FILES:
        _write(root, f"sub/{name}", 'name = "dep"\nversion = "1.2.3"\nchecksum = "abc"\n')
    result = walk_workspace(root)
    assert {f.path for f in result.files} == {"src/app.py", "package.json", "pyproject.toml"}
    for name in LOCK_FILES:
        assert result.skipped[f"sub/{name}"] == "lock file"
        assert skip_reason_for(root, f"sub/{name}") == "lock file"
    assert skip_reason_for(root, "package.json") is None


def test_unsaved_text_gets_the_file_rules() -> None:
    assert skip_reason_for_text("def f():\n    return 1\n") is None
    assert skip_reason_for_text("") is None
    assert skip_reason_for_text("x = 1\n" * 600, max_file_bytes=3000) == "larger than 3000 bytes"
    assert skip_reason_for_text("abc\0def") == "binary content"
    assert skip_reason_for_text("var a=1;" * 300) == "minified or generated"
