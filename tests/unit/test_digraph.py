"""`Digraph` iterates in the orders networkx's MultiDiGraph did: search ranks depend on them."""

from __future__ import annotations

from codeassist_lsp.index.digraph import Digraph


def _graph() -> Digraph:
    g = Digraph()
    g.add_node("b", type="symbol")
    g.add_node("a", type="file")
    g.add_edge("a", "c", "calls")  # "c" is added without attributes
    g.add_edge("a", "b", "references")
    g.add_edge("a", "c", "inherits")
    g.add_edge("d", "b", "calls")
    g.add_edge("a", "b", "calls")
    g.add_edge("a", "a", "calls")
    return g


def test_nodes_keep_insertion_order_and_ends_of_edges_join_without_attributes() -> None:
    g = _graph()
    assert list(g.nodes.items()) == [
        ("b", {"type": "symbol"}),
        ("a", {"type": "file"}),
        ("c", {}),
        ("d", {}),
    ]
    assert "c" in g and "x" not in g
    assert g.number_of_nodes() == 4


def test_adding_a_node_again_updates_its_attributes_in_place() -> None:
    g = _graph()
    g.add_node("b", name="run")
    assert list(g.nodes) == ["b", "a", "c", "d"]
    assert g.nodes["b"] == {"type": "symbol", "name": "run"}


def test_neighbours_in_order_of_their_first_edge_then_parallel_edges_in_order() -> None:
    g = _graph()
    assert g.out_edges("a") == [
        ("a", "c", "calls"),
        ("a", "c", "inherits"),
        ("a", "b", "references"),
        ("a", "b", "calls"),
        ("a", "a", "calls"),
    ]
    assert g.in_edges("b") == [("a", "b", "references"), ("a", "b", "calls"), ("d", "b", "calls")]
    assert g.in_edges("a") == [("a", "a", "calls")]
    assert list(g.edges()) == [*g.out_edges("a"), ("d", "b", "calls")]


def test_an_edge_is_kept_once_per_kind() -> None:
    g = _graph()
    g.add_edge("a", "b", "calls")
    assert g.number_of_edges() == 6
    assert g.has_edge("d", "b") and not g.has_edge("b", "d")


def test_a_missing_node_has_no_edges() -> None:
    g = _graph()
    assert g.out_edges("x") == g.in_edges("x") == []
    assert not g.has_edge("x", "a")
