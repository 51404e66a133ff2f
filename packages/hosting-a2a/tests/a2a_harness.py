"""A host serving the A2A channel on a loopback port, and the SDK's client for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    AgentCard,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
)
from a2a.utils.constants import TransportProtocol
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, Channel
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_a2a import A2AChannel

JSONRPC = TransportProtocol.JSONRPC.value
REST = TransportProtocol.HTTP_JSON.value


def user_message(
    text: str | None = None,
    *,
    context_id: str = "",
    task_id: str = "",
    parts: Sequence[Part] = (),
) -> Message:
    """A user message of ``text`` (or of ``parts``)."""
    return Message(
        message_id=uuid.uuid4().hex,
        role=Role.ROLE_USER,
        context_id=context_id,
        task_id=task_id,
        parts=[Part(text=text)] if text is not None else list(parts),
    )


def send_request(message: Message, **configuration: Any) -> SendMessageRequest:
    """A send request of ``message`` with ``configuration`` fields."""
    return SendMessageRequest(message=message, configuration=configuration)


def artifact_text(task: Task) -> str:
    """The text of a task's artifacts, in order."""
    return "".join(part.text for artifact in task.artifacts for part in artifact.parts)


async def collect(stream: AsyncIterator[StreamResponse]) -> list[StreamResponse]:
    """Every event of a stream."""
    return [event async for event in stream]


class Served:
    """A running host with the channel, and ways to reach it."""

    def __init__(self, host: AgentFrameworkHost, server: LoopbackServer) -> None:
        self.host = host
        self.server = server
        self.base_url = server.base_url
        self.url = f"{server.base_url}/a2a"

    async def card(self, headers: dict[str, str] | None = None) -> AgentCard:
        """The public card, through the SDK's resolver at the host's root."""
        async with httpx.AsyncClient(headers=headers) as http:
            return await A2ACardResolver(http, self.base_url).get_agent_card()

    @asynccontextmanager
    async def client(
        self,
        *,
        transport: str = JSONRPC,
        streaming: bool = True,
        headers: dict[str, str] | None = None,
    ) -> AsyncGenerator[Client]:
        """The SDK's client for the agent, discovered from its card."""
        all_headers = {"A2A-Version": "1.0", **(headers or {})}
        async with httpx.AsyncClient(headers=all_headers, timeout=30) as http:
            card = await A2ACardResolver(http, self.base_url).get_agent_card()
            config = ClientConfig(
                httpx_client=http, streaming=streaming, supported_protocol_bindings=[transport]
            )
            client = ClientFactory(config).create(card)
            try:
                yield client
            finally:
                await client.close()


@asynccontextmanager
async def serving(
    target: Any = None,
    *,
    channel: Channel | None = None,
    **host_options: Any,
) -> AsyncGenerator[Served]:
    """Serve ``target`` (default: an offline agent) with the A2A channel on a loopback port."""
    host = AgentFrameworkHost(
        target if target is not None else Agent(client=OfflineChatClient(), name="helper"),
        channels=[channel or A2AChannel(push_allow_private_targets=True)],
        **host_options,
    )
    server = LoopbackServer(host.app)
    server.start()
    try:
        yield Served(host, server)
    finally:
        server.stop()
