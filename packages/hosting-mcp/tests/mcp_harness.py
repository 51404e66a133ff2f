"""A host serving the MCP channel on a loopback port, and the SDK's client connected to it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_mcp import MCPChannel
from mcp import ClientSession
from mcp.client.session import ElicitationFnT
from mcp.client.streamable_http import streamable_http_client

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
"""The handshake's first message, for tests that speak raw JSON-RPC over HTTP."""


@dataclass
class Served:
    host: AgentFrameworkHost
    server: LoopbackServer

    @property
    def url(self) -> str:
        return self.server.base_url + "/mcp"


def offline_agent(**client_options: Any) -> Agent:
    return Agent(
        client=OfflineChatClient(**client_options),
        name="helper",
        description="Answers questions about the weather.",
    )


@asynccontextmanager
async def serving(
    target: Any = None, *, host_options: Mapping[str, Any] | None = None, **channel_options: Any
) -> AsyncGenerator[Served]:
    host = AgentFrameworkHost(
        target if target is not None else offline_agent(),
        channels=[MCPChannel(**channel_options)],
        **(host_options or {}),
    )
    server = LoopbackServer(host.app).start()
    try:
        yield Served(host, server)
    finally:
        server.stop()


@asynccontextmanager
async def connect(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    elicitation_callback: ElicitationFnT | None = None,
    on_response: Callable[[httpx2.Response], Awaitable[None]] | None = None,
) -> AsyncGenerator[ClientSession]:
    """An initialized SDK client session (the handshake revision the SDK offers).

    ``on_response`` sees every HTTP response the client receives, before its body.
    """
    hooks = {"response": [on_response]} if on_response is not None else {}
    async with (
        httpx2.AsyncClient(headers=dict(headers or {}), timeout=30, event_hooks=hooks) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write, elicitation_callback=elicitation_callback) as session,
    ):
        await session.initialize()
        yield session


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if block.type == "text")
