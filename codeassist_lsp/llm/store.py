"""Where model files live and how they get there: resolve a choice, assemble, verify.

A choice is a tier name from the catalog, the name of a pulled model, or a GGUF path.
Tier files are assembled from installed PyPI part packages into `<data_dir>/models/`
(temp file + rename, so a crash never leaves a half file under the real name) and their
sha256 is checked before the first load; a mismatch is an error, never a silent load.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from codeassist_lsp import sysinfo
from codeassist_lsp.llm.catalog import (
    GIB,
    ModelSpec,
    Part,
    find_spec,
    install_commands,
    pip_command,
)
from codeassist_lsp.llm.checksum import CACHE_FILE, file_sha256, remember, write_json_atomic
from codeassist_lsp.llm.errors import ModelUnavailable
from codeassist_lsp.llm.progress import Progress

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
PULLED_FILE = "pulled.json"
COPY_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelFile:
    """A resolved choice: the file to load and what we know about it."""

    name: str
    path: Path
    sha256: str | None = None
    spec: ModelSpec | None = None


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def cache_file(data_dir: Path) -> Path:
    """Where sha256 and load verdicts of model files are cached."""
    return models_dir(data_dir) / CACHE_FILE


def find_part(part: Part) -> Path | None:
    """The installed file of one part, found through its distribution's RECORD."""
    try:
        dist = importlib.metadata.distribution(part.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != part.version:
        log.warning("%s is %s, expected %s", part.distribution, dist.version, part.version)
    for file in dist.files or ():
        if str(file).replace("\\", "/").endswith(part.file):
            path = Path(str(dist.locate_file(file)))
            return path if path.is_file() else None
    return None


def part_paths(spec: ModelSpec) -> list[Path] | None:
    """All part files of a tier, in order, or None when any is not installed."""
    paths = [find_part(p) for p in spec.parts]
    if any(p is None for p in paths):
        return None
    return [p for p in paths if p is not None]


def tier_path(spec: ModelSpec, data_dir: Path) -> Path:
    """Where a tier's GGUF is (or would be): in place for one-file packages, else assembled."""
    assembled = models_dir(data_dir) / spec.filename
    if spec.single_file and not assembled.exists():
        found = find_part(spec.parts[0])
        if found is not None:
            return found
    return assembled


def read_pulled(data_dir: Path) -> dict[str, dict[str, str]]:
    """Models fetched with `models pull`: name -> {file, sha256, url}."""
    try:
        data = json.loads((models_dir(data_dir) / PULLED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_pulled(data_dir: Path, name: str, filename: str, sha256: str, url: str) -> None:
    entries = read_pulled(data_dir)
    entries[name] = {"file": filename, "sha256": sha256, "url": url}
    write_json_atomic(models_dir(data_dir) / PULLED_FILE, entries)


def resolve(choice: str, data_dir: Path) -> ModelFile:
    """Turn a tier name, pulled-model name or path into the file to load."""
    spec = find_spec(choice)
    if spec is not None:
        return ModelFile(spec.name, tier_path(spec, data_dir), spec.sha256, spec)
    pulled = read_pulled(data_dir).get(choice)
    if pulled:
        path = models_dir(data_dir) / pulled["file"]
        return ModelFile(choice, path, pulled.get("sha256") or None)
    path = Path(choice).expanduser()
    if path.suffix.lower() != ".gguf" and not path.exists():
        raise ModelUnavailable(
            f"unknown model {choice!r}: use a name from `codeassist models list` or a .gguf path"
        )
    return ModelFile(path.stem, path.resolve())


def is_installed(spec: ModelSpec, data_dir: Path) -> bool:
    path = tier_path(spec, data_dir)
    return path.is_file() and path.stat().st_size == spec.size


def assemble(spec: ModelSpec, data_dir: Path) -> Path:
    """Concatenate a tier's installed parts into the data dir, checking the sha256."""
    parts = part_paths(spec)
    if parts is None:
        steps = ", then ".join(f"`{c}`" for c in install_commands(spec, have_parts=False))
        raise ModelUnavailable(f"model {spec.name} is not installed: run {steps}")
    target = models_dir(data_dir) / spec.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    bar = Progress(f"assembling {spec.name}", spec.size)
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(COPY_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != spec.sha256:
            raise ModelUnavailable(
                f"the installed parts of {spec.name} do not add up to the expected file "
                f"(sha256 mismatch); reinstall them: `{pip_command(spec)} --force-reinstall`"
            )
        os.replace(tmp, target)
    finally:
        bar.close()
        tmp.unlink(missing_ok=True)
    remember(target, spec.sha256, cache_file(data_dir))
    log.info("assembled %s into %s", spec.name, target)
    return target


def install(spec: ModelSpec, data_dir: Path) -> Path:
    """Make a tier's file available and verified; a no-op when it already is."""
    path = tier_path(spec, data_dir)
    if path.is_file() and path.stat().st_size == spec.size:
        verify(ModelFile(spec.name, path, spec.sha256, spec), data_dir)
        return path
    return assemble(spec, data_dir)


def check_header(path: Path) -> None:
    """Reject files that are not GGUF before llama.cpp sees them."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelUnavailable(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelUnavailable(f"{path} is not a GGUF model file")


def verify(model: ModelFile, data_dir: Path, *, force: bool = False) -> None:
    """Size and sha256 against what is expected (cached by size and mtime)."""
    if not model.path.is_file():
        raise ModelUnavailable(f"model file not found: {model.path}")
    check_header(model.path)
    size = model.path.stat().st_size
    fix = f"`codeassist models install {model.name}`" if model.spec else "download it again"
    if model.spec is not None and size != model.spec.size:
        raise ModelUnavailable(
            f"model file {model.path} is truncated or damaged ({size:,} bytes, expected "
            f"{model.spec.size:,}); fix it with {fix}"
        )
    if model.sha256 is None:
        return
    actual = file_sha256(model.path, cache_file(data_dir), force=force)
    if actual != model.sha256:
        raise ModelUnavailable(
            f"model file {model.path} is corrupt (sha256 {actual[:12]}…, expected "
            f"{model.sha256[:12]}…); fix it with {fix}"
        )


def ram_needed(model: ModelFile) -> int:
    """RAM the server needs with this model: catalog figure, else weights plus a margin."""
    if model.spec is not None:
        return model.spec.ram_bytes
    try:
        size = model.path.stat().st_size
    except OSError:
        return 0
    return int(size * 1.2) + GIB // 4


def check_memory(model: ModelFile, available: int | None) -> None:
    """Refuse a model that would not fit in the RAM that is free."""
    need = ram_needed(model)
    if available is None or need <= available:
        return
    raise ModelUnavailable(
        f"model {model.name} needs about {need / GIB:.1f} GB of RAM but only "
        f"{available / GIB:.1f} GB is free; choose a smaller one "
        f"(`codeassist models use smollm2-135m`) or free some memory"
    )


def prepare(choice: str, data_dir: Path, *, check_ram: bool = True) -> ModelFile:
    """Everything before a load: resolve, assemble a missing tier, verify, check RAM."""
    model = resolve(choice, data_dir)
    if model.spec is not None and not model.path.exists():
        model = ModelFile(model.name, assemble(model.spec, data_dir), model.sha256, model.spec)
    verify(model, data_dir)
    if check_ram:
        check_memory(model, sysinfo.available_ram())
    return model
