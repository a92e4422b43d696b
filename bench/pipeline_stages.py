"""Does each stage of the search pipeline pay on code we did not write? (issue 22)

Over the third-party projects of `bench/thirdparty/` only (never the fixtures), hybrid
MRR@5 / recall@5 with the default pipeline and with one stage changed at a time:

- score fusion (min-max weighted sum) -> reciprocal rank fusion, k = 60;
- priors (tests, change logs, prose and build output scaled down) -> none;
- identifier lifting (a definition the query names goes on top, its callers for "who
  calls X") -> not;
- the whole graph stage -> off;
- words-only embedding text (`index/embed_text.py`) -> chunk header + raw code, in a
  second index of each project.

With `--descriptions`, two more rows use the descriptions the model already wrote for
`retrieval_eval.py --describe` (its cache; projects without them are left out of these
rows): in the keyword text only, as the product does, and in the keyword and the vector
text (after the chunk's "what and where" line, where the embedder still reads it).

Three kinds of query, as in `retrieval_eval.py`: the plain-English questions of each
project, bare identifier names, and "where is X called/used". A stage pays when turning it
off lowers the figures; figures only, no asserts. (A stage that pulled in the callers and
callees of the top three hits was dropped after this bench: MRR@5 0.413 with and without it.)

    PYTHONPATH=$PWD python3 bench/pipeline_stages.py [--only NAME] [--no-embed-text]
        [--descriptions]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402
from retrieval_eval import (  # noqa: E402
    CACHE,
    MODES,
    description_cache,
    evaluate,
    identifier_questions,
    load_suites,
    product_searcher,
    user_questions,
)

from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index import indexer  # noqa: E402
from codeassist_lsp.index.descriptions import add, pending  # noqa: E402
from codeassist_lsp.index.embed_text import embedding_text as words_only  # noqa: E402
from codeassist_lsp.index.embedder import Embedder, create_embedder  # noqa: E402
from codeassist_lsp.index.model import Chunk, Symbol  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.rag import retriever  # noqa: E402

Variant = Callable[[WorkspaceIndex], Iterator[None]]


@contextmanager
def default(index: WorkspaceIndex) -> Iterator[None]:
    yield


@contextmanager
def rrf_fusion(index: WorkspaceIndex) -> Iterator[None]:
    search = index.settings.search
    index.settings.search = replace(search, fusion="rrf")
    try:
        yield
    finally:
        index.settings.search = search


@contextmanager
def no_graph(index: WorkspaceIndex) -> Iterator[None]:
    search = index.settings.search
    index.settings.search = replace(search, graph_expansion=False)
    try:
        yield
    finally:
        index.settings.search = search


@contextmanager
def patched(module: object, name: str, value: object) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


@contextmanager
def no_priors(index: WorkspaceIndex) -> Iterator[None]:
    with patched(retriever, "prior", lambda *args, **kwargs: 1.0):
        yield


@contextmanager
def no_lifting(index: WorkspaceIndex) -> Iterator[None]:
    with patched(retriever.SymbolLookup, "definitions", lambda self, name: ([], 0.0)):
        yield


VARIANTS: dict[str, Variant] = {
    "default": default,
    "rrf fusion": rrf_fusion,
    "no priors": no_priors,
    "no identifier lifting": no_lifting,
    "no graph stage": no_graph,
}
KINDS = ("plain English", "identifier", "where called")


class Totals:
    """Question-weighted MRR@5 / R@5 per variant and query kind, and per project."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str], list[float]] = {}
        self.projects: dict[tuple[str, str], float] = {}

    def add(
        self, variant: str, kind: str, project: str, questions: list[dict], index: WorkspaceIndex
    ) -> None:
        mrr, recall, _ = evaluate(product_searcher(index, MODES["hybrid"]), questions)
        cell = self.sums.setdefault((variant, kind), [0.0, 0.0, 0])
        cell[0] += mrr * len(questions)
        cell[1] += recall * len(questions)
        cell[2] += len(questions)
        if kind == KINDS[0]:
            self.projects[(variant, project)] = mrr

    def print(self, variants: list[str], projects: list[str]) -> None:
        print("\nhybrid MRR@5 / R@5 over all third-party projects, by query kind\n")
        print("| variant | " + " | ".join(KINDS) + " |")
        print("|---|" + "---|" * len(KINDS))
        for variant in variants:
            cells = []
            for kind in KINDS:
                mrr, recall, n = self.sums.get((variant, kind), [0.0, 0.0, 0])
                cells.append(f"{mrr / max(n, 1):.3f} / {recall / max(n, 1):.2f} ({n})")
            print(f"| {variant} | " + " | ".join(cells) + " |")
        print("\nplain-English hybrid MRR@5 per project\n")
        print("| variant | " + " | ".join(projects) + " |")
        print("|---|" + "---|" * len(projects))
        for variant in variants:
            cells = [f"{self.projects.get((variant, p), float('nan')):.3f}" for p in projects]
            print(f"| {variant} | " + " | ".join(cells) + " |")


