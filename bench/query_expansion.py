"""Does "question -> code words" pay? Workspace identifiers nearest to the question added
to the keyword query, scored as in `retrieval_eval.py` (MRR@5, BM25 and hybrid).

Each definition name of the workspace is embedded once, as its words ("retry_if_result"
-> "retry if result"), with the index's embedder. For each plain-English question, the
`n` names whose vectors are nearest to the question's (cosine >= `t`) are added, as
words, to the query the keyword ranker sees; the vector ranker and graph expansion still
see the question alone. Figures only; the third-party columns are what decides.

    python bench/query_expansion.py [--only NAME] [--counts 3,5,8] [--thresholds 0.3,0.4,0.5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_eval import CACHE, MODES, K, first_hit_rank, load_suites  # noqa: E402

from codeassist_lsp.config import Settings  # noqa: E402
from codeassist_lsp.index.embedder import create_embedder  # noqa: E402
from codeassist_lsp.index.tokens import split_identifier  # noqa: E402
from codeassist_lsp.index.workspace import WorkspaceIndex  # noqa: E402
from codeassist_lsp.rag.retriever import Ranker, Retriever  # noqa: E402

THIRD_PARTY = ("tenacity", "semver")


def name_words(name: str) -> str:
    return " ".join(split_identifier(name))


class ExpandedKeywords:
    """The keyword ranker, with extra words appended to the questions it knows."""

    def __init__(self, inner: Ranker, extra: dict[str, str]) -> None:
        self.inner, self.extra = inner, extra

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.inner.search(f"{query} {self.extra.get(query, '')}", k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only")
    parser.add_argument("--counts", default="3,5,8")
    parser.add_argument("--thresholds", default="0.3,0.4,0.5")
    args = parser.parse_args()
    configs: list[tuple[int, float] | None] = [None] + [
        (int(n), float(t)) for n in args.counts.split(",") for t in args.thresholds.split(",")
    ]
    data = Path(tempfile.mkdtemp(prefix="codeassist-expand-"))
    embedder = create_embedder("minilm", CACHE / "embedders")
    scores: dict[tuple[tuple[int, float] | None, str], dict[str, float]] = {}
    try:
        for suite in load_suites(args.only, True):
            index = WorkspaceIndex(suite.root, Settings(data_dir=data), embedder)
            index.refresh()
            view = index.view()
            names = sorted({s.name for _, s in view.symbols() if len(s.name) >= 3})
            vectors = embedder.embed_documents([name_words(n) for n in names])
            asked = {q["question"]: embedder.embed_query(q["question"]) for q in suite.questions}
            for config in configs:
                extra: dict[str, str] = {}
                if config is not None:
                    count, threshold = config
                    for question, vector in asked.items():
                        sims = vectors @ vector
                        top = [i for i in np.argsort(-sims)[:count] if sims[i] >= threshold]
                        extra[question] = " ".join(name_words(names[i]) for i in top)
                ranker = ExpandedKeywords(index.stores.text, extra)
                retriever = Retriever(vector=index.vector_ranker, keyword=ranker)
                for mode in ("bm25", "hybrid"):
                    rr = 0.0
                    for q in suite.questions:
                        hits = retriever.search(
                            view, q["question"], index.settings.search, K, MODES[mode]
                        )
                        rank = first_hit_rank(hits, q["expected"])
                        rr += 1 / rank if rank else 0.0
                    scores.setdefault((config, mode), {})[suite.name] = rr / len(suite.questions)
            index.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"{'expansion':<16}{'mode':<8}{'all':>7}{'3rd-p':>7}  per workspace (MRR@{K})")
    for (config, mode), per in scores.items():
        third = [v for s, v in per.items() if s.startswith(THIRD_PARTY)]
        label = "none" if config is None else f"{config[0]} names >= {config[1]}"
        cells = " ".join(f"{s}={v:.3f}" for s, v in per.items())
        print(
            f"{label:<16}{mode:<8}{np.mean(list(per.values())):>7.3f}"
            f"{np.mean(third) if third else float('nan'):>7.3f}  {cells}"
        )


if __name__ == "__main__":
    main()
