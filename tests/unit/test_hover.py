"""Hover Markdown from the graph, without a server."""

from __future__ import annotations

import textwrap
from pathlib import Path

from codeassist_lsp.features.hover import SHOWN, hover_markdown
from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView

CALLERS = SHOWN + 2
FILES = {
    "lib/core.py": '''
        def helper():
            return 1


        def work(x):
            """Do the work on x.

            Longer explanation that hover leaves out.
            """
            return helper() + x
        ''',
    **{
        f"app/use{i}.py": f"from lib.core import work\n\n\ndef run{i}():\n    return work({i})\n"
        for i in range(CALLERS)
    },
}


def _view() -> IndexView:
    files = [parse_source(p, textwrap.dedent(t).lstrip("\n")) for p, t in FILES.items()]
    state = GraphState(build_graph(files), {f.path: f for f in files})
    return IndexView(Path("."), 0, {}, graphs=lambda: state)


def test_hover_lists_signature_doc_place_callers_callees_and_importers() -> None:
    view = _view()
    [(path, work)] = view.definitions("work")
    text = hover_markdown(view, path, work)
    assert text.startswith("```python\ndef work(x):\n```")
    assert "Do the work on x." in text and "Longer explanation" not in text
    assert "*function*, defined at `lib/core.py:5`" in text
    assert f"**Called by** {CALLERS}: `run0` (app/use0.py:4)" in text
    assert "and 2 more" in text
    assert "**Calls** 1: `helper` (lib/core.py:1)" in text
    assert f"**Imported by** {CALLERS} files:" in text


def test_a_definition_nobody_uses_has_only_its_own_facts() -> None:
    view = _view()
    [(path, run)] = view.definitions("run0")
    text = hover_markdown(view, path, run)
    assert "Called by" not in text and "Imported by" not in text
    assert "**Calls** 1: `work` (lib/core.py:5)" in text
