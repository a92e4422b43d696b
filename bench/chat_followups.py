"""Follow-up questions: does "and where is it called?" find what "it" is?

For each third-party retrieval question (`bench/thirdparty/*.json`) whose expected lines
lie in a definition that the code graph knows users of, a first turn is stored as if
answered well (the question, and an answer naming that definition as the chat prompt
asks: "`name` [1] …"), then follow-ups are asked in the same conversation through
`ChatManager`: "And where is it called?" and "Who uses it?" count as found when a source
holds a caller or user of the definition; "What does it return?" and "Show me its code."
when a source holds the definition itself.

Three ways of stating the first answer are compared in the same run: the name quoted as
code and the definition cited, which the follow-up's query takes as what "it" is
(`chat/intent.retrieval_query`); the name unquoted with the citation, where the cited
definition stands for "it" (since 2026-12-04, session 15); and the name unquoted with no
citation, where the query borrows the words of the question before (how follow-ups were
searched until 2026-12-04). `--model-first` adds a fourth way: the real model answers the
first question (greedy) and its own citations are stored with it, as in a real chat, so a
follow-up counts only when that answer cited the expected definition. `--answer` lets
the model answer the follow-ups too and scores its citations instead of the sources.

    python bench/chat_followups.py [--only NAME] [--limit N] [--model-first] [--answer]
        [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chat_eval import overlaps_expected  # noqa: E402
from retrieval_eval import CACHE, load_suites  # noqa: E402

from codeassist_lsp.chat.conversation import ChatMessage, Citation  # noqa: E402
from codeassist_lsp.chat.history import History, new_id  # noqa: E402
from codeassist_lsp.chat.manager import (  # noqa: E402
    ChatManager,
    ChatRequest,
    ChatResult,
    SourcesEvent,
)
from codeassist_lsp.chat.workspace import IndexWorkspace  # noqa: E402
from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.model import Symbol  # noqa: E402
from codeassist_lsp.index.view import IndexView  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.llm.backend import Backend, create_backend  # noqa: E402

FOLLOW_UPS = (
    ("And where is it called?", "users"),
    ("Who uses it?", "users"),
    ("What does it return?", "definition"),
    ("Show me its code.", "definition"),
)
# the first answer names the definition `quoted` or plain; or the model writes it
STYLES = ("quoted", "cited", "plain")


@dataclass(frozen=True)
class Case:
    """A first question, the definition its answer is about, and where its users are."""

    workspace: str
    question: str
    path: str
    symbol: Symbol
    users: list[dict]  # where the users are, as the eval files write expected places

    @property
    def definition(self) -> list[dict]:
        return [_place(self.path, self.symbol)]


def _place(path: str, symbol: Symbol) -> dict:
    return {"path": path, "start_line": symbol.start_line, "end_line": symbol.end_line}


def subject_of(view: IndexView, expected: list[dict]) -> tuple[str, Symbol] | None:
    """The innermost definition holding the start of the first expected range."""
    first = expected[0]
    found = view.symbol_at(first["path"], first["start_line"])
    return (first["path"], found) if found is not None else None


def user_places(view: IndexView, path: str, symbol: Symbol) -> list[dict]:
    """Where the graph's users of `symbol` are defined."""
    places = []
    for node in view.users(view.node_of(path, symbol)):
        data = view.graph.nodes.get(node, {})
        other_path, qualname = str(data.get("path")), data.get("qualname")
        for other in view.symbols_in(other_path):
            if other.qualname == qualname:
                places.append(_place(other_path, other))
    return places


def cases(view: IndexView, workspace: str, questions: list[dict]) -> list[Case]:
    out = []
    for q in questions:
        found = subject_of(view, q["expected"])
        if found is None:
            continue
        path, symbol = found
        users = user_places(view, path, symbol)
        if users:
            out.append(Case(workspace, q["question"], path, symbol, users))
    return out


def first_answer(case: Case, style: str) -> str:
    name = f"`{case.symbol.name}`" if style == "quoted" else case.symbol.name
    return f"{name} [1] is where this happens; it is defined in {case.path}."


async def model_answer(
    manager: ChatManager, workspace: IndexWorkspace, case: Case
) -> tuple[str, tuple[Citation, ...]]:
    """The model's own answer to the first question, in a conversation of its own, and
    its citations."""
    async with aclosing(manager.ask(ChatRequest(case.question), workspace)) as events:
        async for event in events:
            if isinstance(event, ChatResult):
                return event.answer, event.citations
    return "", ()


def case_citation(case: Case) -> Citation:
    """What a first answer about the case's definition cites."""
    return Citation(case.path, case.symbol.start_line, case.symbol.end_line, case.symbol.qualname)


