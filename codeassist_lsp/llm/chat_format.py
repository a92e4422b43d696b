"""Render a conversation into the prompt text a model was trained on.

The model's own Jinja chat template (from its GGUF) is used when it renders; otherwise
ChatML, which both packaged model families (Qwen2.5, SmolLM2) use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from codeassist_lsp.llm.types import Message

log = logging.getLogger(__name__)


def chatml(messages: Sequence[Message]) -> str:
    """ChatML with the assistant turn opened."""
    turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


@lru_cache(maxsize=4)
def _compile(template: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.globals["raise_exception"] = _raise
    return env.from_string(template)


def render_chat(
    messages: Sequence[Message], template: str | None, bos: str = "", eos: str = ""
) -> str:
    """The prompt for `messages`, ending where the assistant's answer starts."""
    if template:
        data: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return _compile(template).render(
                messages=data, add_generation_prompt=True, bos_token=bos, eos_token=eos
            )
        except jinja2.TemplateError as exc:
            log.warning("the model's chat template failed (%s); using ChatML", exc)
    return chatml(messages)
