"""The int8 ONNX copy of a packaged model: exported once into a cache folder, then verified.

Apart from the ONNX backend because it is the one step that needs torch and transformers
(inside `export_int8_onnx`) and writes files; `prepare_embedder` runs it at install time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from codeassist_lsp.index.embedder import EmbedderUnavailable, PackagedModel

log = logging.getLogger(__name__)

# Bump when the export recipe changes: older cache folders are then ignored and rebuilt.
# 2: attention exported as plain ops ("eager"), not torch's SDPA (see export_int8_onnx).
ONNX_CACHE_FORMAT = 2
_STALE_TMP_SECONDS = 600.0


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
    info = model.stat()
    manifest = {
        "format": ONNX_CACHE_FORMAT,
        "source": spec.distribution,
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "sha256": _sha256(model),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _verified(folder: Path) -> bool:
    """True when the folder holds a model.onnx whose size and hash match its manifest.

    The hash (~20 ms for 23 MB, on every open of an index) is computed again only when the
    file's modification time is not the one the manifest recorded with it.
    """
    model, manifest_path = folder / "model.onnx", folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        info = model.stat()
        if manifest.get("format") != ONNX_CACHE_FORMAT or info.st_size != manifest.get("size"):
            return False
        if info.st_mtime_ns == manifest.get("mtime_ns"):
            return True
        if _sha256(model) != manifest.get("sha256"):
            return False
    except (OSError, ValueError, AttributeError):
        return False
    try:  # remember the time it was found whole (manifests of older exports lack it)
        manifest["mtime_ns"] = info.st_mtime_ns
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    except OSError:
        pass
    return True


def _remove_stale_tmp(cache_dir: Path, name: str) -> None:
    """Drop temporary export folders left by a crash (old enough not to be in use)."""
    now = time.time()
    for leftover in cache_dir.glob(f".{name}.tmp-*"):
        try:
            if now - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue
