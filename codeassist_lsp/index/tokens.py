"""Words for the keyword index: identifiers split on camelCase and snake_case, kept whole too.

`fetchUserName` and `fetch_user_name` both yield `fetch user name fetchusername`, so a
question in plain English ("fetch the user name") and one naming the identifier both match.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Words that say nothing about code in a question ("where do we ...").
STOP_WORDS = frozenset(
    """a an and are as at be by can could did do does doing for from how i if in is it its
    me my of on or our so than that the their them then there these this those to us was we
    were what when where which who whom why will with would you your should shall into onto
    get gets got code function method file files project repo repository happens happen
    handled handle handles find show tell me please some any about""".split()
)


SHORT_QUERY_WORDS = 2
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CODE_SPAN = re.compile(r"`([A-Za-z_][A-Za-z0-9_.]*)`")


def split_identifier(word: str) -> list[str]:
    """`parseHTTPResponse_v2` -> ['parse', 'http', 'response', 'v2' parts...]."""
    parts: list[str] = []
    for piece in word.split("_"):
        parts.extend(p.lower() for p in _CAMEL.findall(piece))
    return [p for p in parts if p]


def index_terms(text: str) -> list[str]:
    """All words of `text` for the keyword index: each identifier's parts and its whole."""
    out: list[str] = []
    for ident in _IDENT.findall(text):
        parts = split_identifier(ident)
        out.extend(parts)
        whole = ident.replace("_", "").lower()
        if len(parts) > 1 and whole:
            out.append(whole)
    return out


def query_terms(text: str) -> list[str]:
    """Words of a search question, stop words dropped (all kept if nothing else is left)."""
    terms = index_terms(text)
    kept = [t for t in terms if t not in STOP_WORDS]
    return kept or terms


def identifiers_in(text: str) -> list[str]:
    """Tokens of a question that look like code identifiers: snake_case, camelCase, dotted,
    called (`parse()`), quoted in backticks, or capitalised after the first word (`Router`).

    Dotted names are kept whole ("Client.sendRequest"), so the caller can match a method
    of one class rather than every method of that name.
    """
    quoted = set(_CODE_SPAN.findall(text))
    found = []
    for match in _NAME.finditer(text):
        token = match.group().strip(".")
        name = token.split(".")[-1]
        if (
            "_" in name
            or re.search(r"[a-z][A-Z]", name)
            or "." in token
            or text.startswith("(", match.end())
            or token in quoted
            or (token[0].isupper() and match.start() > 0)
        ):
            found.append(token)
    return found


def names_in(text: str) -> list[str]:
    """Code names a query mentions: its identifiers, and in a query of at most
    `SHORT_QUERY_WORDS` words every word, since people type `retry` or `Router` alone to
    find a definition, while in a sentence such words are usually plain English."""
    words = _NAME.findall(text)
    if 0 < len(words) <= SHORT_QUERY_WORDS:
        return [w.strip(".") for w in words if w.strip(".")]
    return identifiers_in(text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD: what invalid bytes on a command line
    (decoded with surrogateescape) or a JSON "\\ud800" become, and what neither the
    tokenizer nor tantivy accepts."""
    return _SURROGATE.sub("\ufffd", text)
