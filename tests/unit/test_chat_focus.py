"""A long hit is cut to the lines most about the question, not to its head."""

from __future__ import annotations

from codeassist_lsp.chat.focus import focus_hit, focus_window, stems
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.rag.retriever import SearchHit

MODULE = [
    "import random",
    "",
    "MAX_ATTEMPTS = 3",
    "",
    "def parse_retry_after(value):",
    "    return float(value)",
    "",
    "",
    "def compute_backoff(attempt, base, cap):",
    "    ceiling = min(cap, base * 2 ** attempt)",
    "    return random.uniform(0, ceiling)",
]


def test_stems_split_identifiers_and_drop_stopwords() -> None:
    assert stems("how is computeBackoff randomised") == {"compu", "backo", "rando"}
    assert stems("retry_delay") == {"retry", "delay"}


def test_the_window_covering_the_question_starts_at_its_definition() -> None:
    start = focus_window(MODULE, "how is the backoff randomised", 3)
    assert MODULE[start] == "def compute_backoff(attempt, base, cap):"
    assert focus_window(MODULE, "anything", 20) == 0, "a short hit stays whole"
    assert focus_window(MODULE, "zebra", 4) == 0, "no match keeps the head"


def test_a_focused_hit_keeps_its_place_in_the_file() -> None:
    chunk = Chunk("net/retry.py", 10, 20, "module", "\n".join(MODULE), "python")
    hit = focus_hit(SearchHit("c1", chunk, 1.0), "backoff random", 3)
    assert (hit.chunk.start_line, hit.chunk.end_line) == (18, 20)
    assert hit.chunk.text.splitlines()[0].startswith("def compute_backoff")
    assert focus_hit(SearchHit("c1", chunk, 1.0), "zebra", 4).chunk is chunk
