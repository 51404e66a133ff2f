"""Which session a response runs in: chains, branches, concurrent continuations, instructions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from agent_framework import Agent, ChatContext, ChatMiddleware
from agent_framework_hosting import AgentFrameworkHost, ChannelRequest, HostedRunResult
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import AsyncOpenAI, OpenAI

from ._clients import serve as shared_serve
from ._sync_and_async import client_of, reply, sync_and_async

CHAT_HEADER = "x-agent-chat-isolation-key"


class RecordingMiddleware(ChatMiddleware):
    """Records what the chat client is asked: message roles and run instructions."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], Any]] = []

    async def process(self, context: ChatContext, call_next: Callable[[], Awaitable[None]]) -> None:
        options: Any = context.options or {}
        self.calls.append(([str(m.role) for m in context.messages], options.get("instructions")))
        await call_next()


def serve(
    channel: ResponsesChannel | None = None,
    *,
    trusted: bool = False,
    middleware: ChatMiddleware | None = None,
    **client: Any,
) -> LoopbackServer:
    agent = Agent(
        client=OfflineChatClient(**client), middleware=[middleware] if middleware else None
    )
    host = AgentFrameworkHost(
        agent, channels=[channel or ResponsesChannel()], trust_isolation_headers=trusted
    )
    return LoopbackServer(host.app)


def sdk(server: LoopbackServer, **headers: str) -> OpenAI:
    return OpenAI(
        base_url=server.base_url,
        api_key="k",
        max_retries=0,
        _strict_response_validation=True,
        default_headers=headers,
    )


@sync_and_async
async def test_branching_from_an_older_response_continues_from_that_point(kind: str) -> None:
    with shared_serve() as server:
        client = client_of(kind, server)
        first = await reply(client, "one")
        second = await reply(client, "two", first.id)
        third = await reply(client, "three", second.id)
        branch = await reply(client, "fork", first.id)
        on_branch = await reply(client, "fork on", branch.id)
        on_main = await reply(client, "four", third.id)
    assert branch.output_text == "Echo: fork (turn 2)"
    assert on_branch.output_text == "Echo: fork on (turn 3)"
    assert on_main.output_text == "Echo: four (turn 4)"


@sync_and_async
async def test_a_branch_of_a_branch_replays_its_whole_ancestry(kind: str) -> None:
    with shared_serve() as server:
        client = client_of(kind, server)
        first = await reply(client, "one")
        second = await reply(client, "two", first.id)
        await reply(client, "three", second.id)
        branch = await reply(client, "b3", second.id)
        await reply(client, "b4", branch.id)
        twig = await reply(client, "t4", branch.id)
    assert twig.output_text == "Echo: t4 (turn 4)"


async def test_concurrent_continuations_of_one_response_each_continue_from_it() -> None:
    with serve(delay=0.05) as server:
        client = AsyncOpenAI(
            base_url=server.base_url, api_key="k", max_retries=0, _strict_response_validation=True
        )
        first = await client.responses.create(model="m", input="root")
        replies = await asyncio.gather(
            *(
                client.responses.create(model="m", input=f"leaf {n}", previous_response_id=first.id)
                for n in range(3)
            )
        )
        await client.close()
    assert sorted(reply.output_text for reply in replies) == [
        f"Echo: leaf {n} (turn 2)" for n in range(3)
    ]


def test_header_conversations_and_previous_response_ids_share_one_history() -> None:
    with serve(trusted=True) as server:
        client = sdk(server, **{CHAT_HEADER: "room"})
        first = client.responses.create(model="m", input="one")
        second = client.responses.create(model="m", input="two")
        branch = client.responses.create(model="m", input="fork", previous_response_id=first.id)
        third = client.responses.create(model="m", input="three")
        latest = client.responses.create(model="m", input="four", previous_response_id=third.id)
    assert second.output_text == "Echo: two (turn 2)"
    assert branch.output_text == "Echo: fork (turn 2)"
    assert third.output_text == "Echo: three (turn 3)"
    assert latest.output_text == "Echo: four (turn 4)"


def test_a_failed_turn_leaves_the_conversation_where_it_was() -> None:
    sessions: list[object] = []

    def fail_on_boom(request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages: Any = request.input
        if messages[-1].text == "boom":
            raise RuntimeError("boom")
        return request

    def record_session(result: HostedRunResult, **_: Any) -> HostedRunResult:
        sessions.append(result.session)
        return result

    channel = ResponsesChannel(run_hook=fail_on_boom, response_hook=record_session)
    with serve(channel) as server:
        client = sdk(server)
        first = client.responses.create(model="m", input="one")
        body = {"input": "boom", "previous_response_id": first.id}
        failed = httpx.post(f"{server.base_url}/responses", json=body)
        streamed = httpx.post(f"{server.base_url}/responses", json={**body, "stream": True})
        second = client.responses.create(model="m", input="two", previous_response_id=first.id)
    assert failed.status_code == 500
    assert '"type":"response.failed"' in streamed.text
    assert second.output_text == "Echo: two (turn 2)"
    assert sessions[0] is sessions[1]  # continued in place, not branched


def test_instructions_apply_to_their_own_turn_only() -> None:
    recorder = RecordingMiddleware()
    with serve(middleware=recorder) as server:
        client = sdk(server)
        first = client.responses.create(model="m", input="hello", instructions="Be brief")
        second = client.responses.create(model="m", input="again", previous_response_id=first.id)
    assert first.instructions == "Be brief"
    assert second.instructions is None
    assert second.output_text == "Echo: again (turn 2)"
    assert recorder.calls == [
        (["user"], "Be brief"),
        (["user", "assistant", "user"], None),
    ]
