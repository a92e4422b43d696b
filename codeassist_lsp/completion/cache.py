"""Suggestions already computed, so that most keystrokes cost no model work.

Keyed by a hash of the text around the cursor (llama.vim). A lookup that misses tries the
same context with up to `look_back` fewer typed characters: if the user typed what a
suggestion there began with, the rest of that suggestion is the answer (typing through
a shown suggestion). Least recently used entries go first when it is full.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from codeassist_lsp.completion.window import CursorWindow

KEY_PREFIX_CHARS = 4000  # enough of the text above to tell positions apart
KEY_SUFFIX_CHARS = 2000


def context_key(path: str, prefix: str, middle: str, suffix: str) -> str:
    """A short hash of where the cursor is and what surrounds it."""
    text = "\0".join((path, prefix[-KEY_PREFIX_CHARS:], middle, suffix[:KEY_SUFFIX_CHARS]))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def window_key(path: str, window: CursorWindow) -> str:
    return context_key(path, window.prefix, window.middle, window.suffix)


class SuggestionCache:
    """key -> suggestion text (an empty text remembers that nothing was worth showing)."""

    def __init__(self, size: int = 256, look_back: int = 16) -> None:
        self._size = size
        self._look_back = look_back
        self._entries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, path: str, window: CursorWindow, suggestion: str) -> None:
        key = window_key(path, window)
        self._entries[key] = suggestion
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def get(self, path: str, window: CursorWindow) -> str | None:
        """The suggestion for this window, or the rest of one the typed text follows."""
        exact = self._entries.get(window_key(path, window))
        if exact is not None:
            self._entries.move_to_end(window_key(path, window))
            return exact
        middle = window.middle
        for back in range(1, min(self._look_back, len(middle)) + 1):
            typed = middle[-back:]
            key = context_key(path, window.prefix, middle[:-back], window.suffix)
            earlier = self._entries.get(key)
            if earlier is None:
                continue
            if not earlier.startswith(typed) or len(earlier) == len(typed):
                return None
            rest = earlier[len(typed) :]
            self.put(path, window, rest)
            return rest
        return None
