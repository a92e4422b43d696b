"""Custom requests from a pytest-lsp client, with results as plain JSON-like values."""

from __future__ import annotations

from typing import Any

from pytest_lsp import LanguageClient


def plain(value: Any) -> Any:
    """pygls's client hands custom results back as namedtuples; compare them as JSON."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def request(client: LanguageClient, method: str, params: dict) -> Any:
    """Send a request by method name and wait for its result."""
    return plain(await client.protocol.send_request_async(method, params))
