"""Retrieval quality: MRR@5 and recall@5 per workspace and overall, hybrid vs BM25 vs vector.

Fixture workspaces come from `fixtures/eval/*.json`; third-party projects from
`bench/thirdparty/*.json` are fetched from their package registry (PyPI sdist, npm
tarball, or a Debian `-dev` package for Go and Rust sources) into a cache folder on first
use. A result counts as a hit when it lies in an
expected file and its line range overlaps an expected range.

A second table scores identifier queries, the other way people search code: for up to 40
definitions per workspace (functions, methods, classes outside tests, chosen by a hash of
their name), the query is the bare name, or `Class.method` for a method, and the expected
hit is the definition. Names defined more than once in the workspace are left out, since
the query cannot say which one is meant. A third table asks for the users of such a
definition ("where is parse_args() called", "where is Router used"); any chunk holding a
caller or user the code graph knows is a hit.

With `--describe`, each workspace is then described by the local model (`codeassist index
--describe`: a sentence or two per function and class, in the keyword index) and its
plain-English questions are asked again, in a table of their own with the description
cost. Descriptions are cached by content in the bench cache per model, so only the first
run pays for them.

The plain-English tables also score a plain reference pipeline in the same run
(`plain_pipeline.py`: function and class chunks, BM25 + MiniLM over path and code, RRF
k=60), which the product's hybrid search must beat on every project.

    python bench/retrieval_eval.py [--only NAME] [--no-thirdparty] [--embedder minilm]
        [--describe] [--model TIER] [--threads N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.model import Chunk  # noqa: E402
from codeassist_lsp.index.path_kinds import is_test_path  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.rag.retriever import search_index  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from plain_pipeline import Located, Searcher, plain_searcher  # noqa: E402

MODES = {
    "hybrid": frozenset({"vector", "keyword", "graph", "rerank"}),
    "bm25": frozenset({"keyword"}),
    "vector": frozenset({"vector"}),
}
K = 5
IDENTIFIER_QUERIES = 40
DEFINITION_KINDS = frozenset({"function", "method", "class"})
CACHE = Path(os.environ.get("CODEASSIST_BENCH_CACHE", Path.home() / ".cache" / "codeassist-bench"))


@dataclass
class Suite:
    name: str
    root: Path
    questions: list[dict]


def fetch_thirdparty(spec: dict) -> Path:
    """Download and unpack a pinned package source once; return its source folder."""
    target = CACHE / f"{spec['package']}-{spec['version']}"
    src = target / spec["source_subdir"]
    if src.is_dir():
        return src
    with tempfile.TemporaryDirectory() as tmp:
        if spec.get("registry") == "debian":  # Go and Rust sources ship as -dev packages
            package = f"{spec['package']}={spec['version']}"
            subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, check=True)
            deb = next(Path(tmp).glob("*.deb"))
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
            return src
        if spec.get("registry") == "npm":
            cmd = ["npm", "pack", f"{spec['package']}@{spec['version']}", "--silent"]
        else:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-q",
                "-d",
                tmp,
                f"{spec['package']}=={spec['version']}",
            ]
        subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        archive = next(p for p in Path(tmp).iterdir() if p.name.endswith((".tar.gz", ".tgz")))
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    return src


def load_suites(only: str | None, thirdparty: bool) -> list[Suite]:
    suites = []
    for path in sorted((ROOT / "fixtures" / "eval").glob("*.json")):
        data = json.loads(path.read_text())
        suites.append(
            Suite(data["workspace"], ROOT / "fixtures" / data["workspace"], data["questions"])
        )
    if thirdparty:
        for path in sorted((ROOT / "bench" / "thirdparty").glob("*.json")):
            data = json.loads(path.read_text())
            suites.append(
                Suite(
                    f"{data['package']}@{data['version']}",
                    fetch_thirdparty(data),
                    data["questions"],
                )
            )
    return [s for s in suites if only is None or only in s.name]


def first_hit_rank(hits: Sequence[Located], expected: list[dict]) -> int | None:
    for rank, c in enumerate(hits[:K], start=1):
        for e in expected:
            if (
                c.path == e["path"]
                and c.start_line <= e["end_line"]
                and e["start_line"] <= c.end_line
            ):
                return rank
    return None


def product_searcher(index: WorkspaceIndex, modes: frozenset[str]) -> Searcher:
    def search(question: str, k: int) -> list[Chunk]:
        return [hit.chunk for hit in search_index(index, question, k, modes)]

    return search


def evaluate(search: Searcher, questions: list[dict]) -> tuple[float, float, list[str]]:
    rr, found, misses = 0.0, 0, []
    for q in questions:
        rank = first_hit_rank(search(q["question"], K), q["expected"])
        if rank is not None:
            rr += 1.0 / rank
            found += 1
        else:
            misses.append(q["id"])
    n = max(len(questions), 1)
    return rr / n, found / n, misses


USER_EDGES = frozenset({"calls", "references", "inherits"})


def unique_definitions(index: WorkspaceIndex) -> list[tuple[str, str, dict]]:
    """(query name, graph node, node data) of definitions whose query name is unique.

    The query name is the bare name, or `Class.method` for a method; the order is a hash
    of it, so the sample is stable and unrelated to file order.
    """
    graph = index.view().graph
    if graph is None:
        return []
    defs = [
        (node, data)
        for node, data in graph.nodes.items()
        if data.get("type") == "symbol"
        and data.get("kind") in DEFINITION_KINDS
        and not is_test_path(str(data.get("path")))
        and not str(data.get("name", "")).startswith("__")
    ]
    counts: dict[str, int] = {}
    for _, d in defs:
        for key in {str(d["name"]), str(d["qualname"])}:
            counts[key] = counts.get(key, 0) + 1
    found = []
    for node, d in defs:
        query = str(d["qualname"]) if d.get("kind") == "method" else str(d["name"])
        if counts.get(query) == 1:
            found.append((query, node, d))
    found.sort(key=lambda f: hashlib.sha256(f[0].encode()).hexdigest())
    return found


def _lines(data: dict) -> list[dict]:
    """Every definition's lines: overloads and getter/setter pairs share one node."""
    ranges = data.get("ranges") or [(data["start_line"], data["end_line"])]
    return [{"path": data["path"], "start_line": a, "end_line": b} for a, b in ranges]


