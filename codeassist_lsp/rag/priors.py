"""What a result is worth before its text is compared: tests, change logs and prose rank lower.

A plain-English question about behaviour ("how do we retry …") wants the code that does
it, yet test files repeat every name of that code and match both the keyword and the
vector ranking. Unless the question is about tests, their fused score is scaled down so
they remain in the list but below the implementation. Release notes and change logs,
which only mention names, get the same treatment; docs a milder one, and none when the
asker wants to use the code ("how do I …"), which is what docs are for. Build output that
copies a source of the workspace (a `dist/` bundle, a `.d.ts`) is scaled down the most:
the source says the same, and is what the asker can change.
"""

from __future__ import annotations

import re

from codeassist_lsp.index.path_kinds import is_changelog_path, is_test_path

TEST_PRIOR = 0.6  # fused score factor for a test file when the question is not about tests
CHANGELOG_PRIOR = 0.6  # release notes and change logs
DOC_PRIOR = 0.75  # prose (docs, plain text) when the question asks how the code works
GENERATED_PRIOR = 0.5  # build output that mirrors a source file (`index/generated.py`)

_TEST_QUESTION = re.compile(r"\b(tests?|testing|tested|spec|specs|fixtures?|mocks?)\b", re.I)
# "how do I …", "can I …", "how to …": the asker uses the code, and docs answer that well.
_USAGE_QUESTION = re.compile(r"\b(i|i'm|my|me|how to)\b", re.IGNORECASE)
_PROSE_KINDS = frozenset({"doc", "text"})
_CHANGE_QUESTION = re.compile(r"\b(release|changelog|changed|version|history)\b", re.I)


def prior(path: str, kind: str, question: str, generated: bool = False) -> float:
    """A factor in (0, 1] for a result of `kind` in `path`, given the question asked;
    `generated`: the file is build output whose source is in the workspace."""
    if generated:
        return GENERATED_PRIOR
    if is_test_path(path) and not _TEST_QUESTION.search(question):
        return TEST_PRIOR
    if is_changelog_path(path):
        return 1.0 if _CHANGE_QUESTION.search(question) else CHANGELOG_PRIOR
    if kind in _PROSE_KINDS and not _USAGE_QUESTION.search(question):
        return DOC_PRIOR
    return 1.0
