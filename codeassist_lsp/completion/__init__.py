"""Inline completion: the text around the cursor, the repository context, a cache of
suggestions and the clean-up of what the model writes. Pure logic; the LSP glue is
`features/completion.py`."""
