"""Which language a file is in, and cached tree-sitter parsers and queries for it.

tree-sitter and its language pack are imported with the first parser or query: a search
of an indexed workspace asks only which language a path is in.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Parser, Query

log = logging.getLogger(__name__)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Languages whose definitions and references are extracted with a tag query.
CODE_LANGUAGES = frozenset(
    {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "ruby"}
)

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".ipynb": "notebook",
}

_TEXT_EXTENSIONS = _words(
    """
    .txt .rst .adoc .org .tex .toml .yaml .yml .json .jsonc .json5 .xml .csv .tsv .sh .bash
    .zsh .fish .ps1 .bat .cmd .cfg .ini .conf .properties .env .html .htm .css .scss .sass
    .less .vue .svelte .astro .sql .graphql .gql .proto .tf .hcl .nix .cmake .mk .gradle .kt
    .kts .scala .swift .m .mm .cs .fs .php .pl .pm .lua .r .jl .dart .ex .exs .erl .hs .ml
    .clj .el .vim .zig .nim .v .sv .vhd .gitignore .gitattributes .dockerignore .editorconfig
    .lock .mod .sum .in .j2 .jinja .tmpl .tpl
    """
)

_TEXT_FILENAMES = _words(
    """
    makefile gnumakefile dockerfile containerfile jenkinsfile vagrantfile procfile gemfile
    rakefile brewfile justfile license licence copying notice authors contributors changelog
    readme todo manifest.in cmakelists.txt go.mod go.sum cargo.lock requirements.txt
    """
)

_SPECIAL_FILENAMES = {"rakefile": "ruby", "gemfile": "ruby"}


def language_for_path(path: str) -> str | None:
    """The language id for a workspace path; "text" for known plain text; None if unknown."""
    pure = PurePosixPath(path.replace("\\", "/"))
    name = pure.name.lower()
    if name in _SPECIAL_FILENAMES:
        return _SPECIAL_FILENAMES[name]
    if name.endswith(".d.ts"):
        return "typescript"
    suffix = pure.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if name in _TEXT_FILENAMES or name.startswith(("dockerfile.", "makefile.")):
        return "text"
    if suffix in _TEXT_EXTENSIONS or name in _TEXT_EXTENSIONS:
        return "text"
    return None


@cache
def _language(language: str) -> Language:
    from tree_sitter_language_pack import get_language

    return get_language(language)  # type: ignore[arg-type]


_local = threading.local()


def get_parser(language: str) -> Parser:
    """A tree-sitter parser for a language id; LookupError when the pack lacks it.

    Parsers keep state while parsing, so each thread gets its own set.
    """
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        import tree_sitter

        parser = parsers[language] = tree_sitter.Parser(_language(language))
    return parser


# Tag queries are composed from shared parts: TSX is TypeScript plus JSX, and so on.
_QUERY_PARTS: dict[str, tuple[str, ...]] = {
    "python": ("python",),
    "javascript": ("ecma", "javascript", "jsx"),
    "typescript": ("ecma", "typescript"),
    "tsx": ("ecma", "typescript", "jsx"),
    "go": ("go",),
    "rust": ("rust",),
    "java": ("java",),
    "c": ("c",),
    "cpp": ("c", "cpp"),
    "ruby": ("ruby",),
}


@cache
def get_query(language: str) -> Query | None:
    """The compiled tag query of a code language, or None if there is none."""
    parts = _QUERY_PARTS.get(language)
    if parts is None:
        return None
    folder = resources.files(__package__) / "queries"
    source = "\n".join((folder / f"{part}.scm").read_text(encoding="utf-8") for part in parts)
    import tree_sitter

    return tree_sitter.Query(_language(language), source)
