"""Turn one file's text into symbols, imports, references, chunks and syntax errors.

Code goes through tree-sitter and a tag query per language (`queries/*.scm`); Markdown
is split by headings, notebooks by cells, anything else into line windows. The entry
point never raises: a file that cannot be understood still becomes text chunks.

The work is done in `parse_code` (with `parse_symbols`, `parse_references`,
`parse_imports` and `syntax_errors`) and `parse_documents`; this module picks one.
"""

from __future__ import annotations

import logging

from codeassist_lsp.index.languages import CODE_LANGUAGES, language_for_path
from codeassist_lsp.index.model import ParsedFile

log = logging.getLogger(__name__)

# Bump when parsing changes what unchanged files yield: an index parsed by another version
# parses every file again (chunks that come out the same keep their vectors).
PARSER_VERSION = 2


def parse_source(path: str, text: str) -> ParsedFile:
    """Everything the index learns from one file; never raises."""
    # imported here, not above: opening an index reads PARSER_VERSION, and a search of an
    # indexed workspace parses nothing (tree-sitter and the chunker load with the first file)
    from codeassist_lsp.index.parse_code import parse_code
    from codeassist_lsp.index.parse_documents import parse_markdown, parse_notebook, parse_text

    language = language_for_path(path) or "text"
    try:
        if language in CODE_LANGUAGES:
            return parse_code(path, text, language)
        if language == "markdown":
            return parse_markdown(path, text)
        if language == "notebook":
            return parse_notebook(path, text)
        return parse_text(path, text, language)
    except Exception:  # a parser bug must not stop indexing: keep the file as plain text
        log.warning("could not parse %s; indexing it as text", path, exc_info=True)
        return parse_text(path, text, language)
