"""From the `[n]` marks in an answer to the places they stand for.

The prompt numbers its sources; the model cites them as `[1]`, `[2, 3]` or `[1][3]`. Only
numbers that were given count: a number the model invented is dropped, never shown as a
link to nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from codeassist_lsp.chat.conversation import Citation
from codeassist_lsp.chat.intent import QUOTED_NAME

_MARK = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_numbers(answer: str) -> list[int]:
    """The source numbers an answer cites, in order of first mention."""
    seen: list[int] = []
    for match in _MARK.finditer(answer):
        for part in match.group(1).split(","):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


def resolve_citations(
    answer: str,
    sources: Sequence[Citation],
    names: Sequence[Sequence[str]] = (),
    texts: Sequence[str] = (),
) -> tuple[list[Citation], int]:
    """The sources an answer cites and how many marks were invented.

    A source counts as cited when the answer marks it (`[n]`); when it names a definition
    the source holds (`names[i]`); or when it quotes as code (`like_this`) an identifier
    that appears in the source's text (`texts[i]`; the first source that has it). Small
    models often say which function does what without the mark, and the name is as good
    a pointer as the number. Marked sources come first, in order of mention.
    """
    cited: list[Citation] = []
    invented = 0
    for n in cited_numbers(answer):
        if 1 <= n <= len(sources):
            if sources[n - 1] not in cited:
                cited.append(sources[n - 1])
        else:
            invented += 1
    for source, defined in zip(sources, names, strict=False):
        if source not in cited and any(_mentions(answer, name) for name in defined):
            cited.append(source)
    for quoted in _quoted_identifiers(answer):
        for source, text in zip(sources, texts, strict=False):
            if _mentions(text, quoted):
                if source not in cited:
                    cited.append(source)
                break
    return cited, invented


def _quoted_identifiers(answer: str) -> list[str]:
    """Identifiers the answer quotes as code, last part of a dotted name included."""
    found: list[str] = []
    for match in QUOTED_NAME.finditer(answer):
        for name in {match.group(1), re.split(r"[.:]+", match.group(1))[-1]}:
            if name not in found:
                found.append(name)
    return found


def _mentions(text: str, name: str) -> bool:
    if len(name) < 3:
        return False
    return re.search(rf"(?<![\w]){re.escape(name)}(?!\w)", text) is not None


def strip_invented(answer: str, count: int) -> str:
    """The answer without marks that point past the `count` sources given."""

    def keep(match: re.Match[str]) -> str:
        numbers = [p.strip() for p in match.group(1).split(",")]
        valid = [p for p in numbers if 1 <= int(p) <= count]
        return f"[{', '.join(valid)}]" if valid else ""

    return _MARK.sub(keep, answer)
