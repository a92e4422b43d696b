"""Chat: the first token after a question is asked, with and without reading it ahead.

A user types each question at `--cps` characters a second; with read-ahead the client
sends the draft at each word typed (from the third on; `codeassist/chatDraft`), and the
server finds its sources and lets the model read them (`ChatManager.prime`) while the
typing goes on. The question is asked `--enter` seconds after its last character. Without
read-ahead the same question is asked after the same typing, with nothing sent before.
The questions are those of `bench/chat_eval.py` (its cached indexes), each in a fresh
conversation; the two modes run one after the other over the same questions, so the chat
cache holds the question before in both.

Prints per mode p50 / p95 of the time to the first token and of the prompt tokens read
after the question was asked, how many answers are the same in both modes (greedy), and,
as `bench/chat_eval.py` counts them, the answers citing an expected place and the facts
stated (meaningful with whole answers: `--answer-tokens 320`).

    PYTHONPATH=$PWD python bench/chat_read_ahead.py [--only @] [--limit 20] [--cps 5]
        [--enter 0.3] [--answer-tokens 24]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from contextlib import aclosing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import cpu_name, loadavg
from chat_eval import CACHE, Question, facts_stated, load_questions, overlaps_expected

from codeassist_lsp.chat.history import History
from codeassist_lsp.chat.manager import ChatManager, ChatRequest, ChatResult
from codeassist_lsp.chat.workspace import IndexWorkspace
from codeassist_lsp.config import Settings
from codeassist_lsp.index.embedder import create_embedder
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.llm.backend import Backend, create_backend

FIRST_DRAFT_WORDS = 3  # a draft of fewer words finds sources about nothing yet


@dataclasses.dataclass
class Asked:
    first_ms: float
    read: int
    answer: str
    given: bool
    cited: bool
    facts: int
    drafts: int = 0


def drafts_of(question: str) -> list[int]:
    """The lengths of the question typed when a draft is sent: at each space after the
    `FIRST_DRAFT_WORDS`th word (a client sends a draft as each word is finished)."""
    cuts = [n for n, ch in enumerate(question) if ch == " " and n and question[n - 1] != " "]
    return cuts[FIRST_DRAFT_WORDS - 1 :]


async def ask_after_typing(
    manager: ChatManager,
    workspace: IndexWorkspace,
    question: Question,
    cps: float,
    enter: float,
    read_ahead: bool,
) -> Asked:
    cuts = set(drafts_of(question.question)) if read_ahead else set()
    primes: list[asyncio.Task[int]] = []
    for n in range(1, len(question.question) + 1):
        await asyncio.sleep(1 / cps)
        if n in cuts:
            draft = ChatRequest(question.question[:n])
            primes.append(asyncio.create_task(manager.prime(draft, workspace)))
    await asyncio.sleep(enter)
    result: ChatResult | None = None
    async with aclosing(manager.ask(ChatRequest(question.question), workspace)) as events:
        async for event in events:
            if isinstance(event, ChatResult):
                result = event
    await asyncio.gather(*primes)
    assert result is not None
    usage = result.usage
    return Asked(
        usage.first_token_ms,
        usage.prompt_tokens - usage.cached_tokens,
        result.answer,
        overlaps_expected(result.sources, question.expected),
        overlaps_expected(result.citations, question.expected),
        facts_stated(result.answer, question.facts),
        len(primes),
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def run(
    args: argparse.Namespace,
    questions: list[Question],
    workspaces: dict[str, IndexWorkspace],
    backend: Backend,
    settings: Settings,
    tmp: Path,
) -> None:
    await backend.load()
    results: dict[bool, list[Asked]] = {}
    for read_ahead in (False, True):
        history = History(tmp / f"read-ahead-{read_ahead}.duckdb")
        manager = ChatManager(history, lambda: backend, settings.chat)
        load_before = loadavg()
        asked = results[read_ahead] = []
        for q in questions:
            one = await ask_after_typing(
                manager, workspaces[q.workspace], q, args.cps, args.enter, read_ahead
            )
            asked.append(one)
            print(
                f"  read-ahead {read_ahead!s:<5} {q.id:<8} first {one.first_ms / 1000:5.2f} s"
                f" read {one.read:4d} drafts {one.drafts}",
                file=sys.stderr,
            )
        print(f"  load {load_before} -> {loadavg()}", file=sys.stderr)
    await backend.close()
    print(
        f"\nchat read-ahead, {cpu_name()}, {settings.llm.model}, {len(questions)} questions,"
        f" typed at {args.cps} characters/s, asked {args.enter} s after the last"
    )
    print(f"{'mode':<22} {'first token p50 / p95':>22} {'read after asking p50 / p95':>28}")
    for read_ahead, asked in results.items():
        firsts = [a.first_ms / 1000 for a in asked]
        reads = [float(a.read) for a in asked]
        name = "read ahead (chatDraft)" if read_ahead else "asked cold"
        print(
            f"{name:<22} {_pct(firsts, 0.5):>9.2f} / {_pct(firsts, 0.95):<6.2f} s"
            f" {_pct(reads, 0.5):>14.0f} / {_pct(reads, 0.95):<6.0f}"
        )
    same = sum(a.answer == b.answer for a, b in zip(results[False], results[True], strict=True))
    print(f"same answer in both modes: {same} of {len(questions)}")
    facts = sum(len(q.facts) for q in questions)
    for read_ahead, asked in results.items():
        print(
            f"{'read ahead' if read_ahead else 'asked cold'}: given {sum(a.given for a in asked)},"
            f" cited {sum(a.cited for a in asked)} of {len(asked)};"
            f" facts {sum(a.facts for a in asked)} of {facts}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default="@", help="as chat_eval.py (@: the third-party ones)")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--cps", type=float, default=5.0, help="characters typed a second")
    parser.add_argument("--enter", type=float, default=0.3, help="seconds from typed to asked")
    parser.add_argument("--answer-tokens", type=int, default=24)
    args = parser.parse_args()
    questions, roots = load_questions(args.only, args.limit)
    settings = Settings()
    settings.chat = dataclasses.replace(
        settings.chat, temperature=0.0, answer_tokens=args.answer_tokens
    )
    index_settings = Settings(data_dir=CACHE / "chat-eval")
    embedder = create_embedder("minilm", CACHE / "embedders")
    indexes = {name: WorkspaceIndex(root, index_settings, embedder) for name, root in roots.items()}
    for index in indexes.values():
        index.refresh()
    backend = create_backend(settings.llm, settings.data_dir)
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="codeassist-read-ahead-") as tmp:
            workspaces = {name: IndexWorkspace(index) for name, index in indexes.items()}
            asyncio.run(run(args, questions, workspaces, backend, settings, Path(tmp)))
    finally:
        for index in indexes.values():
            index.close()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
