"""One inline suggestion for a cursor: from the cache when the context was seen (or the
user is typing through a suggestion), else from the model's fill-in-the-middle.

Only the newest request may use the model: a new one stops the one before (its model
stream is closed, which stops generation at the next token or prompt batch), and a
request superseded within the debounce time never reaches the model at all.

After a suggestion from the model, the next one is computed as if it were accepted and
Enter pressed (llama.vim's speculation), so the line after an accepted suggestion is
served from the cache. Any request stops that work, unless it asks for that very line:
then it waits for the answer in progress instead of starting again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from codeassist_lsp.completion.budget import fit_window
from codeassist_lsp.completion.cache import SuggestionCache
from codeassist_lsp.completion.postprocess import (
    after_typed_indent,
    clean,
    cut_block,
    enter_indent,
    multiline_allowed,
    opens_block,
)
from codeassist_lsp.completion.syntax_check import breaks_syntax, code_language
from codeassist_lsp.completion.window import CursorWindow, accepted
from codeassist_lsp.config import CompletionSettings
from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.prompts import Counter
from codeassist_lsp.llm.types import FimRequest, GenerationOptions

log = logging.getLogger(__name__)

RepoFiles = tuple[tuple[str, str], ...]
ContextSource = Callable[[Counter, int], Awaitable[RepoFiles]]

# Control tokens a FIM model may write when it wants to start another file.
FIM_STOPS = (
    "<|file_sep|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|repo_name|>",
    "<|endoftext|>",
    "<|im_end|>",
)


@dataclass(frozen=True)
class Place:
    """Where the cursor's document is: its workspace-relative path and the repository."""

    path: str
    repo_name: str = ""


@dataclass
class CompletionCounts:
    """Where this server's answers came from, for `codeassist/status`: the share served
    with no model work is what keeps completion out of the way on a 2-core CPU."""

    from_cache: int = 0  # answered from the cache (typing through a suggestion included)
    from_model: int = 0  # answered by the model while the editor waited
    speculated: int = 0  # next lines computed as if a suggestion were accepted
    speculation_hits: int = 0  # requests on such a line that its answer served


@dataclass(frozen=True)
class Suggestion:
    """Text to show at the cursor; with `replaces_line_suffix` it replaces the text right
    of the cursor on its line."""

    text: str
    replaces_line_suffix: bool = False
    from_cache: bool = False


async def no_context(count: Counter, budget: int) -> RepoFiles:
    return ()


