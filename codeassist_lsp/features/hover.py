"""`textDocument/hover`: what the code graph knows about the symbol under the cursor.

Instant and from the graph: the definition's signature, the first paragraph of its
docstring, where it is defined, who calls it and what it calls (counts and the first few,
with their files) and which files import its file. A name defined in another file is found
the way go-to-definition finds it. With `hover.explain` on, a short model explanation
follows the facts when it is ready within `hover.explainBudgetMs` (`hover_explain.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codeassist_lsp.features.context import ServerContext
from codeassist_lsp.features.hover_explain import HoverExplainer, subject_at
from codeassist_lsp.features.source_lines import cursor_at
from codeassist_lsp.index.languages import language_for_path
from codeassist_lsp.index.model import Symbol, file_node
from codeassist_lsp.index.view import IndexView

SHOWN = 5  # callers, callees and importers named before "and N more"


def _first_paragraph(docstring: str) -> str:
    paragraph = docstring.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())[:600]


def _named(view: IndexView, nodes: Sequence[str]) -> str:
    """`name` (path:line) for the first few nodes, and how many more there are."""
    parts = []
    for node in nodes[:SHOWN]:
        data = view.graph.nodes.get(node, {})
        if data.get("type") == "symbol":
            parts.append(f"`{data.get('qualname')}` ({data.get('path')}:{data.get('start_line')})")
        else:
            parts.append(f"{data.get('path', node)}")
    more = len(nodes) - SHOWN
    return ", ".join(parts) + (f", and {more} more" if more > 0 else "")


def hover_markdown(view: IndexView, path: str, sym: Symbol) -> str:
    """The facts about one definition, as Markdown."""
    language = language_for_path(path) or ""
    signature = sym.signature or sym.name
    lines = [f"```{language}\n{signature}\n```"]
    doc = _first_paragraph(sym.docstring)
    if doc:
        lines.append(doc)
    owner = f" in `{sym.parent}`" if sym.parent else ""
    lines.append(f"*{sym.kind}*{owner}, defined at `{path}:{sym.start_line}`")
    node = view.node_of(path, sym)
    facts = []
    callers = [n for n in view.callers(node) if n != node]
    users = [n for n in view.users(node) if n not in callers and n != node]
    callees = [n for n in view.callees(node) if n != node]
    if callers:
        facts.append(f"**Called by** {len(callers)}: {_named(view, callers)}")
    if users:
        facts.append(f"**Used by** {len(users)}: {_named(view, users)}")
    if callees:
        facts.append(f"**Calls** {len(callees)}: {_named(view, callees)}")
    importers = view.neighbours(file_node(path), ("imports",), incoming=True)
    if importers:
        files = "file" if len(importers) == 1 else "files"
        facts.append(f"**Imported by** {len(importers)} {files}: {_named(view, importers)}")
    if facts:
        lines.append("\n\n".join(facts))
    return "\n\n".join(lines)


def hover_at(ctx: ServerContext, uri: str, position: types.Position) -> types.Hover | None:
    """The hover for a position, or None when nothing there is known (runs on a worker)."""
    cursor = cursor_at(ctx, uri, position)
    if cursor is None:
        return None
    found = cursor.definitions()
    if not found:
        return None
    path, sym = found[0]
    text = hover_markdown(cursor.view, path, sym)
    if len(found) > 1:
        text += f"\n\n*{len(found) - 1} other definitions of `{cursor.name}`*"
    contents = types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)
    return types.Hover(contents=contents, range=cursor.range)


def with_explanation(hover: types.Hover, explanation: str) -> types.Hover:
    """The hover with the model's explanation under the facts."""
    assert isinstance(hover.contents, types.MarkupContent)
    value = f"{hover.contents.value}\n\n---\n\n*CodeAssist:* {explanation}"
    contents = types.MarkupContent(kind=types.MarkupKind.Markdown, value=value)
    return types.Hover(contents=contents, range=hover.range)


def register(server: LanguageServer, ctx: ServerContext) -> None:
    explainer = ctx.features.add(HoverExplainer(ctx))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
        uri, position = params.text_document.uri, params.position
        found = await ctx.run(hover_at, ctx, uri, position)
        settings = ctx.settings.hover
        if found is None or not settings.explain:
            return found
        subject = await ctx.run(subject_at, ctx, uri, position)
        if subject is None:
            return found
        explanation = await explainer.explanation(subject, settings.explain_budget_ms / 1000)
        return with_explanation(found, explanation) if explanation else found
