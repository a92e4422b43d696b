"""The one place where index coordinates become LSP ones and back.

The index speaks workspace-relative POSIX paths and 1-based inclusive lines; LSP speaks
URIs and 0-based positions with exclusive ends. Search results, symbols and hover convert
here, so they agree on the edges. Custom requests' params (a dict, or pygls's object for a
method it does not know) are read here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from codeassist_lsp.rag.retriever import SearchHit


def path_to_uri(root: Path, path: str) -> str:
    """The URI of a workspace-relative path."""
    return from_fs_path(str(root / path)) or ""


def uri_to_path(uri: str) -> Path | None:
    """The absolute file-system path of a `file:` URI, or None for other schemes."""
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def lines_range(start_line: int, end_line: int) -> types.Range:
    """Whole lines `start_line`..`end_line` (1-based, inclusive): from the first line's start
    to the start of the line after the last."""
    return types.Range(
        start=types.Position(line=max(start_line - 1, 0), character=0),
        end=types.Position(line=max(end_line, start_line, 1), character=0),
    )


def name_range(line: int, line_text: str | None, name: str) -> types.Range:
    """The span of `name` on a 1-based line, or the whole line when it is not there."""
    col = line_text.find(name) if line_text is not None and name else -1
    if col < 0:
        return lines_range(line, line)
    return types.Range(
        start=types.Position(line=line - 1, character=col),
        end=types.Position(line=line - 1, character=col + len(name)),
    )


def location(root: Path, path: str, rng: types.Range) -> types.Location:
    return types.Location(uri=path_to_uri(root, path), range=rng)


def range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def hit_to_lsp(hit: SearchHit, root: Path) -> dict[str, Any]:
    """A search hit as the clients see it: the CLI's fields plus an LSP uri and range."""
    c = hit.chunk
    item = hit.to_json()
    item["uri"] = path_to_uri(root, c.path)
    item["range"] = range_json(lines_range(c.start_line, c.end_line))
    return item


def param(params: Any, *names: str) -> Any:
    """A nested field of request params, whether they came as a dict or an object."""
    value = params
    for name in names:
        if value is None:
            return None
        value = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
    return value
