"""Serve an agent through the OpenAI Responses API and A2A on 127.0.0.1:$PORT (default 8000).

The API answers at /responses and at /v1/responses (for clients configured with a /v1
base URL); GET / lists what is served, GET /v1/models the agent as a model. The agent is
an A2A agent at /a2a too, its card at /.well-known/agent-card.json.

Offline by default: without OPENAI_API_KEY the agent runs on the deterministic offline
chat client, so no key and no network are needed. With OPENAI_API_KEY set it uses
OpenAI (model from OPENAI_MODEL, default gpt-4o-mini).

To watch a slow stream (and what dropping it does), slow the offline agent down:
OFFLINE_DELAY=<seconds> before each streamed piece, OFFLINE_CHUNKS=<n> pieces per reply.

    uv run samples/quickstart.py
    uv run samples/call_quickstart.py      # in another terminal
    uv run samples/a2a_client.py           # the same agent over A2A
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from agent_framework import Agent, tool
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_a2a import A2AChannel
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


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    agent = Agent(
        client=chat_client(),
        name="quickstart",
        instructions="You are a concise assistant. Use current_time when asked the time.",
        tools=[current_time],
    )
    # The server listens on loopback only, so the caller is this machine: it may name
    # its own conversation with the x-agent-chat-isolation-key header.
    host = AgentFrameworkHost(
        agent,
        channels=[ResponsesChannel(), A2AChannel()],
        state_dir=os.environ.get("STATE_DIR") or None,
        trust_isolation_headers=True,
    )
    mode = "OpenAI" if os.environ.get("OPENAI_API_KEY") else "offline (no key, no network)"
    print(f"Agent: {mode}")
    print("Isolation headers are trusted (loopback only): x-agent-chat-isolation-key")
    print("  names a conversation; previous_response_id continues one too.")
    print(f"Try: PORT={port} uv run samples/call_quickstart.py")
    print(
        f"  or: curl -s http://127.0.0.1:{port}/v1/responses -H 'content-type: application/json' "
        '-d \'{"model": "agent", "input": "Hello"}\''
    )
    print(f'  or: OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="unused")')
    print(f"A2A agent card: http://127.0.0.1:{port}/.well-known/agent-card.json")
    print(f"  try: PORT={port} uv run samples/a2a_client.py")
    host.serve(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
