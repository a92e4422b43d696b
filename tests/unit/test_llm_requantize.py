"""The faster copy of a packaged model: made once by llama.cpp's quantizer with the recipe's
types, made again when the original, the recipe or the file changed, and never in the way
of loading the original when it cannot be made."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import gguf
import pytest
from test_llm_llama import write_tiny_gguf

from codeassist_lsp.llm.catalog import DEFAULT_MODEL, FastCopy, find_spec
from codeassist_lsp.llm.llama_engine import LlamaModel
from codeassist_lsp.llm.requantize import fast_model
from codeassist_lsp.llm.store import ModelFile, models_dir

RECIPE = FastCopy(suffix="cpu", ftype="IQ4_NL", tensor_types=((r"attn_(q|k)\.weight", "Q8_0"),))


def tier(path: Path, recipe: FastCopy = RECIPE) -> ModelFile:
    spec = find_spec(DEFAULT_MODEL)
    assert spec is not None
    return ModelFile("tiny", path, "0" * 64, replace(spec, fast_copy=recipe))


def types_of(path: Path) -> dict[str, str]:
    return {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors}


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return write_tiny_gguf(tmp_path / "tiny.gguf")


def test_the_copy_has_the_recipes_types_loads_and_is_made_once(
    original: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    fast = fast_model(tier(original), data, threads=1)
    assert fast.path.parent == models_dir(data) and fast.path != original
    kinds = types_of(fast.path)
    assert kinds["blk.0.ffn_gate.weight"] == "IQ4_NL"
    assert kinds["blk.0.attn_q.weight"] == kinds["blk.1.attn_k.weight"] == "Q8_0"
    assert types_of(original)["blk.0.ffn_gate.weight"] == "F32", "the original is untouched"
    LlamaModel(fast.path).close()
    made = fast.path.stat().st_mtime_ns
    again = fast_model(tier(original), data, threads=1)
    assert again.path == fast.path and fast.path.stat().st_mtime_ns == made
    assert [p.name for p in models_dir(data).iterdir() if p.name.endswith(".tmp")] == []


def test_a_changed_copy_or_recipe_makes_the_copy_again(original: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    fast = fast_model(tier(original), data, threads=1)
    size = fast.path.stat().st_size
    with fast.path.open("ab") as fh:
        fh.write(b"damage")
    assert fast_model(tier(original), data, threads=1).path.stat().st_size == size
    finer = replace(RECIPE, tensor_types=((r"ffn_gate\.weight", "Q8_0"),))
    remade = fast_model(tier(original, finer), data, threads=1)
    assert types_of(remade.path)["blk.0.ffn_gate.weight"] == "Q8_0"


def test_without_a_copy_the_original_loads(
    tmp_path: Path, original: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with caplog.at_level(logging.WARNING):
        assert fast_model(tier(broken), data, threads=1).path == broken
    assert "as it is" in caplog.text
    assert not any(p.name.startswith(".") for p in models_dir(data).glob("*"))
    no_recipe = ModelFile("tiny", original, None, None)
    assert fast_model(no_recipe, data, threads=1) is no_recipe
