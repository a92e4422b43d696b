"""Errors of the model engine that callers show to people instead of crashing."""

from __future__ import annotations


class LLMError(Exception):
    """Base of the model engine's errors; `str(exc)` is a one-line message for people."""


class ModelUnavailable(LLMError):
    """The model cannot be used: missing, corrupt, not loadable, or too big for this RAM."""


class BackendError(LLMError):
    """A request to a working model failed (e.g. the HTTP endpoint answered with an error)."""
