"""Serve an agent on 127.0.0.1:$PORT (default 8000): a web chat, AG-UI, Responses, MCP, A2A.

Open http://127.0.0.1:8000/ in a browser to talk to the agent: the web chat page speaks
AG-UI to /ag-ui, and a reply keeps going if you reload. The Responses API answers at
/responses and at /v1/responses (for clients configured with a /v1 base URL); the MCP
server at /mcp (Streamable HTTP); GET /index.json lists what is served, GET /v1/models
the agent as a model. The agent is an A2A agent at /a2a too, its card at
/.well-known/agent-card.json.

Offline by default: without OPENAI_API_KEY the agent runs on the deterministic offline
chat client, so no key and no network are needed. With OPENAI_API_KEY set it uses
OpenAI (model from OPENAI_MODEL, default gpt-4o-mini).

Several replicas: with REDIS_URL (e.g. redis://127.0.0.1:6379/0) the state lives in
Redis, so the same command with another PORT is another replica of one service.

To watch a slow stream (and what dropping it does), slow the offline agent down:
OFFLINE_DELAY=<seconds> before each streamed piece, OFFLINE_CHUNKS=<n> pieces per reply.

Open on loopback by default. With QUICKSTART_API_KEYS="key1=alice,key2=bob" every call
needs one of those keys (the SDK's api_key), answers 401 without one, and keeps each
principal's responses and conversations apart (see docs/auth.md).

    uv run samples/quickstart.py
    uv run samples/call_quickstart.py      # in another terminal
    uv run samples/mcp_client.py           # the same agent as an MCP tool
    uv run samples/ag_ui_client.py         # the AG-UI endpoint from Python
    uv run samples/a2a_client.py           # the same agent over A2A
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from agent_framework import Agent, tool
from agent_framework_hosting import AgentFrameworkHost, ApiKeyAuthenticator
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_a2a import A2AChannel
from agent_framework_hosting_ag_ui import AGUIChannel
from agent_framework_hosting_mcp import MCPChannel
from agent_framework_hosting_responses import ResponsesChannel


@tool
def current_time() -> str:
    """Return the current UTC time."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def chat_client() -> Any:
    if os.environ.get("OPENAI_API_KEY"):
        from agent_framework.openai import OpenAIChatClient

        return OpenAIChatClient(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
    return OfflineChatClient(
        delay=float(os.environ.get("OFFLINE_DELAY", "0")),
        chunks=int(os.environ.get("OFFLINE_CHUNKS", "4")),
    )


def shared_state() -> Any:
    """A Redis state store when REDIS_URL is set: every replica with it shares one state."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    from agent_framework_hosting_redis import RedisStateStore

    return RedisStateStore.from_url(url, prefix=os.environ.get("REDIS_PREFIX", "quickstart:"))


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    agent = Agent(
        client=chat_client(),
        name="quickstart",
        instructions="You are a concise assistant. Use current_time when asked the time.",
        tools=[current_time],
    )
    keyed = bool(os.environ.get("QUICKSTART_API_KEYS", "").strip())
    auth = ApiKeyAuthenticator.from_env("QUICKSTART_API_KEYS") if keyed else None
    # The server listens on loopback only, so the caller is this machine: it may name
    # its own conversation with the x-agent-chat-isolation-key header (within its
    # principal's partition when keys are required).
    host = AgentFrameworkHost(
        agent,
        channels=[AGUIChannel(page_path="/"), ResponsesChannel(), MCPChannel(), A2AChannel()],
        state_dir=os.environ.get("STATE_DIR") or None,
        state_store=shared_state(),
        trust_isolation_headers=True,
        auth=auth,
    )
    mode = "OpenAI" if os.environ.get("OPENAI_API_KEY") else "offline (no key, no network)"
    print(f"Open http://127.0.0.1:{port}/ in a browser")
    print(f"Agent: {mode}")
    if os.environ.get("REDIS_URL"):
        print(f"State: Redis at {os.environ['REDIS_URL']}: run more replicas with other PORTs")
    if keyed:
        print("API keys required (QUICKSTART_API_KEYS): calls without one are answered 401;")
        print("  each key's principal sees only its own responses and conversations.")
    else:
        print("Open on loopback: no API key required (set QUICKSTART_API_KEYS to require one).")
    print("Isolation headers are trusted (loopback only): x-agent-chat-isolation-key")
    print("  names a conversation; previous_response_id continues one too.")
    print(f"Try: PORT={port} uv run samples/call_quickstart.py")
    bearer = "-H 'authorization: Bearer <your key>' " if keyed else ""
    print(
        f"  or: curl -s http://127.0.0.1:{port}/v1/responses -H 'content-type: application/json' "
        + bearer
        + '-d \'{"model": "agent", "input": "Hello"}\''
    )
    api_key = "<your key>" if keyed else "unused"
    print(f'  or: OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="{api_key}")')
    print(
        f"MCP server: http://127.0.0.1:{port}/mcp (try: PORT={port} uv run samples/mcp_client.py)"
    )
    print(f"A2A agent card: http://127.0.0.1:{port}/.well-known/agent-card.json")
    print(f"  try: PORT={port} uv run samples/a2a_client.py")
    host.serve(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