class InlineCompleter:
    """Suggestions for one server; `backend` is asked for the model on each miss."""

    def __init__(
        self,
        settings: Callable[[], CompletionSettings],
        backend: Callable[[], Backend],
    ) -> None:
        self._settings = settings
        self._backend = backend
        self._cache = SuggestionCache(settings().cache_size)
        self._latest = 0
        self._running: asyncio.Task[str] | None = None
        self._ahead: tuple[asyncio.Task[None], str, CursorWindow] | None = None
        self.counts = CompletionCounts()

    def forget(self) -> None:
        """Drop every cached suggestion (settings or the model changed)."""
        self._cache = SuggestionCache(self._settings().cache_size)

    async def suggest(
        self,
        window: CursorWindow,
        place: Place,
        automatic: bool,
        context: ContextSource = no_context,
    ) -> Suggestion | None:
        """The suggestion for `window`, or None (nothing worth showing, or superseded)."""
        settings = self._settings()
        self._latest += 1
        ticket = self._latest
        if self._running is not None:
            self._running.cancel()  # whatever it was computing is behind the cursor now
        on_ahead = await self._await_or_stop_ahead(place.path, window)
        if automatic and not window.auto_trigger_allowed(settings.max_right_chars):
            return None
        cached = self._cache.get(place.path, window)
        if cached is not None:
            self.counts.from_cache += 1
            if on_ahead:
                self.counts.speculation_hits += 1
            return _shown(cached, window, settings, from_cache=True)
        if settings.debounce_ms > 0:
            await asyncio.sleep(settings.debounce_ms / 1000)
        if ticket != self._latest:
            return None
        task = asyncio.create_task(self._generate(window, place, context, settings))
        self._running = task
        try:
            raw = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return None  # a newer request took over
        finally:
            if self._running is task:
                self._running = None
        self.counts.from_model += 1
        suggestion = await self._remember(raw, window, place, settings)
        if (
            suggestion is not None
            and settings.speculate
            and not suggestion.replaces_line_suffix
            and ticket == self._latest  # else the cursor has moved on already
        ):
            line = (window.middle + suggestion.text).rsplit("\n", 1)[-1]
            ahead = accepted(window, suggestion.text, enter_indent(line, window.prefix))
            if self._ahead is not None:
                self._ahead[0].cancel()
            speculation = asyncio.create_task(self._speculate(ahead, place, context, settings))
            self._ahead = (speculation, place.path, ahead)
        return suggestion

    async def _remember(
        self, raw: str, window: CursorWindow, place: Place, settings: CompletionSettings
    ) -> Suggestion | None:
        """The model's text as it is shown (None: nothing worth showing), cached."""
        suggestion = _shown(raw, window, settings, from_cache=False)
        language = code_language(place.path)
        if suggestion is not None and language is not None:
            broken = await asyncio.to_thread(
                breaks_syntax, window, suggestion.text, suggestion.replaces_line_suffix, language
            )
            if broken:
                log.debug("dropped a suggestion that adds syntax errors: %r", suggestion.text)
                suggestion = None
        self._cache.put(place.path, window, suggestion.text if suggestion else "")
        return suggestion

    async def _speculate(
        self,
        ahead: CursorWindow,
        place: Place,
        context: ContextSource,
        settings: CompletionSettings,
    ) -> None:
        """Cache the suggestion for the line after an accepted one."""
        if self._cache.get(place.path, ahead) is not None:
            return
        try:
            raw = await self._generate(ahead, place, context, settings, background=True)
            await self._remember(raw, ahead, place, settings)
            self.counts.speculated += 1
        except Exception as exc:  # it only costs the next request its head start
            log.debug("speculation failed: %s", exc)

    async def _await_or_stop_ahead(self, path: str, window: CursorWindow) -> bool:
        """Wait for the speculation when `window` is its line with the indentation it
        expected (and maybe more typed since: the cache serves the rest), else stop it:
        the cursor went elsewhere. True when `window` is that line."""
        if self._ahead is None:
            return False
        task, ahead_path, ahead = self._ahead
        same_line = (
            path == ahead_path
            and window.prefix == ahead.prefix
            and window.suffix == ahead.suffix
            and window.middle.startswith(ahead.middle)
        )
        if not same_line:
            self._ahead = None
            task.cancel()
            return False
        try:
            await asyncio.shield(task)  # a newer request may still stop it (above)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        finally:
            if self._ahead is not None and self._ahead[0] is task:
                self._ahead = None
        return True

    async def _generate(
        self,
        window: CursorWindow,
        place: Place,
        context: ContextSource,
        settings: CompletionSettings,
        background: bool = False,
    ) -> str:
        backend = self._backend()
        await backend.load()
        count = backend.count_tokens
        parts = await asyncio.to_thread(
            fit_window, window, count, settings.prefix_tokens, settings.suffix_tokens
        )
        files = await context(count, settings.context_tokens)
        request = FimRequest(
            prefix=parts.prefix + window.middle,
            suffix=parts.suffix,
            path=place.path,
            repo_name=place.repo_name,
            context=files,
        )
        multiline = multiline_allowed(window)
        options = GenerationOptions(
            max_tokens=settings.max_tokens * (2 if multiline else 1),
            temperature=0.0,
            stop=FIM_STOPS,
            background=background,
        )
        text = ""
        started = time.perf_counter()
        async with aclosing(backend.fim(request, options)) as stream:
            async for piece in stream:
                text += piece
                if not multiline and "\n" in text:
                    if not opens_block(window, text):
                        text = text.split("\n", 1)[0]
                        break  # one line: what llama.cpp's stop at a newline did
                    multiline = True  # `{` ending the typed line: its body comes too
                if multiline and cut_block(text, window, settings.max_lines).ended:
                    break
        text = after_typed_indent(text, window)
        log.debug(
            "fim %s:%d in %.0f ms, %d context files: %r",
            place.path,
            window.line + 1,
            1000 * (time.perf_counter() - started),
            len(files),
            text,
        )
        return text


def _shown(
    raw: str, window: CursorWindow, settings: CompletionSettings, from_cache: bool
) -> Suggestion | None:
    cleaned = clean(raw, window, settings.max_lines) if raw else None
    if cleaned is None:
        return None
    return Suggestion(cleaned.text, cleaned.replaces_line_suffix, from_cache)
