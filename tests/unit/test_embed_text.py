from __future__ import annotations

from codeassist_lsp.index.embed_text import TEST_TEXT_CHARS, embedding_text, vector_identity
from codeassist_lsp.index.model import Chunk, Symbol

CODE = """def backoff_delay(attempt: int, base: float) -> float:
    # Full jitter: spread clients out so they do not retry in lockstep.
    cap = min(MAX_DELAY, base * 2 ** attempt)
    return random.uniform(0, cap)
"""


def _chunk(**extra: object) -> Chunk:
    fields: dict = {
        "path": "webclient/net/retry.py",
        "start_line": 10,
        "end_line": 13,
        "kind": "method",
        "text": CODE,
        "language": "python",
        "symbol": "RetryPolicy.backoff_delay",
        "parent": "RetryPolicy",
    }
    fields.update(extra)
    return Chunk(**fields)  # type: ignore[arg-type]


def test_says_what_and_where_in_words_first() -> None:
    first = embedding_text(_chunk()).splitlines()[0]
    assert first == "method backoff delay of retry policy in net retry."


def test_comments_and_docstring_come_before_identifiers() -> None:
    lines = embedding_text(_chunk(docstring="How long to sleep before the next try.")).splitlines()
    assert lines[1] == "How long to sleep before the next try."
    assert lines[2].startswith("Full jitter: spread clients out")
    assert "max delay" in lines[3]


def test_identifiers_are_split_once_each_and_keywords_dropped() -> None:
    words = embedding_text(_chunk()).splitlines()[-1].split()
    assert "backoff" in words and "jitter" not in words[:2]
    assert "def" not in words and "return" not in words
    assert embedding_text(_chunk()).splitlines()[-1].count("uniform") == 1


def test_module_chunk_without_symbol() -> None:
    text = embedding_text(_chunk(symbol=None, parent=None, kind="module"))
    assert text.splitlines()[0] == "module in net retry."


def test_vector_identity_changes_with_token_budget() -> None:
    assert vector_identity("minilm", 128) != vector_identity("minilm", 64)


def test_blank_docstring_is_no_summary() -> None:
    # numpy's ma/core.py has a docstring of only whitespace; it once stopped a whole index.
    chunk = _chunk(docstring="   \n  ")
    assert chunk.header().splitlines()[-1] != ""
    assert "\n\n" not in embedding_text(chunk)


def test_test_files_are_embedded_by_name_and_first_words_only() -> None:
    code = embedding_text(_chunk())
    test = embedding_text(_chunk(path="tests/test_retry.py"))
    assert len(test) <= TEST_TEXT_CHARS < len(code)
    assert test.startswith("method backoff delay of retry policy in tests test retry.")


def _symbol(name: str, line: int, doc: str = "") -> Symbol:
    return Symbol(name, f"RetryPolicy.{name}", "method", line, line + 2, docstring=doc)


def test_names_the_definitions_a_chunk_holds_with_their_first_sentence() -> None:
    chunk = _chunk(symbol="RetryPolicy", parent=None, kind="class", start_line=1, end_line=40)
    symbols = [
        Symbol("RetryPolicy", "RetryPolicy", "class", 1, 40),
        _symbol("should_retry", 5, "Decide whether to try again. Only idempotent methods."),
        _symbol("next_delay", 20),
        _symbol("elsewhere", 90, "Outside the chunk."),
    ]
    lines = embedding_text(chunk, symbols).splitlines()
    assert "should retry: Decide whether to try again. next delay." in lines
    assert "Only idempotent" not in "\n".join(lines)
    assert "Outside the chunk" not in "\n".join(lines)
    assert not any(line.startswith("retry policy") for line in lines[1:])


def test_a_doc_comment_already_in_the_comments_is_not_repeated() -> None:
    chunk = _chunk(symbol=None, parent=None, kind="module", start_line=10, end_line=13)
    doc = "Full jitter: spread clients out so they do not retry in lockstep."
    text = embedding_text(chunk, [_symbol("backoff_delay", 11, doc)])
    assert text.count("Full jitter") == 1
    assert "backoff delay." in text
