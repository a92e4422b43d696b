"""Workspace index: tree-sitter parsing, code graph, vectors, BM25 and metadata."""
