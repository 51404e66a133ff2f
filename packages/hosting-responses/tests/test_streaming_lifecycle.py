"""Stream lifecycle: body limits, keep-alive comments, and clients that go away."""

from __future__ import annotations

from typing import Any

import httpx
from agent_framework import Agent, AgentResponseUpdate
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel

CHAT_HEADER = "x-agent-chat-isolation-key"


def host_with(channel: ResponsesChannel, **client: Any) -> AgentFrameworkHost:
    agent = Agent(client=OfflineChatClient(**client))
    return AgentFrameworkHost(agent, channels=[channel], trust_isolation_headers=True)


def test_a_body_over_the_limit_is_413_in_the_openai_shape() -> None:
    with LoopbackServer(host_with(ResponsesChannel(max_body_bytes=1024)).app) as server:
        response = httpx.post(f"{server.base_url}/responses", json={"input": "x" * 2048})
        small = httpx.post(f"{server.base_url}/responses", json={"input": "x"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert small.status_code == 200


def test_long_silences_send_keepalive_comments() -> None:
    channel = ResponsesChannel(keepalive_seconds=0.01)
    with LoopbackServer(host_with(channel, delay=0.1, chunks=2).app) as server:
        body = {"input": "slow words", "stream": True}
        text = httpx.post(f"{server.base_url}/responses", json=body).text
    assert ": keep-alive\n\n" in text
    assert '"type":"response.completed"' in text


async def test_a_dropped_stream_cancels_the_run_and_the_next_turn_works() -> None:
    seen: list[str] = []

    def count(update: AgentResponseUpdate) -> AgentResponseUpdate:
        seen.append(update.text)
        return update

    channel = ResponsesChannel(stream_update_hook=count)
    host = host_with(channel, delay=0.05, chunks=40)
    words = " ".join(f"w{i}" for i in range(40))
    with LoopbackServer(host.app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            body = {"input": words, "stream": True}
            headers = {CHAT_HEADER: "dropper"}
            async with client.stream("POST", "/responses", json=body, headers=headers) as stream:
                async for chunk in stream.aiter_text():
                    if "output_text.delta" in chunk:
                        break
            # The next turn waits for the conversation's run: a dropped run that went on
            # would finish all 40 pieces first and count as the conversation's first turn.
            reply = await client.post(
                "/responses", json={"input": "next"}, headers={CHAT_HEADER: "dropper"}
            )
    assert reply.status_code == 200
    assert reply.json()["output"][0]["content"][0]["text"] == "Echo: next (turn 1)"
    assert len(seen) < 40
