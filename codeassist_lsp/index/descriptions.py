"""Plain-English descriptions of chunks, kept in DuckDB and searched as keywords.

People ask in their words ("wait longer after each failure"), code says `wait_exponential`.
A sentence or two saying what a function does, written by the local model, bridges the
two for keyword search. This module stores and serves them; writing them is the
describer's job (`codeassist_lsp.describe`), which needs the model and so lives above.

Descriptions are keyed by the chunk's content hash: a moved or unchanged function keeps
its description, an edited one is described again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from codeassist_lsp.index.generated import generated_chunk_files
from codeassist_lsp.index.model import Chunk, symbol_node
from codeassist_lsp.index.path_kinds import is_test_path
from codeassist_lsp.index.storage import WorkspaceStores

# a "module" chunk is a small file whole, or the top of a file: both say what it is for
DESCRIBED_KINDS = frozenset({"function", "method", "class", "module"})
MIN_LINES = 3  # a one- or two-line definition says what it does in its name and signature

KeywordDoc = tuple[str, str, str, str]  # id, path, header, body


def keyword_header(chunk: Chunk, description: str | None) -> str:
    """The header words of a chunk's keyword document, its description included."""
    header = chunk.header()
    return f"{header}\n{description}" if description else header


def keyword_docs(stores: WorkspaceStores, chunks: Iterable[Chunk]) -> list[KeywordDoc]:
    """Keyword documents for `chunks`, with the descriptions already written for them."""
    chunks = list(chunks)
    with stores.lock:
        described = stores.meta.descriptions([c.content_key for c in chunks])
    return [
        (c.chunk_id, c.path, keyword_header(c, described.get(c.content_key)), c.text)
        for c in chunks
    ]


def wanted(chunk: Chunk) -> bool:
    """Whether a chunk is worth a description: a definition of some size, not a test."""
    return (
        chunk.kind in DESCRIBED_KINDS
        and chunk.end_line - chunk.start_line + 1 >= MIN_LINES
        and not is_test_path(chunk.path)
    )


def pending(stores: WorkspaceStores) -> list[Chunk]:
    """Chunks still to describe, most useful first: those without a docstring (the
    description is all the prose they will have), then those the rest of the code uses
    most (edges pointing at them). Build output that mirrors a source is left out: it
    ranks below its source anyway, and a bundle has as many chunks as the sources."""
    with stores.lock:
        chunks = stores.meta.chunks_by_id()
        done = set(stores.meta.descriptions())
        used = stores.meta.target_counts()
    built = generated_chunk_files(chunks.values())
    todo = [
        c
        for c in chunks.values()
        if wanted(c) and c.path not in built and c.content_key not in done
    ]

    def value(c: Chunk) -> tuple[bool, int, str, int]:
        uses = used.get(symbol_node(c.path, c.symbol), 0) if c.symbol else 0
        return (bool(c.docstring.strip()), -uses, c.path, c.start_line)

    return sorted(todo, key=value)


def counts(stores: WorkspaceStores) -> tuple[int, int]:
    """(described, wanted) over the chunks the index holds now."""
    with stores.lock:
        chunks = stores.meta.chunks_by_id()
        done = set(stores.meta.descriptions())
    built = generated_chunk_files(chunks.values())
    keys = {c.content_key for c in chunks.values() if wanted(c) and c.path not in built}
    return len(keys & done), len(keys)


def add(stores: WorkspaceStores, described: Mapping[str, str]) -> int:
    """Store descriptions (by chunk id) and put them in the keyword index; returns how many
    chunks were updated. A chunk the indexer removed meanwhile is skipped: the lock keeps
    its keyword document from coming back as an orphan."""
    ids: Sequence[str] = list(described)
    with stores.lock:
        chunks = stores.meta.chunks_by_id(ids)
        by_key = {c.content_key: described[cid] for cid, c in chunks.items()}
        stores.meta.save_descriptions(by_key)
        docs = [
            (c.chunk_id, c.path, keyword_header(c, by_key[c.content_key]), c.text)
            for c in chunks.values()
        ]
        stores.text.write(docs, [d[0] for d in docs])
    return len(docs)
