from __future__ import annotations

from codeassist_lsp.rag.fusion import reciprocal_rank_fusion


def test_item_in_both_lists_beats_items_in_one() -> None:
    fused = reciprocal_rank_fusion({"vector": ["a", "b", "c"], "keyword": ["c", "d"]}, k=60)
    assert fused[0].key == "c"
    assert fused[0].why == ["vector", "keyword"]
    assert {f.key for f in fused} == {"a", "b", "c", "d"}


def test_scores_follow_the_rrf_formula() -> None:
    fused = reciprocal_rank_fusion({"v": ["a", "b"], "k": ["b"]}, k=10)
    scores = {f.key: f.score for f in fused}
    assert abs(scores["a"] - 1 / 11) < 1e-12
    assert abs(scores["b"] - (1 / 12 + 1 / 11)) < 1e-12


def test_duplicates_in_one_list_count_once_at_best_rank() -> None:
    fused = reciprocal_rank_fusion({"v": ["a", "a", "b"]}, k=60)
    assert [f.key for f in fused] == ["a", "b"]
    assert fused[0].score == 1 / 61


def test_weights_shift_the_order() -> None:
    fused = reciprocal_rank_fusion({"v": ["a"], "k": ["b"]}, k=60, weights={"k": 2.0})
    assert fused[0].key == "b"
