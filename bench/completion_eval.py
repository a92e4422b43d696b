"""Inline completion quality on hole-punched third-party code, with and without
repository context, against the raw model with a plain FIM prompt, in one run.

Holes are cut from a copy of a package installed from PyPI (default: `requests`), or of
any folder of Python or JavaScript (`--source`, e.g. the semver tarball that
`retrieval_eval.py` caches): lines in function bodies, cut after their indentation and a
few typed characters ("rest of line") or emptied ("whole line"). A hole is cross-file
when its line uses a name that another file of the package defines at top level. Each
hole is asked through the real server as an editor would (open the document with the
hole, request inline completion at the cursor), once with `completion.contextTokens` = 0
and once with `--context-tokens` (default 192: the setting's default is 0, off, since
context lowered scores with the 0.5B model); then the same holes go to the model
in-process with a plain prefix-suffix-middle prompt of the whole file (the backend's
1,024-token budget), its first line taken.

Scores: exact match of the line (whitespace at the ends ignored) and edit similarity
(difflib ratio). Goal (issue 18): context >= 1.3x exact match on cross-file holes, never
below the raw model. Figures only.

    PYTHONPATH=$PWD python3 bench/completion_eval.py [--package requests] [--holes 24]
        [--prefix-tokens 256,128] [--suffix-tokens 64,32] [--no-context] [--no-raw]
    PYTHONPATH=$PWD python3 bench/completion_eval.py \
        --source ~/.cache/codeassist-bench/semver-7.6.3/package
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import code_state, cpu_name, loadavg
from completion_client import Editor, package_dir, percentile

from codeassist_lsp.config import CompletionSettings, default_data_dir
from codeassist_lsp.llm.backend import create_backend
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.llm.types import FimRequest, GenerationOptions

_NAME = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True)
class Language:
    """What a body line and a top-level definition look like in one language."""

    suffix: str
    top: re.Pattern[str]  # a top-level definition; group 1 is its name
    skip: tuple[str, ...]  # body lines starting with these are not holes
    opens: str  # body lines ending with this open a block: not holes either
    indent: str  # a body line starts with at least this


LANGUAGES = {
    "py": Language(
        ".py",
        re.compile(r"^(?:def|class)\s+([A-Za-z_]\w*)", re.M),
        ("#", '"', "'", "def ", "class ", "@"),
        ":",
        "    ",
    ),
    "js": Language(
        ".js",
        re.compile(r"^(?:export\s+)?(?:function|class|const|let|var)\s+([A-Za-z_$][\w$]*)", re.M),
        ("//", "/*", "*", "function ", "class ", "}"),
        "{",
        "  ",
    ),
}


@dataclass(frozen=True)
class Hole:
    path: str  # relative to the package folder
    line: int
    column: int
    text: str  # the file with the hole
    expected: str  # the rest of the line
    cross_file: bool
    kind: str  # "rest of line" | "whole line"


def make_holes(root: Path, count: int, rng: random.Random) -> list[Hole]:
    language = max(LANGUAGES.values(), key=lambda lang: len(list(root.rglob(f"*{lang.suffix}"))))
    files = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob(f"*{language.suffix}"))
        if "node_modules" not in p.parts
    }
    defined = {path: set(language.top.findall(text)) for path, text in files.items()}
    candidates: list[Hole] = []
    for path, text in files.items():
        elsewhere = set().union(*(names for p, names in defined.items() if p != path))
        elsewhere -= defined[path]
        lines = text.split("\n")
        for n, line in enumerate(lines):
            body = line.strip()
            if not line.startswith(language.indent) or not 15 <= len(body) <= 90:
                continue
            if body.startswith(language.skip) or body.endswith(language.opens):
                continue
            cross = bool(set(_NAME.findall(body)) & elsewhere)
            indent = len(line) - len(line.lstrip())
            kind = rng.choice(("rest of line", "whole line"))
            column = indent + (rng.randint(2, 8) if kind == "rest of line" else 0)
            hole_lines = [*lines[:n], line[:column], *lines[n + 1 :]]
            candidates.append(
                Hole(path, n, column, "\n".join(hole_lines), line[column:], cross, kind)
            )
    rng.shuffle(candidates)
    cross = [h for h in candidates if h.cross_file][: count // 2]
    local = [h for h in candidates if not h.cross_file][: count - len(cross)]
    return cross + local


def score(got: str, expected: str) -> tuple[bool, float]:
    first = got.split("\n", 1)[0].strip()
    return first == expected.strip(), difflib.SequenceMatcher(None, first, expected.strip()).ratio()


async def through_server(
    source: Path,
    holes: list[Hole],
    context_tokens: int,
    budget: tuple[int, int],
    threads: int,
    model: str,
) -> tuple[list[str], list[float]]:
    """Each hole's answer through the server, and the seconds from request to response;
    `budget` is (`prefixTokens`, `suffixTokens`)."""
    prefix_tokens, suffix_tokens = budget
    options = {
        "completion": {
            "contextTokens": context_tokens,
            "prefixTokens": prefix_tokens,
            "suffixTokens": suffix_tokens,
        },
        "llm": {"threads": threads, "model": model},
    }
    editor = Editor(source, options)
    await editor.start()
    try:
        await editor.wait_indexed()
        out, seconds = [], []
        for hole in holes:
            uri = editor.open(hole.path, hole.text)
            start = time.perf_counter()
            out.append(await editor.complete(uri, hole.line, hole.column))
            seconds.append(time.perf_counter() - start)
            editor.close(uri)
        return out, seconds
    finally:
        await editor.stop()


async def raw_fim(holes: list[Hole], threads: int, model: str) -> tuple[list[str], list[float]]:
    backend = create_backend(LLMSettings(threads=threads, model=model), default_data_dir())
    await backend.load()
    options = GenerationOptions(max_tokens=48, temperature=0.0, stop=("\n",))
    out, seconds = [], []
    try:
        for hole in holes:
            start = time.perf_counter()
            lines = hole.text.split("\n")
            prefix = "".join(f"{line}\n" for line in lines[: hole.line]) + lines[hole.line]
            suffix = "\n" + "\n".join(lines[hole.line + 1 :])
            text = ""
            async with aclosing(backend.fim(FimRequest(prefix, suffix), options)) as stream:
                async for piece in stream:
                    text += piece
            out.append(text)
            seconds.append(time.perf_counter() - start)
        return out, seconds
    finally:
        await backend.close()


async def run(args: argparse.Namespace) -> None:
    source = Path(args.source).expanduser() if args.source else package_dir(args.package)
    holes = make_holes(source, args.holes, random.Random(args.seed))
    load_start = loadavg()
    results: dict[str, list[str]] = {}
    seconds: dict[str, list[float]] = {}
    budgets = [
        (int(prefix), int(suffix))
        for prefix in args.prefix_tokens.split(",")
        for suffix in args.suffix_tokens.split(",")
    ]
    variants: list[tuple[str, Callable[[], Awaitable[tuple[list[str], list[float]]]]]] = [
        (
            f"server, prefix {budget[0]}, suffix {budget[1]}, no repo context",
            lambda budget=budget: through_server(
                source, holes, 0, budget, args.threads, args.model
            ),
        )
        for budget in budgets
    ]
    if not args.no_context:
        variants.append(
            (
                f"server, prefix {budgets[0][0]}, suffix {budgets[0][1]}, repo context "
                f"{args.context_tokens} tokens",
                lambda: through_server(
                    source, holes, args.context_tokens, budgets[0], args.threads, args.model
                ),
            )
        )
    if not args.no_raw:
        variants.append(("raw model, plain FIM", lambda: raw_fim(holes, args.threads, args.model)))
    for name, make in variants:
        results[name], seconds[name] = await make()
    load_end = loadavg()
    print(
        f"\ncompletion_eval: {source.name if args.source else args.package}, {len(holes)} holes "
        f"({sum(h.cross_file for h in holes)} cross-file), seed {args.seed}, model {args.model}"
    )
    print(f"CPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {load_end}\n")
    print(
        "| variant | exact, all | exact, cross-file | exact, same-file | edit sim, all "
        "| edit sim, cross-file | ms p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, got in results.items():
        scored = [score(g, h.expected) for g, h in zip(got, holes, strict=True)]
        cross = [s for s, h in zip(scored, holes, strict=True) if h.cross_file]
        local = [s for s, h in zip(scored, holes, strict=True) if not h.cross_file]

        def exact(items: list[tuple[bool, float]]) -> str:
            return f"{sum(e for e, _ in items)}/{len(items)}"

        def sim(items: list[tuple[bool, float]]) -> str:
            return f"{sum(s for _, s in items) / max(1, len(items)):.2f}"

        print(
            f"| {name} | {exact(scored)} | {exact(cross)} | {exact(local)} | {sim(scored)} "
            f"| {sim(cross)} | {1000 * percentile(seconds[name], 0.5):.0f} / "
            f"{1000 * percentile(seconds[name], 0.95):.0f} |"
        )
    if args.show:
        for n, hole in enumerate(holes):
            print(
                f"\n{hole.path}:{hole.line + 1} ({hole.kind}, "
                f"{'cross' if hole.cross_file else 'same'}) want {hole.expected!r}"
            )
            for name, got in results.items():
                print(f"  {name}: {got[n].split(chr(10), 1)[0]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="requests")
    parser.add_argument("--source", help="a folder of code instead of an installed package")
    parser.add_argument("--holes", type=int, default=24)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--context-tokens",
        type=int,
        default=CompletionSettings().context_tokens or 192,
        help="repository context of the second variant (default: the setting, or 192 when off)",
    )
    parser.add_argument(
        "--prefix-tokens",
        default=str(CompletionSettings().prefix_tokens),
        help="completion.prefixTokens, one server variant each (comma-separated)",
    )
    parser.add_argument(
        "--suffix-tokens",
        default=str(CompletionSettings().suffix_tokens),
        help="completion.suffixTokens, one server variant each with each prefix (comma-separated)",
    )
    parser.add_argument("--threads", type=int, default=0, help="llm.threads (0: one per core)")
    parser.add_argument("--model", default=LLMSettings().model, help="llm.model")
    parser.add_argument("--no-context", action="store_true", help="skip the repo context variant")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw model variant")
    parser.add_argument("--show", action="store_true", help="print every hole and answer")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
