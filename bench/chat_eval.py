"""Chat quality and latency: does the answer cite the right code and state the right facts?

The questions are retrieval questions (`fixtures/eval/*.json` over the fixture workspaces,
`bench/thirdparty/*.json` over five projects we did not write, fetched once and cached
as `bench/retrieval_eval.py` does) that `bench/chat_facts.json` gives facts for: short
case-insensitive regular expressions a correct short answer states. Each question is asked
through `ChatManager` in-process with the real model, in a fresh conversation, or with
`--conversation` all of a workspace's questions in one (what a long chat costs).
`--general` asks general programming questions over the first workspace instead: how many
skip retrieval, and their time to the first token.

Per configuration it prints: the share of answers citing an expected location (a cited
range overlaps an expected one), the share with invented citations (a `[n]` past the
sources), the share of expected facts stated, and time to sources, first token and total
(p50/p95), the prompt tokens read per answer (not cached), with the load average.
Configurations: `base` (the settings' defaults) and any of `rewrite`, `hyde`, `selfrag`
joined by `+` (`--configs base,rewrite,hyde+rewrite`).

    python bench/chat_eval.py [--only NAME] [--limit N] [--model TIER] [--configs LIST]
        [--sources-only] [--conversation] [--general] [--threads N] [--show]
        [--context-tokens N] [--history-tokens N] [--item-lines N] [--search-limit N]
        [--answer-tokens N] [--facts-per-hit N] [--temperature T] [--requantize]

The model samples at the settings' temperature with a random seed, so two runs of the same
configuration differ on a few answers; `--temperature 0` (greedy) makes runs repeatable for
comparing prompts and settings. Indexes are kept in the bench cache between runs;
`--limit N` asks the first N questions taken in turn from each workspace. A full run of
the default configuration takes ~10-15 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_eval import CACHE, load_suites  # noqa: E402

from codeassist_lsp.chat.conversation import Citation  # noqa: E402
from codeassist_lsp.chat.history import History  # noqa: E402
from codeassist_lsp.chat.manager import (  # noqa: E402
    ChatManager,
    ChatRequest,
    ChatResult,
    SourcesEvent,
)
from codeassist_lsp.chat.workspace import IndexWorkspace  # noqa: E402
from codeassist_lsp.config import ChatSettings, Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.llm.backend import Backend, create_backend  # noqa: E402

SWITCHES = {"rewrite": "rewrite_query", "hyde": "hyde", "selfrag": "self_rag"}
UNSWITCHES = {"nofocus": "focus_hits"}
TUNABLES = (
    "context_tokens",
    "history_tokens",
    "item_lines",
    "search_limit",
    "answer_tokens",
    "facts_per_hit",
)
# `--general`: programming questions that are not about the workspace (routed past retrieval)
GENERAL = (
    "What is a Python list?",
    "What is the difference between a list and a tuple in Python?",
    "How do I reverse a string in JavaScript?",
    "What does async/await do?",
    "What is a closure?",
    "How do I read a file line by line in Go?",
    "What is the difference between == and === in JavaScript?",
    "What is a mutex?",
    "Explain big O notation briefly",
    "What is a trait in Rust?",
)


@dataclass
class Question:
    workspace: str
    id: str
    question: str
    expected: list[dict]
    facts: list[str]


@dataclass
class Outcome:
    in_sources: bool
    cited_expected: bool
    invented: bool
    facts_stated: int
    facts: int
    sources_ms: float
    first_token_ms: float
    total_ms: float
    third_party: bool
    read_tokens: int = 0  # prompt tokens the model read: not in its cache


@dataclass
class Run:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    load: str = ""


def load_questions(only: str | None, limit: int | None) -> tuple[list[Question], dict[str, Path]]:
    """Questions with facts, taken in turn from each workspace so `--limit` spans them all."""
    facts = json.loads((ROOT / "bench" / "chat_facts.json").read_text())["facts"]
    roots: dict[str, Path] = {}
    per_suite: list[list[Question]] = []
    for suite in load_suites(None, True):
        asked = [
            Question(suite.name, q["id"], q["question"], q["expected"], facts[q["id"]])
            for q in suite.questions
            if q["id"] in facts and (only is None or _matches(only, suite.name, q["id"]))
        ]
        if asked:
            roots[suite.name] = suite.root
            per_suite.append(asked)
    ordered = [q for turn in _zip_longest(per_suite) for q in turn]
    return ordered[:limit] if limit else ordered, roots


def _matches(only: str, suite: str, question_id: str) -> bool:
    """`only` is a comma list of workspace name parts and question ids."""
    return any(part in suite or part == question_id for part in only.split(","))


def _zip_longest(lists: list[list[Question]]) -> list[list[Question]]:
    longest = max((len(x) for x in lists), default=0)
    return [[x[i] for x in lists if i < len(x)] for i in range(longest)]


def facts_stated(answer: str, facts: list[str]) -> int:
    return sum(1 for fact in facts if re.search(fact, answer, re.IGNORECASE))


def overlaps_expected(citations: Sequence[Citation], expected: list[dict]) -> bool:
    return any(
        c.path == e["path"] and c.start_line <= e["end_line"] and e["start_line"] <= c.end_line
        for c in citations
        for e in expected
    )


async def ask_one(
    manager: ChatManager,
    workspace: IndexWorkspace,
    question: Question,
    sources_only: bool,
    conversation_id: str | None = None,
) -> tuple[SourcesEvent, float, ChatResult | None]:
    """One turn, in a fresh conversation unless `conversation_id` is given: the sources
    event, its time, and the result (None when only the sources were wanted: the turn is
    then cancelled as soon as they arrive)."""
    start = time.perf_counter()
    sources: SourcesEvent | None = None
    sources_ms = 0.0
    result: ChatResult | None = None
    request = ChatRequest(question.question, conversation_id)
    async with aclosing(manager.ask(request, workspace)) as events:
        async for event in events:
            if isinstance(event, SourcesEvent):
                sources, sources_ms = event, (time.perf_counter() - start) * 1000
                if sources_only:
                    break
            elif isinstance(event, ChatResult):
                result = event
    assert sources is not None
    return sources, sources_ms, result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _share_facts(outcomes: list[Outcome]) -> float:
    return sum(x.facts_stated for x in outcomes) / max(sum(x.facts for x in outcomes), 1)


def _times(outcomes: list[Outcome], attr: str) -> str:
    values = [getattr(x, attr) / 1000 for x in outcomes]
    return f"{_pct(values, 0.5):>6.2f}/{_pct(values, 0.95):<6.2f}s"


def print_table(runs: list[Run], model: str) -> None:
    print(f"\nchat eval, model {model}")
    head = (
        f"{'config':<22} {'qs':>3} {'given':>6} {'cited':>6} {'3rd-p':>6} {'invent':>6}"
        f" {'facts':>6} {'3rd-p':>6}  {'sources p50/p95':>15}  {'first p50/p95':>15}"
        f"  {'total p50/p95':>15}  {'read p50/p95':>12}  load"
    )
    print(head)
    for run in runs:
        o = run.outcomes
        third = [x for x in o if x.third_party]
        n = max(len(o), 1)
        answered = any(x.facts for x in o)
        answers = (
            f" {sum(x.cited_expected for x in o) / n:>6.0%}"
            f" {sum(x.cited_expected for x in third) / max(len(third), 1):>6.0%}"
            f" {sum(x.invented for x in o) / n:>6.0%}"
            f" {_share_facts(o):>6.0%} {_share_facts(third):>6.0%}"
            if answered
            else f" {'-':>6} {'-':>6} {'-':>6} {'-':>6} {'-':>6}"
        )
        read = [float(x.read_tokens) for x in o]
        later = (
            f"  {_times(o, 'first_token_ms'):>15}  {_times(o, 'total_ms'):>15}"
            f"  {_pct(read, 0.5):>5.0f}/{_pct(read, 0.95):<6.0f}"
            if answered
            else f"  {'-':>15}  {'-':>15}  {'-':>12}"
        )
        print(
            f"{run.name:<22} {len(o):>3}"
            f" {sum(x.in_sources for x in o) / n:>6.0%}{answers}"
            f"  {_times(o, 'sources_ms'):>15}{later}  {run.load}"
        )
    print("given: an expected location among the sources given to the model")
    print("cited: answers citing an expected location; 3rd-p: the same on the third-party projects")
    print("invent: answers with an invented [n]; facts: expected facts stated")
    print("read: prompt tokens the model read per answer (those not in its cache)")


def chat_settings(config: str, base: ChatSettings) -> ChatSettings:
    names = [] if config == "base" else config.split("+")
    unknown = [n for n in names if n not in SWITCHES and n not in UNSWITCHES]
    if unknown:
        known = ", ".join([*SWITCHES, *UNSWITCHES])
        raise SystemExit(f"unknown configuration part {unknown[0]!r}: use {known}")
    switched = {SWITCHES[n]: True for n in names if n in SWITCHES}
    switched.update({UNSWITCHES[n]: False for n in names if n in UNSWITCHES})
    return dataclasses.replace(base, **switched)


async def run_all(
    args: argparse.Namespace,
    questions: list[Question],
    workspaces: dict[str, IndexWorkspace],
    backend: Backend,
    base: ChatSettings,
    history_dir: Path,
) -> list[Run]:
    await backend.load()
    runs = []
    for config in args.configs.split(","):
        settings = chat_settings(config, base)
        history = History(history_dir / f"{config}.duckdb")
        manager = ChatManager(history, lambda: backend, settings)
        run = Run(config)
        conversations: dict[str, str] = {}  # workspace -> its one conversation (--conversation)
        for q in questions:
            sources, sources_ms, result = await ask_one(
                manager,
                workspaces[q.workspace],
                q,
                args.sources_only,
                conversations.get(q.workspace),
            )
            if args.conversation and result is not None:
                conversations[q.workspace] = result.conversation_id
            given = overlaps_expected(sources.citations, q.expected)
            if result is None:
                run.outcomes.append(
                    Outcome(given, False, False, 0, 0, sources_ms, 0, 0, "@" in q.workspace)
                )
                print(f"  {config} {q.id:<7} given {given} in {sources_ms:.0f} ms", file=sys.stderr)
                continue
            stated = facts_stated(result.answer, q.facts)
            outcome = Outcome(
                given,
                overlaps_expected(result.citations, q.expected),
                result.invented > 0,
                stated,
                len(q.facts),
                sources_ms,
                result.usage.first_token_ms,
                result.usage.total_ms,
                "@" in q.workspace,
                result.usage.prompt_tokens - result.usage.cached_tokens,
            )
            run.outcomes.append(outcome)
            mark = "ok " if outcome.cited_expected else "-- "
            print(
                f"  {config} {q.id:<7} {mark} facts {stated}/{len(q.facts)}"
                f" first {outcome.first_token_ms / 1000:.1f}s total {outcome.total_ms / 1000:.1f}s"
                f" prompt {result.usage.prompt_tokens} cached {result.usage.cached_tokens}",
                file=sys.stderr,
            )
            if args.show:
                cited = " ".join(f"{c.path}:{c.start_line}-{c.end_line}" for c in result.citations)
                given = " ".join(f"{c.path}:{c.start_line}-{c.end_line}" for c in result.sources)
                print(
                    f"    {q.question}\n    {result.answer!r}\n    cited {cited}\n    given {given}",  # noqa: E501
                    file=sys.stderr,
                )
        run.load = Path("/proc/loadavg").read_text().split(" ", 1)[0]
        runs.append(run)
    await backend.close()
    return runs


async def run_general(
    workspace: IndexWorkspace, backend: Backend, base: ChatSettings, history_dir: Path
) -> None:
    """Ask `GENERAL` in fresh conversations over `workspace`: how many skip retrieval, and
    their time to the first token (the system prompt stays in the model's cache)."""
    await backend.load()
    manager = ChatManager(History(history_dir / "general.duckdb"), lambda: backend, base)
    firsts: list[float] = []
    general = 0
    for question in GENERAL:
        _, _, result = await ask_one(
            manager, workspace, Question("", "", question, [], []), sources_only=False
        )
        assert result is not None
        general += result.intent == "general"
        firsts.append(result.usage.first_token_ms / 1000)
        print(
            f"  {result.intent:<8} first {firsts[-1]:.2f}s prompt {result.usage.prompt_tokens}"
            f" cached {result.usage.cached_tokens}  {question}",
            file=sys.stderr,
        )
    await backend.close()
    load = Path("/proc/loadavg").read_text().split(" ", 1)[0]
    print(
        f"\ngeneral questions: {general} of {len(GENERAL)} skipped retrieval; first token"
        f" p50 / p95 {_pct(firsts, 0.5):.2f} / {_pct(firsts, 0.95):.2f} s; load {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="workspace name parts or question ids, comma-separated")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--model", help="model tier or GGUF path (default: the settings')")
    parser.add_argument("--configs", default="base", help="comma list: base, rewrite+hyde, ...")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument(
        "--threads", type=int, help="llama.cpp threads (1 is faster on a machine kept busy)"
    )
    parser.add_argument("--show", action="store_true", help="print each question and answer")
    parser.add_argument(
        "--sources-only", action="store_true", help="stop each turn at its sources (retrieval)"
    )
    parser.add_argument(
        "--conversation",
        action="store_true",
        help="ask each workspace's questions as one conversation (a long chat's cost)",
    )
    for name in TUNABLES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int)
    parser.add_argument("--temperature", type=float, help="0: greedy, repeatable runs")
    parser.add_argument(
        "--requantize",
        action="store_true",
        help="chat on the model's faster copy for llama.cpp's CPU kernels (llm.requantize all)",
    )
    parser.add_argument(
        "--general", action="store_true", help="ask general programming questions instead"
    )
    args = parser.parse_args()
    questions, roots = load_questions(args.only, args.limit)
    if not questions:
        raise SystemExit("no question matches")
    if args.conversation:  # one conversation after the other: the chat cache holds one
        order = list(roots)
        questions.sort(key=lambda q: order.index(q.workspace))
    settings = Settings()
    index_settings = Settings(data_dir=CACHE / "chat-eval")
    if args.model:
        settings.llm = dataclasses.replace(settings.llm, model=args.model)
    if args.threads:
        settings.llm = dataclasses.replace(settings.llm, threads=args.threads)
    if args.requantize:
        settings.llm = dataclasses.replace(settings.llm, requantize="all")
    tuned: dict[str, float] = {
        n: getattr(args, n) for n in TUNABLES if getattr(args, n) is not None
    }
    if args.temperature is not None:
        tuned["temperature"] = args.temperature
    base = dataclasses.replace(settings.chat, **tuned)
    embedder = create_embedder(args.embedder, CACHE / "embedders")
    indexes = {}
    for name, root in roots.items():
        index = WorkspaceIndex(root, index_settings, embedder)
        start = time.perf_counter()
        stats = index.refresh()
        print(f"{name}: {stats.summary()} ({time.perf_counter() - start:.1f}s)", file=sys.stderr)
        indexes[name] = index
    backend = create_backend(settings.llm, settings.data_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="codeassist-chat-eval-") as tmp:
            workspaces = {name: IndexWorkspace(index) for name, index in indexes.items()}
            if args.general:
                first = next(iter(workspaces.values()))
                asyncio.run(run_general(first, backend, base, Path(tmp)))
                return
            runs = asyncio.run(run_all(args, questions, workspaces, backend, base, Path(tmp)))
    finally:
        for index in indexes.values():
            index.close()
    budget = ", ".join(f"{n}={getattr(base, n)}" for n in (*TUNABLES, "temperature"))
    weights = ", requantized" if settings.llm.fast_weights("chat") else ""
    print_table(runs, f"{settings.llm.model}{weights} ({budget})")


if __name__ == "__main__":
    main()
