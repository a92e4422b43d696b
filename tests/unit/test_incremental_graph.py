"""`CodeGraph.update` re-resolves only some files: its result must equal a full resolution."""

from __future__ import annotations

import dataclasses
import random
import textwrap
from pathlib import Path

import pytest

from codeassist_lsp.index.code_graph import CodeGraph
from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.graph_build import build_graph, resolve_file_edges
from codeassist_lsp.index.model import ParsedFile, Symbol, symbol_node
from codeassist_lsp.index.parse import parse_source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

BASE = {
    "pkg/__init__.py": """
        from .core import Engine
        """,
    "pkg/core.py": """
        from .base import Base


        class Engine(Base):
            def run_job(self):
                return self.greet()
        """,
    "pkg/base.py": """
        class Base:
            def hello(self):
                return 1
        """,
    "pkg/util.py": """
        def unique_helper():
            return 1


        def other_helper():
            return 2
        """,
    "app.py": """
        from pkg import Engine


        def main():
            engine = Engine()
            engine.run_job()
            Engine().greet()
            unique_helper()
            helper_two()
            return other_helper()
        """,
    "other.py": """
        def spare():
            return 3
        """,
}


def _parse(files: dict[str, str]) -> dict[str, ParsedFile]:
    return {p: parse_source(p, textwrap.dedent(t).lstrip("\n")) for p, t in files.items()}


def _same_graph(a: Digraph, b: Digraph) -> None:
    assert dict(a.nodes) == dict(b.nodes)
    assert set(a.edges()) == set(b.edges())


def _update(
    before: dict[str, ParsedFile], changed: dict[str, ParsedFile | None]
) -> tuple[CodeGraph, set[str] | None]:
    """Update a graph of `before` and check it against resolving everything afresh."""
    state = CodeGraph.resolve(list(before.values()))
    redone = state.update(changed)
    after = {**before, **changed}
    final = [f for f in after.values() if f is not None]
    _same_graph(state.graph, build_graph(final))
    expected = resolve_file_edges(final)
    assert {p: set(e) for p, e in state.edges.items()} == {p: set(e) for p, e in expected.items()}
    return state, redone


def _edit(path: str, text: str) -> tuple[dict[str, ParsedFile], dict[str, ParsedFile | None]]:
    return _parse(BASE), {path: _parse({path: text})[path]}


def _has_edge(state: CodeGraph, source: str, target: str) -> bool:
    return state.graph.has_edge(source, target)


MAIN = symbol_node("app.py", "main")


def test_function_body_edit_re_resolves_that_file_alone() -> None:
    text = BASE["pkg/util.py"].replace("return 1", "x = 5\n            return x")
    _, redone = _update(*_edit("pkg/util.py", text))
    assert redone == {"pkg/util.py"}


def test_added_function_resolves_where_it_was_called() -> None:
    text = BASE["pkg/util.py"] + "\n\n        def helper_two():\n            return 4\n"
    state, redone = _update(*_edit("pkg/util.py", text))
    assert redone is not None and "app.py" in redone and "other.py" not in redone
    assert _has_edge(state, MAIN, symbol_node("pkg/util.py", "helper_two"))


def test_renamed_symbol_drops_the_edges_to_its_old_name() -> None:
    text = BASE["pkg/util.py"].replace("unique_helper", "renamed_helper")
    state, redone = _update(*_edit("pkg/util.py", text))
    assert redone is not None and "app.py" in redone
    assert not _has_edge(state, MAIN, symbol_node("pkg/util.py", "unique_helper"))
    assert symbol_node("pkg/util.py", "unique_helper") not in state.graph


def test_duplicate_global_name_makes_the_guess_ambiguous_and_back() -> None:
    target = symbol_node("pkg/util.py", "unique_helper")
    text = BASE["other.py"] + "\n\n        def unique_helper():\n            return 5\n"
    before, changed = _edit("other.py", text)
    state, redone = _update(before, changed)
    assert redone is not None and "app.py" in redone
    assert not _has_edge(state, MAIN, target)
    # deleting the duplicate again makes the name unique again
    state, _ = _update({**before, **changed}, {"other.py": before["other.py"]})
    assert _has_edge(state, MAIN, target)


def test_added_and_removed_overload_keeps_the_edge_and_every_range() -> None:
    target = symbol_node("pkg/util.py", "unique_helper")
    text = BASE["pkg/util.py"] + "\n\n        def unique_helper(x):\n            return x\n"
    before, changed = _edit("pkg/util.py", text)
    state, _ = _update(before, changed)
    assert _has_edge(state, MAIN, target)  # a redefinition in one file is not ambiguous
    assert state.graph.nodes[target]["ranges"] == [(1, 2), (9, 10)]
    # dropping the first definition leaves the second as the node's only range
    only_second = dataclasses.replace(
        changed["pkg/util.py"],
        symbols=[s for s in changed["pkg/util.py"].symbols if s.start_line != 1],
    )
    state, _ = _update({**before, **changed}, {"pkg/util.py": only_second})
    assert _has_edge(state, MAIN, target)
    assert state.graph.nodes[target]["ranges"] == [(9, 10)]


def test_method_added_to_a_base_class_reaches_calls_through_a_subclass() -> None:
    text = BASE["pkg/base.py"] + "\n            def greet(self):\n                return 2\n"
    state, redone = _update(*_edit("pkg/base.py", text))
    assert redone is not None and {"app.py", "pkg/core.py"} <= redone
    greet = symbol_node("pkg/base.py", "Base.greet")
    assert _has_edge(state, MAIN, greet)
    assert _has_edge(state, symbol_node("pkg/core.py", "Engine.run_job"), greet)


