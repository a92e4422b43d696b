"""The packaged model through sentence-transformers on torch: the slower fallback backend.

torch, sentence-transformers and transformers are imported when a `TorchEmbedder` is
built, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from codeassist_lsp.index.embedder import DEFAULT_BATCH_SIZE, EmbedderUnavailable, hidden_size


class TorchEmbedder:
    """The packaged model through sentence-transformers on torch (the slower fallback)."""

    def __init__(
        self,
        name: str,
        model_dir: Path,
        threads: int,
        max_seq_length: int,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"sentence-transformers and torch are needed for {name!r}: {exc}"
            ) from exc
        torch.set_num_threads(threads)
        hf_logging.disable_progress_bar()
        self.name = name
        self.dim = hidden_size(model_dir)
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self._model.max_seq_length = max_seq_length
        self.max_seq_length = max_seq_length

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
