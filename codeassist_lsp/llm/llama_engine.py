"""A thin layer over llama.cpp's C API (through llama-cpp-python's low-level bindings).

Why not `llama_cpp.Llama`: each `Llama` owns its model, so two warm contexts (chat and
completion) would load the weights twice (measured: 1.2 GB vs 0.65 GB RSS on the 0.5B),
its prompt evaluation cannot be interrupted, and its prompt-lookup decoding needs logits
for every prompt token. Here one model is loaded once (mmap) and any number of
`Slot`s (contexts, each with its own KV cache) run on it; prompts are evaluated in
chunks that check a stop event, and prompt-lookup drafts need logits for drafts only.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

from codeassist_lsp.llm.prompts import FimTokens

log = logging.getLogger(__name__)
_native_log = logging.getLogger(f"{__name__}.native")

_LOG_LEVELS = {3: logging.INFO, 4: logging.WARNING}  # ggml: 1 debug, 2 info, 5 continued


# what llama.cpp says when `Slot._abortable` stops a batch (ggml status 1 and
# llama_decode's 2 are "aborted")
_ABORTED = ("failed with error 1", "compute status: 1", "failed to decode, ret = 2")


@llama_cpp.llama_log_callback
def _forward_native_log(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
    """llama.cpp's own log lines go to Python logging, never to stdout (the LSP channel)."""
    if _native_log.isEnabledFor(logging.DEBUG) or level in _LOG_LEVELS:
        message = text.decode(errors="replace").rstrip()
        if message:
            asked = message.endswith(_ABORTED)
            _native_log.log(
                logging.DEBUG if asked else _LOG_LEVELS.get(level, logging.DEBUG), "%s", message
            )


_init_lock = threading.Lock()
_initialized = False


def init_backend() -> None:
    """Start llama.cpp once per process, its log lines routed to Python logging."""
    global _initialized
    with _init_lock:
        if not _initialized:
            llama_cpp.llama_log_set(_forward_native_log, ctypes.c_void_p(0))
            llama_cpp.llama_backend_init()
            _initialized = True


@dataclass(frozen=True)
class Sampling:
    """Sampler settings of one request; temperature 0 means greedy."""

    temperature: float = 0.2
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    seed: int = 0


