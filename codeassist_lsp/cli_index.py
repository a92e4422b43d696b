"""CLI subcommands over the workspace index: index, search, status, serve, prepare-embedder."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from codeassist_lsp.config import Settings, load_settings

if TYPE_CHECKING:
    from codeassist_lsp.index.indexer import IndexStats
    from codeassist_lsp.index.workspace import WorkspaceIndex

log = logging.getLogger(__name__)


class ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr  # looked up now: it may be replaced after import
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int, label: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {label[-40:]:<40}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number


def _settings() -> Settings:
    settings, errors = load_settings()
    for error in errors:
        log.warning("config: %s", error)
    return settings


def open_index(path: str, settings: Settings) -> WorkspaceIndex:
    """Open a workspace index with the configured embedder (imported lazily: it is slow)."""
    from codeassist_lsp.index.embedder import create_embedder
    from codeassist_lsp.index.workspace import WorkspaceIndex

    embedder = create_embedder(
        settings.index.embedder,
        settings.data_dir / "embedders",
        settings.index.threads,
        settings.index.embed_max_tokens,
    )
    index = WorkspaceIndex(Path(path), settings, embedder)
    for notice in index.notices:
        print(f"codeassist: {notice}", file=sys.stderr)
    return index


def _run_index(index: WorkspaceIndex, quiet: bool = False) -> IndexStats:
    bar = ProgressBar()
    try:
        stats = index.refresh(progress=None if quiet else bar)
    finally:
        bar.close()
    from codeassist_lsp.index.storage import storage_errors

    with storage_errors(index.stores.directory):  # a full disk: one line, not a traceback
        index.mark_indexed()
    return stats


def cmd_index(args: argparse.Namespace) -> int:
    settings = _settings()
    index = open_index(args.path, settings)
    try:
        stats = _run_index(index)
        print(f"indexed {index.root}: {stats.summary()}")
        if args.describe:
            _describe(index, settings, args.describe_limit)
    finally:
        index.close()
    return 0


def _describe(index: WorkspaceIndex, settings: Settings, limit: int | None) -> None:
    """Write the missing descriptions with the configured model (Ctrl-C keeps what is done)."""
    import asyncio

    from codeassist_lsp.describe.job import describe_pending
    from codeassist_lsp.index import descriptions
    from codeassist_lsp.llm.backend import create_backend

    async def run() -> None:
        backend = create_backend(settings.llm, settings.data_dir)
        bar = ProgressBar()
        try:
            await backend.load()
            stats = await describe_pending(
                index.stores,
                backend,
                limit=limit,
                progress=lambda done, total: bar(done, total, "describing"),
            )
        finally:
            bar.close()
            await backend.close()
        done, wanted = descriptions.counts(index.stores)
        rate = stats.described / stats.seconds if stats.seconds else 0.0
        print(
            f"described {stats.described} chunks ({stats.failed} without a usable answer)"
            f" in {stats.seconds:.1f}s, {rate:.2f} chunks/s; {done} of {wanted} done"
        )

    asyncio.run(run())


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings()
    index = open_index(args.path, settings)
    try:
        if not index.stores.read_only and (index.is_empty() or index.indexer.pending_vectors()):
            # never indexed, or a server stopped before all vectors were computed
            stats = _run_index(index, quiet=args.json)
            print(f"indexed {index.root}: {stats.summary()}", file=sys.stderr)
        else:
            args.read_only = True  # nothing indexed: `main` may skip the teardown
        from codeassist_lsp.rag.retriever import search_index

        hits = search_index(index, args.query, args.limit)
    finally:
        index.close()
    if args.json:
        json.dump([h.to_json() for h in hits], sys.stdout)
        sys.stdout.write("\n")
        return 0
    if not hits:
        print("no results")
    for rank, hit in enumerate(hits, 1):
        c = hit.chunk
        name = f"  {c.symbol}" if c.symbol else ""
        print(
            f"{rank}. {c.path}:{c.start_line}-{c.end_line}{name}  [{c.kind}]"
            f"  score {hit.score:.4f}  ({', '.join(hit.why)})"
        )
        for line in c.text.splitlines()[:6]:
            print(f"     {line[:110]}")
        print()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings()
    index = open_index(args.path, settings)
    try:
        status = index.status()
    finally:
        index.close()
    args.read_only = True  # nothing left running: `main` may skip the teardown
    status["model"] = settings.llm.model
    status["backend"] = settings.llm.backend
    status["data_dir"] = str(settings.data_dir)
    if args.json:
        json.dump(status, sys.stdout)
        sys.stdout.write("\n")
    else:
        for key, value in status.items():
            print(f"{key:>15}: {value}")
    return 0


def cmd_prepare_embedder(args: argparse.Namespace) -> int:
    """Export the configured embedder to int8 ONNX now, so the first index does not wait."""
    from codeassist_lsp.index.embedder import prepare_embedder

    settings = _settings()
    name = settings.index.embedder
    path = prepare_embedder(name, settings.data_dir / "embedders")
    print(f"embedder {name}: {path if path is not None else 'nothing to prepare'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from codeassist_lsp.memory import limit_malloc_arenas

    limit_malloc_arenas()  # first: before the server's native threads start
    from codeassist_lsp.protocol import exit_code
    from codeassist_lsp.server import create_server
    from codeassist_lsp.stdio import serve_stdio

    server = create_server(_settings())
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
        return exit_code(server)
    return serve_stdio(server) or exit_code(server)


def register(sub: argparse._SubParsersAction) -> None:
    """Add index, search, status and serve to the `codeassist` parser."""
    p = sub.add_parser("index", help="index (or refresh) a workspace")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument(
        "--describe",
        action="store_true",
        help="then describe functions and classes in plain English with the model (slow:"
        " ~2 s each on a 2-core CPU; resumable), so that questions in your words find them",
    )
    p.add_argument("--describe-limit", type=_positive, help="describe at most this many")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="hybrid search of a workspace")
    p.add_argument("path")
    p.add_argument("query")
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--json", action="store_true", help="print only a JSON array")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("status", help="index counts, storage location, model and embedder")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "prepare-embedder", help="export the embedder to int8 ONNX now (install.sh runs this)"
    )
    p.set_defaults(func=cmd_prepare_embedder)

    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.set_defaults(func=cmd_serve)
