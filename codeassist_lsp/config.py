"""One typed settings object, built in one place.

Layers, later wins: defaults <- user config file (JSON) <- LSP `initializationOptions`
<- `workspace/didChangeConfiguration`. Raw option dicts (camelCase or snake_case) are kept
apart from the resolved `Settings`; an invalid value is reported and its default kept.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeassist_lsp.llm.settings import LLMSettings

log = logging.getLogger(__name__)

DATA_DIR_ENV = "CODEASSIST_DATA_DIR"
CONFIG_FILE_ENV = "CODEASSIST_CONFIG"


@dataclass
class IndexSettings:
    """What gets indexed and how."""

    max_file_bytes: int = 1_000_000
    exclude: list[str] = field(default_factory=list)
    embedder: str = "minilm"
    embed_max_tokens: int = 96  # word pieces of each chunk the embedder reads
    threads: int = 0  # 0: one per physical core
    debounce_ms: int = 300
    # plain-English descriptions of functions and classes written by the model after
    # indexing, for keyword search: "auto" is on with 4+ cores or an OpenAI-compatible
    # endpoint (on 2 cores each takes seconds, and with the 0.5B model they did not pay)
    describe: str = field(default="auto", metadata={"choices": ("auto", "on", "off")})


@dataclass
class SearchSettings:
    """Knobs of the hybrid retrieval pipeline."""

    limit: int = 10
    vector_k: int = 40
    keyword_k: int = 40
    # "score": weighted sum of min-max normalised scores; "rrf": reciprocal rank fusion.
    # Scores keep how far ahead a hit is, ranks do not: +0.03 MRR@5 on the eval.
    fusion: str = field(default="score", metadata={"choices": ("score", "rrf")})
    rrf_k: int = 60
    graph_expansion: bool = True
    rerank: bool = True


@dataclass
class DiagnosticsSettings:
    """Syntax errors of open documents, from tree-sitter; the model's review on save."""

    enabled: bool = True
    debounce_ms: int = 150  # quiet time after a keystroke before the document is checked
    review_on_save: bool = False  # the model looks for bugs in functions changed since
    review_max_functions: int = 3  # the last save (slow on a CPU: off by default)


@dataclass
class HoverSettings:
    """Hover shows the graph's facts at once; optionally a short model explanation."""

    explain: bool = False  # made in the background, cached by the definition's content
    explain_budget_ms: int = 300  # the longest a hover waits for an explanation


@dataclass
class CodeActionSettings:
    """Explain / Fix / Improve on a selection (the model runs only when one is chosen)."""

    enabled: bool = True
    max_lines: int = 150  # Fix/Improve refuse longer selections; Explain reads the first ones
    rewrite_max_tokens: int = 768
    explain_max_tokens: int = 200
    context_tokens: int = 200  # for the function around the selection and graph facts
    prompt_lookup: bool = True  # rewrites copy their input: drafts from the prompt


@dataclass
class ChatSettings:
    """Budgets of a chat turn, in the model's tokens (estimated at ~3 characters each for
    a remote model): on this CPU every prompt token costs ~4 ms before the first word of
    the answer."""

    context_tokens: int = 600
    history_tokens: int = 600
    answer_tokens: int = 320
    search_limit: int = 6
    selection_tokens: int = 500
    item_lines: int = 24  # a longer hit is cut to this many lines: room for more hits
    focus_hits: bool = True  # cut to the lines most about the question, not to the head
    facts_per_hit: int = 0  # graph neighbours shown per hit as signatures: 4 cost time, no gain
    temperature: float = 0.1
    # model help for retrieval (chat/rewrite.py), each measured by bench/chat_eval.py
    rewrite_query: bool = False  # likely identifiers and keywords added to the search
    hyde: bool = False  # a hypothetical snippet added to the search
    self_rag: bool = False  # check the answer against its sources; retry once if not
    read_ahead: bool = True  # read a question's sources while it is typed (chatDraft)


