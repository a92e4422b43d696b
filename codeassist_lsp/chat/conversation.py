"""What a conversation is made of: conversations, their messages, and the places an answer
cites. Plain data shared by the history store, the manager and the protocol glue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Citation:
    """A place in the workspace an answer rests on (1-based, inclusive lines)."""

    path: str  # relative to the workspace root
    start_line: int
    end_line: int
    symbol: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "symbol": self.symbol,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        return cls(
            str(data["path"]),
            int(data["start_line"]),
            int(data["end_line"]),
            data.get("symbol"),
        )


@dataclass(frozen=True)
class Usage:
    """What one answer cost: tokens, and milliseconds from the request."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    retrieval_ms: float = 0.0
    first_token_ms: float = 0.0
    total_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "promptTokens": self.prompt_tokens,
            "cachedTokens": self.cached_tokens,
            "completionTokens": self.completion_tokens,
            "retrievalMs": round(self.retrieval_ms, 1),
            "firstTokenMs": round(self.first_token_ms, 1),
            "totalMs": round(self.total_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Usage:
        return cls(
            int(data.get("promptTokens", 0)),
            int(data.get("cachedTokens", 0)),
            int(data.get("completionTokens", 0)),
            float(data.get("retrievalMs", 0.0)),
            float(data.get("firstTokenMs", 0.0)),
            float(data.get("totalMs", 0.0)),
        )


@dataclass(frozen=True)
class ChatMessage:
    """One turn. An assistant turn keeps its citations, what it cost, whether it was cut
    short by a cancel, and whether it cited anything although it was about the code."""

    id: str
    conversation_id: str
    role: Role
    content: str
    created: float
    citations: tuple[Citation, ...] = ()
    usage: Usage = field(default_factory=Usage)
    cancelled: bool = False
    grounded: bool | None = None  # None: a general question, no sources were given
    feedback: int = 0


@dataclass(frozen=True)
class Conversation:
    """A conversation in one workspace, newest activity in `updated` (seconds since epoch)."""

    id: str
    root: str
    title: str
    created: float
    updated: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "root": self.root,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
        }


def title_of(message: str, width: int = 60) -> str:
    """A conversation's title: its first question on one line, cut at a word."""
    line = " ".join(message.split())
    if len(line) <= width:
        return line
    cut = line[:width].rsplit(" ", 1)[0] or line[:width]
    return cut + "…"
