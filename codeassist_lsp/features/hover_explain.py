"""A one- or two-sentence model explanation under the hover's facts (`hover.explain`).

The facts never wait for the model longer than `hover.explainBudgetMs`: the explanation is
made in the background, cached by the content hash of the definition's code, and shown on
the first hover that finds it ready. One explanation is made at a time per definition;
the cache keeps the most recent few hundred.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

from lsprotocol import types

from codeassist_lsp.chat.code_tasks import collect
from codeassist_lsp.chat.tasks import hover_messages
from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.feature import Feature
from codeassist_lsp.features.source_lines import cursor_at
from codeassist_lsp.index.languages import language_for_path
from codeassist_lsp.llm.errors import LLMError
from codeassist_lsp.llm.types import GenerationOptions

log = logging.getLogger(__name__)

CACHED = 512
MAX_CODE_LINES = 60  # a longer definition is explained from its head
OPTIONS = GenerationOptions(max_tokens=60, temperature=0.0, stop=("\n\n",))


@dataclass(frozen=True)
class Subject:
    """The definition a hover is about, and its code."""

    path: str
    language: str
    code: str

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.path}\0{self.code}".encode()).hexdigest()


def subject_at(ctx: ServerContext, uri: str, position: types.Position) -> Subject | None:
    """The definition under the cursor with its code, as hover finds it (on a worker)."""
    cursor = cursor_at(ctx, uri, position)
    found = cursor.definitions() if cursor is not None else []
    if cursor is None or not found:
        return None
    path, sym = found[0]
    last = min(sym.end_line, sym.start_line + MAX_CODE_LINES - 1)
    lines = [cursor.lines.line(path, n) for n in range(sym.start_line, last + 1)]
    code = "\n".join(line for line in lines if line is not None)
    if not code.strip():
        return None
    return Subject(path, language_for_path(path) or "", code)


class HoverExplainer(Feature):
    """Explanations by content hash, made in the background."""

    name = "hover-explain"

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._done: OrderedDict[str, str] = OrderedDict()
        self._running: dict[str, asyncio.Task[str]] = {}

    async def explanation(self, subject: Subject, budget: float) -> str | None:
        """The explanation if it is ready within `budget` seconds, else None (it goes on
        being made, for the next hover)."""
        key = subject.key
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        task = self._running.get(key)
        if task is None:
            task = self._running[key] = asyncio.create_task(self._make(key, subject))
        try:
            return await asyncio.wait_for(asyncio.shield(task), budget) or None
        except TimeoutError:
            return None
        except Exception:
            log.exception("explaining %s for hover failed", subject.path)
            return None

    async def _make(self, key: str, subject: Subject) -> str:
        try:
            backend = self.ctx.backend()
            messages = hover_messages(subject.language, subject.path, subject.code)
            text = " ".join((await collect(backend.chat(messages, OPTIONS))).split())
        except LLMError as exc:
            log.info("no hover explanation: %s", exc)
            text = ""
        finally:
            self._running.pop(key, None)
        if text:
            self._done[key] = text
            while len(self._done) > CACHED:
                self._done.popitem(last=False)
        return text

    def on_shutdown(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
