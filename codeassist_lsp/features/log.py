"""Forward our log records to the client as `window/logMessage` (never pygls's own)."""

from __future__ import annotations

import asyncio
import logging
import threading

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class ClientLogHandler(logging.Handler):
    """Sends records of the `codeassist_lsp` loggers to the client's log.

    A record logged while one is being sent (the write failed, and the failure is logged:
    the client is gone, or the server is exiting) stays in the process's own log, so a
    broken channel cannot start a chain of reports of reports.
    """

    def __init__(self, server: LanguageServer) -> None:
        super().__init__(level=logging.INFO)
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self._sending = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("pygls") or self.server.protocol.writer is None:
            return
        if getattr(self._sending, "active", False):
            return
        self._sending.active = True
        try:
            kind = next(v for k, v in sorted(_LEVELS.items(), reverse=True) if record.levelno >= k)
            params = types.LogMessageParams(type=kind, message=self.format(record))
            try:
                asyncio.get_running_loop()
                self.server.window_log_message(params)
            except RuntimeError:  # a worker thread: hand the write to the event loop
                if self.loop is not None:
                    self.loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:  # logging must never take the server down
            self.handleError(record)
        finally:
            self._sending.active = False


def forward_logs(server: LanguageServer) -> ClientLogHandler:
    """Attach a handler; the caller sets its `loop` once the event loop runs."""
    handler = ClientLogHandler(server)
    logger = logging.getLogger("codeassist_lsp")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler
