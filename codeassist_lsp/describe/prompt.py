"""The prompt that asks the model what a piece of code is for, and the reply's clean-up.

The question is the one a user would ask before knowing the names: what does it do and
when would I need it. Names are left out on purpose: the keyword index has them already,
the description is there for the words people use instead.
"""

from __future__ import annotations

import re

from codeassist_lsp.index.model import Chunk
from codeassist_lsp.llm.types import Message

MAX_LINES = 40
MAX_CHARS = 2400
MAX_DESCRIPTION = 320

# Say nothing of what the description is for: a model told "for a search index" writes
# about search indexes.
SYSTEM = "You are a senior developer explaining code to a colleague."
ASK = (
    "What does this code do, and when would someone need it? Answer in one or two plain "
    "sentences, in everyday words rather than the names in the code."
)
PROMPT_VERSION = 2  # caches of descriptions (the benches') are per model and version

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKUP = re.compile(r"[`*_#>]+")
_PREAMBLE = re.compile(r"^((sure|okay|ok)[,!.]?\s*|here is[^:]*:\s*)+", re.IGNORECASE)


def describe_messages(chunk: Chunk) -> list[Message]:
    """The chat messages asking for one chunk's description (head of a long chunk only)."""
    lines = chunk.text.splitlines()[:MAX_LINES]
    code = "\n".join(lines)[:MAX_CHARS]
    where = f"{chunk.path}, {chunk.symbol}" if chunk.symbol else chunk.path
    return [
        Message("system", SYSTEM),
        Message("user", f"From {where}:\n```{chunk.language}\n{code}\n```\n{ASK}"),
    ]


def clean_description(reply: str) -> str | None:
    """The first two sentences of the reply as plain words; None when nothing usable came
    back (empty, code, or a refusal too short to say anything)."""
    text = reply.strip()
    if not text or text.startswith("```"):
        return None
    text = _MARKUP.sub("", " ".join(text.split()))
    text = _PREAMBLE.sub("", text).strip()
    sentences = _SENTENCE_END.split(text)
    text = " ".join(sentences[:2]).strip()[:MAX_DESCRIPTION]
    if len(text.split()) < 4:
        return None
    return text[0].upper() + text[1:]
