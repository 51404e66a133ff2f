"""Servers and SDK clients shared by the tests: every body and event the SDK reads is validated.

The clients run the ``openai`` SDK in strict mode with no retries, over an HTTP client
whose response hook checks each JSON body against the spec schema before the SDK sees it,
and whose transport checks each server-sent event as it arrives (a body or an event that
fails makes the call fail). Their WebSocket connections (``client.responses.connect()``)
check each message the same way, and against the SDK's own model of server events, which
the SDK itself does not validate.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import httpx2
from agent_framework import Agent, Workflow
from agent_framework_hosting import (
    ISOLATION_HEADER_USER,
    AgentFrameworkHost,
    Authenticator,
    RunLimits,
    StateStore,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import AsyncOpenAI, OpenAI
from openai.resources.responses.responses import (
    AsyncResponsesConnection,
    AsyncResponsesConnectionManager,
    ResponsesConnection,
    ResponsesConnectionManager,
)
from openai.types.conversations import Message
from openai.types.responses import Response, ResponseCompletedEvent
from openai.types.responses.responses_server_event import ResponsesServerEvent, ResponseWsError
from openai.types.websocket_connection_options import (
    SyncWebSocketConnectionOptions,
    WebSocketConnectionOptions,
)
from pydantic import TypeAdapter
from websockets.asyncio.client import ClientConnection as AsyncClientConnection
from websockets.sync.client import ClientConnection
from websockets.typing import Data

from ._schema import SSEChecker, sse_events, validate_body, validate_ws_message

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
"""A declared function tool, as a caller sends it."""


def host_for(
    channel: ResponsesChannel | None = None,
    *,
    state_dir: Path | None = None,
    agent: Agent | None = None,
    workflow: Callable[[], Workflow] | None = None,
    auth: Authenticator | None = None,
    limits: RunLimits | None = None,
    **client: Any,
) -> AgentFrameworkHost:
    """A host trusting isolation headers, of ``workflow`` (a factory), ``agent`` or an offline one.

    ``client`` configures the offline agent's chat client; ``auth`` and ``limits`` are the
    host's.
    """
    return AgentFrameworkHost(
        workflow or agent or Agent(client=OfflineChatClient(**client)),
        channels=[channel or ResponsesChannel()],
        state_dir=state_dir,
        trust_isolation_headers=True,
        auth=auth,
        limits=limits,
    )


def serve(
    channel: ResponsesChannel | None = None,
    *,
    state_dir: Path | None = None,
    agent: Agent | None = None,
    workflow: Callable[[], Workflow] | None = None,
    auth: Authenticator | None = None,
    limits: RunLimits | None = None,
    **client: Any,
) -> LoopbackServer:
    """A loopback server for :func:`host_for` (enter it to start)."""
    host = host_for(
        channel,
        state_dir=state_dir,
        agent=agent,
        workflow=workflow,
        auth=auth,
        limits=limits,
        **client,
    )
    return LoopbackServer(host.app)


def _is_json(response: httpx.Response | httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/json")


def _validate(response: httpx.Response | httpx2.Response) -> None:
    if _is_json(response):
        response.read()
        validate_body(response.json())


async def _validate_async(response: httpx2.Response) -> None:
    if _is_json(response):
        await response.aread()
        validate_body(response.json())


def _is_stream(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


class _CheckedStream(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        checker = SSEChecker()
        for chunk in self._stream:
            checker.feed(chunk)
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncCheckedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        checker = SSEChecker()
        async for chunk in self._stream:
            checker.feed(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _CheckingTransport(httpx2.HTTPTransport):
    """Validates every server-sent event as the SDK reads it."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        if _is_stream(response):
            assert isinstance(response.stream, httpx2.SyncByteStream)
            response.stream = _CheckedStream(response.stream)
        return response


class _AsyncCheckingTransport(httpx2.AsyncHTTPTransport):
    """Validates every server-sent event as the SDK reads it."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        if _is_stream(response):
            assert isinstance(response.stream, httpx2.AsyncByteStream)
            response.stream = _AsyncCheckedStream(response.stream)
        return response


def _headers(user: str | None) -> dict[str, str]:
    return {ISOLATION_HEADER_USER: user} if user else {}


def sdk(
    server: LoopbackServer, *, user: str | None = None, base_path: str = "", api_key: str = "k"
) -> OpenAI:
    """A strict sync client; ``user`` is sent as the trusted user isolation key."""
    return OpenAI(
        base_url=server.base_url + base_path,
        api_key=api_key,
        max_retries=0,
        _strict_response_validation=True,
        default_headers=_headers(user),
        http_client=httpx2.Client(
            transport=_CheckingTransport(), event_hooks={"response": [_validate]}
        ),
    )


def settled(client: OpenAI, response_id: str, *, deadline: float = 30.0) -> Response:
    """A background response polled until it is neither queued nor in progress.

    Raises:
        AssertionError: It still runs after ``deadline`` seconds.

    """
    give_up = time.monotonic() + deadline
    while (response := client.responses.retrieve(response_id)).status in ("queued", "in_progress"):
        if time.monotonic() > give_up:
            raise AssertionError(f"{response_id} still {response.status}")
        time.sleep(0.01)
    return response


def async_sdk(
    server: LoopbackServer, *, user: str | None = None, base_path: str = "", api_key: str = "k"
) -> AsyncOpenAI:
    """A strict async client; ``user`` is sent as the trusted user isolation key."""
    return AsyncOpenAI(
        base_url=server.base_url + base_path,
        api_key=api_key,
        max_retries=0,
        _strict_response_validation=True,
        default_headers=_headers(user),
        http_client=httpx2.AsyncClient(
            transport=_AsyncCheckingTransport(), event_hooks={"response": [_validate_async]}
        ),
    )


_SERVER_EVENT: TypeAdapter[ResponsesServerEvent] = TypeAdapter(ResponsesServerEvent)


def _check_message(message: Data) -> None:
    """A WebSocket message: one JSON event, valid for the spec and the SDK's event models."""
    event = json.loads(message)
    validate_ws_message(event)
    _SERVER_EVENT.validate_python(event)


