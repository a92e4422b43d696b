"""Plain data the index is made of. Lines are 1-based and inclusive everywhere."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Symbol:
    """A named definition: function, method, class, interface, struct, enum, heading…"""

    name: str
    qualname: str  # dotted within the file, e.g. "Client.send"
    kind: str  # function | method | class | interface | struct | enum | trait | type | constant
    start_line: int
    end_line: int
    signature: str = ""
    docstring: str = ""
    parent: str | None = None  # qualname of the enclosing symbol


@dataclass(frozen=True)
class Import:
    """One import statement as written; resolved to files by the graph builder."""

    module: str  # "pkg.sub", "./util", "github.com/x/y", "crate::net"
    names: tuple[str, ...] = ()  # imported names; empty means the whole module
    alias: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Reference:
    """A use of a name: calls, inherits or references (imports are `Import`)."""

    kind: str  # calls | inherits | references
    name: str  # last component as written, e.g. "retry" in "self.http.retry()"
    target: str  # the full dotted text as written, e.g. "self.http.retry"
    source: str | None  # qualname of the enclosing symbol; None at module level
    line: int


@dataclass
class Chunk:
    """A piece of a file that is embedded and searched as one unit."""

    path: str  # workspace-relative, POSIX separators
    start_line: int
    end_line: int
    kind: str  # function | method | class | module | doc | cell | text
    text: str  # the source lines themselves
    language: str = ""
    symbol: str | None = None  # qualname, or a heading path for docs
    signature: str = ""
    docstring: str = ""
    parent: str | None = None  # enclosing class / heading

    @property
    def chunk_id(self) -> str:
        """Stable id: the same file region with the same text gets the same id."""
        key = f"{self.path}\0{self.start_line}\0{self.end_line}\0{self.text}"
        return hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:20]

    @property
    def content_key(self) -> str:
        """The text's own hash: a description of it holds wherever the text moves."""
        return hashlib.sha1(self.text.encode("utf-8", "replace")).hexdigest()[:20]

    def header(self) -> str:
        """A short description placed before the text so plain-English questions find it."""
        parts = [self.path]
        if self.parent:
            parts.append(f"in {self.parent}")
        if self.symbol:
            parts.append(f"{self.kind} {self.symbol}")
        else:
            parts.append(self.kind)
        head = " | ".join(parts)
        if self.signature:
            head += "\n" + self.signature
        summary = self.docstring.strip().splitlines()
        if summary:
            head += "\n" + summary[0][:200]
        return head


@dataclass
class ParsedFile:
    """Everything the index learns from one file."""

    path: str
    language: str
    symbols: list[Symbol] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    syntax_errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


@dataclass(frozen=True)
class Edge:
    """A resolved graph edge between node ids ("file:<path>" or "sym:<path>::<qualname>")."""

    source: str
    target: str
    kind: str  # defines | contains | imports | calls | references | inherits


def file_node(path: str) -> str:
    return f"file:{path}"


def symbol_node(path: str, qualname: str) -> str:
    return f"sym:{path}::{qualname}"


def node_path(node: str) -> str:
    """The path of a file node or of a symbol node: the inverse of `file_node`."""
    if node.startswith("file:"):
        return node[5:]
    if node.startswith("sym:"):
        return node[4:].partition("::")[0]
    raise ValueError(f"not a graph node id: {node!r}")


def split_symbol_node(node: str) -> tuple[str, str]:
    """(path, qualname) of a symbol node: the inverse of `symbol_node`."""
    if not node.startswith("sym:"):
        raise ValueError(f"not a symbol node id: {node!r}")
    path, _, qualname = node[4:].partition("::")
    return path, qualname
