"""Model help for retrieval: query rewriting, HyDE and the Self-RAG support check.

Plain-English questions miss code whose names use other words. Query rewriting asks the
model for the identifiers and keywords the answer's code likely uses; HyDE asks it for a
short hypothetical snippet; either is added to the search query. The Self-RAG check asks
whether an answer is supported by its sources, so that an unsupported one can be retried
once with a rewritten query. Each costs a short model call on the completion slot (its
own KV cache, so the chat's cached prefix survives); `ChatSettings` switches them.
"""

from __future__ import annotations

import re
from contextlib import aclosing

from codeassist_lsp.llm.backend import Backend
from codeassist_lsp.llm.chat_format import chatml
from codeassist_lsp.llm.types import GenerationOptions, Message

KEYWORDS_TOKENS = 40
HYDE_TOKENS = 96
SUPPORT_TOKENS = 4
MAX_KEYWORDS = 12

KEYWORDS_PROMPT = (
    "You help search a code base. Given a question about the code, list the identifiers "
    "(function, class, method, variable and constant names, in snake_case or camelCase) and "
    "keywords that the code answering it most likely contains. Reply with one line of at "
    "most 12 space-separated words, nothing else."
)

HYDE_PROMPT = (
    "You help search a code base. Given a question about the code, write the short code "
    "snippet (at most 8 lines, with plausible function and variable names) that most "
    "likely answers it. Reply with the code only."
)

SUPPORT_PROMPT = (
    "You check answers about code. Given numbered sources and an answer, reply 'yes' if "
    "the answer's claims are supported by the sources and 'no' if they are not. Reply with "
    "one word."
)

_STOPWORDS = frozenset(
    "a an and are as at be by do does for from how in is it of on or the this to what when "
    "where which who why with code function class method variable keyword keywords".split()
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_FENCE = re.compile(r"^```[\w+-]*\s*$", re.MULTILINE)


def keywords_messages(question: str) -> list[Message]:
    return [Message("system", KEYWORDS_PROMPT), Message("user", question)]


def parse_keywords(reply: str, question: str = "") -> list[str]:
    """Identifier-like words of the reply, without stopwords or words the question has."""
    asked = {w.lower() for w in _WORD.findall(question)}
    found: list[str] = []
    for word in _WORD.findall(reply):
        key = word.lower()
        if key in _STOPWORDS or key in asked or len(word) < 3:
            continue
        if key not in (f.lower() for f in found):
            found.append(word)
        if len(found) == MAX_KEYWORDS:
            break
    return found


def hyde_messages(question: str) -> list[Message]:
    return [Message("system", HYDE_PROMPT), Message("user", question)]


def parse_hyde(reply: str) -> str:
    """The drafted snippet without code fences, one line per line."""
    lines = [line.rstrip() for line in _FENCE.sub("", reply).splitlines()]
    return "\n".join(line for line in lines if line.strip())


def support_messages(question: str, answer: str, sources: str) -> list[Message]:
    return [
        Message("system", SUPPORT_PROMPT),
        Message("user", f"Sources:\n{sources}\nQuestion: {question}\nAnswer: {answer}"),
    ]


def parse_support(reply: str) -> bool:
    """True unless the reply starts with a no: an unclear check keeps the answer."""
    return re.match(r"\W*no\b", reply.strip(), re.IGNORECASE) is None


def expanded_query(query: str, keywords: list[str], snippet: str) -> str:
    """The search query with the model's keywords and snippet after it."""
    return "\n".join(part for part in (query, " ".join(keywords), snippet) if part)


async def ask_short(backend: Backend, messages: list[Message], max_tokens: int) -> str:
    """A short greedy reply on the completion slot."""
    options = GenerationOptions(max_tokens=max_tokens, temperature=0.0, stop=("<|im_end|>",))
    pieces: list[str] = []
    async with aclosing(backend.complete(chatml(messages), options)) as stream:
        async for piece in stream:
            pieces.append(piece)
    return "".join(pieces)


async def rewrite_query(
    backend: Backend, question: str, query: str, keywords: bool, hyde: bool
) -> str:
    """The search query with what the switched-on helpers add to it."""
    words: list[str] = []
    snippet = ""
    if keywords:
        reply = await ask_short(backend, keywords_messages(question), KEYWORDS_TOKENS)
        words = parse_keywords(reply, question)
    if hyde:
        snippet = parse_hyde(await ask_short(backend, hyde_messages(question), HYDE_TOKENS))
    return expanded_query(query, words, snippet)


async def is_supported(backend: Backend, question: str, answer: str, sources: str) -> bool:
    reply = await ask_short(backend, support_messages(question, answer, sources), SUPPORT_TOKENS)
    return parse_support(reply)
