"""Stream lifecycle: body limits, keep-alive comments, failures, and clients that go away.

The SDK tests run with the strict sync and async clients.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent, AgentResponseUpdate
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI
from openai.types.responses import ResponseStreamEvent

from ._clients import serve, stream_events
from ._sync_and_async import SDKClient, client_of, done, read_stream, sync_and_async

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


def test_a_failing_stream_closes_the_item_it_was_writing_as_incomplete() -> None:
    with serve(chunks=4, error=RuntimeError("hunter2"), fail_after_updates=2) as server:
        events = stream_events(server, {"model": "m", "input": "a b c d e f g h"})
    kinds = [event["type"] for event in events]
    assert kinds[-5:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "error",
        "response.failed",
    ]
    item = events[-3]["item"]
    streamed = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert item["status"] == "incomplete"
    assert item["content"][0]["text"] == events[-5]["text"] == streamed != ""
    assert events[-1]["response"]["output"] == [item]
    assert kinds.count("response.output_item.added") == kinds.count("response.output_item.done")


@sync_and_async
async def test_the_sdk_reads_a_failure_mid_stream_as_an_error_without_internals(
    kind: str,
) -> None:
    events: list[ResponseStreamEvent] = []
    with serve(error=RuntimeError("hunter2"), fail_after_updates=2) as server:
        client = client_of(kind, server)
        with pytest.raises(openai.APIError) as caught:
            await read_stream(client, events, model="m", input="a b c d e f g h")
    # The SDK raises at the error event: what it read ends with the open item closed.
    assert [event.type for event in events][-3:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    last: Any = events[-1]
    assert last.item.status == "incomplete"
    assert caught.value.code == "server_error"
    assert "hunter2" not in caught.value.message


async def drop_after_first_delta(client: SDKClient, **params: Any) -> str:
    """Start a stream, close it once the first text delta arrives; the response's id."""
    response_id = ""
    if isinstance(client, OpenAI):
        with client.responses.create(stream=True, **params) as stream:
            for event in stream:
                if event.type == "response.created":
                    response_id = event.response.id
                elif event.type == "response.output_text.delta":
                    return response_id
    else:
        async with await client.responses.create(stream=True, **params) as stream:
            async for event in stream:
                if event.type == "response.created":
                    response_id = event.response.id
                elif event.type == "response.output_text.delta":
                    return response_id
    raise AssertionError("the stream ended before its first delta")


@sync_and_async
async def test_an_sdk_client_dropping_its_stream_cancels_the_run(kind: str) -> None:
    seen: list[str] = []

    def count(update: AgentResponseUpdate) -> AgentResponseUpdate:
        seen.append(update.text)
        return update

    words = " ".join(f"w{i}" for i in range(40))
    with serve(ResponsesChannel(stream_update_hook=count), delay=0.05, chunks=40) as server:
        # One user key, no ids: every turn is in the key's conversation, one after another.
        client = client_of(kind, server, user="dropper")
        await done(client.responses.create(model="m", input="one"))
        dropped = await drop_after_first_delta(client, model="m", input=words)
        # The next turn waits for the conversation's run: a dropped run that went on would
        # finish all 40 pieces first and count as the conversation's second turn.
        after = await done(client.responses.create(model="m", input="two"))
        with pytest.raises(openai.NotFoundError):
            await done(client.responses.retrieve(dropped))
    assert after.output_text == "Echo: two (turn 2)"
    assert len(seen) < 40
