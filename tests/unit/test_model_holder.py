"""One backend per model in use: chat and completion share it unless `llm.chatModel` names
another model; a change of `llm.*` closes them. Backends are `FakeBackend`s (a fake model
for unit tests)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from codeassist_lsp.config import Settings
from codeassist_lsp.features.model import ModelHolder
from codeassist_lsp.llm.fake import FakeBackend


def holder(settings: Settings) -> tuple[ModelHolder, list[str]]:
    made: list[str] = []

    def factory(given: Settings) -> FakeBackend:
        made.append(given.llm.model)
        return FakeBackend()

    ctx: Any = SimpleNamespace(settings=settings, backend_factory=factory)
    return ModelHolder(ctx), made


def test_chat_and_completion_share_one_backend_by_default() -> None:
    models, made = holder(Settings())
    assert models.get("chat") is models.get("completion")
    assert made == ["qwen2.5-coder-0.5b"]


def test_a_chat_model_gets_its_own_backend_and_completion_keeps_the_model() -> None:
    settings = Settings()
    settings.llm = dataclasses.replace(settings.llm, chat_model="qwen2.5-coder-1.5b")
    models, made = holder(settings)
    chat, completion = models.get("chat"), models.get("completion")
    assert chat is not completion and models.get() is chat
    assert made == ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]


def test_changed_model_settings_close_every_backend() -> None:
    settings = Settings()
    settings.llm = dataclasses.replace(settings.llm, chat_model="qwen2.5-coder-1.5b")
    models, made = holder(settings)
    first = models.get("chat"), models.get("completion")
    changed = dataclasses.replace(settings, llm=dataclasses.replace(settings.llm, chat_model=""))
    models._ctx.settings = changed  # what lifecycle does before it calls the hook
    models.on_settings(changed)
    shared = models.get("chat")
    assert shared is models.get("completion") and shared not in first
    assert made[-1] == "qwen2.5-coder-0.5b" and len(made) == 3


def test_a_request_after_a_settings_change_does_not_wait_for_the_hook() -> None:
    models, made = holder(Settings())
    first = models.get("completion")
    changed = Settings()
    changed.llm = dataclasses.replace(changed.llm, threads=1)
    models._ctx.settings = changed  # the hook has not run yet
    second = models.get("completion")
    assert second is not first and len(made) == 2
    models.on_settings(changed)  # nothing left to close twice
    assert models.get("completion") is second


def test_faster_weights_for_completion_alone_give_it_a_backend_of_its_own() -> None:
    settings = Settings()
    settings.llm = dataclasses.replace(settings.llm, requantize="completion")
    weights: list[str] = []

    def factory(given: Settings) -> FakeBackend:
        weights.append(f"{given.llm.model} {given.llm.requantize}")
        return FakeBackend()

    models = ModelHolder(SimpleNamespace(settings=settings, backend_factory=factory))
    chat, completion = models.get("chat"), models.get("completion")
    assert chat is not completion and models.get("completion") is completion
    assert weights == ["qwen2.5-coder-0.5b off", "qwen2.5-coder-0.5b all"]
    settings.llm = dataclasses.replace(settings.llm, requantize="all")
    models.on_settings(settings)
    assert models.get("chat") is models.get("completion")
    assert weights[-1] == "qwen2.5-coder-0.5b all" and len(weights) == 3
