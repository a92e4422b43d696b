"""The packaged model as int8 ONNX on onnxruntime: the default, fastest embedder.

onnxruntime and tokenizers are imported when an `OnnxEmbedder` is built, never when this
module is imported; the ONNX file itself comes from `embed_export`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from codeassist_lsp.index.embedder import hidden_size, unit_rows

# The ONNX embedder runs batches of 8 rows, each on one thread, one batch per core at a
# time: on the 2-core bench CPU that embedded ~145 chunks per CPU-second against ~115 for
# batches of 32 on two intra-op threads (smaller activations stay in the core's cache, and
# no operator waits for its slowest thread). Batches of 4 did no better, 16 worse. With
# the fusion below, hybrid MRR@5 (bench/retrieval_eval.py) went 0.639 -> 0.643 on the
# fixtures and 0.563 -> 0.557 with third-party code; the float model scores 0.636 / 0.557,
# so this is the spread int8 rounding gives, not a loss.
ONNX_BATCH_SIZE = 8
# onnxruntime fuses Add + LayerNormalization into SkipLayerNormalization, whose CPU kernel
# is slower than the two it replaces: unfused ran ~169 chunks per CPU-second against ~149,
# with the same cosine to the float model (0.9944 mean).
_SLOWER_FUSIONS = ["SkipLayerNormFusion"]
# Bound on rows x tokens^2 per batch: 32 rows of 128 tokens, 8 rows of 256.
ATTENTION_BUDGET = 32 * 128 * 128
# Word pieces of code rarely span more than ~6 characters (indentation included).
_MAX_CHARS_PER_TOKEN = 12


def _uses_cls_pooling(model_dir: Path) -> bool:
    pooling = model_dir / "1_Pooling" / "config.json"
    if not pooling.is_file():
        return False
    return bool(json.loads(pooling.read_text(encoding="utf-8")).get("pooling_mode_cls_token"))


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX on onnxruntime; tokenised by the packaged tokenizer."""

    def __init__(
        self,
        name: str,
        model_dir: Path,
        onnx_path: Path,
        threads: int,
        max_seq_length: int,
        batch_size: int = ONNX_BATCH_SIZE,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.dim = hidden_size(model_dir)
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self._cls_pooling = _uses_cls_pooling(model_dir)
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel across batches instead: see ONNX_BATCH_SIZE
        options.inter_op_num_threads = 1
        # Idle onnxruntime threads spin on the cores after each call and slow whatever runs
        # next: query embedding + 20k vector scan took 8.0 ms p50 with spinning, 4.0 without;
        # bulk embedding ran at the same speed either way (bench in the issue note).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(onnx_path),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=_SLOWER_FUSIONS,
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        # Tokenising text that truncation then drops costs ~10% of the time at seq 64.
        limit = self.max_seq_length * _MAX_CHARS_PER_TOKEN
        token_ids = [e.ids for e in self._tokenizer.encode_batch([t[:limit] for t in texts])]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = plan_batches([len(ids) for ids in token_ids], self.batch_size)
        for rows, vectors in zip(batches, self._run(batches, token_ids), strict=True):
            out[rows] = vectors
        return out

    def _run(self, batches: list[list[int]], token_ids: list[list[int]]) -> Iterator[np.ndarray]:
        """Embed each batch, `threads` at a time (onnxruntime releases the GIL while running)."""

        def embed(rows: list[int]) -> np.ndarray:
            return self._embed_ids([token_ids[i] for i in rows])

        if self._threads == 1 or len(batches) <= 1:
            return map(embed, batches)
        return self._workers().map(embed, batches)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="embed")
            return self._pool

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def _embed_ids(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, row_ids in enumerate(token_ids):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        if self._cls_pooling:
            pooled = hidden[:, 0, :]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return unit_rows(pooled)


def plan_batches(
    lengths: Sequence[int], batch_size: int, budget: int = ATTENTION_BUDGET
) -> list[list[int]]:
    """Group row indices into batches of similar token length.

    Similar lengths waste little work on padding; `budget` bounds rows x length^2 (the size
    of the attention matrices), so long texts go in smaller batches and peak memory stays
    flat (batch 64 at 256 tokens peaked near 2 GB).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        rows = len(current) + 1
        if current and (rows > batch_size or rows * lengths[index] ** 2 > budget):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
