"""The WebSocket transport: Responses turns over one connection at the channel's own path.

The handshake is authenticated before the connection is accepted: a caller the channel
refuses gets the HTTP answer (``401``, ``403``) instead of a connection, as OpenAI's own
endpoint does. Every turn then runs as that caller.

A client sends ``response.create`` messages, each the body of ``POST /responses`` plus
``"type": "response.create"`` (and without the HTTP-only ``stream``, ``stream_options``
and ``background``), and receives each turn's events as JSON text messages: the same
event objects, in the same order and with the same sequence numbers, as a streamed POST.
The turn itself (parsing, conversations, rendering) is the channel's; this module only
frames it.

Messages are handled one after another: a ``response.create`` sent while a turn runs
waits for it. A message that cannot start a turn is answered with an error envelope
``{"type": "error", "status", "error": {"type", "code", "message", "param"}}`` and the
connection stays open. Closing the connection cancels the running turn.

The connection keeps its ``store: false`` responses in a bounded cache of its own (see
:mod:`._connection_cache`), so they can be continued on it. A continuation turn that
fails evicts the response it continued from that cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, cast

from agent_framework_hosting import SSE_KEEPALIVE, Caller, encode_json
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ._body import decode_json
from ._connection_cache import ConnectionCache
from ._errors import ResponsesError, error_payload
from ._identify import Identify
from ._render import DONE, SSEWriter

__all__ = ["MAX_PENDING_MESSAGES", "RunTurn", "websocket_route"]

logger = logging.getLogger("agent_framework.hosting.responses")

MAX_PENDING_MESSAGES = 32
"""Messages a connection holds while a turn runs; one more closes it (an error, then 1008)."""

RunTurn = Callable[[Mapping[str, Any], Caller, ConnectionCache, SSEWriter], AsyncGenerator[bytes]]
"""Runs one turn from a request body and frames its events with the writer.