def raw_code_text(chunk: Chunk, symbols: object) -> str:
    """The embedding text this pipeline had before words-only: header and raw code."""
    return f"{chunk.header()}\n{chunk.text}"


KEYWORD_DESCRIBED = "descriptions in the keyword text"
BOTH_DESCRIBED = "descriptions in the keyword and vector text"


def described_variants(
    root: Path,
    name: str,
    queries: dict[str, list[dict]],
    known: dict[str, str],
    data_dir: Path,
    totals: Totals,
    embedder: Embedder,
) -> None:
    """The two description rows for one project, when the cache describes its chunks."""
    index = WorkspaceIndex(root, Settings(data_dir=data_dir / "described"), embedder)
    index.refresh()
    if not describe_from_cache(index, known):
        index.close()
        return
    for kind, questions in queries.items():
        totals.add(KEYWORD_DESCRIBED, kind, name, questions, index)
    index.close()
    with patched(indexer, "embedding_text", with_description(known)):
        both = WorkspaceIndex(root, Settings(data_dir=data_dir / "both"), embedder)
        both.refresh()
    describe_from_cache(both, known)
    for kind, questions in queries.items():
        totals.add(BOTH_DESCRIBED, kind, name, questions, both)
    both.close()


def cached_descriptions() -> dict[str, str]:
    """Descriptions by chunk content key, as `retrieval_eval.py --describe` cached them."""
    cache = description_cache("qwen2.5-coder-0.5b")
    known: dict[str, str] = json.loads(cache.read_text()) if cache.exists() else {}
    return {key: text for key, text in known.items() if text}


def with_description(known: dict[str, str]) -> Callable[[Chunk, Sequence[Symbol]], str]:
    """Words-only embedding text with the chunk's description after its first line."""

    def text(chunk: Chunk, symbols: Sequence[Symbol]) -> str:
        words = words_only(chunk, symbols)
        described = known.get(chunk.content_key)
        if not described:
            return words
        first, _, rest = words.partition("\n")
        return f"{first}\n{described}\n{rest}"

    return text


def describe_from_cache(index: WorkspaceIndex, known: dict[str, str]) -> int:
    """Add the cached descriptions of the index's pending chunks to its keyword index."""
    found = {
        c.chunk_id: known[c.content_key] for c in pending(index.stores) if c.content_key in known
    }
    return add(index.stores, found) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--no-embed-text", action="store_true", help="skip the second index")
    parser.add_argument("--descriptions", action="store_true", help="cached descriptions too")
    args = parser.parse_args()
    known = cached_descriptions() if args.descriptions else {}
    load_start = loadavg()
    embedder = create_embedder(args.embedder, CACHE / "embedders")
    suites = [s for s in load_suites(args.only, True) if "@" in s.name]  # third-party only
    totals = Totals()
    variants = list(VARIANTS)
    data_dir = Path(tempfile.mkdtemp(prefix="codeassist-stages-"))
    try:
        for suite in suites:
            queries: dict[str, list[dict]] = {KINDS[0]: suite.questions}
            index = WorkspaceIndex(suite.root, Settings(data_dir=data_dir / "words"), embedder)
            index.refresh()
            queries[KINDS[1]] = identifier_questions(index)
            queries[KINDS[2]] = user_questions(index)
            for name, variant in VARIANTS.items():
                with variant(index):
                    for kind, questions in queries.items():
                        totals.add(name, kind, suite.name, questions, index)
            index.close()
            if not args.no_embed_text:
                with patched(indexer, "embedding_text", raw_code_text):
                    raw = WorkspaceIndex(suite.root, Settings(data_dir=data_dir / "raw"), embedder)
                    raw.refresh()
                for kind, questions in queries.items():
                    totals.add("header + raw code embedded", kind, suite.name, questions, raw)
                raw.close()
            print(f"{suite.name}: done", file=sys.stderr)
            if known:
                described_variants(
                    suite.root, suite.name, queries, known, data_dir, totals, embedder
                )
        if not args.no_embed_text:
            variants.append("header + raw code embedded")
        if known:
            variants += [KEYWORD_DESCRIBED, BOTH_DESCRIBED]
        print(f"pipeline_stages: {len(suites)} third-party projects")
        print(f"CPU: {cpu_name()}; code: {code_state()}")
        print(f"load average (1/5/15 min): start {load_start}, end {loadavg()}")
        totals.print(variants, [s.name for s in suites])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
