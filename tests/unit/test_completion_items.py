"""LSP items from a suggestion: ranges in UTF-16 columns, the fallback's edit and label."""

from __future__ import annotations

from lsprotocol import types

from codeassist_lsp.completion.completer import Suggestion
from codeassist_lsp.completion.window import cursor_window
from codeassist_lsp.features.completion import MODEL_LABEL, completion_items, inline_items


def test_an_inline_item_inserts_at_the_cursor_or_replaces_the_rest_of_the_line() -> None:
    window = cursor_window("s = '😀' + call()\n", 0, 16)
    assert window is not None and window.middle == "s = '😀' + call("
    [plain] = inline_items(window, Suggestion("x")).items
    assert plain.insert_text == "x"
    assert plain.range == types.Range(
        start=types.Position(line=0, character=16), end=types.Position(line=0, character=16)
    )
    [replacing] = inline_items(window, Suggestion("x)", replaces_line_suffix=True)).items
    assert replacing.range is not None and replacing.range.end.character == 17


def test_the_fallback_item_is_labelled_as_the_models_and_starts_at_the_typed_word() -> None:
    window = cursor_window("    value = compu\n", 0, 17)
    assert window is not None
    result = completion_items(window, Suggestion("te(1)\nnext"))
    assert result.is_incomplete
    [item] = result.items
    assert item.label == "compute(1)"
    assert item.label_details is not None and item.label_details.description == MODEL_LABEL
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.new_text == "compute(1)\nnext"
    assert item.text_edit.range.start.character == 12
    assert item.filter_text == "compute(1)\nnext"
