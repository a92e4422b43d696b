"""The hover's model explanation: made in the background, cached by content, never waited
for longer than the budget. `FakeBackend` (a scripted fake model) stands in for the model."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from lsprotocol import types

from codeassist_lsp.features.hover import with_explanation
from codeassist_lsp.features.hover_explain import HoverExplainer, Subject
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.fake import FakeBackend

SUBJECT = Subject("lib.py", "python", "def helper(x):\n    return x + 1")


def _explainer(backend: Any) -> HoverExplainer:
    def get() -> Any:
        if isinstance(backend, Exception):
            raise backend
        return backend

    ctx = SimpleNamespace(backend=get)
    return HoverExplainer(ctx)  # type: ignore[arg-type]


async def test_the_first_hover_does_not_wait_and_a_later_one_finds_it_cached() -> None:
    backend = FakeBackend("Adds one to x. Used by the parser.", delay=0.1)
    explainer = _explainer(backend)
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await explainer.explanation(SUBJECT, 0.05) is None
    assert loop.time() - start < 0.3
    for _ in range(100):  # the background task finishes on its own
        text = await explainer.explanation(SUBJECT, 0.05)
        if text:
            break
        await asyncio.sleep(0.05)
    assert text == "Adds one to x. Used by the parser."
    assert len(backend.prompts) == 1  # made once, then served from the cache
    assert "def helper(x)" in backend.prompts[0]


async def test_changed_code_is_explained_again() -> None:
    backend = FakeBackend("It works.")
    explainer = _explainer(backend)
    assert await explainer.explanation(SUBJECT, 1.0) == "It works."
    changed = Subject(SUBJECT.path, SUBJECT.language, SUBJECT.code.replace("1", "2"))
    assert changed.key != SUBJECT.key
    assert await explainer.explanation(changed, 1.0) == "It works."
    assert len(backend.prompts) == 2


async def test_a_missing_model_leaves_the_facts_alone() -> None:
    explainer = _explainer(ModelUnavailable("model file not found: x.gguf"))
    assert await explainer.explanation(SUBJECT, 1.0) is None


def test_the_explanation_goes_under_the_facts() -> None:
    facts = types.Hover(contents=types.MarkupContent(kind="markdown", value="```py\nf()\n```"))
    shown = with_explanation(facts, "Adds one.")
    assert isinstance(shown.contents, types.MarkupContent)
    assert shown.contents.value.endswith("---\n\n*CodeAssist:* Adds one.")