def test_base_class_made_ambiguous_resolves_everything_again() -> None:
    """`use.py` mentions neither the base class nor its file, yet loses the inherited method."""
    files = {
        "shapes/base.py": "class Shape:\n    def area(self):\n        return 0\n",
        "shapes/square.py": "class Square(Shape):\n    pass\n",
        "use.py": "from shapes.square import *\n\n\ndef total():\n    return Square().area()\n",
        "other.py": "class Circle:\n    def area(self):\n        return 1\n",
    }
    before = _parse(files)
    area = symbol_node("shapes/base.py", "Shape.area")
    assert CodeGraph.resolve(list(before.values())).graph.has_edge(
        symbol_node("use.py", "total"), area
    )
    changed = _parse({"other.py": files["other.py"] + "\n\nclass Shape:\n    pass\n"})
    state, redone = _update(before, changed)
    assert redone is None
    assert not _has_edge(state, symbol_node("use.py", "total"), area)


def test_deleted_file_resolves_everything_again() -> None:
    before = _parse(BASE)
    state, redone = _update(before, {"pkg/util.py": None})
    assert redone is None
    assert file_nodes(state) == {f"file:{p}" for p in before if p != "pkg/util.py"}


def test_added_file_and_changed_import_resolve_everything_again() -> None:
    before = _parse(BASE)
    _, redone = _update(before, _parse({"pkg/extra.py": "def helper_two():\n    return 1\n"}))
    assert redone is None
    text = "from pkg.util import other_helper\n" + textwrap.dedent(BASE["other.py"])
    _, redone = _update(before, _parse({"other.py": text}))
    assert redone is None


def test_changed_base_class_resolves_everything_again() -> None:
    text = BASE["pkg/core.py"].replace("class Engine(Base)", "class Engine")
    _, redone = _update(*_edit("pkg/core.py", text))
    assert redone is None


def test_changed_go_module_name_resolves_everything_again() -> None:
    root = FIXTURES / "go-kvstore"
    files = {
        p.relative_to(root).as_posix(): parse_source(p.relative_to(root).as_posix(), p.read_text())
        for p in sorted(root.rglob("*"))
        if p.suffix == ".go" or p.name == "go.mod"
    }
    text = (root / "go.mod").read_text().replace("module ", "module example.org/renamed/", 1)
    _, redone = _update(files, {"go.mod": parse_source("go.mod", text)})
    assert redone is None


def test_unchanged_and_unknown_paths_are_no_work() -> None:
    before = _parse(BASE)
    state = CodeGraph.resolve(list(before.values()))
    edges = state.graph.number_of_edges()
    assert state.update({"app.py": before["app.py"], "gone.py": None}) == {"app.py"}
    assert state.graph.number_of_edges() == edges


def file_nodes(state: CodeGraph) -> set[str]:
    return {n for n, d in state.graph.nodes.items() if d.get("type") == "file"}


def _mutations(f: ParsedFile, names: list[str], rng: random.Random) -> list[ParsedFile]:
    """Symbol-level edits of one file's facts: drop, rename, duplicate a name from elsewhere,
    define a name of the file twice (before or after the first)."""
    out: list[ParsedFile] = []
    if f.symbols:
        victim = rng.choice(f.symbols)
        out.append(dataclasses.replace(f, symbols=[s for s in f.symbols if s is not victim]))
        renamed = dataclasses.replace(
            victim, name=victim.name + "_x", qualname=victim.qualname + "_x"
        )
        out.append(
            dataclasses.replace(f, symbols=[renamed if s is victim else s for s in f.symbols])
        )
    calls = [r for r in f.references if r.kind != "inherits"]
    if calls:
        dropped = rng.choice(calls)
        out.append(dataclasses.replace(f, references=[r for r in f.references if r is not dropped]))
    out.append(_shifted(f))
    name = rng.choice(names)
    extra = Symbol(name, name, "function", 9000, 9001)
    out.append(dataclasses.replace(f, symbols=[*f.symbols, extra]))
    if f.symbols:  # an overload: a second definition of a qualified name of the file
        twin = dataclasses.replace(rng.choice(f.symbols), start_line=9100, end_line=9101)
        out.append(dataclasses.replace(f, symbols=[*f.symbols, twin]))
        out.append(dataclasses.replace(f, symbols=[twin, *f.symbols]))
    return out


def _shifted(f: ParsedFile) -> ParsedFile:
    """A line inserted at the top: every fact moves down one line."""
    return dataclasses.replace(
        f,
        symbols=[
            dataclasses.replace(s, start_line=s.start_line + 1, end_line=s.end_line + 1)
            for s in f.symbols
        ],
        imports=[dataclasses.replace(i, line=i.line + 1) for i in f.imports],
        references=[dataclasses.replace(r, line=r.line + 1) for r in f.references],
    )


@pytest.mark.parametrize("fixture", ["py-webclient", "ts-tasks", "go-kvstore", "rust-logq"])
def test_symbol_edits_anywhere_match_a_full_resolution(fixture: str) -> None:
    root = FIXTURES / fixture
    files = {
        p.relative_to(root).as_posix(): parse_source(
            p.relative_to(root).as_posix(), p.read_text(errors="replace")
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    names = sorted({s.name for f in files.values() for s in f.symbols})
    rng = random.Random(fixture)
    for path, f in files.items():
        for mutated in _mutations(f, names, rng):
            _update(files, {path: mutated})
