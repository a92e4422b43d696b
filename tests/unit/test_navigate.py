"""Definition and references over stored symbols and the graph."""

from __future__ import annotations

from codeassist_lsp.index import navigate
from codeassist_lsp.index.digraph import Digraph
from codeassist_lsp.index.model import Reference, Symbol


def test_overloads_of_one_name_count_as_one_definition() -> None:
    first = Symbol("gtag", "gtag", "function", 1, 1)
    second = Symbol("gtag", "gtag", "function", 2, 2)
    symbols = [("types/global.d.ts", first), ("types/global.d.ts", second)]
    use = Reference("calls", "gtag", "gtag", None, 3)
    refs = [("web/app.ts", use)]
    # No graph edge: a name defined once (twice over, as overloads) still finds its uses.
    assert navigate.references(symbols[1], refs, symbols, Digraph()) == refs
    found = navigate.definitions("gtag", "web/app.ts", 3, symbols, Digraph())
    assert found == symbols  # every overload is a definition


def test_a_name_defined_in_two_places_needs_the_graph() -> None:
    symbols = [
        ("a.py", Symbol("run", "run", "function", 1, 2)),
        ("b.py", Symbol("run", "run", "function", 1, 2)),
    ]
    refs = [("c.py", Reference("calls", "run", "run", None, 3))]
    assert navigate.references(symbols[0], refs, symbols, Digraph()) == []