def identifier_questions(index: WorkspaceIndex) -> list[dict]:
    """Queries naming one definition each; the definition is the answer."""
    return [
        {"id": query, "question": query, "expected": _lines(d)}
        for query, _, d in unique_definitions(index)[:IDENTIFIER_QUERIES]
    ]


def user_questions(index: WorkspaceIndex) -> list[dict]:
    """ "Where is X called/used" for definitions with users; any user's lines are a hit."""
    graph = index.view().graph
    questions = []
    for query, node, d in unique_definitions(index):
        if graph is None or len(questions) == IDENTIFIER_QUERIES:
            break
        users = {
            src
            for src, _, kind in graph.in_edges(node)
            if kind in USER_EDGES and graph.nodes[src].get("type") == "symbol"
        }
        if not users:
            continue
        asked = (
            f"where is {query} used" if d.get("kind") == "class" else f"where is {query}() called"
        )
        expected = [lines for u in sorted(users) for lines in _lines(graph.nodes[u])]
        questions.append({"id": query, "question": asked, "expected": expected})
    return questions


class Table:
    """Rows of MRR@5 / R@5 per workspace and mode, with question-weighted totals."""

    def __init__(self, title: str, plain: bool = False) -> None:
        self.title = title
        self.rows: list[str] = []
        self.columns = [*MODES, *(["plain"] if plain else [])]
        self.totals = {m: [0.0, 0.0, 0] for m in self.columns}

    def add(
        self,
        index: WorkspaceIndex,
        name: str,
        questions: list[dict],
        note: str,
        show_misses: bool,
        plain: Searcher | None = None,
    ) -> None:
        row = f"{name:<22} {len(questions):>4}  "
        cells = []
        searchers = {mode: product_searcher(index, flags) for mode, flags in MODES.items()}
        if "plain" in self.columns and plain is not None:
            searchers["plain"] = plain
        for mode, search in searchers.items():
            mrr, recall, misses = evaluate(search, questions)
            t = self.totals[mode]
            t[0] += mrr * len(questions)
            t[1] += recall * len(questions)
            t[2] += len(questions)
            cells.append(f"{mrr:>12.3f} {recall:>5.2f}")
            if show_misses and mode == "hybrid" and misses:
                print(f"  {name} misses: {', '.join(misses)}", file=sys.stderr)
        self.rows.append(row + "  ".join(cells) + note)

    def print(self) -> None:
        print(f"\n{self.title}")
        print(
            f"{'workspace':<22} {'qs':>4}  "
            + "  ".join(f"{m + ' MRR@5':>12} {'R@5':>5}" for m in self.columns)
        )
        for row in self.rows:
            print(row)
        cells = []
        for mode in self.columns:
            t = self.totals[mode]
            n = max(t[2], 1)
            cells.append(f"{t[0] / n:>12.3f} {t[1] / n:>5.2f}")
        print(f"{'overall':<22} {self.totals['hybrid'][2]:>4}  " + "  ".join(cells))


