"""Helpers of the AG-UI channel's tests: run inputs, SSE read as the protocol's typed events."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx
from ag_ui.core import BaseEvent, Event, RunErrorEvent, RunFinishedEvent, TextMessageContentEvent
from agent_framework_hosting import AgentFrameworkHost, AuthenticationFailed, Principal
from agent_framework_hosting.testing import LoopbackServer, server_sent_events
from agent_framework_hosting_ag_ui import AGUIChannel
from pydantic import TypeAdapter
from starlette.requests import HTTPConnection

EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def user_message(text: str, *, message_id: str | None = None) -> dict[str, Any]:
    return {"id": message_id or f"user-{uuid.uuid4()}", "role": "user", "content": text}


def run_input(thread_id: str, *messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "threadId": thread_id,
        "runId": fields.pop("runId", f"run-{uuid.uuid4()}"),
        "messages": list(messages),
        "tools": [],
        "context": [],
        "state": {},
        "forwardedProps": {},
        **fields,
    }


@dataclass
class Streamed:
    """One SSE answer: its status, its events (typed), their ids, and the raw text."""

    status: int
    events: list[BaseEvent] = field(default_factory=list[BaseEvent])
    ids: list[int] = field(default_factory=list[int])
    raw: str = ""

    @property
    def types(self) -> list[str]:
        return [event.type.value for event in self.events]

    @property
    def text(self) -> str:
        return "".join(e.delta for e in self.events if isinstance(e, TextMessageContentEvent))

    @property
    def finished(self) -> RunFinishedEvent:
        last = self.events[-1]
        assert isinstance(last, RunFinishedEvent), self.raw
        return last

    @property
    def error(self) -> RunErrorEvent | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, RunErrorEvent) else None

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


def parse_sse(raw: str) -> tuple[list[BaseEvent], list[int]]:
    """The events of an SSE body, each validated as the protocol's event type."""
    events: list[BaseEvent] = []
    ids: list[int] = []
    for event in server_sent_events(raw):
        events.append(EVENT.validate_json(event.data))
        if event.id is not None:
            ids.append(int(event.id))
    return events, ids


async def post_run(
    client: httpx.AsyncClient, body: dict[str, Any], *, path: str = "/ag-ui", **kwargs: Any
) -> Streamed:
    async with client.stream("POST", path, json=body, **kwargs) as response:
        raw = (await response.aread()).decode()
    if response.status_code != 200:
        return Streamed(response.status_code, raw=raw)
    events, ids = parse_sse(raw)
    return Streamed(200, events, ids, raw)


async def follow_run(
    client: httpx.AsyncClient,
    run_id: str,
    *,
    after: int | None = None,
    path: str = "/ag-ui",
    **kwargs: Any,
) -> Streamed:
    headers = dict(kwargs.pop("headers", {}))
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    async with client.stream("GET", f"{path}/runs/{run_id}", headers=headers, **kwargs) as response:
        raw = (await response.aread()).decode()
    if response.status_code != 200:
        return Streamed(response.status_code, raw=raw)
    events, ids = parse_sse(raw)
    return Streamed(200, events, ids, raw)


class BearerKeys:
    """A tiny authenticator: ``Authorization: Bearer <key>`` names one of a few subjects."""

    challenge = 'Bearer realm="tests"'

    def __init__(self, keys: dict[str, str]) -> None:
        self._keys = keys

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        header = connection.headers.get("authorization")
        if header is None:
            return None
        subject = self._keys.get(header.removeprefix("Bearer "))
        if subject is None:
            raise AuthenticationFailed(challenge=self.challenge)
        return Principal(subject)


@contextlib.asynccontextmanager
async def serving(
    target: Any, *, host_options: dict[str, Any] | None = None, **channel_options: Any
) -> AsyncGenerator[tuple[AgentFrameworkHost, httpx.AsyncClient]]:
    """A host serving ``target`` through an AG-UI channel on a loopback port, and a client."""
    host = AgentFrameworkHost(
        target, channels=[AGUIChannel(**channel_options)], **(host_options or {})
    )
    with LoopbackServer(host.app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            yield host, client
