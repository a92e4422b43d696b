"""The base of errors that carry a message meant for the user, not a traceback."""

from __future__ import annotations


class CodeAssistError(Exception):
    """An expected failure (bad path, unusable data dir, missing model) with a clear message."""