async def ask_follow_up(
    manager: ChatManager,
    workspace: IndexWorkspace,
    case: Case,
    first: str,
    cited: tuple[Citation, ...],
    follow_up: str,
    answer: bool,
) -> tuple[tuple[Citation, ...], float]:
    """Store the first turn with the answer `first` citing `cited`, ask `follow_up` after
    it: the citations scored and the time to the sources."""
    conversation_id = manager.history.create(workspace.root, case.question[:40]).id
    now = time.time()
    question = ChatMessage(new_id(), conversation_id, "user", case.question, now)
    reply = ChatMessage(new_id(), conversation_id, "assistant", first, now, cited)
    manager.history.add_turn(question, reply)
    start = time.perf_counter()
    sources: tuple[Citation, ...] = ()
    sources_ms = 0.0
    request = ChatRequest(follow_up, conversation_id)
    async with aclosing(manager.ask(request, workspace)) as events:
        async for event in events:
            if isinstance(event, SourcesEvent):
                sources, sources_ms = event.citations, (time.perf_counter() - start) * 1000
                if not answer:
                    break
            elif isinstance(event, ChatResult):
                return event.citations, sources_ms
    return sources, sources_ms


async def run(
    all_cases: list[Case],
    workspaces: dict[str, IndexWorkspace],
    backend: Backend,
    settings: Settings,
    answer: bool,
    history_dir: Path,
    styles: tuple[str, ...] = STYLES,
) -> dict[tuple[str, str], list[bool]]:
    await backend.load()
    found: dict[tuple[str, str], list[bool]] = {}
    for style in styles:
        manager = ChatManager(
            History(history_dir / f"{style}.duckdb"), lambda: backend, settings.chat
        )
        for case in all_cases:
            on_track = True
            if style == "model":
                first, cited = await model_answer(manager, workspaces[case.workspace], case)
                on_track = overlaps_expected(cited, case.definition)
                print(
                    f"  model: {'on track' if on_track else 'off'} {first[:90]!r}", file=sys.stderr
                )
            else:
                first = first_answer(case, style)
                cited = () if style == "plain" else (case_citation(case),)
            target = {"users": case.users, "definition": case.definition}
            for follow_up, kind in FOLLOW_UPS:
                citations, ms = await ask_follow_up(
                    manager, workspaces[case.workspace], case, first, cited, follow_up, answer
                )
                ok = overlaps_expected(citations, target[kind])
                found.setdefault((style, follow_up), []).append(ok)
                if style == "model" and on_track:
                    found.setdefault(("on track", follow_up), []).append(ok)
                print(
                    f"  {style:<6} {'ok' if ok else '--'} {ms:5.0f} ms {case.symbol.name:<28}"
                    f" {follow_up}",
                    file=sys.stderr,
                )
    await backend.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="a workspace name part")
    parser.add_argument("--limit", type=int, help="first N cases per workspace")
    parser.add_argument("--answer", action="store_true", help="score the model's citations")
    parser.add_argument(
        "--model-first", action="store_true", help="the model answers the first question too"
    )
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    settings = Settings()
    if args.threads:
        settings.llm = dataclasses.replace(settings.llm, threads=args.threads)
    settings.chat = dataclasses.replace(settings.chat, temperature=0.0)
    embedder = create_embedder("minilm", CACHE / "embedders")
    indexes: dict[str, WorkspaceIndex] = {}
    all_cases: list[Case] = []
    for suite in load_suites(args.only, True):
        if "@" not in suite.name:
            continue
        index = WorkspaceIndex(suite.root, Settings(data_dir=CACHE / "chat-eval"), embedder)
        index.refresh()
        indexes[suite.name] = index
        found = cases(index.view(), suite.name, suite.questions)
        all_cases.extend(found[: args.limit] if args.limit else found)
    styles = (*STYLES, "model") if args.model_first else STYLES
    shown = (*styles, "on track") if args.model_first else styles
    backend = create_backend(settings.llm, settings.data_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="codeassist-followups-") as tmp:
            workspaces = {name: IndexWorkspace(index) for name, index in indexes.items()}
            found = asyncio.run(
                run(all_cases, workspaces, backend, settings, args.answer, Path(tmp), styles)
            )
    finally:
        for index in indexes.values():
            index.close()
    load = Path("/proc/loadavg").read_text().split(" ", 1)[0]
    scored = "the model's citations" if args.answer else "the sources"
    print(
        f"\nfollow-ups over {len(all_cases)} first questions in {len(indexes)} projects"
        f" ({scored} scored; load {load})"
    )
    heads = {
        "quoted": "answer names it `quoted`",
        "cited": "unquoted, cites it",
        "plain": "unquoted, uncited",
        "model": "model's answer",
        "on track": "model's, it cites the case",
    }
    print(f"{'follow-up':<28}" + "".join(f" {heads[style]:>26}" for style in shown))
    for follow_up, _ in FOLLOW_UPS:
        cells = []
        for style in shown:
            values = found.get((style, follow_up), [])
            cells.append(f"{sum(values)}/{len(values)} ({sum(values) / max(len(values), 1):.0%})")
        print(f"{follow_up:<28}" + "".join(f" {cell:>26}" for cell in cells))


if __name__ == "__main__":
    main()
