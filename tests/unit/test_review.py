"""Review on save, the pure part: which functions a save changed, and findings from a fix."""

from __future__ import annotations

from codeassist_lsp.chat.review import changed_functions, findings_of, functions_of
from codeassist_lsp.chat.rewrite_edits import TextChange

BEFORE = """\
def is_even(n):
    return n % 2 == 0


def last(items):
    return items[-1]


class Box:
    def size(self):
        return self._size
"""


def test_only_new_and_edited_functions_are_reviewed() -> None:
    after = (
        BEFORE.replace("n % 2 == 0", "n % 2 == 1")
        + "\n\ndef added(x):\n    return x\n"
        + "\n\nVALUE = 3\n"
    )
    before = functions_of("m.py", BEFORE)
    assert [f.name for f in before] == ["is_even", "last", "Box.size"]
    changed = changed_functions(before, functions_of("m.py", after))
    assert [f.name for f in changed] == ["is_even", "added"]
    # moved by an edit above it, unchanged: not reviewed again
    moved = "import os\n\n\n" + BEFORE
    assert changed_functions(before, functions_of("m.py", moved)) == []


def test_the_target_is_the_function_lines_of_the_document() -> None:
    last = next(f for f in functions_of("m.py", BEFORE) if f.name == "last")
    assert (last.target.first, last.target.end) == (4, 6)
    assert last.target.code == "def last(items):\n    return items[-1]\n"


def test_a_fix_becomes_findings_on_the_lines_it_touches() -> None:
    changed = [TextChange((1, 0), (2, 0), "    return n % 2 == 0\n")]
    (finding,) = findings_of(changed)
    assert finding.line == 1 and "changes this to `return n % 2 == 0`" in finding.message
    added = [TextChange((3, 0), (3, 0), "    result = 1\n")]
    assert "adds `result = 1` here" in findings_of(added)[0].message
    removed = [TextChange((3, 0), (4, 0), "")]
    assert "removes this" in findings_of(removed)[0].message


def test_no_fix_or_a_whole_rewrite_is_no_finding() -> None:
    assert findings_of([]) == []
    many = [TextChange((i, 0), (i + 1, 0), f"x = {i}\n") for i in range(0, 6, 2)]
    assert findings_of(many) == []