def description_cache(model: str) -> Path:
    """Where `--describe` keeps the descriptions `model` wrote, by chunk content key."""
    from codeassist_lsp.describe.prompt import PROMPT_VERSION

    return CACHE / "descriptions" / f"{model}-v{PROMPT_VERSION}.json"


def describe_workspace(index: WorkspaceIndex, model: str, threads: int | None) -> str:
    """Add cached descriptions, have the model write the missing ones; returns the cost."""
    import asyncio

    from codeassist_lsp.config import default_data_dir
    from codeassist_lsp.describe.job import describe_pending
    from codeassist_lsp.index import descriptions
    from codeassist_lsp.llm.backend import create_backend
    from codeassist_lsp.llm.settings import LLMSettings

    cache = description_cache(model)
    known: dict[str, str] = json.loads(cache.read_text()) if cache.exists() else {}
    todo = descriptions.pending(index.stores)
    descriptions.add(
        index.stores, {c.chunk_id: known[c.content_key] for c in todo if c.content_key in known}
    )
    llm = LLMSettings(model=model, threads=threads or 0)

    async def run() -> tuple[int, float]:
        backend = create_backend(llm, default_data_dir())
        try:
            stats = await describe_pending(index.stores, backend)
        finally:
            await backend.close()
        return stats.described + stats.failed, stats.seconds

    count, seconds = asyncio.run(run())
    with index.stores.lock:
        known.update(index.stores.meta.descriptions())
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(known, indent=0, sort_keys=True))
    done, wanted = descriptions.counts(index.stores)
    rate = f"{count / seconds:.2f} chunks/s" if seconds else "all cached"
    return f"   ({done} of {wanted} described; {count} now in {seconds:.0f}s, {rate})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only")
    parser.add_argument("--no-thirdparty", action="store_true")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--describe", action="store_true")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="codeassist-eval-"))
    settings = Settings(data_dir=data_dir)
    embedder = create_embedder(args.embedder, CACHE / "embedders")
    questions = Table("plain-English questions (fixtures/eval, bench/thirdparty)", plain=True)
    identifiers = Table(f"identifier queries (up to {IDENTIFIER_QUERIES} definitions each)")
    users = Table(f"'where is X called/used' (up to {IDENTIFIER_QUERIES} definitions each)")
    described = Table(f"plain-English questions with descriptions by {args.model}", plain=True)
    try:
        for suite in load_suites(args.only, not args.no_thirdparty):
            index = WorkspaceIndex(suite.root, settings, embedder)
            start = time.perf_counter()
            stats = index.refresh()
            note = (
                f"   ({stats.files} files, {stats.chunks} chunks,"
                f" indexed in {time.perf_counter() - start:.1f}s)"
            )
            plain = plain_searcher(index, embedder)
            questions.add(index, suite.name, suite.questions, note, args.show_misses, plain)
            named = identifier_questions(index)
            identifiers.add(index, suite.name, named, "", args.show_misses)
            users.add(index, suite.name, user_questions(index), "", args.show_misses)
            if args.describe:
                cost = describe_workspace(index, args.model, args.threads)
                described.add(index, suite.name, suite.questions, cost, args.show_misses, plain)
            index.close()
        questions.print()
        identifiers.print()
        users.print()
        if args.describe:
            described.print()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
