"""The plain reference pipeline that the product's search must beat (issue 22).

Function, method and class chunks (structs, interfaces, enums, traits and impl blocks
being the classes of Go, TypeScript and Rust) (the product's tree-sitter symbols, nothing else: no
file heads, no documents, no descriptions), each indexed as its path and code; BM25 from
tantivy's default tokenizer, MiniLM vectors from the product's embedder, fused by
reciprocal rank fusion with k = 60 over each ranker's top 50. No priors, no graph, no
identifier splitting: what someone would build in an afternoon.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import tantivy

from codeassist_lsp.index.embedder import Embedder
from codeassist_lsp.index.workspace import WorkspaceIndex

KINDS = frozenset({"function", "method", "class", "struct", "interface", "enum", "trait", "impl"})
RRF_K = 60
DEPTH = 50
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Span:
    """One chunk: where it is, for scoring against expected ranges."""

    path: str
    start_line: int
    end_line: int


class Located(Protocol):
    """Anything with a place in the workspace: a `Span` or the product's `Chunk`."""

    path: str
    start_line: int
    end_line: int


Searcher = Callable[[str, int], Sequence[Located]]


def plain_searcher(index: WorkspaceIndex, embedder: Embedder) -> Searcher:
    """A search function over `index`'s definitions, built in memory."""
    view = index.view()
    spans: list[Span] = []
    texts: list[str] = []
    lines_of: dict[str, list[str]] = {}
    for path, sym in view.symbols():
        if sym.kind not in KINDS:
            continue
        if path not in lines_of:
            lines_of[path] = (view.file_text(path) or "").split("\n")
        code = "\n".join(lines_of[path][sym.start_line - 1 : sym.end_line])
        spans.append(Span(path, sym.start_line, sym.end_line))
        texts.append(f"{path}\n{code}")
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("row", stored=True)
    builder.add_text_field("text")
    keyword = tantivy.Index(builder.build())
    writer = keyword.writer()
    for row, text in enumerate(texts):
        writer.add_document(tantivy.Document(row=row, text=text))
    writer.commit()
    keyword.reload()
    vectors = embedder.embed_documents(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def search(question: str, k: int) -> list[Span]:
        fused: dict[int, float] = {}
        words = _WORD.findall(question)
        if words:
            query = keyword.parse_query(" ".join(words), ["text"])
            searcher = keyword.searcher()
            for rank, (_, address) in enumerate(searcher.search(query, DEPTH).hits):
                row = searcher.doc(address)["row"][0]
                fused[row] = fused.get(row, 0.0) + 1 / (RRF_K + rank + 1)
        if len(spans):
            scores = vectors @ embedder.embed_query(question)
            for rank, row in enumerate(np.argsort(-scores)[:DEPTH]):
                fused[int(row)] = fused.get(int(row), 0.0) + 1 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda row: -fused[row])[:k]
        return [spans[row] for row in best]

    return search