class LlamaModel:
    """One GGUF loaded once (mmap'd weights), shared by all slots."""

    def __init__(self, path: Path) -> None:
        init_backend()
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not model:
            raise ValueError(f"llama.cpp could not load {path}")
        self._model = model
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self.n_ctx_train = int(llama_cpp.llama_model_n_ctx_train(model))
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))
        self._lock = threading.Lock()
        self._slots: list[Slot] = []

    def description(self) -> str:
        buf = ctypes.create_string_buffer(256)
        llama_cpp.llama_model_desc(self._model, buf, len(buf))
        return buf.value.decode(errors="replace")

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        """Token ids of `text`; `special` parses control tokens like <|im_start|>."""
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buf = (llama_cpp.llama_token * capacity)()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buf, capacity, add_bos, special)
        if n < 0:
            capacity = -n
            buf = (llama_cpp.llama_token * capacity)()
            n = llama_cpp.llama_tokenize(
                self.vocab, data, len(data), buf, capacity, add_bos, special
            )
        return list(buf[:n])

    def piece(self, token: int) -> bytes:
        """The bytes a token stands for; control tokens give nothing."""
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def is_eog(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def token_text(self, token: int) -> str:
        return (llama_cpp.llama_vocab_get_text(self.vocab, token) or b"").decode(errors="replace")

    def fim_tokens(self) -> FimTokens | None:
        """The model's fill-in-the-middle tokens, or None when it has none."""
        ids = [
            llama_cpp.llama_vocab_fim_pre(self.vocab),
            llama_cpp.llama_vocab_fim_suf(self.vocab),
            llama_cpp.llama_vocab_fim_mid(self.vocab),
        ]
        if any(t < 0 for t in ids):
            return None
        repo = llama_cpp.llama_vocab_fim_rep(self.vocab)
        sep = llama_cpp.llama_vocab_fim_sep(self.vocab)
        prefix, suffix, middle = (self.token_text(t) for t in ids)
        return FimTokens(
            prefix,
            suffix,
            middle,
            repo_name=self.token_text(repo) if repo >= 0 else "",
            file_sep=self.token_text(sep) if sep >= 0 else "",
        )

    def chat_template(self) -> str | None:
        raw = llama_cpp.llama_model_chat_template(self._model, None)
        return raw.decode(errors="replace") if raw else None

    def special_text(self, which: str) -> str:
        """Text of the BOS or EOS token ("bos"/"eos"), for chat templates."""
        token = (
            llama_cpp.llama_vocab_bos(self.vocab)
            if which == "bos"
            else llama_cpp.llama_vocab_eos(self.vocab)
        )
        return self.token_text(token) if token >= 0 else ""

    def new_slot(
        self,
        n_ctx: int,
        threads: int,
        n_batch: int = 128,
        reuse_min: int = 0,
        file_tokens: int = 0,
        file_windows: int = 1,
    ) -> Slot:
        """A new context with its own KV cache on the shared weights (`Slot.reuse_min`,
        `Slot.warm_file`)."""
        with self._lock:
            if self._model is None:
                raise RuntimeError("model is closed")
            slot = Slot(
                self, self._model, n_ctx, threads, n_batch, reuse_min, file_tokens, file_windows
            )
            self._slots.append(slot)
            return slot

    def close(self) -> None:
        with self._lock:
            for slot in self._slots:
                slot.close()
            self._slots.clear()
            if self._model is not None:
                llama_cpp.llama_model_free(self._model)
                self._model = None


def find_draft(history: Sequence[int], max_ngram: int = 3, n_draft: int = 10) -> list[int]:
    """Prompt-lookup drafting: the tokens that followed the latest earlier occurrence of the
    last n-gram (longest n first). Output that copies its input gets long drafts."""
    size = len(history)
    for n in range(min(max_ngram, size - 1), 0, -1):
        tail = list(history[size - n :])
        for start in range(size - n - 1, -1, -1):
            if list(history[start : start + n]) == tail:
                follow = list(history[start + n : start + n + n_draft])
                if follow:
                    return follow
    return []


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens `a` and `b` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def longest_run(cache: Sequence[int], tokens: Sequence[int], start: int) -> tuple[int, int]:
    """Where in `cache` (at index `start` or later) the longest run of `tokens[start:]`'s
    first tokens begins, and its length; (start, 0) when none."""
    best_at, best_n = start, 0
    if start >= len(tokens):
        return best_at, best_n
    first = tokens[start]
    for at in range(start, len(cache)):
        if len(cache) - at <= best_n:
            break  # no later run can be longer
        if cache[at] != first:
            continue
        n = 1
        while (
            at + n < len(cache) and start + n < len(tokens) and cache[at + n] == tokens[start + n]
        ):
            n += 1
        if n > best_n:
            best_at, best_n = at, n
    return best_at, best_n


def _first_run(
    old: Sequence[int], new: Sequence[int], start: int, size: int
) -> tuple[int, int, int]:
    """The first run of at least `size` tokens of `old[start:]` that `new[start:]` has:
    (where it is in old, where in new, its length); (start, start, 0) when none."""
    if size <= 0 or len(old) - start < size:
        return start, start, 0
    where: dict[tuple[int, ...], int] = {}
    for j in range(len(new) - size, start - 1, -1):
        where[tuple(new[j : j + size])] = j  # the first place wins
    for i in range(start, len(old) - size + 1):
        j = where.get(tuple(old[i : i + size]), -1)
        if j >= 0:
            n = size
            while i + n < len(old) and j + n < len(new) and old[i + n] == new[j + n]:
                n += 1
            return i, j, n
    return start, start, 0


_NO_ABORT = llama_cpp.ggml_abort_callback(0)  # a NULL callback: llama.cpp never asks


@dataclass
class _Window:
    """A window of a file read before (`Slot.remember_file`): its tokens and its cells."""

    tokens: list[int]
    state: ctypes.Array[ctypes.c_uint8]


def _same_start(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether two windows start on the same line (one may be an edit of the other)."""
    return common_prefix(a[:SAME_START], b[:SAME_START]) >= min(SAME_START, len(a), len(b))


def _file_run(file: Sequence[int], prompt: Sequence[int]) -> tuple[int, int, int, int]:
    """How a prompt (its last token aside) can use a file's cells: their common start,
    then the longest run of what follows, which may start up to `RUN_SKIP` prompt tokens
    later: (common start, skipped tokens, where the run is in the file, its length)."""
    last = len(prompt) - 1
    head = common_prefix(file, prompt[:last])
    skip, at, n = 0, head, 0
    for tried in range(RUN_SKIP + 1):
        found_at, found = longest_run(file, prompt[:last], head + tried)
        if found > n:
            skip, at, n = tried, found_at, found
    return head, skip, at, n


class _Stopped(Exception):
    """llama.cpp gave up a batch because `Slot._abortable`'s event was set."""


RUN_SKIP = 4  # prompt tokens a shared run of the file may start after (`_share_file`)
SAME_START = 16  # leading tokens two windows of a file share when they start on one line
RECALL_GAIN = 16  # prompt tokens a remembered window must hold beyond the live one
FILE_SEQ = 0  # with `file_tokens`, sequence 0 holds the current file ...
WORK_SEQ = 1  # ... and requests run in sequence 1, on cells copied from it


class Slot:
    """A llama.cpp context that remembers which tokens its KV cache holds.

    A new prompt reuses the longest common prefix with what is cached, so a stable start
    (system prompt, repository context) costs nothing the second time. With `reuse_min`
    set, runs of at least that many cached tokens that the prompt repeats further on are
    then moved into place (llama.cpp's `--cache-reuse`): a completion prefix that starts
    some lines lower is not read again. Moved cells were computed beside text that is gone,
    so answers then depend on what was asked before; 0 (the default) never moves.

    With `file_tokens`, the slot also keeps that much of a file (`warm_file`, read while the
    editor is idle) in a sequence of its own. A prompt whose text is a run of that file
    shares its cells (`llama_memory_seq_cp`, no copy in a unified KV cache) at the
    positions the file has them, so a completion anywhere in a warm file reads only the
    cursor's line and what follows it. The cells of the file that the prompt skips are
    masked out, as if the positions in between held nothing.

    With `file_windows` above 1, the cells of each window read are also copied out
    (`remember_file`, ~12 KB a token for the 0.5B), up to that many windows: a prompt that
    another remembered window holds more of than the live one brings it back
    (`llama_state_seq_set_data`, milliseconds) instead of reading its text again.
    """

    def __init__(
        self,
        model: LlamaModel,
        handle: object,
        n_ctx: int,
        threads: int,
        n_batch: int,
        reuse_min: int = 0,
        file_tokens: int = 0,
        file_windows: int = 1,
    ) -> None:
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx + file_tokens  # the file's cells come on top of the request's
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = 2 if file_tokens else 1
        params.kv_unified = True
        params.n_threads = threads
        params.n_threads_batch = threads
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(handle, params)
        if not ctx:
            raise ValueError(
                f"llama.cpp could not create a context of {n_ctx + file_tokens} tokens"
            )
        self.model = model
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self._ctx = ctx
        self._mem = llama_cpp.llama_get_memory(ctx)
        self._can_shift = bool(llama_cpp.llama_memory_can_shift(self._mem))
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._seq = WORK_SEQ if file_tokens else 0
        self.cached: list[int] = []  # the tokens of the request sequence
        self._gap_at: int | None = None  # cached[i] for i >= _gap_at sits at i + _gap
        self._gap = 0
        self.file_limit = file_tokens
        self.file: list[int] = []  # the tokens of the file sequence (positions 0, 1, ...)
        self.file_windows = file_windows
        self._windows: list[_Window] = []  # windows read before, the most recently used last
        self.reused = 0  # prompt tokens the last prefill took from the KV cache
        self.reuse_min = reuse_min
        self.give_way: Callable[[], None] | None = None  # called before each model step
        self.lock = threading.Lock()
        self._abort_on: threading.Event | None = None  # see `_abortable`
        self._abort_callback = llama_cpp.ggml_abort_callback(self._should_abort)

    def close(self) -> None:
        with self.lock:
            if self._ctx is not None:
                llama_cpp.llama_batch_free(self._batch)
                llama_cpp.llama_free(self._ctx)
                self._ctx = None

    def _pos(self, index: int) -> int:
        """The KV position of the request sequence's token `index`."""
        return index + self._gap if self._gap_at is not None and index >= self._gap_at else index

    def _decode(self, tokens: Sequence[int], index: int, logits: str, seq: int = -1) -> None:
        """Evaluate `tokens` as the sequence's tokens from `index` on; logits for the
        "last" token or "all" tokens. `seq` -1 is the request sequence."""
        if self.give_way is not None:
            self.give_way()
        batch = self._batch
        n = len(tokens)
        batch.n_tokens = n
        pos = self._pos(index) if seq < 0 else index
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = pos + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = self._seq if seq < 0 else seq
            batch.logits[i] = logits == "all"
        batch.logits[n - 1] = True
        code = llama_cpp.llama_decode(self._ctx, batch)
        if code == 2 and self._abort_on is not None:
            raise _Stopped  # llama.cpp took the batch's cells back
        if code != 0:
            self._clear()
            raise RuntimeError(f"llama_decode failed with code {code}")

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        stop = self._abort_on
        return stop is not None and stop.is_set()

    @contextmanager
    def _abortable(self, stop: threading.Event) -> Iterator[None]:
        """While the file is read, `stop` makes llama.cpp give up the batch in progress
        between two graph nodes (`_Stopped`), so a request never waits for it. Only then:
        the callback takes the GIL at every node."""
        llama_cpp.llama_set_abort_callback(self._ctx, self._abort_callback, None)
        self._abort_on = stop
        try:
            yield
        finally:
            self._abort_on = None
            llama_cpp.llama_set_abort_callback(self._ctx, _NO_ABORT, None)

    def _clear(self) -> None:
        llama_cpp.llama_memory_clear(self._mem, True)
        self.cached.clear()
        self.file.clear()
        self._gap_at = None

    def _truncate(self, keep: int) -> None:
        """Drop KV entries from token `keep` on (also any a stopped draft left behind)."""
        if self._gap_at is not None and keep <= self._gap_at:
            self._gap_at = None
            pos = keep
        else:
            pos = self._pos(keep)
        if not llama_cpp.llama_memory_seq_rm(self._mem, self._seq, pos, -1):
            self._clear()
            return
        del self.cached[keep:]

    def _move_repeated(self, tokens: Sequence[int], keep: int, cached: list[int], seq: int) -> int:
        """Move runs of sequence `seq` (holding `cached` from position 0) that `tokens[keep:]`
        repeats in order to their new positions; returns how many leading prompt tokens
        the sequence then holds.

        Walks the cache past `keep`: a run of `reuse_min` or more tokens equal to the
        prompt's next ones is shifted down over the cells before it; anything else is
        skipped. Stops at the first prompt token no later run starts with (text the cache
        never saw), as llama.cpp's server does. Shifting moves a cell for every sequence
        that shares it, so the caller makes sure no other sequence does.
        """
        if self.reuse_min <= 0 or not self._can_shift or keep >= len(cached):
            return keep
        head_c = head_p = keep
        last = len(tokens) - 1
        while head_c < len(cached) and head_p < last:
            n = 0
            while (
                head_c + n < len(cached)
                and head_p + n < last
                and cached[head_c + n] == tokens[head_p + n]
            ):
                n += 1
            if n < self.reuse_min:
                head_c += 1
                continue
            if not llama_cpp.llama_memory_seq_rm(self._mem, seq, head_p, head_c):
                break
            llama_cpp.llama_memory_seq_add(self._mem, seq, head_c, head_c + n, head_p - head_c)
            cached[head_p : head_p + n] = cached[head_c : head_c + n]
            head_c += n
            head_p += n
        return head_p

    def prefill(self, tokens: Sequence[int], stop: threading.Event) -> bool:
        """Make the KV cache hold exactly `tokens`, with logits for the last one.

        Evaluates only what differs from the cache, one batch at a time, and gives up
        (returning False) as soon as `stop` is set.
        """
        if not tokens:
            raise ValueError("empty prompt")
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"prompt of {len(tokens)} tokens exceeds the context of {self.n_ctx}")
        keep = min(
            common_prefix(self.cached, tokens), len(tokens) - 1
        )  # the last token is always re-run
        if keep < len(tokens) // 2 and self._recall_for(tokens):
            keep = 0
        read = self._share_file(tokens, keep)
        if read < 0:
            read = 0
            if self.file or self._gap_at is not None:
                self._truncate(keep)  # cells shared with the file must not move
            else:
                self._truncate(self._move_repeated(tokens, keep, self.cached, self._seq))
        self.reused = len(self.cached) - read
        while len(self.cached) < len(tokens):
            if stop.is_set():
                return False
            start = len(self.cached)
            chunk = tokens[start : start + self.n_batch]
            try:
                self._decode(chunk, start, "last")
            except _Stopped:
                return False
            self.cached.extend(chunk)
        return True

    def read_ahead(self, tokens: Sequence[int], stop: threading.Event) -> bool:
        """`prefill` a prompt that may never be asked (a question still being typed):
        `stop` gives up the batch in progress at once, so a request never waits for it;
        what was read before stays."""
        with self._abortable(stop):
            return self.prefill(tokens, stop)

    def _share_file(self, tokens: Sequence[int], keep: int) -> int:
        """Point the request sequence at the file's cells when the file holds more of the
        prompt than the request sequence keeps: the prompt's common start with the file,
        then the longest run of what follows. Returns how many tokens it read, -1 when
        it did nothing.

        The run may start up to `RUN_SKIP` tokens later: a prompt's first line can be
        tokenized apart from the line before it in the file (a blank line's newline joins
        the one before it there). Those tokens are read before the run.
        """
        if not self.file:
            return -1
        head, skip, at, n = _file_run(self.file, tokens)
        if n < max(self.reuse_min, 1):
            skip = n = 0
        if head + skip + n <= keep:
            return -1
        mem = self._mem
        llama_cpp.llama_memory_seq_rm(mem, self._seq, -1, -1)
        llama_cpp.llama_memory_seq_cp(mem, FILE_SEQ, self._seq, 0, head)
        self._gap_at = None
        self.cached = list(tokens[:head])
        if n:
            if skip:
                self._decode(tokens[head : head + skip], head, "last")
                self.cached.extend(tokens[head : head + skip])
            llama_cpp.llama_memory_seq_cp(mem, FILE_SEQ, self._seq, at, at + n)
            self._gap_at, self._gap = head + skip, at - head - skip
            self.cached.extend(tokens[head + skip : head + skip + n])
        return skip

    def remember_file(self) -> None:
        """Copy the file sequence's cells out (see the class), replacing a remembered window
        that starts on the same line; the least recently used goes beyond `file_windows`."""
        if self.file_windows < 2 or not self.file:
            return
        size = llama_cpp.llama_state_seq_get_size(self._ctx, FILE_SEQ)
        state = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(self._ctx, state, size, FILE_SEQ) != size:
            log.warning("could not copy the cells of the file out")
            return
        self._windows = [w for w in self._windows if not _same_start(w.tokens, self.file)]
        self._windows.append(_Window(list(self.file), state))
        del self._windows[: -self.file_windows]

    def _window_of(self, tokens: Sequence[int]) -> _Window | None:
        """The remembered window that holds exactly `tokens`, if any."""
        wanted = list(tokens)
        return next((w for w in self._windows if w.tokens == wanted), None)

    def remembers(self, tokens: Sequence[int]) -> bool:
        """Whether a remembered window holds exactly `tokens`."""
        return self._window_of(tokens) is not None

    def touch_file(self, tokens: Sequence[int]) -> None:
        """Make the remembered window that holds exactly `tokens` the last to be dropped."""
        window = self._window_of(tokens)
        if window is not None:
            self._windows.remove(window)
            self._windows.append(window)

    def recall_file(self, tokens: Sequence[int]) -> None:
        """Before reading `tokens`: bring back the remembered window that starts on the
        same line, if the live one does not, so that only what changed is read."""
        if self.file and _same_start(self.file, tokens):
            return
        for window in reversed(self._windows):
            if _same_start(window.tokens, tokens):
                self._restore(window)
                return

    def _recall_for(self, prompt: Sequence[int]) -> bool:
        """Bring back the remembered window that holds the most of `prompt`, when that is
        `RECALL_GAIN` tokens more than the live one does; whether it did."""
        if not self._windows:
            return False

        def held(file: Sequence[int]) -> int:
            head, skip, _, n = _file_run(file, prompt)
            return head + skip + n

        best, most = None, (held(self.file) if self.file else 0) + RECALL_GAIN
        for window in self._windows:
            if window.tokens != self.file and (n := held(window.tokens)) > most:
                best, most = window, n
        return best is not None and self._restore(best)

    def _restore(self, window: _Window) -> bool:
        """Make `window` the live file, in place of the live one and the request's cells."""
        mem = self._mem
        llama_cpp.llama_memory_seq_rm(mem, self._seq, -1, -1)
        llama_cpp.llama_memory_seq_rm(mem, FILE_SEQ, -1, -1)
        self.cached.clear()
        self.file = []
        self._gap_at = None
        self._windows.remove(window)
        if not llama_cpp.llama_state_seq_set_data(
            self._ctx, window.state, len(window.state), FILE_SEQ
        ):
            log.warning("could not bring back a window of the file read before")
            return False
        self.file = list(window.tokens)
        self._windows.append(window)
        return True

    def warm_file(self, tokens: Sequence[int], stop: threading.Event) -> bool:
        """Make the file sequence hold `tokens` (cut to `file_limit`), reading only what
        differs; False when `stop` came first (what was read stays; the batch in progress
        is given up at once) or the slot keeps no file."""
        if not self.file_limit:
            return False
        tokens = list(tokens[: self.file_limit])
        with self._abortable(stop):
            if self.file != tokens[: len(self.file)]:
                if self.cached:  # moving file cells would move the request's copies too
                    llama_cpp.llama_memory_seq_rm(self._mem, self._seq, -1, -1)
                    self.cached.clear()
                    self._gap_at = None
                self._patch_file(tokens, stop)
            while len(self.file) < len(tokens):
                if stop.is_set():
                    return False
                start = len(self.file)
                piece = tokens[start : start + self.n_batch]
                try:
                    self._decode(piece, start, "last", seq=FILE_SEQ)
                except _Stopped:
                    return False
                self.file.extend(piece)
        return True

    def _patch_file(self, tokens: list[int], stop: threading.Event) -> None:
        """Make the file sequence hold a start of `tokens`, keeping its common start and
        the first run of `reuse_min` or more old tokens that `tokens` still has further
        on, moved to where it now is (an edit, or a window that starts elsewhere).

        The new text before the run is read in the empty request sequence beside a copy
        of the start and then shared back: llama.cpp reads a sequence's tokens only in
        order, and the run already sits after it.
        """
        old, mem = self.file, self._mem
        common = common_prefix(old, tokens)
        at, to, n = _first_run(old, tokens, common, self.reuse_min)
        if not n or not self._can_shift:
            llama_cpp.llama_memory_seq_rm(mem, FILE_SEQ, common, -1)
            del old[common:]
            return
        llama_cpp.llama_memory_seq_rm(mem, FILE_SEQ, at + n, -1)
        llama_cpp.llama_memory_seq_rm(mem, FILE_SEQ, common, at)
        llama_cpp.llama_memory_seq_add(mem, FILE_SEQ, at, at + n, to - at)
        if to > common:
            llama_cpp.llama_memory_seq_cp(mem, FILE_SEQ, WORK_SEQ, 0, common)
            for start in range(common, to, self.n_batch):
                piece = tokens[start : min(start + self.n_batch, to)]
                try:
                    if stop.is_set():
                        raise _Stopped
                    self._decode(piece, start, "last", seq=WORK_SEQ)
                except _Stopped:
                    llama_cpp.llama_memory_seq_rm(mem, WORK_SEQ, -1, -1)
                    llama_cpp.llama_memory_seq_rm(mem, FILE_SEQ, common, -1)
                    del old[common:]
                    return
            llama_cpp.llama_memory_seq_cp(mem, WORK_SEQ, FILE_SEQ, common, to)
            llama_cpp.llama_memory_seq_rm(mem, WORK_SEQ, -1, -1)
        self.file = tokens[: to + n]

    def _sampler(self, sampling: Sampling) -> object:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        if sampling.temperature <= 0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        add(chain, llama_cpp.llama_sampler_init_top_k(sampling.top_k))
        add(chain, llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
        add(chain, llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(sampling.temperature))
        add(chain, llama_cpp.llama_sampler_init_dist(sampling.seed))
        return chain

    def generate(
        self,
        prompt: Sequence[int],
        sampling: Sampling,
        stop: threading.Event,
        prompt_lookup: bool = False,
    ) -> Iterator[int]:
        """Yield sampled token ids until end of generation, a full context, or `stop`.

        The caller holds `lock`. With `prompt_lookup`, drafts found in the prompt are
        verified in one batch; the output is what plain decoding would give.
        """
        if not self.prefill(prompt, stop):
            return
        chain = self._sampler(sampling)
        try:
            step = self._lookup_steps if prompt_lookup else self._plain_steps
            yield from step(chain, stop)
        finally:
            llama_cpp.llama_sampler_free(chain)

    def _sample(self, chain: object, index: int) -> int:
        return int(llama_cpp.llama_sampler_sample(chain, self._ctx, index))

    def _plain_steps(self, chain: object, stop: threading.Event) -> Iterator[int]:
        token = self._sample(chain, -1)
        while not stop.is_set() and not self.model.is_eog(token):
            yield token
            if len(self.cached) + 1 >= self.n_ctx:
                return
            self._decode([token], len(self.cached), "last")
            self.cached.append(token)
            token = self._sample(chain, -1)

    def _lookup_steps(self, chain: object, stop: threading.Event) -> Iterator[int]:
        token = self._sample(chain, -1)
        while not stop.is_set() and not self.model.is_eog(token):
            yield token
            room = min(self.n_ctx - len(self.cached) - 2, self.n_batch - 1)
            if room < 0:
                return
            draft = find_draft([*self.cached, token])[:room]
            pos = len(self.cached)
            self._decode([token, *draft], pos, "all")
            self.cached.append(token)
            token = self._sample(chain, 0)
            for i, guess in enumerate(draft):
                if token != guess or self.model.is_eog(token) or stop.is_set():
                    break
                yield token
                self.cached.append(token)
                token = self._sample(chain, i + 1)
            self._truncate(len(self.cached))
