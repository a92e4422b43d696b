"""Conversations kept in DuckDB (`<data dir>/history.duckdb`), apart from the index.

Its own file, because the index can be rebuilt at will and history cannot, and because it
is opened for each operation and closed again: the editor's server and a `codeassist chat`
in a terminal take turns instead of locking each other out. A turn (question and answer)
is written in one transaction, so a crash mid-answer leaves every finished turn intact.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from codeassist_lsp.chat.conversation import ChatMessage, Citation, Conversation, Usage
from codeassist_lsp.errors import CodeAssistError

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
LOCK_RETRIES = 50  # x 0.1 s: another process is writing a turn
HISTORY_FILE = "history.duckdb"
ENCRYPTED_HISTORY_FILE = "history-encrypted.duckdb"
KEY_ENV = "CODEASSIST_HISTORY_KEY"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS conversations (
    id VARCHAR PRIMARY KEY, root VARCHAR, title VARCHAR, created DOUBLE, updated DOUBLE);
CREATE TABLE IF NOT EXISTS messages (
    id VARCHAR PRIMARY KEY, conversation_id VARCHAR, seq INTEGER, role VARCHAR,
    content VARCHAR, created DOUBLE, citations VARCHAR, usage VARCHAR, cancelled BOOLEAN,
    grounded BOOLEAN, feedback INTEGER, embedding FLOAT[]);
CREATE TABLE IF NOT EXISTS snippets (
    message_id VARCHAR, position INTEGER, language VARCHAR, code VARCHAR);
"""

_FENCE = re.compile(r"```([\w+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)
_WORDS = re.compile(r"\w+")

Embed = Callable[[Sequence[str]], np.ndarray]


class HistoryError(CodeAssistError):
    """History cannot be read or written; the message says why and what to do."""


class UnknownConversation(HistoryError):
    """No conversation has the given id (never made, or deleted)."""


@dataclass(frozen=True)
class Found:
    """A past message that matches a search, with its conversation."""

    conversation: Conversation
    message: ChatMessage
    score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation.id,
            "title": self.conversation.title,
            "messageId": self.message.id,
            "role": self.message.role,
            "content": self.message.content,
            "created": self.message.created,
            "score": round(self.score, 4),
        }


