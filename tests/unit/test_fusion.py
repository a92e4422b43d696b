from __future__ import annotations

from codeassist_lsp.rag.fusion import reciprocal_rank_fusion, score_fusion


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


def test_score_fusion_normalises_each_list_to_zero_one() -> None:
    fused = score_fusion({"vector": [("a", 0.9), ("b", 0.5)], "keyword": [("b", 12.0), ("c", 2.0)]})
    scores = {f.key: f.score for f in fused}
    assert scores == {"a": 1.0, "b": 1.0, "c": 0.0}
    assert fused[0].why in (["vector"], ["vector", "keyword"])


def test_score_fusion_keeps_the_margin_that_ranks_lose() -> None:
    # "a" leads the vector list by far and trails the keyword list by a hair.
    vector = [("a", 0.9), ("b", 0.30), ("c", 0.29)]
    keyword = [("b", 10.0), ("c", 9.9), ("a", 9.8), ("d", 1.0)]
    by_rank = reciprocal_rank_fusion(
        {"vector": [k for k, _ in vector], "keyword": [k for k, _ in keyword]}
    )
    assert by_rank[0].key == "b"
    assert score_fusion({"vector": vector, "keyword": keyword})[0].key == "a"


def test_score_fusion_single_item_and_weights() -> None:
    assert score_fusion({"v": [("a", 0.3)]})[0].score == 1.0
    fused = score_fusion({"v": [("a", 1.0), ("b", 0.0)], "k": [("b", 5.0), ("a", 1.0)]}, {"k": 2.0})
    assert fused[0].key == "b"
