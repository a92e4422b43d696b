"""The code action list and the edit conversion, without a server or a model."""

from __future__ import annotations

import time

import pytest
from lsprotocol import types

from codeassist_lsp.chat.rewrite_edits import TextChange
from codeassist_lsp.features.code_actions import (
    EXPLAIN_KIND,
    TaskArgs,
    TaskError,
    list_actions,
    to_text_edits,
)

URI = "file:///ws/a.py"
RANGE = types.Range(types.Position(3, 0), types.Position(5, 2))
BUG = types.Diagnostic(range=RANGE, message="missing `)`", source="codeassist")


def _kinds(actions: list[types.CodeAction]) -> list[str | None]:
    return [a.kind for a in actions]


def test_three_actions_with_their_kinds_and_no_model() -> None:
    context = types.CodeActionContext(diagnostics=[BUG])
    start = time.perf_counter()
    actions = list_actions(URI, RANGE, context, rewritable=True, resolvable=True)
    assert time.perf_counter() - start < 0.05
    assert _kinds(actions) == [EXPLAIN_KIND, "quickfix", "refactor.rewrite"]
    explain, fix, improve = actions
    assert explain.command is None and explain.data["task"] == "explain"
    assert fix.command is None and fix.edit is None and fix.diagnostics == [BUG]
    assert fix.data["problems"] == ["line 4: missing `)`"] and improve.diagnostics is None
    assert TaskArgs.from_json(fix.data) == TaskArgs("fix", URI, RANGE, ("line 4: missing `)`",))


def test_only_filters_by_kind_prefix() -> None:
    only = types.CodeActionContext(diagnostics=[], only=["refactor"])
    actions = list_actions(URI, RANGE, only, rewritable=True, resolvable=True)
    assert _kinds(actions) == [EXPLAIN_KIND, "refactor.rewrite"]
    quick = types.CodeActionContext(diagnostics=[], only=["quickfix"])
    assert _kinds(list_actions(URI, RANGE, quick, True, True)) == ["quickfix"]


def test_a_language_without_grammar_gets_explain_only() -> None:
    context = types.CodeActionContext(diagnostics=[])
    assert _kinds(list_actions(URI, RANGE, context, False, True)) == [EXPLAIN_KIND]


def test_clients_without_resolve_get_commands() -> None:
    context = types.CodeActionContext(diagnostics=[])
    actions = list_actions(URI, RANGE, context, rewritable=True, resolvable=False)
    assert [a.command.command for a in actions if a.command] == [
        "codeassist.explain",
        "codeassist.fix",
        "codeassist.improve",
    ]


def test_malformed_task_arguments_are_a_task_error() -> None:
    for raw in (None, {}, {"task": "fix", "uri": URI}, {"task": "nope", "uri": URI}):
        try:
            TaskArgs.from_json(raw)
        except TaskError:
            continue
        raise AssertionError(f"{raw!r} was accepted")
    with pytest.raises(TaskError, match="needs one argument: "):
        TaskArgs.from_json(None, "explain")
    with pytest.raises(TaskError, match="malformed argument: no 'range'"):
        TaskArgs.from_json({"task": "fix", "uri": URI})


def test_columns_are_converted_to_utf16_units() -> None:
    text = "a = 1\nb = '😀😀'"
    edits = to_text_edits([TextChange((1, 0), (1, 8), "b = 2")], text, "utf-16")
    assert edits[0].range.end == types.Position(1, 10)
    utf32 = to_text_edits([TextChange((1, 0), (1, 8), "")], text, "utf-32")
    assert utf32[0].range.end == types.Position(1, 8)
