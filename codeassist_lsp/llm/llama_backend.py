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
import math
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
from codeassist_lsp.llm.llama_engine import LlamaModel, Sampling, Slot, common_prefix
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
FILE_GRID = 32  # lines: the step between the kept windows of a file is a multiple (`file_tiles`)
TILE_ABOVE_TOKENS = 320  # a window holds this much above the lines it serves (the prefix) ...
TILE_BELOW_TOKENS = 128  # ... and this much below them (the suffix)
GIVE_WAY_S = 3.0  # the longest a chat step waits for inline completion (one suggestion)


class Role(Enum):
    """Which warm context a request runs in."""

    CHAT = "chat"
    COMPLETION = "completion"


# Every backend of this process (one per model, `llm.chatModel`): they share its cores.
_BACKENDS: weakref.WeakSet[LlamaCppBackend] = weakref.WeakSet()


def _stop_reads_ahead() -> None:
    """A request to any model stops every backend's `keep_file` and `prime_chat` read at
    once: what the user waits for goes first."""
    for backend in list(_BACKENDS):
        backend._keep_stop.set()
        backend._prime_stop.set()


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
        self._prime_stop = threading.Event()  # ... and `prime_chat`
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
                    file_windows=self._settings.file_cache_windows,
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
        _stop_reads_ahead()

        def produce(stop: threading.Event) -> Iterator[str]:
            model = self._ensure()
            slot = self._slots[Role.CHAT]
            tokens = _chat_tokens(model, slot, messages, options)
            try:
                with _waited_for(options):
                    yield from _decode_text(model, slot, tokens, options, stop, _after_fim(stop))
            finally:
                self._chat_usage = PromptUsage(len(tokens), slot.reused)

        return stream_in_thread(produce, self._executors[Role.CHAT])

    async def prime_chat(
        self, messages: Sequence[Message], options: GenerationOptions = DEFAULT_OPTIONS
    ) -> int:
        self._prime_stop.set()  # one still queued or reading gives way to this one
        stop = self._prime_stop = threading.Event()

        def prime() -> int:
            if stop.is_set():
                return 0
            model = self._ensure()
            slot = self._slots[Role.CHAT]
            tokens = _chat_tokens(model, slot, messages, options)
            started = time.perf_counter()
            with _holding(slot, _after_fim(stop)):
                try:
                    slot.read_ahead(tokens, stop)
                except (ValueError, RuntimeError) as exc:
                    log.warning("could not read the chat prompt ahead: %s", exc)
                held = common_prefix(slot.cached, tokens)
            log.debug(
                "read ahead %d of %d chat prompt tokens in %.1f s%s",
                held - slot.reused,
                len(tokens),
                time.perf_counter() - started,
                " (stopped)" if stop.is_set() else "",
            )
            return held

        return await asyncio.get_running_loop().run_in_executor(self._executors[Role.CHAT], prime)

    def chat_usage(self) -> PromptUsage:
        return self._chat_usage

    def complete(
        self, prompt: str, options: GenerationOptions = DEFAULT_OPTIONS
    ) -> AsyncGenerator[str, None]:
        _stop_reads_ahead()

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
        _stop_reads_ahead()

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
            if not slot.file_limit or tokens is None:
                return 0  # no file cache or no FIM
            # beyond two windows, one is left for the place where the file before was left
            count = slot.file_windows - 1 if slot.file_windows > 2 else slot.file_windows
            tiles = file_tiles(model.tokenize, tokens.prefix, text, line, slot.file_limit, count)
            started, kept = time.perf_counter(), 0
            for tile in tiles:
                if stop.is_set() or _chat_running():
                    break  # a request, or chat has the CPU
                with slot.lock:
                    done = slot.file == tile or slot.remembers(tile)
                    try:
                        if not done:
                            slot.recall_file(tile)
                            done = slot.warm_file(tile, stop)
                            if done:
                                slot.remember_file()
                    except (ValueError, RuntimeError) as exc:
                        log.warning("could not keep the file read: %s", exc)
                        break
                if not done:
                    break
                kept += len(tile)
            with slot.lock:
                slot.touch_file(tiles[0])  # the cursor's window goes last
            log.debug(
                "kept %d tokens of the file in %.1f s (%d windows)%s",
                kept,
                time.perf_counter() - started,
                len(tiles),
                " (stopped by a request)" if stop.is_set() else "",
            )
            return kept

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


def file_tiles(
    tokenize: Callable[[str], list[int]],
    head: str,
    text: str,
    line: int,
    limit: int,
    count: int,
) -> list[list[int]]:
    """Token ids of `head` and the text of up to `count` windows of `limit` tokens that
    tile the file: the cursor's window first, then the nearest. A file that fits is one.

    Windows start on lines that are multiples of a fixed step (itself a multiple of
    `FILE_GRID`), so the same lines give the same windows wherever the cursor is. They
    overlap by half and more, so that every line has one holding the prompt's prefix
    above it (`TILE_ABOVE_TOKENS`) and over half of the window below it: the next place
    asked for is often further down.
    """
    ids = tokenize(head + text)
    if len(ids) <= limit:
        return [ids]
    lines = text.split("\n")
    per_line = len(ids) / max(len(lines), 1)
    above = math.ceil(TILE_ABOVE_TOKENS / per_line)
    spare = int((limit - TILE_ABOVE_TOKENS - TILE_BELOW_TOKENS) / per_line)
    step = max(FILE_GRID, spare // 2 // FILE_GRID * FILE_GRID)  # each line in two windows
    tiles = max(0, len(lines) - 1 - above) // step + 1
    fits = math.ceil(len(lines) - limit / per_line)  # a window from there holds the rest
    tiles = min(tiles, math.ceil(max(0, fits) / step) + 1)
    mine = min(max(0, line - above) // step, tiles - 1)
    order = sorted(range(tiles), key=lambda k: (abs(k - mine), k < mine))[: max(1, count)]
    span = math.ceil(2 * limit / per_line)  # lines enough for `limit` tokens
    return [tokenize(head + "\n".join(lines[k * step : k * step + span]))[:limit] for k in order]


def _chat_tokens(
    model: LlamaModel, slot: Slot, messages: Sequence[Message], options: GenerationOptions
) -> list[int]:
    """The chat prompt's tokens: the model's template over the messages that fit the
    context beside the answer."""
    template = model.chat_template()
    bos, eos = model.special_text("bos"), model.special_text("eos")

    def measure(items: Sequence[Message]) -> int:
        return len(model.tokenize(render_chat(items, template, bos, eos)))

    budget = _prompt_budget(slot.n_ctx, options)
    prompt = render_chat(fit_messages(messages, budget, measure), template, bos, eos)
    add_bos = model.add_bos and not (bos and prompt.startswith(bos))
    return model.tokenize(prompt, add_bos=add_bos)[-budget:]


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
    with _holding(slot, give_way):
        yield from _texts(model, slot, tokens, sampling, options, stop)


@contextmanager
def _holding(slot: Slot, give_way: Callable[[], None] | None) -> Iterator[None]:
    """Hold `slot` for one request; `give_way` runs before each of its model steps."""
    with slot.lock:
        slot.give_way = give_way
        try:
            yield
        finally:
            slot.give_way = None


def _after_fim(stop: threading.Event) -> Callable[[], None]:
    """A chat step's wait for a running fill-in-the-middle (`GIVE_WAY_S` at most)."""
    return lambda: _FIM_RUNNING.wait_none(stop, GIVE_WAY_S)


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
