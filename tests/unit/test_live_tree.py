"""Incremental parsing of edited documents, and readable syntax problems."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from codeassist_lsp.features.diagnostics import to_diagnostic
from codeassist_lsp.index.languages import get_parser
from codeassist_lsp.index.live_tree import Edit, LiveTree
from codeassist_lsp.index.syntax_errors import syntax_problems

ROOT = Path(__file__).resolve().parents[2]


def _position(text: str, offset: int) -> tuple[int, int]:
    """(line, UTF-16 character) of a str offset, as an editor counts it."""
    before = text[:offset]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    return line, len(column.encode("utf-16-le")) // 2


def test_random_edits_give_the_tree_of_a_fresh_parse() -> None:
    text = (ROOT / "codeassist_lsp" / "index" / "indexer.py").read_text() + "\nnote = 'é😀ü'\n"
    live = LiveTree("python", text)
    rng = random.Random(7)
    for _ in range(60):
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randrange(0, 12))
        insert = rng.choice(["", "x", "(", ")", "\n    ", "'", "é😀", "def g():\n    pass\n"])
        edit = Edit(insert, _position(text, a), _position(text, b))
        text = text[:a] + insert + text[b:]
        live.apply([edit])
        tree = live.current()
        assert live.source == text.encode("utf-8")
        fresh = get_parser("python").parse(text.encode("utf-8"))
        assert str(tree.root_node) == str(fresh.root_node)
    assert live.full_parses == 1  # every edit was parsed incrementally


def test_a_whole_document_change_and_a_disagreeing_text_parse_afresh() -> None:
    live = LiveTree("python", "x = 1\n")
    live.apply([Edit("def f(:\n")])
    assert live.current().root_node.has_error and live.full_parses == 2
    live.apply([Edit("y", (0, 0), (0, 0))])
    assert not live.current("z = 2\n").root_node.has_error  # the editor's text wins
    assert live.source == b"z = 2\n" and live.full_parses == 3


def test_positions_past_the_end_are_clamped() -> None:
    live = LiveTree("python", "x = 1\n")
    live.apply([Edit("y = 2\n", (40, 3), (41, 0))])
    assert live.source == b"x = 1\ny = 2\n"


PROBLEMS = [
    ("python", "def f(:\n    pass\n", "missing `)`", (0, 6)),
    ("python", "if x:\n    pass\nelse x\n", "unexpected `else`", (2, 0)),
    ("python", "s = 'abc\nt = 1\n", "unterminated string", (0, 4)),
    ("python", "def f():\n    return [1, 2\n", "unclosed `[`", (1, 11)),
    ("python", "x = 1 +\n", "expected an expression after `+`", (0, 6)),
    ("typescript", "function f( {\n}\n", "unclosed `(`", (0, 10)),
    ("go", "package m\nfunc f( {\n}\n", "missing `)`", (1, 7)),
    ("rust", 'fn f() { let s = "abc; }\n', "unterminated string", (0, 17)),
    ("java", "class A { void f() { int x = 1 } }\n", "missing `;`", (0, 30)),
]


@pytest.mark.parametrize(("language", "text", "message", "start"), PROBLEMS)
def test_problems_read_like_a_person_wrote_them(
    language: str, text: str, message: str, start: tuple[int, int]
) -> None:
    problems = syntax_problems(LiveTree(language, text).current().root_node)
    assert [(p.message, p.start) for p in problems] == [(message, start)]


def test_valid_code_has_no_problems_and_columns_are_utf16() -> None:
    assert syntax_problems(LiveTree("python", "x = 'é😀'\n").current().root_node) == []
    live = LiveTree("python", "s = '😀' + \n")
    [problem] = syntax_problems(live.current().root_node)
    diagnostic = to_diagnostic(problem, live)
    assert problem.start == (0, 11)  # bytes: the emoji is 4 of them
    assert diagnostic.range.start.character == 9  # UTF-16: the emoji is 2 units
    assert diagnostic.message == "expected an expression after `+`"
