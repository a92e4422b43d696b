"""A hashing embedder for tests: deterministic, instant, and blind to meaning.

Selected with the embedder name "fake"; needs nothing beyond numpy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from codeassist_lsp.index.embedder import unit_rows

_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


class FakeEmbedder:
    """Deterministic bag-of-words hashing: texts sharing words get similar vectors.

    For unit tests of code that needs an embedder; it knows nothing about meaning.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = "fake"
        self.dim = dim

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(np.stack([self._count(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def _count(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        tokens = [t.lower() for t in _TOKEN.findall(text)] or [""]
        for token in tokens:
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            vector[value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        if not vector.any():
            vector[0] = 1.0
        return vector
