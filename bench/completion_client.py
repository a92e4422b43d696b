"""What the completion benchmarks share: the real server over stdio driven as an editor
would drive it (open, change, inline completion requests), on a copy of a workspace."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from codeassist_lsp.config import default_data_dir

LANGUAGE_IDS = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go"}


def package_dir(module: str) -> Path:
    """The installed source folder of a package from PyPI (third-party code)."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{module} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class Editor:
    """One server process and the documents this editor has open in it."""

    def __init__(self, source: Path, options: dict[str, Any]) -> None:
        self.run_dir = Path(tempfile.mkdtemp(prefix="codeassist-bench-"))
        self.root = self.run_dir / source.name
        shutil.copytree(source, self.root, ignore=shutil.ignore_patterns("__pycache__"))
        data = self.run_dir / "data"
        data.mkdir()
        for part in ("models", "embedders"):  # the installed model and embedder, linked
            if (default_data_dir() / part).is_dir():
                (data / part).symlink_to(default_data_dir() / part)
        self.env = {
            **os.environ,
            "CODEASSIST_DATA_DIR": str(data),
            "CODEASSIST_CONFIG": str(self.run_dir / "no-config.json"),
        }
        self.options = options
        self.client = LanguageClient("bench", "0")
        self.versions: dict[str, int] = {}
        self._next_id = 0

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "codeassist_lsp", "serve", env=self.env)
        # pygls pipes the server's stderr and never reads it: a full pipe would stall the
        # server's logging, so it is copied to a file of the run
        self._stderr = asyncio.create_task(_drain(self.client._server.stderr, self.run_dir))
        caps = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities()
            )
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=caps,
                root_uri=self.root.as_uri(),
                workspace_folders=[
                    types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)
                ],
                initialization_options=self.options,
            )
        )
        self.client.initialized(types.InitializedParams())

    async def wait_indexed(self, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = await self.client.protocol.send_request_async("codeassist/status", {})
            spaces = field_of(status, "workspaces") or []
            if spaces and not field_of(status, "indexing") and field_of(spaces[0], "files"):
                return {"files": field_of(spaces[0], "files")}
            await asyncio.sleep(0.5)
        raise TimeoutError("the workspace was not indexed in time")

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str) -> str:
        uri = self.uri(rel)
        self.versions[uri] = 1
        language = LANGUAGE_IDS.get(Path(rel).suffix, "plaintext")
        item = types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        return uri

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        self.versions[uri] += 1
        at = types.Position(line=line, character=character)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=at, end=at), text=text
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[change],
            )
        )

    def delete(self, uri: str, line: int, start: int, end: int) -> None:
        """Delete characters `start` to `end` of `line` (a user retyping a line's end)."""
        self.versions[uri] += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=types.Position(line=line, character=start),
                end=types.Position(line=line, character=end),
            ),
            text="",
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[change],
            )
        )

    def request(self, uri: str, line: int, character: int) -> tuple[str, asyncio.Future[Any]]:
        """Send an inline completion request; its id (for `$/cancelRequest`) and reply."""
        self._next_id += 1
        msg_id = f"bench-{self._next_id}"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
        future = self.client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        )
        return msg_id, asyncio.wrap_future(future)

    def cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def complete(self, uri: str, line: int, character: int) -> str:
        """The first suggestion's text at a position, or ""."""
        _, reply = self.request(uri, line, character)
        result = await reply
        items = getattr(result, "items", None) or []
        return items[0].insert_text if items and isinstance(items[0].insert_text, str) else ""

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await self.client.stop()
            shutil.rmtree(self.run_dir, ignore_errors=True)


async def _drain(stream: asyncio.StreamReader | None, run_dir: Path) -> None:
    """Copy the server's stderr to `server.log` in the run's folder until it closes."""
    if stream is None:
        return
    with (run_dir / "server.log").open("ab") as out:
        while chunk := await stream.read(65536):
            out.write(chunk)


def field_of(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