def code_blocks(answer: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block in an answer."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(answer)]


def new_id() -> str:
    return uuid.uuid4().hex[:16]


class History:
    """The conversations of every workspace, in one DuckDB file."""

    def __init__(self, path: Path, embed: Embed | None = None, key: str | None = None) -> None:
        self.path = path
        self._embed = embed
        self._key = key
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            con = self._open()
            try:
                yield con
            finally:
                con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create {self.path.parent}: {exc.strerror}") from exc
        for attempt in range(LOCK_RETRIES):
            try:
                con = self._connect_file()
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or attempt == LOCK_RETRIES - 1:
                    raise HistoryError(f"cannot open chat history {self.path}: {exc}") from exc
                time.sleep(0.1)
            except duckdb.Error as exc:
                raise HistoryError(
                    f"chat history {self.path} is damaged ({exc}); move it away to start afresh"
                ) from exc
        try:
            con.execute(_SCHEMA)
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
            elif row[0] != SCHEMA_VERSION:
                raise HistoryError(f"chat history {self.path} has schema {row[0]}")
        except duckdb.Error as exc:
            con.close()
            raise HistoryError(f"chat history {self.path} is unreadable: {exc}") from exc
        return con

    def _connect_file(self) -> duckdb.DuckDBPyConnection:
        if self._key is None:
            return duckdb.connect(str(self.path))
        con = duckdb.connect(
            ":memory:",
            config={
                "extension_directory": str(_extension_directory()),
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        )
        try:
            con.execute("LOAD httpfs")  # DuckDB writes encrypted files only with it loaded
            path = str(self.path).replace("'", "''")
            key = self._key.replace("'", "''")
            con.execute(f"ATTACH '{path}' AS history (ENCRYPTION_KEY '{key}')")
            con.execute("USE history")
        except duckdb.IOException as exc:
            con.close()
            if "wrong encryption key" in str(exc).lower():
                raise HistoryError(
                    f"the history key does not open {self.path}: set {KEY_ENV} (or "
                    "history.passphrase) to the key it was made with; nothing was changed"
                ) from exc
            raise
        except duckdb.Error:
            con.close()
            raise
        return con

    def create(self, root: str, title: str) -> Conversation:
        now = time.time()
        conversation = Conversation(new_id(), root, title, now, now)
        with self._connect() as con:
            con.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                [conversation.id, root, title, now, now],
            )
        return conversation

    def conversation(self, conversation_id: str) -> Conversation:
        with self._connect() as con:
            row = con.execute(
                "SELECT id, root, title, created, updated FROM conversations WHERE id = ?",
                [conversation_id],
            ).fetchone()
        if row is None:
            raise UnknownConversation(f"no conversation {conversation_id!r}")
        return Conversation(*row)

    def conversations(self, roots: Sequence[str] | None = None) -> list[Conversation]:
        """Newest activity first; only those of `roots` when given."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, root, title, created, updated FROM conversations ORDER BY updated DESC"
            ).fetchall()
        found = [Conversation(*row) for row in rows]
        if roots is not None:
            found = [c for c in found if c.root in roots]
        return found

    def messages(self, conversation_id: str) -> list[ChatMessage]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, conversation_id, role, content, created, citations, usage, "
                "cancelled, grounded, feedback FROM messages WHERE conversation_id = ? "
                "ORDER BY seq",
                [conversation_id],
            ).fetchall()
        return [_message(row) for row in rows]

    def add_turn(self, question: ChatMessage, answer: ChatMessage) -> None:
        """Store a question and its answer (and the answer's code blocks) together."""
        texts = [question.content, answer.content]
        vectors = self._vectors(texts)
        with self._connect() as con:
            con.execute("BEGIN")
            try:
                seq_row = con.execute(
                    "SELECT coalesce(max(seq), 0) FROM messages WHERE conversation_id = ?",
                    [question.conversation_id],
                ).fetchone()
                seq = int(seq_row[0]) if seq_row else 0
                for offset, message in enumerate((question, answer)):
                    vector = None if vectors is None else vectors[offset].tolist()
                    con.execute(
                        "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            message.id,
                            message.conversation_id,
                            seq + offset + 1,
                            message.role,
                            message.content,
                            message.created,
                            json.dumps([c.to_json() for c in message.citations]),
                            json.dumps(message.usage.to_json()),
                            message.cancelled,
                            message.grounded,
                            message.feedback,
                            vector,
                        ],
                    )
                for position, (language, code) in enumerate(code_blocks(answer.content)):
                    con.execute(
                        "INSERT INTO snippets VALUES (?, ?, ?, ?)",
                        [answer.id, position, language, code],
                    )
                con.execute(
                    "UPDATE conversations SET updated = ? WHERE id = ?",
                    [answer.created, question.conversation_id],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        if self._embed is None:
            return None
        try:
            return self._embed(texts)
        except Exception:  # history search falls back to keywords; the turn is kept
            log.warning("could not embed a chat turn for search", exc_info=True)
            return None

    def delete(self, conversation_id: str) -> bool:
        """Forget a conversation and its messages; False when there was none."""
        with self._connect() as con:
            row = con.execute(
                "SELECT count(*) FROM conversations WHERE id = ?", [conversation_id]
            ).fetchone()
            if not row or not row[0]:
                return False
            con.execute("BEGIN")
            con.execute(
                "DELETE FROM snippets WHERE message_id IN "
                "(SELECT id FROM messages WHERE conversation_id = ?)",
                [conversation_id],
            )
            con.execute("DELETE FROM messages WHERE conversation_id = ?", [conversation_id])
            con.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])
            con.execute("COMMIT")
        return True

    def set_feedback(self, message_id: str, value: int) -> bool:
        """Record thumbs up (1), down (-1) or none (0); False when no such message."""
        with self._connect() as con:
            row = con.execute(
                "SELECT count(*) FROM messages WHERE id = ? AND role = 'assistant'", [message_id]
            ).fetchone()
            if not row or not row[0]:
                return False
            con.execute("UPDATE messages SET feedback = ? WHERE id = ?", [value, message_id])
        return True

    def snippets(self, message_id: str) -> list[tuple[str, str]]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT language, code FROM snippets WHERE message_id = ? ORDER BY position",
                [message_id],
            ).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    def search(
        self, query: str, roots: Sequence[str] | None = None, limit: int = 20
    ) -> list[Found]:
        """Past messages that match `query` by words and (with an embedder) by meaning,
        fused by reciprocal rank; best first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT m.id, m.conversation_id, m.role, m.content, m.created, m.citations, "
                "m.usage, m.cancelled, m.grounded, m.feedback, m.embedding, "
                "c.id, c.root, c.title, c.created, c.updated "
                "FROM messages m JOIN conversations c ON m.conversation_id = c.id"
            ).fetchall()
        if roots is not None:
            rows = [r for r in rows if r[12] in roots]
        if not rows or not query.strip():
            return []
        ranks: dict[int, float] = {}
        words = {w.lower() for w in _WORDS.findall(query)}
        keyword = []
        for i, row in enumerate(rows):
            text_words = [w.lower() for w in _WORDS.findall(row[3])]
            hits = sum(1 for w in text_words if w in words)
            if hits:
                matched = len(words & set(text_words))
                keyword.append((matched + hits / (len(text_words) + 10), i))
        for rank, (_, i) in enumerate(sorted(keyword, reverse=True)):
            ranks[i] = ranks.get(i, 0.0) + 1.0 / (60 + rank)
        with_vectors = [i for i, row in enumerate(rows) if row[10] is not None]
        if self._embed is not None and with_vectors:
            try:
                q = self._embed([query])[0]
            except Exception:
                log.warning("could not embed a history query", exc_info=True)
            else:
                matrix = np.array([rows[i][10] for i in with_vectors], dtype=np.float32)
                scores = matrix @ q
                order = np.argsort(-scores)[: max(limit * 2, 20)]
                for rank, j in enumerate(order):
                    i = with_vectors[int(j)]
                    ranks[i] = ranks.get(i, 0.0) + 1.0 / (60 + rank)
        best = sorted(ranks.items(), key=lambda pair: -pair[1])[:limit]
        return [
            Found(Conversation(*rows[i][11:16]), _message(rows[i][:10]), score) for i, score in best
        ]


def _extension_directory() -> Path:
    """Where `duckdb-ext-httpfs` keeps DuckDB's httpfs extension (never downloaded)."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise HistoryError(
            "encrypted history needs the duckdb-ext-httpfs package "
            "(pip install duckdb-ext-httpfs==1.4.4.20260205)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "extensions"


def open_history(data_dir: Path, encrypt: bool, passphrase: str, embed: Embed | None) -> History:
    """The history store the settings ask for: plain, or encrypted with the key from
    `$CODEASSIST_HISTORY_KEY` or the passphrase (its own file, so turning encryption on
    never meets a plain file)."""
    if not encrypt:
        return History(data_dir / HISTORY_FILE, embed)
    key = os.environ.get(KEY_ENV) or passphrase
    if not key:
        raise HistoryError(
            f"history.encrypt is on but there is no key: set {KEY_ENV} or history.passphrase"
        )
    return History(data_dir / ENCRYPTED_HISTORY_FILE, embed, key)


def _message(row: Sequence[Any]) -> ChatMessage:
    citations = tuple(Citation.from_json(c) for c in json.loads(row[5] or "[]"))
    return ChatMessage(
        id=row[0],
        conversation_id=row[1],
        role=row[2],
        content=row[3],
        created=row[4],
        citations=citations,
        usage=Usage.from_json(json.loads(row[6] or "{}")),
        cancelled=bool(row[7]),
        grounded=row[8],
        feedback=int(row[9] or 0),
    )
