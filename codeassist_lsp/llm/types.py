"""Data that crosses the Backend interface: messages, generation options, model facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChatRole = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: ChatRole
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    """How much to generate and how; `prompt_lookup` speeds up answers that copy the input;
    `background`: nobody waits for this answer yet (a speculation, a description), so
    neither a chat answer nor the indexer gives way to it (`foreground`)."""

    max_tokens: int = 512
    temperature: float = 0.2
    stop: tuple[str, ...] = ()
    prompt_lookup: bool = False
    background: bool = False


@dataclass(frozen=True)
class FimRequest:
    """Fill-in-the-middle: the text before and after the cursor, plus optional repo files.

    `context` holds (path, text) pairs of other files that help, most useful last.
    """

    prefix: str
    suffix: str
    path: str = ""
    repo_name: str = ""
    context: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ModelInfo:
    """What callers need to know to build prompts for the active model."""

    name: str
    backend: str
    context_length: int
    fim: bool


@dataclass(frozen=True)
class PromptUsage:
    """What the last chat prompt cost: its tokens, and how many came from the KV cache."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
