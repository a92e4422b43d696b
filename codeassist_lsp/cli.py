"""The `codeassist` command line: index, search, chat, status, serve, models, ask.

Names and flags here are a contract other tools depend on. Output for people goes to
stderr (progress) and stdout (results); `--json` prints only JSON on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys

from codeassist_lsp import __version__
from codeassist_lsp.errors import CodeAssistError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeassist", description=__doc__)
    parser.add_argument("--version", action="version", version=f"codeassist {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    from codeassist_lsp import cli_chat, cli_index
    from codeassist_lsp.llm import cli as llm_cli

    cli_index.register(sub)
    cli_chat.register(sub)
    llm_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code = int(args.func(args) or 0)
    except CodeAssistError as exc:
        print(f"codeassist: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if argv is None and getattr(args, "read_only", False):
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, after a read-only command.

    Unloading onnxruntime, lance, DuckDB, networkx and numpy took 0.1-0.2 s of a ~0.7 s
    `codeassist search` here. Only for commands that only read, closed their stores and
    left nothing running (`args.read_only`), and only when `main` runs as the program (no
    `argv`): a test or another caller of `main([...])` keeps its process. Output is
    flushed first; the stores commit synchronously, so nothing else is lost.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the output is gone
            stream.flush()
    os._exit(code)
