"""Three tiny Python files and their real index view (parsed, graph built), shared by the
unit tests of context building and chat."""

from __future__ import annotations

import textwrap
from pathlib import Path

from codeassist_lsp.index.graph_build import build_graph
from codeassist_lsp.index.graph_keeper import GraphState
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.view import IndexView

FILES = {
    "net/retry.py": """
        from net.clock import sleep_for


        def backoff(attempt):
            return min(2 ** attempt, 30)


        def retry(call, attempts=3):
            for attempt in range(attempts):
                try:
                    return call()
                except OSError:
                    sleep_for(backoff(attempt))
        """,
    "net/clock.py": """
        import time


        def sleep_for(seconds):
            time.sleep(seconds)
        """,
    "app.py": """
        from net.retry import retry


        def fetch():
            return retry(lambda: 1)
        """,
}


def small_view() -> IndexView:
    files = [parse_source(p, textwrap.dedent(t).lstrip("\n")) for p, t in FILES.items()]
    chunks = {c.chunk_id: c for f in files for c in f.chunks}
    state = GraphState(build_graph(files), {f.path: f for f in files})
    return IndexView(Path("."), 0, chunks, graphs=lambda: state)
