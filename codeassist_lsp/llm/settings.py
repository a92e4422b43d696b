"""Settings of the model engine (a branch of `codeassist_lsp.config.Settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Purpose = Literal["chat", "completion"]
REQUANTIZE = ("off", "completion", "all")


@dataclass
class LLMSettings:
    """Which backend and model to use, and how to run it.

    `model` (and `chat_model`) is a tier name (`codeassist models list`), a pulled model's
    name or a GGUF path.
    The chat context holds conversations; the smaller completion context serves inline
    completion and rewrites, so the two keep their own KV caches warm. With
    `backend = "openai"`, `openai_url` is the server's base URL (with or without `/v1`).
    """

    backend: str = "llama_cpp"
    model: str = "qwen2.5-coder-0.5b"
    # chat, code actions, hover and review may use a larger model than inline completion,
    # which must keep up with typing; "" means `model` for everything
    chat_model: str = ""
    threads: int = 0  # 0: one per physical core
    context_size: int = 4096
    completion_context_size: int = 2048
    fim_prompt_tokens: int = 1024  # prompt processing is the cost: ~6 s per 1,000 on 2 cores
    # tokens of the file being completed kept read in the completion context (on top of
    # `completion_context_size`), around the last completion: bench/warm_file.py
    file_cache_tokens: int = 2048
    # windows of that size remembered while the editor is idle: the cursor's, then the
    # nearest, and those of files completed in before (~24 MB each for the 0.5B)
    file_cache_windows: int = 4
    # which purposes load a packaged model's faster copy for llama.cpp's CPU kernels where
    # it has one (`requantize.py`, made once): "off", "completion" (inline completion
    # only) or "all". Faster prompts; chat cited its sources less often with it (README)
    requantize: str = field(default="off", metadata={"choices": REQUANTIZE})
    openai_url: str = ""
    openai_model: str = ""
    openai_api_key: str = ""
    openai_fim: bool = False  # the remote model knows Qwen-style FIM tokens
    request_timeout: float = 120.0

    def model_for(self, purpose: Purpose) -> str:
        """The model that serves `purpose`."""
        return self.chat_model if purpose == "chat" and self.chat_model else self.model

    def fast_weights(self, purpose: Purpose) -> bool:
        """Whether `purpose` runs on the model's faster copy (`requantize`)."""
        return self.requantize == "all" or (
            self.requantize == "completion" and purpose == "completion"
        )
