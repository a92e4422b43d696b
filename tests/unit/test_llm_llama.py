"""The llama.cpp engine and backend on a tiny random GGUF written here with `gguf`.

The model loads and generates in milliseconds. Its weights are random, so its text is
nonsense, but tokenization, templates, KV-cache reuse, prompt-lookup decoding, sampling
and cancellation are all real llama.cpp. Control tokens get zero output rows, so greedy
decoding never ends a stream early by picking one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AbstractContextManager, aclosing
from pathlib import Path

import gguf
import llama_cpp
import numpy as np
import pytest

from codeassist_lsp.foreground import Running
from codeassist_lsp.llm import llama_backend
from codeassist_lsp.llm.errors import BackendError, ModelUnavailable
from codeassist_lsp.llm.llama_backend import LlamaCppBackend, Role
from codeassist_lsp.llm.llama_engine import (
    FILE_SEQ,
    WORK_SEQ,
    LlamaModel,
    Sampling,
    Slot,
    _Stopped,
    find_draft,
)
from codeassist_lsp.llm.prompts import fim_prompt
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.threadstream import AHEAD
from codeassist_lsp.llm.types import FimRequest, GenerationOptions, Message

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONTROL = [
    "<|im_start|>",
    "<|im_end|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
]
WORDS = ["def", "return", "print", "class", "hello", "world", "self", "import"]

DIM = 64
HEADS = 4
LAYERS = 2
FF = 128


def _vocab(fim: bool) -> tuple[list[str], list[float], list[int]]:
    T = gguf.TokenType
    tokens = ["<unk>", "<s>", "</s>"]
    types = [T.UNKNOWN, T.CONTROL, T.CONTROL]
    control = CONTROL if fim else CONTROL[:2]
    tokens += control
    types += [T.CONTROL] * len(control)
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [T.BYTE] * 256
    normal: list[str] = []
    for ch in "▁" + "".join(chr(c) for c in range(33, 127)):
        normal.append(ch)
    for word in WORDS:
        for w in (word, "▁" + word):
            for i in range(len(w)):
                for j in range(i + 2, len(w) + 1):
                    if w[i:j] not in normal:
                        normal.append(w[i:j])
    tokens += normal
    types += [T.NORMAL] * len(normal)
    scores = [0.0] * (len(tokens) - len(normal)) + [float(len(t)) for t in normal]
    return tokens, scores, [int(t) for t in types]


def write_tiny_gguf(
    path: Path, *, fim: bool = True, seed: int = 0, duplicate_token: bool = False
) -> Path:
    """Write the model to `path` and return it (a duplicate token makes llama.cpp abort)."""
    tokens, scores, types = _vocab(fim)
    if duplicate_token:
        tokens[-1] = tokens[-2]
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(512)
    writer.add_embedding_length(DIM)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(DIM // HEADS)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(CHATML)
    if fim:
        for key, text in [
            (gguf.Keys.Tokenizer.FIM_PRE_ID, "<|fim_prefix|>"),
            (gguf.Keys.Tokenizer.FIM_SUF_ID, "<|fim_suffix|>"),
            (gguf.Keys.Tokenizer.FIM_MID_ID, "<|fim_middle|>"),
            (gguf.Keys.Tokenizer.FIM_PAD_ID, "<|fim_pad|>"),
            (gguf.Keys.Tokenizer.FIM_REP_ID, "<|repo_name|>"),
            (gguf.Keys.Tokenizer.FIM_SEP_ID, "<|file_sep|>"),
        ]:
            writer.add_uint32(key, tokens.index(text))
    output = weights(n_vocab, DIM)
    for i, kind in enumerate(types):
        if kind in (gguf.TokenType.CONTROL, gguf.TokenType.UNKNOWN):
            output[i] = 0.0
    writer.add_tensor("token_embd.weight", weights(n_vocab, DIM))
    writer.add_tensor("output_norm.weight", np.ones(DIM, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for layer in range(LAYERS):
        name = f"blk.{layer}"
        writer.add_tensor(f"{name}.attn_norm.weight", np.ones(DIM, dtype=np.float32))
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{name}.{part}.weight", weights(DIM, DIM))
        writer.add_tensor(f"{name}.ffn_norm.weight", np.ones(DIM, dtype=np.float32))
        writer.add_tensor(f"{name}.ffn_gate.weight", weights(FF, DIM))
        writer.add_tensor(f"{name}.ffn_up.weight", weights(FF, DIM))
        writer.add_tensor(f"{name}.ffn_down.weight", weights(DIM, FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf")


@pytest.fixture(scope="module")
def model(tiny: Path) -> LlamaModel:
    return LlamaModel(tiny)


def backend_for(path: Path, tmp_path: Path, **kw: object) -> LlamaCppBackend:
    settings = LLMSettings(model=str(path), threads=1, context_size=256, **kw)  # type: ignore[arg-type]
    return LlamaCppBackend(settings, tmp_path)


def greedy(max_tokens: int, **kw: object) -> GenerationOptions:
    return GenerationOptions(max_tokens=max_tokens, temperature=0.0, **kw)  # type: ignore[arg-type]


async def collect(stream: object) -> str:
    return "".join([piece async for piece in stream])  # type: ignore[attr-defined]


def test_tokenizer_roundtrip_and_control_tokens(model: LlamaModel) -> None:
    ids = model.tokenize("def hello(self): return world<|im_end|>")
    assert b"".join(model.piece(i) for i in ids) == b"def hello(self): return world"
    assert model.is_eog(ids[-1])
    assert len(model.tokenize("<|im_end|>", special=False)) > 1


def test_fim_tokens_detected_only_when_present(model: LlamaModel, tmp_path: Path) -> None:
    tokens = model.fim_tokens()
    assert tokens is not None and tokens.prefix == "<|fim_prefix|>"
    assert tokens.file_sep == "<|file_sep|>"
    plain = LlamaModel(write_tiny_gguf(tmp_path / "nofim.gguf", fim=False))
    try:
        assert plain.fim_tokens() is None
    finally:
        plain.close()


def test_prefill_reuses_the_common_prefix(model: LlamaModel) -> None:
    slot = model.new_slot(256, 1, 16)
    stop = threading.Event()
    stable = model.tokenize("<|im_start|>system\nclass world import self<|im_end|>\n" * 3)
    assert slot.prefill([*stable, *model.tokenize("hello")], stop)
    assert slot.reused == 0
    assert slot.prefill([*stable, *model.tokenize("print")], stop)
    assert slot.reused == len(stable)
    assert slot.cached == [*stable, *model.tokenize("print")]


def test_prefill_moves_a_run_the_new_prompt_repeats_further_on(model: LlamaModel) -> None:
    slot = model.new_slot(512, 1, 16, reuse_min=32)
    stop = threading.Event()
    start = model.tokenize("<|fim_prefix|>")
    dropped = model.tokenize("def hello world " * 12)
    kept = model.tokenize("class self import return " * 10)
    assert len(kept) >= slot.reuse_min
    assert slot.prefill([*start, *dropped, *kept, *model.tokenize("print")], stop)
    second = [*start, *kept, *model.tokenize("yield")]
    assert slot.prefill(second, stop)
    assert slot.reused == len(start) + len(kept)  # moved, not read again
    assert slot.cached == second
    positions = llama_cpp.llama_memory_seq_pos_max(slot._mem, 0)
    assert positions == len(second) - 1  # no cell left behind at an old position
    assert list(slot.generate(second, Sampling(temperature=0), stop))[:1]
    assert slot.prefill([*second, *model.tokenize("print")], stop)
    assert slot.reused == len(second)


def test_runs_shorter_than_reuse_min_or_by_default_are_read_again(
    model: LlamaModel,
) -> None:
    stop = threading.Event()
    start = model.tokenize("<|fim_prefix|>")
    kept = model.tokenize("class self import return " * 10)
    short = kept[:8]
    first = [*start, *model.tokenize("def hello world " * 6), *kept, *model.tokenize("print")]
    slot = model.new_slot(512, 1, 16, reuse_min=32)
    slot.prefill(first, stop)
    slot.prefill([*start, *short, *model.tokenize("yield")], stop)
    assert slot.reused == len(start)
    off = model.new_slot(512, 1, 16)  # the default: never moves
    off.prefill(first, stop)
    off.prefill([*start, *kept, *model.tokenize("yield")], stop)
    assert off.reused == len(start)


def _file(model: LlamaModel) -> list[int]:
    """A file of distinct lines, so that a run of it is found in one place only."""
    words = ["def", "class", "self", "import", "return", "print", "hello", "world"]
    lines = [f"{words[i % 8]} {words[(i // 8) % 8]} {words[(i // 64) % 8]}" for i in range(60)]
    return model.tokenize("<|fim_prefix|>" + "\n".join(lines))


def _count_reads(slot: Slot) -> list[int]:
    """The tokens `slot` evaluates from now on (its real `_decode`, watched)."""
    read: list[int] = []
    decode = slot._decode

    def counting(tokens, index, logits, seq=-1):  # type: ignore[no-untyped-def]
        read.extend(tokens)
        decode(tokens, index, logits, seq)

    slot._decode = counting  # type: ignore[method-assign]
    return read


def test_a_prompt_from_the_kept_file_reads_only_what_follows_the_run(
    model: LlamaModel,
) -> None:
    slot = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512)
    stop = threading.Event()
    file = _file(model)
    assert slot.warm_file(file, stop)
    assert slot.file == file
    tail = model.tokenize("<|fim_suffix|>print<|fim_middle|>")
    prompt = [file[0], *file[100:160], *tail]
    assert slot.prefill(prompt, stop)
    assert slot.reused == 61  # the FIM token and the run, at the file's own positions
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, WORK_SEQ) == 160 + len(tail) - 1
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == len(file) - 1
    assert list(slot.generate(prompt, Sampling(temperature=0), stop))[:1]
    typed = [*prompt[: -len(tail)], *model.tokenize("def"), *tail]
    assert slot.prefill(typed, stop)  # the next keystroke keeps the request's own cells
    assert slot.reused == 61
    apart = [file[0], file[0], *file[100:160], *tail]  # a token before the run: read
    assert slot.prefill(apart, stop)
    assert slot.reused == 61
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, WORK_SEQ) == 160 + len(tail) - 1
    plain = model.new_slot(1024, 1, 16, reuse_min=8)
    assert not plain.warm_file(file, stop)
    plain.prefill(prompt, stop)
    assert plain.reused == 0


def test_an_edited_file_is_read_again_only_where_it_changed(model: LlamaModel) -> None:
    slot = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512)
    stop = threading.Event()
    file = _file(model)
    slot.warm_file(file, stop)
    slot.prefill([file[0], *file[150:200], *model.tokenize("print")], stop)
    edited = [*file[:100], *model.tokenize("import hello"), *file[103:]]
    read = _count_reads(slot)
    assert slot.warm_file(edited, stop)
    assert slot.file == edited
    assert len(read) < 12  # the edited words, not the 250 tokens after them
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == len(edited) - 1
    assert slot.cached == []  # its cells moved with the file: the request starts anew
    stop.set()
    assert not slot.warm_file([*edited, *model.tokenize("world")], stop)


def test_a_stopped_read_of_the_file_gives_the_batch_up_and_keeps_the_rest(
    model: LlamaModel,
) -> None:
    slot = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512)
    file = _file(model)
    assert slot.warm_file(file[:100], threading.Event())
    stop = threading.Event()
    stop.set()
    with slot._abortable(stop), pytest.raises(_Stopped):  # llama.cpp asks, and gives up
        slot._decode(file[100:116], 100, "last", seq=FILE_SEQ)
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == 99  # taken back
    assert not slot.warm_file(file, stop)
    assert slot.file == file[:100]
    assert slot.warm_file(file, threading.Event())  # and goes on from there later
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == len(file) - 1


def test_a_window_read_before_comes_back_for_a_prompt_it_holds(model: LlamaModel) -> None:
    slot = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512, file_windows=2)
    stop = threading.Event()
    file = _file(model)
    upper, lower = file[:200], [file[0], *file[120:]]
    for window in (upper, lower):
        assert slot.warm_file(window, stop)
        slot.remember_file()
    assert slot.file == lower and slot.remembers(upper) and slot.remembers(lower)
    tail = model.tokenize("<|fim_suffix|>print<|fim_middle|>")
    read = _count_reads(slot)
    assert slot.prefill([file[0], *file[20:80], *tail], stop)
    assert slot.file == upper  # brought back, not read again
    assert slot.reused == 61 and len(read) == len(tail)
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == len(upper) - 1
    assert list(slot.generate([file[0], *file[20:80], *tail], Sampling(temperature=0), stop))
    slot.recall_file([*lower[:-3], *model.tokenize("world")])  # an edit of the lower one
    assert slot.file == lower
    third = [file[0], *file[60:]]
    assert slot.warm_file(third, stop)
    slot.remember_file()
    assert slot.remembers(third) and slot.remembers(lower) and not slot.remembers(upper)
    slot.touch_file(lower)  # used last: the third goes first
    assert slot.warm_file(upper, stop)
    slot.remember_file()
    assert slot.remembers(lower) and slot.remembers(upper) and not slot.remembers(third)
    one = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512)  # the default: the live one
    one.warm_file(upper, stop)
    one.remember_file()
    assert not one.remembers(upper)


def test_a_window_that_starts_elsewhere_reads_only_the_new_lines(model: LlamaModel) -> None:
    slot = model.new_slot(1024, 1, 16, reuse_min=8, file_tokens=512)
    stop = threading.Event()
    file = _file(model)
    slot.warm_file(file[:200], stop)
    read = _count_reads(slot)
    lower = [file[0], *file[50:240]]  # the window moved down the file
    assert slot.warm_file(lower, stop)
    assert slot.file == lower and len(read) == 40  # only the lines after the old window
    higher = [file[0], *file[20:240]]  # and back up
    read.clear()
    assert slot.warm_file(higher, stop)
    assert slot.file == higher and len(read) == 30
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, FILE_SEQ) == len(higher) - 1
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, WORK_SEQ) == -1
    prompt = [file[0], *file[100:160], *model.tokenize("<|fim_middle|>")]
    assert slot.prefill(prompt, stop)
    assert slot.reused == 61


def test_roles_keep_their_own_kv_cache(model: LlamaModel) -> None:
    chat, completion = model.new_slot(256, 1, 16), model.new_slot(256, 1, 16)
    stop = threading.Event()
    a, b = model.tokenize("def hello world " * 4), model.tokenize("class self import " * 4)
    chat.prefill(a, stop)
    completion.prefill(b, stop)
    chat.prefill([*a, *model.tokenize("print")], stop)
    completion.prefill([*b, *model.tokenize("return")], stop)
    assert chat.reused == len(a) and completion.reused == len(b)


def test_prefill_stops_between_batches(model: LlamaModel) -> None:
    slot = model.new_slot(256, 1, 8)
    stop = threading.Event()
    stop.set()
    assert not slot.prefill(model.tokenize("def hello world " * 10), stop)
    assert slot.cached == []


def test_a_prompt_read_ahead_is_taken_from_the_cache_and_a_stop_gives_up_its_batch(
    model: LlamaModel,
) -> None:
    slot = model.new_slot(512, 1, 16)
    draft = model.tokenize("def hello world " * 12 + "return self")
    asked = draft[:-2] + model.tokenize(" print world")
    assert slot.read_ahead(draft, threading.Event())
    assert slot.cached == draft
    read = _count_reads(slot)
    assert slot.prefill(asked, threading.Event())
    assert slot.reused == len(draft) - 2 and len(read) == len(asked) - len(draft) + 2
    stop = threading.Event()
    slot.give_way = stop.set  # the stop comes while llama.cpp reads the next batch
    assert not slot.read_ahead(asked + model.tokenize(" class import"), stop)
    assert slot.cached == asked, "what was read stays"
    assert llama_cpp.llama_memory_seq_pos_max(slot._mem, 0) == len(asked) - 1, "batch given up"


def test_prompt_too_long_for_the_context_is_refused(model: LlamaModel) -> None:
    slot = model.new_slot(64, 1, 16)
    with pytest.raises(ValueError, match="exceeds the context"):
        slot.prefill(model.tokenize("hello world " * 60), threading.Event())


def run_tokens(model: LlamaModel, prompt: list[int], lookup: bool, n: int) -> list[int]:
    slot = model.new_slot(512, 1, 64)
    out: list[int] = []
    for token in slot.generate(prompt, Sampling(temperature=0), threading.Event(), lookup):
        out.append(token)
        if len(out) == n:
            break
    return out


def test_prompt_lookup_gives_exactly_the_plain_greedy_output(model: LlamaModel) -> None:
    prompt = model.tokenize("def hello(self):\n    return world\n" * 6)
    plain = run_tokens(model, prompt, False, 60)
    assert len(plain) == 60
    assert run_tokens(model, prompt, True, 60) == plain


def test_find_draft_copies_what_followed_the_last_ngram() -> None:
    history = [1, 2, 3, 4, 5, 9, 1, 2, 3]
    assert find_draft(history, max_ngram=3, n_draft=2) == [4, 5]
    assert find_draft([7, 8, 9], max_ngram=2) == []


def test_fim_prompt_fits_budget_with_the_models_tokenizer(model: LlamaModel) -> None:
    tokens = model.fim_tokens()
    assert tokens is not None
    request = FimRequest(
        prefix="def hello(self):\n    return world\n" * 40,
        suffix="print(hello)\n" * 40,
        path="a.py",
        repo_name="demo",
        context=(("b.py", "import self\n" * 5),),
    )

    def count(text: str) -> int:
        return len(model.tokenize(text))

    prompt = fim_prompt(request, tokens, 120, count)
    assert count(prompt) <= 120
    assert prompt.startswith("<|repo_name|>demo\n<|file_sep|>b.py\n")
    assert prompt.endswith("<|fim_middle|>")
    assert "<|fim_prefix|>def hello" in prompt or "<|fim_prefix|>    return" in prompt


async def test_backend_keeps_the_file_so_a_fim_inside_it_reads_little(
    tiny: Path, tmp_path: Path
) -> None:
    backend = backend_for(tiny, tmp_path, completion_context_size=256, file_cache_tokens=256)
    model = LlamaModel(tiny)
    try:
        words = ["def", "class", "self", "import", "return", "print", "hello", "world"]
        lines = [f"{words[n % 8]} {words[n // 8 % 8]} {words[n // 64 % 8]}" for n in range(40)]
        text = "\n".join(lines)
        await backend.keep_file(text, 20)
        slot = backend._slots[Role.COMPLETION]
        assert slot.file == model.tokenize("<|fim_prefix|>" + text)[:256]
        prefix = "\n".join(lines[8:20]) + "\n"
        request = FimRequest(prefix=prefix + "cl", suffix="\n".join(lines[21:24]))
        assert await collect(backend.fim(request, greedy(4)))
        assert slot.reused >= len(model.tokenize(prefix)) - 2  # not the 1 FIM token alone
        off = backend_for(tiny, tmp_path, completion_context_size=256, file_cache_tokens=0)
        await off.keep_file(text, 20)
        assert off._slots[Role.COMPLETION].file == []
        await off.close()
    finally:
        model.close()
        await backend.close()


async def test_backend_keeps_the_cursors_window_and_its_neighbour_and_room_for_one_more(
    tiny: Path, tmp_path: Path
) -> None:
    backend = backend_for(
        tiny, tmp_path, completion_context_size=256, file_cache_tokens=256, file_cache_windows=3
    )
    model = LlamaModel(tiny)
    try:
        words = ["def", "class", "self", "import", "return", "print", "hello", "world"]
        lines = [f"{words[n % 8]} {words[n // 8 % 8]} {words[n // 64 % 8]}" for n in range(300)]
        text = "\n".join(lines)
        kept = await backend.keep_file(text, 150)
        tiles = llama_backend.file_tiles(model.tokenize, "<|fim_prefix|>", text, 150, 256, 2)
        slot = backend._slots[Role.COMPLETION]
        assert kept == sum(len(tile) for tile in tiles) == 512
        assert [w.tokens for w in slot._windows] == [tiles[1], tiles[0]]  # the cursor's last
        assert slot.file == tiles[1]  # read last: the cursor's comes back when asked for
    finally:
        model.close()
        await backend.close()


async def test_a_chat_on_another_model_stops_the_file_read_and_keeps_it_from_starting(
    tiny: Path, tmp_path: Path
) -> None:
    completion = backend_for(tiny, tmp_path, completion_context_size=256, file_cache_tokens=256)
    chat = backend_for(tiny, tmp_path)
    try:
        await completion.load()
        await chat.load()
        reading = completion._keep_stop
        stream = chat.chat([Message("user", "hello")], greedy(2))
        assert reading.is_set()
        await stream.aclose()
        with chat._slots[Role.CHAT].lock:
            assert await completion.keep_file("def hello world\n" * 8, 2) == 0
        assert await completion.keep_file("def hello world\n" * 8, 2) > 0
    finally:
        await chat.close()
        await completion.close()


async def test_a_chat_gives_way_while_a_fill_in_the_middle_runs(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        await backend.load()
        async with aclosing(backend.chat([Message("user", "hello")], greedy(4))) as stream:
            with llama_backend._FIM_RUNNING.one():  # as if a suggestion were being computed
                first = asyncio.create_task(anext(stream))
                await asyncio.sleep(0.5)
                waited = not first.done()
            assert await asyncio.wait_for(first, 5)
        assert waited, "the chat waits for the suggestion"
        monkeypatch.setattr(llama_backend, "GIVE_WAY_S", 0.05)
        with llama_backend._FIM_RUNNING.one():  # one that never ends does not stop chat
            answer = collect(backend.chat([Message("user", "hi")], greedy(4)))
            assert await asyncio.wait_for(answer, 5)
    finally:
        await backend.close()


async def test_a_chat_read_ahead_leaves_the_answer_only_its_new_tokens_to_read(
    tiny: Path, tmp_path: Path
) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        await backend.load()
        sources = "Sources: def hello world class self import return " * 6
        draft = [Message("system", "be short"), Message("user", sources + "Question: what")]
        held = await backend.prime_chat(draft, greedy(4))
        asked = [draft[0], Message("user", sources + "Question: what does hello do?")]
        await collect(backend.chat(asked, greedy(4)))
        usage = backend.chat_usage()
        assert held > 100 and usage.cached_tokens >= held - 12  # the question's words differ
        assert usage.prompt_tokens - usage.cached_tokens <= 24
        reading = backend._prime_stop
        stream = backend.chat(asked, greedy(2))
        assert reading.is_set(), "a question stops the read ahead of a draft"
        await stream.aclose()
    finally:
        await backend.close()


class CountingRunning(Running):
    """A `Running` that also counts how many requests it ever saw."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def one(self) -> AbstractContextManager[None]:
        self.seen += 1
        return super().one()


