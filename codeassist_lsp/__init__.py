"""CodeAssist: a local, offline coding assistant served as a language server."""

from __future__ import annotations

__version__ = "0.1.0"
