"""The default backend: llama.cpp in this process, one model, one warm context per role.

The model is loaded lazily, once, on a worker thread. Chat runs in its own context and
inline completion / FIM / raw completion in another, each on its own worker thread, so
neither evicts the other's KV cache and the event loop never runs model code.

The two share the machine's cores, so inline completion goes first: while a fill-in-the-
middle runs, a chat answer waits before its next model step (for `GIVE_WAY_S` at most),
instead of both running at once on the same cores (bench/completion_during_chat.py).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from enum import Enum
from pathlib import Path

from codeassist_lsp import sysinfo
from codeassist_lsp.foreground import MODEL_REQUESTS, Running
from codeassist_lsp.llm import requantize, store
from codeassist_lsp.llm.backend import DEFAULT_OPTIONS
from codeassist_lsp.llm.catalog import find_spec
from codeassist_lsp.llm.chat_format import render_chat
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.llama_engine import LlamaModel, Sampling, Slot
from codeassist_lsp.llm.probe import ensure_loadable
from codeassist_lsp.llm.prompts import fim_prompt, fit_messages
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

RANDOM_SEED = 0xFFFFFFFF
# Completion prompts whose prefix starts some lines lower move the rest of it into place
# (`Slot.reuse_min`, bench/kv_reuse.py); chat and code actions read their prompts again,
# so their answers do not depend on what was asked before.
COMPLETION_REUSE_MIN = 32
FILE_GRID = 32  # lines: where the kept window of a file may start (`file_window`)
GIVE_WAY_S = 3.0  # the longest a chat step waits for inline completion (one suggestion)


class Role(Enum):
    """Which warm context a request runs in."""

    CHAT = "chat"
    COMPLETION = "completion"


# Every backend of this process (one per model, `llm.chatModel`): they share its cores.
_BACKENDS: weakref.WeakSet[LlamaCppBackend] = weakref.WeakSet()


def _stop_file_reads() -> None:
    """A request to any model stops every backend's `keep_file` read at once."""
    for backend in list(_BACKENDS):
        backend._keep_stop.set()


_FIM_RUNNING = Running()  # fill-in-the-middle requests: a chat step waits for them


@contextmanager
def _waited_for(options: GenerationOptions, *also: Running) -> Iterator[None]:
    """Count a request as one a user waits for (`MODEL_REQUESTS`, and `also`), unless it
    is background work."""
    with ExitStack() as counted:
        if not options.background:
            for running in (MODEL_REQUESTS, *also):
                counted.enter_context(running.one())
        yield


def _chat_running() -> bool:
    """Whether any backend is answering a chat (a file read then waits for the next)."""
    return any(
        Role.CHAT in backend._slots and backend._slots[Role.CHAT].lock.locked()
        for backend in list(_BACKENDS)
    )


