"""What a question asks for, decided without the model: about this code, general
programming, or a change to the code.

A general question ("what is a Python list") skips retrieval and is answered at once;
anything that points at the workspace (a name it defines, a path, "this", "where", an
identifier) retrieves. When unsure, retrieve: a wasted search costs tens of
milliseconds, a missed one costs a wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Intent = Literal["code", "general", "change"]

_GENERAL_START = re.compile(
    r"^\s*(what\s+(is|are|does|do)\s+(an?\s+|the\s+)?|what's\s+|how\s+(do|can|should)\s+(i|you|we)\s+"
    r"|how\s+to\s+|explain\s+(what|how|the\s+difference)|difference\s+between"
    r"|when\s+should\s+(i|you)\s+|why\s+(is|are|do|does)\s+(an?\s+)?)",
    re.IGNORECASE,
)
_WORKSPACE_WORDS = re.compile(
    r"\b(this|these|our|my|here|where|which\s+file|who\s+calls|called|caller|callers"
    r"|defined|implemented|used|codebase|repo|repository|project|workspace"
    r"|in\s+the\s+code|the\s+(code|function|method|class|module|file|app|server|test|tests))\b",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(
    r"`[^`]+`|\b\w+\(\)|\b[a-z]+_\w+|\b[a-z]+[A-Z]\w*|\b\w+\.(py|js|ts|go|rs|java|c|h|cpp|rb)\b"
)
_CHANGE_START = re.compile(
    r"^\s*(please\s+)?(fix|refactor|rewrite|rename|change|improve|optimi[sz]e|simplify|"
    r"implement|add\s+(a|an|the)?\s*(test|parameter|argument|option|method|function)|"
    r"make\s+(it|this|the))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
QUOTED_NAME = re.compile(r"`([A-Za-z_][\w.:]*?)(?:\(\))?`")  # a name quoted as code

# Names so common in every codebase (builtins, everyday verbs and nouns of programming)
# that a workspace defining one says nothing about whether a question is about it.
UBIQUITOUS = frozenset(
    "list dict set map tuple str string int float bool bytes array object type class "
    "function method value values key keys item items file files path name names data "
    "error errors exception test tests main run get put post delete update create read "
    "write open close load save start stop init new self this index len size count sort "
    "filter reduce apply call print format parse config options args kwargs node tree "
    "loop async await promise future thread lock queue stack cache log logger time date "
    "json yaml http url request response client server user users text line lines".split()
)


@dataclass(frozen=True)
class Routing:
    """The intent, and why (for logs and tests)."""

    intent: Intent
    reason: str


_LANGUAGES = re.compile(
    r"\b(python|javascript|typescript|java|go|golang|rust|c\+\+|c#|ruby|php|kotlin|swift"
    r"|bash|shell|sql|html|css|lua|haskell|scala|elixir)\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    "what does when where which with that this from have into about after before should "
    "would could there their them they your only some than then also just make does each "
    "like more most other such very using used want".split()
)
SHARED_WORDS = 2  # question words the workspace's names also use, before it is about them


def identifier_words(name: str) -> set[str]:
    """The words of an identifier (`retry_if_exception_message`, `parseRetryAfter`), in
    lower case, singular, four letters or more."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ")
    return {_singular(w.lower()) for w in spaced.split() if len(w) >= 4}


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def route(
    question: str,
    known_name: Callable[[str], bool],
    known_word: Callable[[str], bool] = lambda word: False,
) -> Routing:
    """Decide what `question` needs. `known_name(word)` says whether the workspace defines
    a symbol or file by that name; `known_word(word)` whether its names use the word.

    A question phrased as general ("how do I …", "what is a …") still retrieves when
    several of its words are words of the workspace's names ("how do I retry only when
    the exception message matches" in a retry library), unless it names a language.
    """
    if _CHANGE_START.search(question):
        return Routing("change", "asks to change code")
    if _IDENTIFIER.search(question):
        return Routing("code", "names an identifier or a file")
    if _WORKSPACE_WORDS.search(question):
        return Routing("code", "points at the workspace")
    for word in _WORD.findall(question):
        if word.lower() not in UBIQUITOUS and known_name(word):
            return Routing("code", f"the workspace defines {word!r}")
    if not _GENERAL_START.search(question):
        return Routing("code", "not clearly general")
    if _LANGUAGES.search(question):
        return Routing("general", "a general question about a language")
    words = {
        _singular(w.lower())
        for w in _WORD.findall(question)
        if len(w) >= 4 and w.lower() not in _STOP
    }
    shared = sorted(w for w in words if known_word(w))
    if len(shared) >= SHARED_WORDS:
        return Routing("code", f"the workspace's names use {', '.join(shared)}")
    return Routing("general", "a general programming question")


_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|then|what\s+about|how\s+about|why)\b"
    r"|\b(it|its|it's|that|those|they|them|their|there|same|above|previous)\b",
    re.IGNORECASE,
)
FOLLOW_UP_WORDS = 14


_PRONOUN = re.compile(r"\b(it|its|it's|that|this|them|they|those)\b", re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    """A short question that leans on the one before ("and where is it called?")."""
    return len(question.split()) <= FOLLOW_UP_WORDS and _FOLLOW_UP.search(question) is not None


def retrieval_query(
    question: str, earlier_questions: Sequence[str], subject: str | None = None
) -> str:
    """The query to search with. A short follow-up ("and where is it called?") names what
    the answer before was about (`subject`, a definition it named) in place of its first
    pronoun, so the search treats it as a question naming that definition, and a caller
    question gets the callers; without a subject it borrows the words of the question
    before it, so that the search knows what "it" is."""
    if not earlier_questions or not is_follow_up(question):
        return question
    if subject:
        named, replaced = _PRONOUN.subn(f"`{subject}`", question, count=1)
        return named if replaced else f"{question} `{subject}`"
    return f"{earlier_questions[-1]} {question}"


def answer_subject(
    answer: str, known_name: Callable[[str], bool], cited: Sequence[str | None] = ()
) -> str | None:
    """The definition an answer is about: the first name it quotes as code (`like_this`)
    that the workspace defines (answers are asked to start with it); else, for an answer
    that quotes none, the first one its citations are about (`cited`: their symbols)."""
    quoted = [match.group(1) for match in QUOTED_NAME.finditer(answer)]
    for raw in [*quoted, *(symbol for symbol in cited if symbol)]:
        name = re.split(r"[.:]+", raw)[-1]
        if len(name) >= 3 and name.lower() not in UBIQUITOUS and known_name(name):
            return name
    return None
