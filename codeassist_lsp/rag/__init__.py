"""Retrieval: hybrid vector + keyword search, rank fusion, graph expansion."""
