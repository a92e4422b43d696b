"""`llm.requantize`: the real default model's faster copy is made, loaded and answers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import gguf
import pytest

from codeassist_lsp.llm.backend import create_backend
from codeassist_lsp.llm.catalog import DEFAULT_MODEL, find_spec
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions

pytestmark = pytest.mark.slow


async def collect(stream: AsyncGenerator[str, None]) -> str:
    async with aclosing(stream) as pieces:
        return "".join([p async for p in pieces])


async def test_the_default_model_loads_as_its_faster_copy_and_fills_in(
    tmp_path: Path, installed_models: Path
) -> None:
    spec = find_spec(DEFAULT_MODEL)
    assert spec is not None and spec.fast_copy is not None
    models = tmp_path / "models"
    models.mkdir()
    (models / spec.filename).symlink_to(installed_models / spec.filename)
    installed_copy = installed_models / f"{Path(spec.filename).stem}.{spec.fast_copy.suffix}.gguf"
    before = _state(installed_copy)  # a user's own copy may be there already
    settings = LLMSettings(model=DEFAULT_MODEL, threads=2, requantize="all")
    backend = create_backend(settings, tmp_path)
    try:
        request = FimRequest("import math\n\ndef area(r):\n    return ", "\n")
        answer = await collect(backend.fim(request, GenerationOptions(12, 0)))
    finally:
        await backend.close()
    assert answer.startswith("math.pi * r")
    copies = list(models.glob(f"*.{spec.fast_copy.suffix}.gguf"))
    assert len(copies) == 1, "the copy is made beside the original"
    kinds = {t.name: t.tensor_type.name for t in gguf.GGUFReader(copies[0]).tensors}
    assert kinds["blk.0.ffn_gate.weight"] == "IQ4_NL" and kinds["blk.0.attn_q.weight"] == "Q8_0"
    assert copies[0].name == installed_copy.name
    assert _state(installed_copy) == before, "the installed folder is untouched"


def _state(path: Path) -> tuple[int, int] | None:
    """Size and modification time of `path`, None when it does not exist."""
    if not path.exists():
        return None
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
