"""The suggestion cache: exact hits, typing through a suggestion, eviction."""

from __future__ import annotations

from codeassist_lsp.completion.cache import SuggestionCache
from codeassist_lsp.completion.window import CursorWindow


def window(middle: str) -> CursorWindow:
    return CursorWindow(prefix="def f():\n", middle=middle, suffix="\n", line=1)


def test_exact_context_is_a_hit_and_another_path_is_not() -> None:
    cache = SuggestionCache()
    cache.put("a.py", window("    ret"), "urn 1")
    assert cache.get("a.py", window("    ret")) == "urn 1"
    assert cache.get("b.py", window("    ret")) is None


def test_typing_what_the_suggestion_says_serves_its_rest() -> None:
    cache = SuggestionCache()
    cache.put("a.py", window("    ret"), "urn value + 1")
    assert cache.get("a.py", window("    retu")) == "rn value + 1"
    assert cache.get("a.py", window("    return v")) == "alue + 1"


def test_typing_something_else_or_all_of_it_misses() -> None:
    cache = SuggestionCache()
    cache.put("a.py", window("    ret"), "urn 1")
    assert cache.get("a.py", window("    retx")) is None
    assert cache.get("a.py", window("    return 1")) is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = SuggestionCache(size=2)
    cache.put("a.py", window("a"), "1")
    cache.put("a.py", window("b"), "2")
    assert cache.get("a.py", window("a")) == "1"
    cache.put("a.py", window("c"), "3")
    assert len(cache) == 2
    assert cache.get("a.py", window("b")) is None
    assert cache.get("a.py", window("a")) == "1"
