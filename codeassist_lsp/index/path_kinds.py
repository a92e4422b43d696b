"""What a path holds besides code: tests and change logs.

Both the index (which embeds test files more briefly) and retrieval (which ranks them
lower unless asked) need the same answer, so the rules live here, below both.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_TEST_DIRS = frozenset(
    {"test", "tests", "__tests__", "spec", "specs", "testing", "testdata", "e2e", "it"}
)
_TEST_FILE = re.compile(
    r"(^test_.*|.*_test\.[a-z]+$|.*_tests?\.[a-z]+$|.*\.(test|spec)\.[a-z]+$|^conftest\.py$"
    r"|.*Tests?\.(java|kt|cs|scala)$)"
)
_CHANGELOG_DIRS = frozenset({"releasenotes", "changelog.d", "changes", "newsfragments"})
_CHANGELOG_FILE = re.compile(
    r"^(changelog|changes|history|news|release[-_]?notes)(\.[a-z]+)?$", re.IGNORECASE
)


def is_test_path(path: str) -> bool:
    """True for files that hold tests: test folders and the usual test file names."""
    parts = PurePosixPath(path).parts
    if any(part.lower() in _TEST_DIRS for part in parts[:-1]):
        return True
    return bool(parts) and bool(_TEST_FILE.match(parts[-1]))


def is_changelog_path(path: str) -> bool:
    """True for release notes and change logs."""
    parts = PurePosixPath(path).parts
    if any(part.lower() in _CHANGELOG_DIRS for part in parts[:-1]):
        return True
    return bool(parts) and bool(_CHANGELOG_FILE.match(parts[-1]))
