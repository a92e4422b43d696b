"""Which open index holds a URI: the path is normalised before it is compared."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from codeassist_lsp.config import Settings
from codeassist_lsp.features.context import ServerContext


def _ctx(*roots: Path) -> ServerContext:
    server: Any = None  # locate never talks to the client
    ctx = ServerContext(server=server, settings=Settings())
    ctx.indexes = {root: SimpleNamespace(root=root) for root in roots}  # type: ignore[misc]
    return ctx


def test_a_path_leaving_the_workspace_through_dotdot_is_outside(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ctx = _ctx(ws)
    assert ctx.locate(f"{ws.as_uri()}/../outside.py") is None
    found = ctx.locate(f"{ws.as_uri()}/pkg/../mod.py")
    assert found is not None and found[1] == "mod.py"


def test_the_innermost_workspace_wins(tmp_path: Path) -> None:
    outer, inner = tmp_path / "ws", tmp_path / "ws" / "sub"
    found = _ctx(outer, inner).locate((inner / "a.py").as_uri())
    assert found is not None and found[1] == "a.py"
    assert _ctx(outer).locate("untitled:Untitled-1") is None