async def test_requests_a_user_waits_for_are_counted_for_background_work_to_give_way(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = CountingRunning()
    monkeypatch.setattr(llama_backend, "MODEL_REQUESTS", counted)
    backend = backend_for(tiny, tmp_path)
    try:
        await backend.load()
        await collect(backend.fim(FimRequest("def hello(", "):\n"), greedy(4)))
        await collect(backend.chat([Message("user", "hello")], greedy(4)))
        await collect(backend.complete("def hello", greedy(4)))
        assert counted.seen == 3
        await collect(backend.fim(FimRequest("def hello(", "):\n"), greedy(4, background=True)))
        await collect(backend.chat([Message("user", "hi")], greedy(4, background=True)))
        assert counted.seen == 3, "speculations and descriptions hold nothing up"
    finally:
        await backend.close()


async def test_backend_chat_streams_and_fits_a_long_history(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        assert backend.loaded_counter() is None  # budgets do not wait for a model to load
        info = await backend.load()
        assert info.fim and info.context_length == 256
        history = [Message("system", "hello")]
        history += [Message("user", "def hello world " * 20)] * 10
        text = await collect(backend.chat(history, greedy(20)))
        assert text
        assert backend.count_tokens("def hello") == len(backend._ensure().tokenize("def hello"))
        assert backend.loaded_counter() == backend.count_tokens
    finally:
        await backend.close()


async def test_backend_honours_max_tokens_and_stops(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        text = await collect(backend.complete("def hello", greedy(30)))
        assert text
        cut = text[len(text) // 2 :][:2]
        stopped = await collect(backend.complete("def hello", greedy(30, stop=(cut,))))
        assert stopped == text[: text.index(cut)]
        slot = backend._slots[Role.COMPLETION]
        assert len(slot.cached) <= len(backend._ensure().tokenize("def hello")) + 30
    finally:
        await backend.close()


async def test_fim_stream_and_no_fim_model_is_a_clear_error(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    plain = backend_for(write_tiny_gguf(tmp_path / "nofim.gguf", fim=False), tmp_path)
    try:
        assert await collect(backend.fim(FimRequest("def hello(", "):\n"), greedy(8)))
        assert not (await plain.load()).fim
        with pytest.raises(BackendError, match="cannot fill in the middle"):
            await collect(plain.fim(FimRequest("a", "b"), greedy(8)))
    finally:
        await backend.close()
        await plain.close()


async def test_closing_a_stream_stops_generation_within_a_token(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        prompt_len = len(backend._ensure().tokenize("def hello"))
        stream = backend.complete("def hello", greedy(200))
        got = 0
        async for _ in stream:
            got += 1
            if got == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        slot = backend._slots[Role.COMPLETION]
        assert slot.lock.acquire(timeout=1)
        slot.lock.release()
        assert len(slot.cached) <= prompt_len + 3 + AHEAD + 1
    finally:
        await backend.close()


async def test_cancelling_the_consumer_task_stops_the_worker(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        await backend.load()
        seen: list[str] = []
        started = asyncio.Event()

        async def consume() -> None:
            async with aclosing(backend.complete("def hello", greedy(250))) as stream:
                async for piece in stream:
                    seen.append(piece)
                    started.set()
                    await asyncio.sleep(0.05)

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        slot = backend._slots[Role.COMPLETION]
        assert slot.lock.acquire(blocking=False)  # the worker is done when the task is
        slot.lock.release()
        generated = len(slot.cached)
        await asyncio.sleep(0.2)
        assert len(slot.cached) == generated < 100
    finally:
        await backend.close()


async def test_lazy_load_happens_once_under_concurrency(tiny: Path, tmp_path: Path) -> None:
    backend = backend_for(tiny, tmp_path)
    try:
        models = await asyncio.gather(*(asyncio.to_thread(backend._ensure) for _ in range(6)))
        assert all(m is models[0] for m in models)
    finally:
        await backend.close()


def corrupt(path: Path, kind: str) -> Path:
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "random":
        path.write_bytes(np.random.default_rng(1).bytes(len(data)))
    elif kind == "header":
        path.write_bytes(data[:4] + b"\xff" * 64 + data[68:])
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", "cannot load"),
        ("random", "not a GGUF"),
        ("header", "cannot load"),
        ("missing", "not found"),
    ],
)
async def test_bad_model_files_are_a_clear_error(
    tiny: Path, tmp_path: Path, kind: str, message: str
) -> None:
    path = tmp_path / "bad.gguf"
    if kind != "missing":
        path.write_bytes(tiny.read_bytes())
        corrupt(path, kind)
    backend = backend_for(path, tmp_path)
    try:
        with pytest.raises(ModelUnavailable, match=message):
            await backend.load()
        with pytest.raises(ModelUnavailable, match=message):
            await collect(backend.chat([Message("user", "hi")]))
    finally:
        await backend.close()


async def test_a_gguf_that_crashes_llama_cpp_only_kills_a_child(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "dup.gguf", duplicate_token=True)
    backend = backend_for(path, tmp_path)
    try:
        with pytest.raises(ModelUnavailable, match=r"llama\.cpp crashed on it"):
            await backend.load()
    finally:
        await backend.close()
    again = backend_for(path, tmp_path)
    start = time.perf_counter()
    with pytest.raises(ModelUnavailable, match="crashed"):
        await again.load()  # the verdict is cached: no second child
    assert time.perf_counter() - start < 0.5
    await again.close()


def test_tiny_model_loads_fast(tiny: Path) -> None:
    start = time.perf_counter()
    LlamaModel(tiny).close()
    assert time.perf_counter() - start < 5
