"""The end of every HTTP exchange: a body left unread, a client gone mid-upload, a failure.

A handler may answer before it has read the request body: an unknown id, a wrong
method, a body over its limit. HTTP/1.1 can carry the next request on the connection
only once the whole body has arrived, and a client may send the body only after the
answer. So the host sends such an answer's bytes, then waits for the rest of the body
before it ends the answer, when the body's declared length is at most
:data:`DRAIN_LIMIT` bytes (for at most :data:`DRAIN_SECONDS`); it answers with
``Connection: close`` when any other body is left unread. Either way the client's next
request is served: on the same connection, or on a new one the client knows to open.

A client that goes away while its body is being read ends the exchange quietly: there
is nobody left to answer. A handler that fails unexpectedly is logged with its
traceback and answered ``500`` in the channel's error shape, without internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import ErrorShapes
from ._state import StateUnavailable

__all__ = ["DRAIN_LIMIT", "DRAIN_SECONDS", "ExchangeGuard"]

logger = logging.getLogger("agent_framework.hosting")

DRAIN_LIMIT = 1024 * 1024
"""The longest unread request body the host waits for to keep its connection open."""
DRAIN_SECONDS = 10.0
"""How long the host waits for the rest of an unread body; then the connection closes."""


class ExchangeGuard:
    """ASGI middleware ending every HTTP exchange cleanly (see the module's docstring)."""

    def __init__(
        self, app: ASGIApp, *, shapes: ErrorShapes, drain_limit: int = DRAIN_LIMIT
    ) -> None:
        self.app = app
        self._shapes = shapes
        self._drain_limit = drain_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send, self._drain_limit)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except ClientDisconnect:
            return
        except StateUnavailable as error:
            if exchange.started:
                raise
            method, path = scope["method"], scope["path"]
            logger.warning("%s %s: %s", method, path, error)
            response = self._shapes.unavailable(method, path)
            await response(scope, exchange.receive, exchange.send)
        except Exception:
            if exchange.started:
                raise  # part of the answer is out: only the server can end it
            method, path = scope["method"], scope["path"]
            logger.exception("%s %s failed", method, path)
            response = self._shapes.server_error(method, path)
            await response(scope, exchange.receive, exchange.send)


class _Exchange:
    """One exchange's receive and send, watching whether the request body was all read."""

    __slots__ = ("_drainable", "_pending", "_receive", "_send", "started")

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.started = False
        declared, chunked, expects = _body_of(scope)
        self._pending = chunked or bool(declared)
        # Waited for only when its whole length is known, small, and sent unasked (a
        # client expecting "100 Continue" may send nothing once it has an answer).
        self._drainable = declared is not None and declared <= limit and not expects

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._pending = False
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            if self._pending and not self._drainable:
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
        elif kind == "http.response.body" and self._ends_before_body(message):
            await self._end_after_body(message)
            return
        await self._send(message)

    def _ends_before_body(self, message: Message) -> bool:
        """Whether ``message`` ends the answer while a drainable body is still coming."""
        return self._pending and self._drainable and not message.get("more_body", False)

    async def _end_after_body(self, last: Message) -> None:
        """Send the answer's last bytes, wait for the request body, then end the answer.

        The server recycles the connection when the answer ends, if the request body is
        in by then; past :data:`DRAIN_SECONDS` the answer ends without it.
        """
        if last.get("body"):
            await self._send({**last, "more_body": True})
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                while self._pending:
                    await self.receive()
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})


def _body_of(scope: Scope) -> tuple[int | None, bool, bool]:
    """The body's declared length, whether it is chunked, and whether the client expects."""
    declared: int | None = None
    chunked = expects = False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            declared = int(value)
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"expect":
            expects = True
    return declared, chunked, expects
