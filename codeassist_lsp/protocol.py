"""The JSON-RPC edge: every request gets a reply, and a client's mistake is not the user's.

pygls turns a request it cannot read into the right types (params missing, null where an
object belongs, a string where a number belongs, a negative line) into an exception raised
while the message is being decoded: no reply is sent, so the client waits forever, and the
user gets an "Error in server" pop-up. Here such a request is answered with the JSON-RPC
error it deserves (`InvalidParams`, -32602) and the cause is logged. A request without a
`params` key is read as one with `params: null`, which JSON-RPC allows.

The lifecycle rules of LSP are kept here too: a request before `initialize` gets
ServerNotInitialized (-32002), a second `initialize` or a request after `shutdown` gets
InvalidRequest, notifications before `initialize` are dropped, and `exit` without
`shutdown` ends the process with 1.
"""

from __future__ import annotations

import logging
from typing import Any

from cattrs import ClassValidationError, transform_error
from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCNotification, RPCRequest

log = logging.getLogger(__name__)


def _why(error: BaseException) -> str:
    """One line on what was wrong, with where in the params (cattrs knows the paths)."""
    if isinstance(error, ClassValidationError):
        found = transform_error(error)
        text = "; ".join(found)
    else:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]


class AnsweringProtocol(LanguageServerProtocol):
    """`LanguageServerProtocol` that answers requests it cannot decode or must refuse."""

    exit_code = 0  # what the process should end with; `exit` before `shutdown` makes it 1
    _initialize_seen = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        if (
            isinstance(data, dict)
            and "jsonrpc" in data
            and "method" in data
            and "params" not in data
        ):
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            method, msg_id = data.get("method"), data.get("id")
            detail = _why(exc.__cause__ or exc)
            kind = "notification" if msg_id is None else f"request {msg_id!r}"
            log.warning("cannot read %s %s: %s", method or "a message", kind, detail)
            if msg_id is None or method is None:
                return None  # a notification or a response: there is no one to answer
            error = JsonRpcInvalidParams(message=f"invalid params for {method}: {detail}")
            self._send_response(msg_id, error=error.to_response_error())
            return None

    def handle_message(self, message: Any) -> None:
        if message is None:  # answered (or dropped) while it was decoded
            return
        method = getattr(message, "method", None)
        if method == types.EXIT:
            self.exit_code = 0 if self._shutdown else 1
        elif isinstance(message, RPCRequest):
            refusal = self._refusal(method)
            if refusal is not None:
                log.warning("refused %s request %r: %s", method, message.id, refusal.message)
                self._send_response(message.id, error=refusal.to_response_error())
                return
            self._initialize_seen = self._initialize_seen or method == types.INITIALIZE
        elif isinstance(message, RPCNotification) and not self._initialize_seen:
            log.warning("dropped %s: it came before initialize", method)
            return  # LSP: notifications before initialize are dropped
        elif method == types.CANCEL_REQUEST:
            request_id = getattr(getattr(message, "params", None), "id", None)
            if not isinstance(request_id, int | str) or isinstance(request_id, bool):
                log.warning("dropped $/cancelRequest with an id that is not a number or string")
                return
        super().handle_message(message)

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: Any | None = None
    ) -> None:
        """Errors go out as one line; a traceback pygls attached goes to the log instead."""
        data = getattr(error, "data", None)
        if error is not None and isinstance(data, dict) and "traceback" in data:
            log.error(
                "request %r failed: %s\n%s", msg_id, error.message, "".join(data["traceback"])
            )
            error.data = None
        super()._send_response(msg_id, result=result, error=error)

    def _refusal(self, method: str | None) -> JsonRpcException | None:
        """The error LSP prescribes for a request at the wrong time, or None to serve it."""
        if method == types.INITIALIZE and self._initialize_seen:
            return JsonRpcInvalidRequest(message="the server is initialized already")
        if method != types.INITIALIZE and not self._initialize_seen:
            return JsonRpcServerNotInitialized(message=f"{method} before initialize")
        if self._shutdown:
            return JsonRpcInvalidRequest(message=f"{method} after shutdown")
        return None


class CodeAssistServer(LanguageServer):
    """The language server with an answering protocol; errors of the client's making go to
    the log, not to the user's screen."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__(name, version, protocol_cls=AnsweringProtocol)

    def report_server_error(self, error: Exception, source: Any) -> None:
        if source is FeatureRequestError:
            return  # the request's own error reply says it
        if source is JsonRpcInternalError:  # a write to the client failed: another would too
            log.error("cannot write to the client: %s", error)
            return
        if isinstance(error, JsonRpcException) or source is FeatureNotificationError:
            log.error("%s", error)
            return
        self.window_show_message(
            types.ShowMessageParams(message=f"CodeAssist: {error}", type=types.MessageType.Error)
        )


def exit_code(server: LanguageServer) -> int:
    """How a served process should end: 1 after `exit` without `shutdown` (LSP)."""
    protocol = server.protocol
    return protocol.exit_code if isinstance(protocol, AnsweringProtocol) else 0
