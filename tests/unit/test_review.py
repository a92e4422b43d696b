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
    code = "def f(n):\n    result = 0\n    return n % 2 == 1\n"
    target = functions_of("m.py", code)[0].target
    changed = [TextChange((2, 0), (3, 0), "    return n % 2 == 0\n")]
    (finding,) = findings_of(changed, target)
    assert finding.line == 2 and "changes this to `return n % 2 == 0`" in finding.message
    added = [TextChange((2, 0), (2, 0), "    result = 1\n")]
    assert "adds `result = 1` here" in findings_of(added, target)[0].message
    removed = [TextChange((1, 0), (2, 0), "")]
    assert "removes this" in findings_of(removed, target)[0].message


def test_no_fix_or_a_whole_rewrite_is_no_finding() -> None:
    code = "def f(a):\n" + "".join(f"    x{i} = {i}\n" for i in range(8))
    target = functions_of("m.py", code)[0].target
    assert findings_of([], target) == []
    many = [TextChange((i, 0), (i + 1, 0), f"    x{i} = -1\n") for i in range(1, 7, 2)]
    assert findings_of(many, target) == []
    assert len(findings_of(many[:2], target)) == 2


def test_comments_docstrings_spacing_and_the_signature_are_no_finding() -> None:
    target = functions_of("m.py", BEFORE)[0].target  # is_even, lines 0-1
    comment = [TextChange((1, 0), (2, 0), "    return n % 2 == 0  # even\n")]
    assert findings_of(comment, target) == []
    docstring = [TextChange((1, 0), (1, 0), '    """Whether n is even."""\n')]
    assert findings_of(docstring, target) == []
    signature = [TextChange((0, 0), (1, 0), "def is_even(n: int) -> bool:\n")]
    assert findings_of(signature, target) == []