It raises :class:`ResponsesError` before the first frame when the body cannot start a
turn; once started, a failing run ends with ``error`` and ``response.failed`` frames.
"""

_HTTP_ONLY = {
    "stream": "every turn on a WebSocket streams its events",
    "stream_options": "every turn on a WebSocket streams its events",
    "background": "a turn runs on its connection; create background responses with POST",
}
"""Request fields a ``response.create`` message must not carry, and why."""

_SSE_ONLY = frozenset({SSE_KEEPALIVE, DONE, b""})
"""Frames of the SSE framing with no WebSocket counterpart."""


def websocket_route(
    run_turn: RunTurn,
    identify: Identify,
    *,
    max_message_bytes: int,
    cache_size: int,
    max_seconds: float,
) -> WebSocketRoute:
    """The WebSocket route at ``/`` of the channel's path.

    Args:
        run_turn: Runs one turn (the channel's turn machinery).
        identify: Authenticates the handshake: who calls, for every turn of the connection.
        max_message_bytes: Larger messages are answered with a 413 error.
        cache_size: ``store: false`` responses a connection keeps for continuation.
        max_seconds: How long a connection serves turns before it is closed with a
            ``websocket_connection_limit_reached`` error.

    """

    async def serve_connection(websocket: WebSocket) -> None:
        caller = await identify(websocket)  # a refusal is the host's answer to the handshake
        await websocket.accept()
        connection = _Connection(
            websocket,
            run_turn,
            caller,
            ConnectionCache(cache_size),
            max_message_bytes=max_message_bytes,
            max_seconds=max_seconds,
        )
        await connection.serve()

    return WebSocketRoute("/", serve_connection)


class _Connection:
    """One WebSocket connection: a reader that queues messages and a worker that runs them.

    Only the worker sends, so a turn's events are never interleaved with anything else.
    """

    def __init__(
        self,
        websocket: WebSocket,
        run_turn: RunTurn,
        caller: Caller,
        cache: ConnectionCache,
        *,
        max_message_bytes: int,
        max_seconds: float,
    ) -> None:
        self._websocket = websocket
        self._run_turn = run_turn
        self._caller = caller
        self._cache = cache
        self._max_message_bytes = max_message_bytes
        self._max_seconds = max_seconds
        self._pending: asyncio.Queue[str | bytes] = asyncio.Queue()

    async def serve(self) -> None:
        """Serve until the client closes, the time limit is reached, or too much waits."""
        reader = asyncio.create_task(self._read())
        worker = asyncio.create_task(self._work())
        try:
            await asyncio.wait({reader, worker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Cancelling the worker cancels the running turn: its client is gone.
            for task in (reader, worker):
                task.cancel()
            await asyncio.gather(reader, worker, return_exceptions=True)
        failure = worker.exception() if worker.done() and not worker.cancelled() else None
        if failure is not None and not isinstance(failure, WebSocketDisconnect):
            logger.error("Responses WebSocket connection failed", exc_info=failure)
            await self._close(1011, "internal error")
        elif reader.done() and not reader.cancelled() and reader.result():
            overflow = ResponsesError(
                f"More than {MAX_PENDING_MESSAGES} messages waited for the running turn: "
                "send the next response.create once a turn has ended.",
                code="too_many_pending_messages",
            )
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await self._send_error(overflow)
            await self._close(1008, f"more than {MAX_PENDING_MESSAGES} messages waiting")

    async def _read(self) -> bool:
        """Queue the client's messages until it closes; ``True`` when too many wait."""
        while True:
            message = await self._websocket.receive()
            if message["type"] == "websocket.disconnect":
                return False
            if self._pending.qsize() >= MAX_PENDING_MESSAGES:
                return True
            text: str | None = message.get("text")
            self._pending.put_nowait(text if text is not None else message.get("bytes") or b"")

    async def _work(self) -> None:
        """Handle the queued messages in order, until the connection's time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_seconds
        while True:
            try:
                raw = await asyncio.wait_for(self._pending.get(), deadline - loop.time())
            except TimeoutError:
                break
            if loop.time() >= deadline:
                break
            await self._handle(raw)
        limit = ResponsesError(
            f"This connection reached its limit of {self._max_seconds:g} seconds: "
            "open a new connection, and continue with previous_response_id.",
            code="websocket_connection_limit_reached",
        )
        await self._send_error(limit)
        await self._close(1000, "connection limit reached")

    async def _handle(self, raw: str | bytes) -> None:
        """Run the turn a message asks for, or answer why it cannot run."""
        previous_id: str | None = None
        writer = _MessageWriter()
        try:
            body = decode_json(raw, self._max_message_bytes)
            previous_id = _previous_response_id(body)
            frames = self._run_turn(_create_body(body), self._caller, self._cache, writer)
            async with contextlib.aclosing(frames):
                async for frame in frames:
                    if frame not in _SSE_ONLY:
                        await self._websocket.send_text(frame.decode())
        except ResponsesError as error:
            await self._send_error(error)
            failed = True
        else:
            failed = writer.failed
        if failed and previous_id is not None:
            self._cache.evict(previous_id)

    async def _send_error(self, error: ResponsesError) -> None:
        await self._websocket.send_text(encode_json(websocket_error(error)).decode())

    async def _close(self, code: int, reason: str) -> None:
        if self._websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await self._websocket.close(code, reason)


class _MessageWriter(SSEWriter):
    """Numbers a turn's events like the SSE writer; each event is one text message.

    An ``error`` event (the agent failed) also carries the WebSocket error envelope's
    ``status``.
    """

    __slots__ = ("failed",)

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """The event object as the JSON text of one message."""
        if kind == "error":
            fields = {**fields, "status": 500}
        self.failed = self.failed or kind == "response.failed"
        return self.data(kind, fields)


def websocket_error(error: ResponsesError) -> dict[str, Any]:
    """The WebSocket error envelope of ``error``."""
    payload = error_payload(error.message, param=error.param, code=error.code, type=error.type)
    return {"type": "error", "status": error.status, "error": payload}


def _previous_response_id(body: Any) -> str | None:
    """The response a message continues from, when it names one."""
    if not isinstance(body, dict):
        return None
    value = cast("dict[str, Any]", body).get("previous_response_id")
    return value if isinstance(value, str) else None


def _create_body(message: Any) -> dict[str, Any]:
    """The request body of a ``response.create`` message, as a streamed request.

    Raises:
        ResponsesError: The message is not a JSON object of type ``response.create``, or
            carries a field of the HTTP transport (400).

    """
    if not isinstance(message, dict):
        raise ResponsesError(
            "A message must be a JSON object with 'type': 'response.create'.", code="invalid_type"
        )
    fields = dict(cast("dict[str, Any]", message))
    kind = fields.pop("type", None)
    if kind is None:
        raise ResponsesError(
            "'type' is required: send 'response.create' messages.",
            param="type",
            code="missing_required_parameter",
        )
    if kind != "response.create":
        raise ResponsesError(
            f"Unsupported message type {kind!r}: this server takes 'response.create' only.",
            param="type",
            code="invalid_value",
        )
    for name, reason in _HTTP_ONLY.items():
        if name in fields:
            raise ResponsesError(
                f"'{name}' is not sent over a WebSocket: {reason}.",
                param=name,
                code="unsupported_parameter",
            )
    return {**fields, "stream": True}
