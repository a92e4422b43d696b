"""The `codeassist` command line: index, search, status, serve, models, ask.

Names and flags here are a contract other tools depend on. Output for people goes to
stderr (progress) and stdout (results); `--json` prints only JSON on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys

from codeassist_lsp import __version__
from codeassist_lsp.errors import CodeAssistError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeassist", description=__doc__)
    parser.add_argument("--version", action="version", version=f"codeassist {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    from codeassist_lsp import cli_index
    from codeassist_lsp.llm import cli as llm_cli

    cli_index.register(sub)
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
        return int(args.func(args) or 0)
    except CodeAssistError as exc:
        print(f"codeassist: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
