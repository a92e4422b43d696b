"""Prompt context: hits plus graph facts, fitted to a token budget."""

from __future__ import annotations

from small_code import small_view

from codeassist_lsp.index.view import IndexView
from codeassist_lsp.rag.context import (
    ContextItem,
    approx_tokens,
    build_context,
    candidates,
    fit,
)
from codeassist_lsp.rag.retriever import SearchHit


def _view() -> IndexView:
    return small_view()


def _hit(view: IndexView, path: str) -> SearchHit:
    chunk = next(c for c in view.chunks.values() if c.path == path)
    return SearchHit(chunk.chunk_id, chunk, 1.0)


def test_a_hit_brings_its_callers_and_callees_as_signatures() -> None:
    view = _view()
    items = candidates(view, [_hit(view, "net/retry.py")])  # backoff and retry, one chunk
    assert items[0].relation == "hit" and items[0].path == "net/retry.py"
    facts = {(i.about, i.relation, i.symbol) for i in items[1:]}
    # retry calls backoff too, but backoff's code is in the hit already
    assert facts == {("retry", "calls", "sleep_for"), ("retry", "called by", "fetch")}
    text = fit(items, 10_000).render()
    assert "### net/retry.py:" in text and "def retry(call, attempts=3):" in text
    assert "- retry calls sleep_for (net/clock.py:4): def sleep_for(seconds)" in text


def test_no_neighbours_when_the_limit_is_zero() -> None:
    view = _view()
    hit = _hit(view, "net/clock.py")  # sleep_for, called by retry
    assert [i.relation for i in candidates(view, [hit], 0)] == ["hit"]
    assert len(candidates(view, [hit])) > 1


def test_a_definition_already_shown_as_code_gets_no_signature_line() -> None:
    view = _view()
    items = candidates(view, [_hit(view, "net/retry.py"), _hit(view, "net/clock.py")])
    assert {(i.relation, i.symbol) for i in items if i.relation != "hit"} == {
        ("called by", "fetch")
    }


def test_fit_takes_the_longest_prefix_within_the_budget() -> None:
    items = [ContextItem("a.py", n, n, "x" * 90, f"f{n}") for n in range(1, 21)]
    whole = approx_tokens(fit(items, 10**6).render())
    for budget in (0, 31, 100, 333, whole - 1, whole):
        got = fit(items, budget)
        assert got.tokens <= budget
        assert got.tokens == approx_tokens(got.render())
        assert len(got.items) + got.left_out == len(items)
        if got.left_out:  # one more item would not have fit
            more = fit(items[: len(got.items) + 1], 10**6)
            assert approx_tokens(more.render()) > budget
    assert fit(items, whole).left_out == 0


def test_long_chunks_are_cut_to_their_head() -> None:
    view = _view()
    hit = _hit(view, "net/retry.py")
    [item, *_] = candidates(view, [hit], max_item_lines=2)
    assert item.text.splitlines() == [*hit.chunk.text.splitlines()[:2], "…"]
    assert item.end_line == hit.chunk.start_line + 1
    context = build_context(view, [hit], budget=5)
    assert context.items == () and context.left_out > 0 and context.sources == []
