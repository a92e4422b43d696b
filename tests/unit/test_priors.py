from __future__ import annotations

import pytest

from codeassist_lsp.index.path_kinds import is_changelog_path, is_test_path
from codeassist_lsp.rag.priors import prior


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_retry.py",
        "pkg/tests/helpers.py",
        "test_client.py",
        "internal/wal/wal_test.go",
        "src/app.test.ts",
        "src/__tests__/app.tsx",
        "spec/parser.spec.js",
        "conftest.py",
        "src/test/java/org/x/ParserTest.java",
    ],
)
def test_test_paths(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize(
    "path",
    ["webclient/retry.py", "src/contest.py", "internal/testutil.go", "latest.ts", "attestation.rs"],
)
def test_code_paths_are_not_tests(path: str) -> None:
    assert not is_test_path(path)


def test_changelog_paths() -> None:
    assert is_changelog_path("releasenotes/notes/fix-x.yaml")
    assert is_changelog_path("CHANGELOG.md")
    assert is_changelog_path("docs/HISTORY.rst")
    assert not is_changelog_path("src/history_view.py")


def test_prior_lowers_tests_unless_the_question_is_about_tests() -> None:
    assert prior("tests/test_retry.py", "function", "where do we retry failed requests") < 1.0
    assert prior("tests/test_retry.py", "function", "which tests cover retrying") == 1.0
    assert prior("webclient/retry.py", "function", "where do we retry failed requests") == 1.0
    assert prior("CHANGELOG.md", "doc", "what changed in the last release") == 1.0
    assert prior("CHANGELOG.md", "doc", "how are tokens refreshed") < 1.0


def test_prose_ranks_lower_unless_the_asker_wants_to_use_the_code() -> None:
    assert prior("README.md", "doc", "how is the cache invalidated") < 1.0
    assert prior("README.md", "doc", "how do I turn the cache off") == 1.0
    assert prior("README.md", "doc", "how to configure the cache") == 1.0
    assert prior("src/cache.py", "function", "how is the cache invalidated") == 1.0
