"""A backend for any OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama).

Standard library only: `http.client` streams Server-Sent Events on a worker thread; the
reader stops at the next event after the stream is closed and drops the connection, which
tells the server to stop generating. Token counts are estimates (the remote tokenizer is
not at hand): about three characters per token, erring on the long side.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import math
import threading
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from codeassist_lsp.llm.backend import DEFAULT_OPTIONS
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.prompts import QWEN_FIM, fim_prompt
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.stops import StopMatcher
from codeassist_lsp.llm.threadstream import stream_in_thread
from codeassist_lsp.llm.types import (
    FimRequest,
    GenerationOptions,
    Message,
    ModelInfo,
    PromptUsage,
)

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.0
DONE = "[DONE]"


def parse_sse_line(line: str) -> dict[str, Any] | str | None:
    """One SSE line: the JSON of a `data:` event, DONE at the end marker, else None."""
    line = line.strip()
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == DONE:
        return DONE
    try:
        event = json.loads(payload)
    except ValueError:
        log.debug("skipping a non-JSON event: %.80s", payload)
        return None
    return event if isinstance(event, dict) else None


def event_text(event: dict[str, Any]) -> str:
    """The text an event adds: `delta.content` (chat) or `text` (completions)."""
    if "error" in event:
        error = event["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise BackendError(f"model server error: {message}")
    choices = event.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    delta = choice.get("delta")
    if isinstance(delta, dict):
        return str(delta.get("content") or "")
    return str(choice.get("text") or "")


class OpenAIBackend:
    """`Backend` over `/v1/chat/completions` and `/v1/completions` with SSE streaming."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.openai_url:
            raise ModelUnavailable("backend 'openai' needs llm.openaiUrl (the server's URL)")
        parts = urlsplit(settings.openai_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ModelUnavailable(f"llm.openaiUrl is not an http(s) URL: {settings.openai_url}")
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._base = parts.path if parts.path.endswith("/v1") else parts.path + "/v1"
        self._settings = settings
        self._model = settings.openai_model
        self._info = ModelInfo(
            name=self._model or "remote",
            backend="openai",
            context_length=settings.context_size,
            fim=settings.openai_fim,
        )
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm-http")

    def _connection(self) -> http.client.HTTPConnection:
        timeout = self._settings.request_timeout
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._netloc, timeout=timeout)
        return http.client.HTTPConnection(self._netloc, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._settings.openai_api_key:
            headers["Authorization"] = f"Bearer {self._settings.openai_api_key}"
        return headers

    def _open(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connection()
        url = f"{self._scheme}://{self._netloc}{self._base}{path}"
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, self._base + path, body=data, headers=self._headers())
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ModelUnavailable(f"cannot reach the model server at {url}: {exc}") from exc
        if response.status >= 400:
            detail = response.read(2000).decode(errors="replace").strip()
            conn.close()
            if response.status in (401, 403):
                raise ModelUnavailable(f"the model server at {url} refused the API key")
            raise BackendError(f"model server answered HTTP {response.status}: {detail[:200]}")
        return conn, response

    def _pick_model(self) -> None:
        conn, response = self._open("GET", "/models", None)
        try:
            listing = json.loads(response.read().decode() or "{}")
        except ValueError as exc:
            raise ModelUnavailable("the model server's /v1/models answer is not JSON") from exc
        finally:
            conn.close()
        ids = [m.get("id") for m in listing.get("data", []) if isinstance(m, dict)]
        if not self._model:
            if not ids:
                raise ModelUnavailable("the model server lists no models")
            self._model = str(ids[0])
            self._info = ModelInfo(self._model, "openai", self._info.context_length, self._info.fim)

    async def load(self) -> ModelInfo:
        await asyncio.to_thread(self._pick_model)
        return self._info

    def info(self) -> ModelInfo:
        return self._info

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def loaded_counter(self) -> Callable[[str], int] | None:
        return None  # the server's tokenizer is not here

    def _body(self, options: GenerationOptions, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "stream": True,
            **fields,
        }
        if self._model:
            body["model"] = self._model
        if options.stop:
            body["stop"] = list(options.stop)[:4]
        return body

    def _stream(
        self, path: str, make_body: Callable[[], dict[str, Any]], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        def produce(stop: threading.Event) -> Iterator[str]:
            conn, response = self._open("POST", path, make_body())
            matcher = StopMatcher(options.stop)
            try:
                while not stop.is_set():
                    raw = response.readline()
                    if not raw:
                        break
                    event = parse_sse_line(raw.decode("utf-8", errors="replace"))
                    if event == DONE:
                        break
                    if isinstance(event, dict):
                        text = matcher.feed(event_text(event))
                        if text:
                            yield text
                        if matcher.stopped:
                            break
                if tail := matcher.flush():
                    yield tail
            except (OSError, http.client.HTTPException) as exc:
                raise BackendError(f"the model server's stream broke off: {exc}") from exc
            finally:
                conn.close()

        return stream_in_thread(produce, self._executor)

    def chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        wire = [{"role": m.role, "content": m.content} for m in messages]
        return self._stream(
            "/chat/completions", lambda: self._body(options, messages=wire), options
        )

    def chat_usage(self) -> PromptUsage:
        return PromptUsage()  # the stream does not report it

    def complete(
        self, prompt: str, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        return self._stream("/completions", lambda: self._body(options, prompt=prompt), options)

    async def keep_file(self, text: str, line: int) -> int:
        """The server keeps its own cache; nothing to do here."""
        return 0

    async def prime_chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> int:
        """The server keeps its own cache; nothing to do here."""
        return 0

    def fim(
        self, request: FimRequest, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        def body() -> dict[str, Any]:
            if not self._info.fim:
                raise BackendError(
                    f"model {self._info.name} is not set up for fill-in-the-middle "
                    "(set llm.openaiFim for Qwen-style FIM models)"
                )
            budget = min(
                max(self._settings.completion_context_size - options.max_tokens, 256),
                self._settings.fim_prompt_tokens,
            )
            prompt = fim_prompt(request, QWEN_FIM, budget, self.count_tokens)
            return self._body(options, prompt=prompt)

        return self._stream("/completions", body, options)

    async def close(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, True)
