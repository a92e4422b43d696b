"""The one interface every model feature talks to, and the factory that picks a backend."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Protocol

from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import (
    FimRequest,
    GenerationOptions,
    Message,
    ModelInfo,
    PromptUsage,
)

DEFAULT_OPTIONS = GenerationOptions()


class Backend(Protocol):
    """What the features need from a model, and nothing more.

    Streams yield text pieces (about one token each). Closing a stream stops generation
    within one token; read streams inside `contextlib.aclosing(...)` so that cancelling
    the reading task closes the stream at once (else only when it is garbage collected).
    Errors that people must see are `ModelUnavailable` / `BackendError`, with a one-line
    message.
    """

    async def load(self) -> ModelInfo:
        """Make the model ready (off the event loop) and return its facts."""
        ...

    def info(self) -> ModelInfo:
        """What is known about the model now; exact once `load()` has returned."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens `text` costs with this model's tokenizer (call after `load()`)."""
        ...

    def loaded_counter(self) -> Callable[[str], int] | None:
        """The model's own token count when its tokenizer is here and loaded (a budget
        then holds what the model reads), else None: estimate, and do not wait for a
        model to load just to count."""
        ...

    def chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        """Stream the assistant's answer to a conversation."""
        ...

    async def prime_chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> int:
        """Read the prompt `chat(messages, options)` would read into the chat cache without
        answering (a question still being typed), so that the question asked soon after
        reads only what differs; returns how many of its tokens the cache then holds (0:
        backends without such a cache). A newer call or any other request stops it."""
        ...

    def chat_usage(self) -> PromptUsage:
        """Tokens of the last `chat()` prompt and how many the KV cache held (0 if unknown)."""
        ...

    def complete(
        self, prompt: str, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        """Stream a raw continuation of `prompt` (no chat template)."""
        ...

    def fim(
        self, request: FimRequest, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        """Stream the text that belongs between `request.prefix` and `request.suffix`."""
        ...

    async def keep_file(self, text: str, line: int) -> int:
        """Read the file being completed, around `line` first, into the completion cache
        while the editor is idle, so that a completion anywhere near reads little; returns
        how many of its tokens the cache holds, over the windows kept (0: backends without
        such a cache). Any other request stops it at once."""
        ...

    async def close(self) -> None:
        """Free the model and any connections."""
        ...


def create_backend(settings: LLMSettings, data_dir: Path) -> Backend:
    """The backend `settings.backend` names; nothing is loaded until first use."""
    if settings.backend == "llama_cpp":
        from codeassist_lsp.llm.llama_backend import LlamaCppBackend

        return LlamaCppBackend(settings, data_dir)
    if settings.backend == "openai":
        from codeassist_lsp.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    raise ModelUnavailable(
        f"unknown model backend {settings.backend!r} (use 'llama_cpp' or 'openai')"
    )