@dataclass
class HistorySettings:
    """Where chat history lives; encrypted at rest when asked (key from
    `$CODEASSIST_HISTORY_KEY`, else `passphrase`)."""

    encrypt: bool = False
    passphrase: str = ""


@dataclass
class CompletionSettings:
    """Inline completion (ghost text) from the model's fill-in-the-middle.

    Budgets are in tokens: every uncached prompt token costs ~4 ms on a 2-core CPU, and a
    change above the cursor makes the model process the whole suffix again, so the suffix
    budget is small. `fallback` answers `textDocument/completion` with one item for clients
    that do not declare inline completion; clients that do get an empty list at once.
    """

    enabled: bool = True
    fallback: bool = True
    # bench/completion_eval.py --prefix-tokens: 384 matched no better and took longer (README)
    prefix_tokens: int = 256
    suffix_tokens: int = 64
    # definitions of the names near the cursor, in tokens: off by default, as with the 0.5B
    # model they made completions worse in Python and JavaScript (bench/completion_eval.py)
    context_tokens: int = 0
    max_tokens: int = 48
    max_lines: int = 8  # of a multi-line suggestion (blank line or block opener)
    max_right_chars: int = 8  # no automatic trigger with more text right of the cursor
    debounce_ms: int = 30  # a request superseded within this time never reaches the model
    speculate: bool = True  # compute the line after a suggestion as if it were accepted
    cache_size: int = 256


@dataclass
class Settings:
    """Resolved settings of the whole server."""

    data_dir: Path = field(default_factory=lambda: default_data_dir())
    index: IndexSettings = field(default_factory=IndexSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    code_actions: CodeActionSettings = field(default_factory=CodeActionSettings)
    hover: HoverSettings = field(default_factory=HoverSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)


def default_data_dir() -> Path:
    """`$CODEASSIST_DATA_DIR`, else `$XDG_DATA_HOME/codeassist`, else ~/.local/share."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "codeassist"


def default_config_file() -> Path:
    env = os.environ.get(CONFIG_FILE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "codeassist" / "config.json"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _coerce(value: Any, current: Any, where: str, errors: list[str]) -> Any:
    """Convert one raw value to the type of the current one, or report and keep it."""
    if dataclasses.is_dataclass(current) and not isinstance(current, type):
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object")
            return current
        return _merge(current, value, where, errors)
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(current, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(current, Path):
        if isinstance(value, str) and value:
            return Path(value).expanduser()
    elif isinstance(current, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    elif (current is None or isinstance(current, str)) and (
        value is None or isinstance(value, str)
    ):
        return value
    errors.append(f"{where}: invalid value {value!r}")
    return current


def _merge(obj: Any, raw: dict[str, Any], prefix: str, errors: list[str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(key)
        where = f"{prefix}.{key}" if prefix else key
        if name not in fields:
            errors.append(f"{where}: unknown setting")
            continue
        choices = fields[name].metadata.get("choices")
        if choices and value not in choices:
            errors.append(f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}")
            continue
        changes[name] = _coerce(value, getattr(obj, name), where, errors)
    return dataclasses.replace(obj, **changes)


def apply_options(settings: Settings, raw: dict[str, Any] | None) -> tuple[Settings, list[str]]:
    """Layer raw options over `settings`; returns the new settings and any complaints."""
    errors: list[str] = []
    if not raw:
        return settings, errors
    if not isinstance(raw, dict):
        return settings, ["settings: expected an object"]
    raw = raw.get("codeassist", raw) if isinstance(raw.get("codeassist"), dict) else raw
    return _merge(settings, raw, "", errors), errors


def load_settings(config_file: Path | None = None) -> tuple[Settings, list[str]]:
    """Defaults overlaid with the user's config file, if there is one."""
    path = config_file or default_config_file()
    settings = Settings()
    if not path.is_file():
        return settings, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return settings, [f"{path}: cannot read config ({exc})"]
    return apply_options(settings, raw)
