"""CLI subcommands of the model engine: `models ...` and `ask`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the model engine's subcommands to the `codeassist` parser."""
