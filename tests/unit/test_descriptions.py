"""Descriptions: written for the chunks worth it, searched as keywords, kept by content.

The describer runs against `FakeBackend` (a fake model, for unit tests only): what is
tested here is the bookkeeping, not the words a real model writes.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from codeassist_lsp.config import IndexSettings, Settings
from codeassist_lsp.describe.job import describe_pending
from codeassist_lsp.describe.prompt import clean_description, describe_messages
from codeassist_lsp.features.describing import describe_enabled
from codeassist_lsp.index import descriptions
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.model import Chunk
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.llm.fake import FakeBackend
from codeassist_lsp.llm.settings import LLMSettings
from codeassist_lsp.rag.retriever import search_index

CODE = {
    "lib/pause.py": """
        def grow(attempt, base=1.0, cap=60.0):
            value = base * 2 ** attempt
            return min(value, cap)
        """,
    "lib/documented.py": """
        def documented(x):
            '''Say what it is.'''
            y = x + 1
            return y
        """,
    "lib/tiny.py": """
        def tiny(): return 1
        """,
    "lib/users.py": """
        from lib.pause import grow


        def run(task):
            for attempt in range(5):
                if task():
                    return True
                grow(attempt)
            return False
        """,
    "tests/test_pause.py": """
        def test_grow():
            from lib.pause import grow
            assert grow(0) == 1.0
        """,
}

# what the fake model says about each function, keyed by a word of its code
SAYS = {
    "value = base": "Doubles the waiting time after every failed try, up to a ceiling.",
    "y = x + 1": "Adds one to a number and gives it back to the caller.",
    "for attempt": "Keeps trying a job a few times until it reports success.",
}


def fake_model(prompt: str) -> str:
    return next((text for key, text in SAYS.items() if key in prompt), "")


@pytest.fixture
def index(tmp_path: Path) -> WorkspaceIndex:
    root = tmp_path / "ws"
    for rel, text in CODE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    opened = WorkspaceIndex(root, Settings(data_dir=tmp_path / "data"), FakeEmbedder())
    opened.refresh()
    return opened


def keyword_paths(index: WorkspaceIndex, query: str) -> list[str]:
    hits = search_index(index, query, 5, frozenset({"keyword"}))
    return [f"{h.chunk.path}:{h.chunk.symbol}" for h in hits]


def test_definitions_worth_it_are_pending_undocumented_and_used_first(
    index: WorkspaceIndex,
) -> None:
    pending = [c.symbol for c in descriptions.pending(index.stores)]
    # no tests, no one-liners; the documented function last; `grow` (used) before `run`
    assert pending == ["grow", "run", "documented"]
    assert descriptions.counts(index.stores) == (0, 3)
    index.close()


def test_build_copies_are_not_described(index: WorkspaceIndex, tmp_path: Path) -> None:
    copy = tmp_path / "ws" / "build" / "lib" / "lib" / "pause.py"  # setuptools' copy
    copy.parent.mkdir(parents=True)
    copy.write_text(textwrap.dedent(CODE["lib/pause.py"]).lstrip() + "# built\n")
    index.refresh()
    assert [c.path for c in descriptions.pending(index.stores)] == [
        "lib/pause.py",
        "lib/users.py",
        "lib/documented.py",
    ]
    assert descriptions.counts(index.stores) == (0, 3)
    index.close()


def test_a_description_reaches_keyword_search_and_an_edit_asks_again(
    index: WorkspaceIndex,
) -> None:
    assert "lib/pause.py:grow" not in keyword_paths(index, "waiting time ceiling")
    backend = FakeBackend(fake_model)
    stats = asyncio.run(describe_pending(index.stores, backend))
    assert (stats.described, stats.failed) == (3, 0)
    assert keyword_paths(index, "waiting time ceiling")[0] == "lib/pause.py:grow"
    assert descriptions.pending(index.stores) == []

    # a moved file is a new chunk with the same text: it keeps its description
    pause = index.root / "lib" / "backoff.py"
    (index.root / "lib" / "pause.py").rename(pause)
    index.indexer.update_paths(["lib/pause.py", "lib/backoff.py"])
    assert descriptions.pending(index.stores) == []
    assert keyword_paths(index, "waiting time ceiling")[0] == "lib/backoff.py:grow"

    # an edit of its body: described again
    pause.write_text(pause.read_text().replace("base * 2 ** attempt", "base * 3 ** attempt"))
    index.indexer.update_paths(["lib/backoff.py"])
    assert [c.symbol for c in descriptions.pending(index.stores)] == ["grow"]
    assert "lib/backoff.py:grow" not in keyword_paths(index, "waiting time ceiling")
    index.close()


def test_descriptions_survive_a_lost_keyword_index(index: WorkspaceIndex, tmp_path: Path) -> None:
    asyncio.run(describe_pending(index.stores, FakeBackend(fake_model)))
    directory = index.stores.directory
    index.close()
    for path in (directory / "tantivy").iterdir():
        path.unlink()
    reopened = WorkspaceIndex(index.root, Settings(data_dir=tmp_path / "data"), FakeEmbedder())
    assert keyword_paths(reopened, "trying a job until success")[0] == "lib/users.py:run"
    reopened.close()


def test_a_description_interrupted_for_a_person_is_asked_again(index: WorkspaceIndex) -> None:
    backend = FakeBackend(fake_model)
    answers = iter([False])  # a person wants the model during the first description
    waits: list[int] = []

    async def before_each() -> None:
        waits.append(len(backend.prompts))

    stats = asyncio.run(
        describe_pending(
            index.stores,
            backend,
            before_each=before_each,
            keep_going=lambda: next(answers, True),
        )
    )
    assert (stats.described, stats.failed) == (3, 0)
    assert waits == [0, 1, 2, 3]  # one more wait, before the interrupted chunk again
    assert "value = base" in backend.prompts[0] and "value = base" in backend.prompts[1]
    assert keyword_paths(index, "waiting time ceiling")[0] == "lib/pause.py:grow"
    index.close()


@pytest.mark.parametrize(
    ("choice", "backend", "cores", "enabled"),
    [
        ("auto", "llama_cpp", 2, False),
        ("auto", "llama_cpp", 4, True),
        ("auto", "openai", 2, True),
        ("on", "llama_cpp", 2, True),
        ("off", "openai", 8, False),
    ],
)
def test_background_descriptions_follow_the_setting_and_the_cores(
    choice: str, backend: str, cores: int, enabled: bool
) -> None:
    settings = Settings(index=IndexSettings(describe=choice), llm=LLMSettings(backend=backend))
    assert describe_enabled(settings, cores) is enabled


def test_an_unusable_answer_is_not_asked_again(index: WorkspaceIndex) -> None:
    stats = asyncio.run(describe_pending(index.stores, FakeBackend("```python\nx\n```")))
    assert (stats.described, stats.failed) == (0, 3)
    assert descriptions.pending(index.stores) == []
    index.close()


def test_the_prompt_shows_the_head_of_the_code_and_asks_in_plain_words() -> None:
    chunk = Chunk(
        "a.py", 1, 200, "function", "\n".join(f"x{i} = {i}" for i in range(200)), "python"
    )
    system, user = describe_messages(chunk)
    assert system.role == "system" and user.content.startswith("From a.py:\n```python\nx0 = 0\n")
    assert "x39 = 39" in user.content and "x40 = 40" not in user.content
    assert "rather than the names" in user.content


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        (
            "Sure! Here is the description: **Keeps** trying `a job`. Then more. And more.",
            "Keeps trying a job. Then more.",
        ),
        (
            "  retries a request when the server is busy.  ",
            "Retries a request when the server is busy.",
        ),
        ("", None),
        ("```python\ndef f(): pass\n```", None),
        ("It works.", None),
    ],
)
def test_replies_are_cleaned_to_two_plain_sentences(reply: str, kept: str | None) -> None:
    assert clean_description(reply) == kept
