from __future__ import annotations

from pathlib import Path

from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.model import Chunk, symbol_node
from codeassist_lsp.index.view import IndexView
from codeassist_lsp.rag.fusion import Fused
from codeassist_lsp.rag.retriever import SymbolLookup, expand_with_graph


def _view(chunks: dict[str, Chunk], graph: Digraph) -> IndexView:
    return IndexView(Path("."), 0, chunks, graphs=lambda: GraphState(graph, {}))


def _chunk(path: str, start: int, end: int, symbol: str | None) -> Chunk:
    return Chunk(
        path=path, start_line=start, end_line=end, kind="function", text="x", symbol=symbol
    )


def _graph() -> Digraph:
    g = Digraph()
    for path, name, line in [("a.py", "parse", 3), ("a.py", "helper", 12), ("b.py", "main", 1)]:
        g.add_node(
            symbol_node(path, name),
            type="symbol", path=path, name=name, qualname=name, start_line=line,
        )  # fmt: skip
    g.add_edge(symbol_node("b.py", "main"), symbol_node("a.py", "helper"), "calls")
    return g


CHUNKS = {
    "merged": _chunk("a.py", 1, 20, None),  # parse and helper merged into one chunk
    "main": _chunk("b.py", 1, 5, "main"),
}


def test_symbols_are_placed_by_line_even_in_merged_chunks() -> None:
    lookup = SymbolLookup.build(CHUNKS, _graph())
    assert [lookup.chunks_of[n] for n in lookup.by_name["helper"]] == [["merged"]]
    assert [lookup.chunks_of[n] for n in lookup.by_name["parse"]] == [["merged"]]
    assert lookup.chunks_of["sym:b.py::main"] == ["main"]


def test_a_symbol_defined_twice_is_placed_in_each_chunk_holding_a_definition() -> None:
    graph = Digraph()
    graph.add_node(
        symbol_node("a.py", "Box.size"),
        type="symbol", path="a.py", name="size", qualname="Box.size", start_line=3,
        end_line=5, ranges=[(3, 5), (30, 33)],
    )  # fmt: skip
    chunks = {"getter": _chunk("a.py", 1, 20, None), "setter": _chunk("a.py", 28, 40, None)}
    lookup = SymbolLookup.build(chunks, graph)
    assert lookup.chunks_of["sym:a.py::Box.size"] == ["getter", "setter"]
    fused = expand_with_graph([Fused("x", 1.0, ["vector"])], "Box.size", _view(chunks, graph))
    assert {f.key for f in fused if f.score > 1.0} == {"getter", "setter"}


def test_callees_of_the_top_hit_are_not_pulled_in_when_the_question_names_nothing() -> None:
    graph = _graph()
    view = _view(CHUNKS, graph)
    fused = expand_with_graph([Fused("main", 1.0, ["vector"])], "start up", view)
    assert [f.key for f in fused] == ["main"]


def test_callees_of_a_named_definition_come_below_it() -> None:
    view = _view(CHUNKS, _graph())
    fused = expand_with_graph([Fused("other", 1.0, ["vector"])], "what does main() do", view)
    keys = [f.key for f in fused]
    assert keys.index("main") < keys.index("merged")
    assert fused[keys.index("merged")].why == ["graph"]


def test_a_definition_named_in_the_question_joins_the_top() -> None:
    graph = _graph()
    graph.add_node(
        symbol_node("a.py", "load_config"),
        type="symbol", path="a.py", name="load_config", qualname="load_config", start_line=15,
    )  # fmt: skip
    view = _view(CHUNKS, graph)
    fused = expand_with_graph([Fused("main", 1.0, ["vector"])], "what calls load_config", view)
    assert fused[0].key == "merged"


def test_a_qualified_name_beats_other_definitions_of_the_same_bare_name() -> None:
    graph = _graph()
    for path, qualname, line in [("a.py", "Store.get", 4), ("b.py", "Cache.get", 2)]:
        graph.add_node(
            symbol_node(path, qualname),
            type="symbol", path=path, name="get", qualname=qualname, start_line=line,
        )  # fmt: skip
    view = _view(CHUNKS, graph)
    fused = expand_with_graph([Fused("main", 1.0, ["vector"])], "Store.get", view)
    assert [f.key for f in fused][:2] == ["merged", "main"]
    bare = expand_with_graph([Fused("x", 1.0, ["vector"])], "get", view)
    assert {f.key for f in bare if f.score > 1.0} == {"merged", "main"}


def test_a_name_with_many_definitions_is_not_lifted() -> None:
    graph = Digraph()
    chunks = {f"c{i}": _chunk(f"m{i}.py", 1, 9, "Thing.__init__") for i in range(8)}
    for i in range(8):
        graph.add_node(
            symbol_node(f"m{i}.py", "Thing.__init__"),
            type="symbol", path=f"m{i}.py", name="__init__", qualname="Thing.__init__",
            start_line=1,
        )  # fmt: skip
    view = _view(chunks, graph)
    fused = expand_with_graph([Fused("c0", 1.0, ["vector"])], "__init__", view)
    assert [f.key for f in fused] == ["c0"]


def test_callers_of_a_named_definition_come_first_when_the_query_asks_who_calls() -> None:
    graph = _graph()
    chunks = {
        "parse": _chunk("a.py", 1, 10, "parse"),
        "helper": _chunk("a.py", 11, 20, "helper"),
        "main": _chunk("b.py", 1, 5, "main"),
        "other": _chunk("c.py", 1, 5, "other"),
    }
    view = _view(chunks, graph)
    start = [Fused("other", 1.0, ["vector"]), Fused("parse", 0.9, ["keyword"])]
    asked = expand_with_graph([Fused(f.key, f.score, list(f.why)) for f in start],
                              "who calls helper()", view)  # fmt: skip
    assert [f.key for f in asked][:3] == ["main", "helper", "other"]
    plain = expand_with_graph(start, "helper", view)
    assert [f.key for f in plain][:2] == ["helper", "other"]


def test_one_letter_names_are_not_taken_for_definitions() -> None:
    graph = _graph()
    graph.add_node(
        symbol_node("a.py", "g"),
        type="symbol", path="a.py", name="g", qualname="g", start_line=15,
    )  # fmt: skip
    view = _view(CHUNKS, graph)
    fused = expand_with_graph(
        [Fused("main", 1.0, ["vector"])], "how are retries spaced, e.g. doubled", view
    )
    assert fused[0].key == "main"