class LlamaCppBackend:
    """`Backend` over llama-cpp-python's low-level API (see `llama_engine`)."""

    def __init__(self, settings: LLMSettings, data_dir: Path) -> None:
        self._settings = settings
        self._data_dir = data_dir
        self._threads = settings.threads or sysinfo.physical_cores()
        spec = find_spec(settings.model)
        self._info = ModelInfo(
            name=spec.name if spec else Path(settings.model).stem,
            backend="llama_cpp",
            context_length=settings.context_size,
            fim=spec.fim if spec else False,
        )
        self._lock = threading.Lock()
        self._model: LlamaModel | None = None
        self._slots: dict[Role, Slot] = {}
        self._error: ModelUnavailable | None = None
        self._chat_usage = PromptUsage()
        self._keep_stop = threading.Event()  # set by every request: stops `keep_file`
        self._executors = {
            role: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llm-{role.value}")
            for role in Role
        }
        _BACKENDS.add(self)

    def _ensure(self) -> LlamaModel:
        """Load the model and make both contexts, once; later calls return it at once."""
        with self._lock:
            if self._model is not None:
                return self._model
            if self._error is not None:
                raise self._error
            try:
                self._model = self._load()
            except ModelUnavailable as exc:
                self._error = exc
                raise
            return self._model

    def _load(self) -> LlamaModel:
        chosen = store.prepare(self._settings.model, self._data_dir)
        # "completion" is the server's to resolve: it gives inline completion a backend
        # of its own with "all"; any other backend (chat's, the CLI's) keeps the original
        if self._settings.requantize == "all":
            chosen = requantize.fast_model(chosen, self._data_dir, self._threads)
        if chosen.spec is None:
            ensure_loadable(chosen.path, store.cache_file(self._data_dir))
        try:
            model = LlamaModel(chosen.path)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(
                f"llama.cpp cannot load {chosen.path.name}: not a model this build can run"
            ) from exc
        try:
            n_ctx = min(self._settings.context_size, model.n_ctx_train)
            n_completion = min(self._settings.completion_context_size, n_ctx)
            room = model.n_ctx_train - n_completion
            file_tokens = max(0, min(self._settings.file_cache_tokens, room))
            self._slots = {
                Role.CHAT: model.new_slot(n_ctx, self._threads),
                Role.COMPLETION: model.new_slot(
                    n_completion,
                    self._threads,
                    reuse_min=COMPLETION_REUSE_MIN,
                    file_tokens=file_tokens,
                ),
            }
        except (ValueError, RuntimeError) as exc:
            model.close()
            raise ModelUnavailable(f"cannot make a context for {chosen.name}: {exc}") from exc
        self._info = ModelInfo(chosen.name, "llama_cpp", n_ctx, model.fim_tokens() is not None)
        log.info("loaded %s (%s), %d threads", chosen.path, model.description(), self._threads)
        return model

    async def load(self) -> ModelInfo:
        await asyncio.to_thread(self._ensure)
        return self._info

    def info(self) -> ModelInfo:
        return self._info

    def count_tokens(self, text: str) -> int:
        return len(self._ensure().tokenize(text))

    def loaded_counter(self) -> Callable[[str], int] | None:
        return self.count_tokens if self._model is not None else None

    def chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        _stop_file_reads()

        def produce(stop: threading.Event) -> Iterator[str]:
            model = self._ensure()
            slot = self._slots[Role.CHAT]
            template = model.chat_template()
            bos, eos = model.special_text("bos"), model.special_text("eos")

            def measure(items: Sequence[Message]) -> int:
                return len(model.tokenize(render_chat(items, template, bos, eos)))

            budget = _prompt_budget(slot.n_ctx, options)
            prompt = render_chat(fit_messages(messages, budget, measure), template, bos, eos)
            add_bos = model.add_bos and not (bos and prompt.startswith(bos))
            tokens = model.tokenize(prompt, add_bos=add_bos)[-budget:]

            def give_way() -> None:
                _FIM_RUNNING.wait_none(stop, GIVE_WAY_S)

            try:
                with _waited_for(options):
                    yield from _decode_text(model, slot, tokens, options, stop, give_way)
            finally:
                self._chat_usage = PromptUsage(len(tokens), slot.reused)

        return stream_in_thread(produce, self._executors[Role.CHAT])

    def chat_usage(self) -> PromptUsage:
        return self._chat_usage

    def complete(
        self, prompt: str, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        _stop_file_reads()

        def produce(stop: threading.Event) -> Iterator[str]:
            model = self._ensure()
            slot = self._slots[Role.COMPLETION]
            tokens = model.tokenize(prompt, add_bos=model.add_bos)
            with _waited_for(options):
                yield from _decode_text(
                    model, slot, tokens[-_prompt_budget(slot.n_ctx, options) :], options, stop
                )

        return stream_in_thread(produce, self._executors[Role.COMPLETION])

    def fim(
        self, request: FimRequest, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        _stop_file_reads()

        def produce(stop: threading.Event) -> Iterator[str]:
            model = self._ensure()
            tokens = model.fim_tokens()
            if tokens is None:
                raise BackendError(f"model {self._info.name} cannot fill in the middle")
            slot = self._slots[Role.COMPLETION]
            budget = min(_prompt_budget(slot.n_ctx, options), self._settings.fim_prompt_tokens)

            def count(text: str) -> int:
                return len(model.tokenize(text))

            ids = model.tokenize(fim_prompt(request, tokens, budget, count))
            with _waited_for(options, _FIM_RUNNING):
                yield from _decode_text(model, slot, ids, options, stop)
            log.debug("fim: %d prompt tokens, %d of them cached", len(ids), slot.reused)

        return stream_in_thread(produce, self._executors[Role.COMPLETION])

    async def keep_file(self, text: str, line: int) -> int:
        self._keep_stop.set()  # one that is still queued gives way to this one
        stop = self._keep_stop = threading.Event()

        def keep() -> int:
            model = self._ensure()
            slot = self._slots[Role.COMPLETION]
            tokens = model.fim_tokens()
            if not slot.file_limit or tokens is None or _chat_running():
                return 0  # no file cache, no FIM, or chat has the CPU
            text_ids = file_window(model.tokenize, tokens.prefix, text, line, slot.file_limit)
            started = time.perf_counter()
            with slot.lock:
                try:
                    done = slot.warm_file(text_ids, stop)
                except (ValueError, RuntimeError) as exc:
                    log.warning("could not keep the file read: %s", exc)
                    return 0
            log.debug(
                "kept %d of %d file tokens in %.1f s%s",
                len(slot.file),
                len(text_ids),
                time.perf_counter() - started,
                "" if done else " (stopped by a request)",
            )
            return len(slot.file)

        return await asyncio.get_running_loop().run_in_executor(
            self._executors[Role.COMPLETION], keep
        )

    async def close(self) -> None:
        self._keep_stop.set()

        def shutdown() -> None:
            for executor in self._executors.values():
                executor.shutdown(wait=True)
            with self._lock:
                if self._model is not None:
                    self._model.close()
                    self._model = None

        await asyncio.to_thread(shutdown)


def file_window(
    tokenize: Callable[[str], list[int]], head: str, text: str, line: int, limit: int
) -> list[int]:
    """Token ids of `head` and the text from a line on a grid of 32, chosen so that about a
    third of `limit` lies above `line` when the whole file does not fit; cut to `limit`.

    The start moves only when the cursor moves far, and a moved start costs only the
    moves of cells (`Slot.warm_file`), not a new read.
    """
    ids = tokenize(head + text)
    if len(ids) <= limit:
        return ids
    lines = text.split("\n")
    per_line = len(ids) / max(len(lines), 1)
    above = int(limit / 3 / per_line)
    start = max(0, line - above) // FILE_GRID * FILE_GRID
    return tokenize(head + "\n".join(lines[start:]))[:limit]


def _prompt_budget(n_ctx: int, options: GenerationOptions) -> int:
    """Prompt tokens that leave room for the answer (at least a quarter of the context)."""
    return max(n_ctx - options.max_tokens - 1, n_ctx // 4)


def _decode_text(
    model: LlamaModel,
    slot: Slot,
    tokens: list[int],
    options: GenerationOptions,
    stop: threading.Event,
    give_way: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Generate in `slot` and turn token ids into text, honouring max_tokens and stops;
    `give_way` runs before each model step."""
    sampling = Sampling(temperature=options.temperature, seed=RANDOM_SEED)
    with slot.lock:
        slot.give_way = give_way
        try:
            yield from _texts(model, slot, tokens, sampling, options, stop)
        finally:
            slot.give_way = None


def _texts(
    model: LlamaModel,
    slot: Slot,
    tokens: list[int],
    sampling: Sampling,
    options: GenerationOptions,
    stop: threading.Event,
) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    matcher = StopMatcher(options.stop)
    produced = 0
    try:
        for token in slot.generate(tokens, sampling, stop, options.prompt_lookup):
            text = matcher.feed(decoder.decode(model.piece(token)))
            if text:
                yield text
            produced += 1
            if matcher.stopped or produced >= options.max_tokens:
                break
    except (ValueError, RuntimeError) as exc:
        raise BackendError(f"generation failed: {exc}") from exc
    tail = matcher.feed(decoder.decode(b"", final=True)) + matcher.flush()
    if tail:
        yield tail
