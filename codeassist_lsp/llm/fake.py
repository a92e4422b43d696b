"""`FakeBackend`: a scripted stand-in for unit tests of code that talks to a Backend.

It answers with given text, one word per token, through the same worker-thread streaming
as the real backends, and records what it was asked and how many tokens it produced.
Never used outside tests.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from codeassist_lsp.llm.backend import DEFAULT_OPTIONS
from codeassist_lsp.llm.prompts import QWEN_FIM, fim_prompt
from codeassist_lsp.llm.stops import StopMatcher
from codeassist_lsp.llm.threadstream import stream_in_thread
from codeassist_lsp.llm.types import (
    FimRequest,
    GenerationOptions,
    Message,
    ModelInfo,
    PromptUsage,
)

_TOKEN_RE = re.compile(r"\s*\S+|\s+")


class FakeBackend:
    """Replies with `reply(prompt)` (or a fixed string), `delay` seconds per token."""

    def __init__(
        self,
        reply: str | Callable[[str], str] = "ok",
        *,
        delay: float = 0.0,
        context_length: int = 4096,
        fim: bool = True,
    ) -> None:
        self._reply = reply
        self._delay = delay
        self._info = ModelInfo("fake", "fake", context_length, fim)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-llm")
        self.exact_counts = True  # whether `loaded_counter` gives its count (tests set it)
        self.prompts: list[str] = []
        self.options: list[GenerationOptions] = []  # of each request, as `prompts`
        self.produced = 0
        self.kept: list[tuple[str, int]] = []  # keep_file calls: (text, line)
        self.primed: list[list[Message]] = []  # prime_chat calls: the messages
        self.loaded = False
        self._chat_usage = PromptUsage()

    async def load(self) -> ModelInfo:
        self.loaded = True
        return self._info

    def info(self) -> ModelInfo:
        return self._info

    def count_tokens(self, text: str) -> int:
        """One token per word or run of spaces, like the fake's own output."""
        return len(_TOKEN_RE.findall(text))

    def loaded_counter(self) -> Callable[[str], int] | None:
        return self.count_tokens if self.exact_counts else None

    def chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        prompt = "".join(f"<{m.role}>{m.content}\n" for m in messages) + "<assistant>"
        self._chat_usage = PromptUsage(self.count_tokens(prompt), 0)
        return self._stream(prompt, options)

    def chat_usage(self) -> PromptUsage:
        return self._chat_usage

    def complete(
        self, prompt: str, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        return self._stream(prompt, options)

    def fim(
        self, request: FimRequest, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        prompt = fim_prompt(request, QWEN_FIM, self._info.context_length, self.count_tokens)
        return self._stream(prompt, options)

    async def keep_file(self, text: str, line: int) -> int:
        self.kept.append((text, line))
        return 0

    async def prime_chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> int:
        self.primed.append(list(messages))
        return 0

    async def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _stream(self, prompt: str, options: GenerationOptions) -> AsyncGenerator[str, None]:
        self.prompts.append(prompt)
        self.options.append(options)
        text = self._reply(prompt) if callable(self._reply) else self._reply

        def produce(stop: threading.Event) -> Iterator[str]:
            matcher = StopMatcher(options.stop)
            for n, piece in enumerate(_TOKEN_RE.findall(text)):
                if n >= options.max_tokens or stop.is_set():
                    return
                if self._delay:
                    time.sleep(self._delay)
                self.produced += 1
                out = matcher.feed(piece)
                if out:
                    yield out
                if matcher.stopped:
                    return
            if tail := matcher.flush():
                yield tail

        return stream_in_thread(produce, self._executor)