class _CheckedConnection(ClientConnection):
    """Validates every message the sync SDK reads."""

    def recv(self, timeout: float | None = None, decode: bool | None = None) -> Data:  # pyright: ignore[reportIncompatibleMethodOverride]
        message = super().recv(timeout, decode)
        _check_message(message)
        return message


class _AsyncCheckedConnection(AsyncClientConnection):
    """Validates every message the async SDK reads."""

    async def recv(self, decode: bool | None = None) -> Data:  # pyright: ignore[reportIncompatibleMethodOverride]
        message = await super().recv(decode)
        _check_message(message)
        return message


def connect(
    server: LoopbackServer, *, user: str | None = None, base_path: str = "", api_key: str = "k"
) -> ResponsesConnectionManager:
    """The strict sync client's WebSocket connection (enter it to connect)."""
    options = {"create_connection": _CheckedConnection}
    return sdk(server, user=user, base_path=base_path, api_key=api_key).responses.connect(
        websocket_connection_options=cast("SyncWebSocketConnectionOptions", options)
    )


def async_connect(
    server: LoopbackServer, *, user: str | None = None, base_path: str = ""
) -> AsyncResponsesConnectionManager:
    """The strict async client's WebSocket connection (enter it to connect)."""
    options = {"create_connection": _AsyncCheckedConnection}
    return async_sdk(server, user=user, base_path=base_path).responses.connect(
        websocket_connection_options=cast("WebSocketConnectionOptions", options)
    )


TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
"""The events that end a turn."""


def _ends_turn(event: ResponsesServerEvent) -> bool:
    # An error envelope (no sequence number) answers a message that started no turn.
    return event.type in TERMINAL or (
        isinstance(event, ResponseWsError) and event.sequence_number is None
    )


def turn(connection: ResponsesConnection) -> list[ResponsesServerEvent]:
    """The events of one turn, through its terminal event (or the error that refused it)."""
    events: list[ResponsesServerEvent] = []
    for event in connection:
        events.append(event)
        if _ends_turn(event):
            return events
    raise AssertionError(f"the connection closed mid-turn after {events}")


async def async_turn(connection: AsyncResponsesConnection) -> list[ResponsesServerEvent]:
    """:func:`turn` for the async client."""
    events: list[ResponsesServerEvent] = []
    async for event in connection:
        events.append(event)
        if _ends_turn(event):
            return events
    raise AssertionError(f"the connection closed mid-turn after {events}")


def completed(events: list[ResponsesServerEvent]) -> Response:
    """The completed response a turn ended with."""
    last = events[-1]
    assert isinstance(last, ResponseCompletedEvent), events
    return last.response


def refusal(events: list[ResponsesServerEvent]) -> ResponseWsError:
    """The error envelope a refused message was answered with (nothing else was sent)."""
    assert len(events) == 1, events
    error = events[0]
    assert isinstance(error, ResponseWsError), error
    return error


def post(server: LoopbackServer, path: str, body: Any, *, user: str | None = None) -> Any:
    """POST raw JSON (for what the SDK would refuse to send); the validated body and status."""
    response = httpx.post(f"{server.base_url}{path}", json=body, headers=_headers(user))
    _validate(response)
    return response.status_code, response.json()


def stream_events(
    server: LoopbackServer, body: Any, *, user: str | None = None, path: str = "/responses"
) -> list[dict[str, Any]]:
    """POST a streaming request raw; its events, each validated, in order."""
    response = httpx.post(
        f"{server.base_url}{path}", json={**body, "stream": True}, headers=_headers(user)
    )
    assert response.headers["content-type"].startswith("text/event-stream"), response.text
    return sse_events(response.text)


def user_item(text: str) -> Any:
    """A user message item to send."""
    return {"type": "message", "role": "user", "content": text}


def texts(items: Iterable[object]) -> list[str]:
    """The text of each message item's first part, skipping other items."""
    return [getattr(item.content[0], "text", "") for item in items if isinstance(item, Message)]


def id_of(item: object) -> str:
    """An item's id (the SDK types some items' ids as optional; this server always sets it)."""
    value = getattr(item, "id", None)
    assert isinstance(value, str), item
    return value


async def left_behind(store: StateStore, response_id: str) -> list[str]:
    """What the state store still keeps of ``response_id``: its record, its event log."""
    kept: list[str] = []
    if await store.get(f"responses:record:{response_id}") is not None:
        kept.append("record")
    if await store.get(f"responses:log:{response_id}") is not None:
        kept.append("event log owner")
    if await store.read_log(f"responses:log:{response_id}:entries"):
        kept.append("event log")
    if await store.get(f"responses:run:{response_id}:state") is not None:
        kept.append("run state")
    return kept


def left_behind_now(store: StateStore, response_id: str) -> list[str]:
    """:func:`left_behind`, from synchronous code."""
    return asyncio.run(left_behind(store, response_id))
