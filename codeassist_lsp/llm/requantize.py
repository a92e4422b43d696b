"""A copy of a packaged model in the weight formats llama.cpp's CPU kernels run fastest.

The default 0.5B ships as "Q4_K_M", but its 896-wide matrices do not split into K-quant
blocks, so most of its weights are Q5_0, which llama.cpp's CPU backend multiplies without
repacking them for its fast matrix kernels. Its feed-forward matrices (most of the work)
quantized once more to IQ4_NL, which it does repack, read prompts faster (`llm.requantize`,
off by default: the answers lost some quality; README, Performance). The copy is made once
per model, recipe and llama.cpp version, by llama.cpp's own quantizer from the verified
original, under a temporary name renamed into place, so a crash never leaves a half file
under the real name; when it cannot be made, the original is loaded.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from pathlib import Path

import llama_cpp

from codeassist_lsp.llm.catalog import FastCopy
from codeassist_lsp.llm.checksum import recall_fact, remember_fact
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.llama_engine import init_backend
from codeassist_lsp.llm.store import ModelFile, cache_file, check_header, models_dir

log = logging.getLogger(__name__)

MADE_FROM = "fast_copy_of"  # the checksum cache's fact: which original and recipe made it


def copy_path(model: ModelFile, recipe: FastCopy, data_dir: Path) -> Path:
    """Where the fast copy of `model` lives: the models folder, named after the original."""
    return models_dir(data_dir) / f"{model.path.stem}.{recipe.suffix}.gguf"


def _origin(model: ModelFile, recipe: FastCopy) -> str:
    """What the copy was made from: a new original, recipe or llama.cpp makes it again."""
    return f"{model.sha256}|{recipe.key}|llama.cpp {llama_cpp.__version__}"


def _quantize(source: Path, target: Path, recipe: FastCopy, threads: int) -> None:
    """Run llama.cpp's quantizer: the bulk as `recipe.ftype`, named tensors as given."""
    init_backend()  # its line per tensor goes to the log, not to the process's stderr

    overrides = (llama_cpp.llama_model_tensor_override * (len(recipe.tensor_types) + 1))()
    for slot, (pattern, type_name) in zip(overrides, recipe.tensor_types, strict=False):
        slot.pattern = pattern.encode()
        slot.type = getattr(llama_cpp, f"GGML_TYPE_{type_name}")
    overrides[len(recipe.tensor_types)].pattern = None  # the list ends at a null pattern
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{recipe.ftype}")
    params.allow_requantize = True
    params.nthread = max(1, threads)
    params.tt_overrides = ctypes.cast(
        overrides, ctypes.POINTER(llama_cpp.llama_model_tensor_override)
    )
    code = llama_cpp.llama_model_quantize(
        str(source).encode(), str(target).encode(), ctypes.byref(params)
    )
    if code != 0:
        raise ModelUnavailable(f"llama.cpp could not quantize {source.name} (code {code})")
    check_header(target)


def make_copy(model: ModelFile, recipe: FastCopy, data_dir: Path, threads: int) -> Path:
    """Make the fast copy of a verified original, replacing any older one; returns its path."""
    target = copy_path(model, recipe, data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    try:
        _quantize(model.path, tmp, recipe, threads)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    remember_fact(target, cache_file(data_dir), MADE_FROM, _origin(model, recipe))
    log.info(
        "made %s (%s) from %s in %.1f s",
        target.name,
        recipe.ftype,
        model.path.name,
        time.perf_counter() - started,
    )
    return target


def fast_model(model: ModelFile, data_dir: Path, threads: int) -> ModelFile:
    """The model to load: the fast copy of a catalog tier that has a recipe (made on first
    use), else `model` itself, also when the copy cannot be made (logged)."""
    recipe = model.spec.fast_copy if model.spec is not None else None
    if recipe is None:
        return model
    target = copy_path(model, recipe, data_dir)
    try:
        made = target.is_file() and recall_fact(target, cache_file(data_dir), MADE_FROM)
        if made != _origin(model, recipe):
            target = make_copy(model, recipe, data_dir, threads)
    except (ModelUnavailable, OSError, AttributeError) as exc:
        log.warning("loading %s as it is: its faster copy cannot be made: %s", model.name, exc)
        return model
    return ModelFile(model.name, target, None, model.spec)
