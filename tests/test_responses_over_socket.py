"""One host, the Responses channel, a real socket and the openai SDK in strict mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, IsolationKeys
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel, responses_isolation_key
from openai import AsyncOpenAI, OpenAI

CHAT_HEADER = "x-agent-chat-isolation-key"


@pytest.fixture
def host() -> AgentFrameworkHost:
    agent = Agent(client=OfflineChatClient(), name="integration")
    return AgentFrameworkHost(agent, channels=[ResponsesChannel()], trust_isolation_headers=True)


@pytest.fixture
def server(host: AgentFrameworkHost) -> Iterator[LoopbackServer]:
    with LoopbackServer(host.app) as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> OpenAI:
    return OpenAI(
        base_url=server.base_url, api_key="k", max_retries=0, _strict_response_validation=True
    )


def test_create_returns_a_completed_response(client: OpenAI) -> None:
    response = client.responses.create(model="agent", input="ping")
    assert response.status == "completed"
    assert response.output_text == "Echo: ping (turn 1)"
    assert response.id.startswith("resp_")


def test_stream_helper_gets_the_final_response(client: OpenAI) -> None:
    with client.responses.stream(model="agent", input="streamed") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 1
    assert "".join(deltas) == final.output_text == "Echo: streamed (turn 1)"
    assert len(final.output) == 1


def test_two_turns_continue_through_previous_response_id(client: OpenAI) -> None:
    first = client.responses.create(model="agent", input="one")
    second = client.responses.create(model="agent", input="two", previous_response_id=first.id)
    assert second.output_text == "Echo: two (turn 2)"
    assert second.previous_response_id == first.id


def test_two_turns_continue_through_the_isolation_header(client: OpenAI) -> None:
    keyed = client.with_options(default_headers={CHAT_HEADER: "user-42"})
    keyed.responses.create(model="agent", input="one")
    second = keyed.responses.create(model="agent", input="two")
    assert second.output_text == "Echo: two (turn 2)"


def test_reset_session_starts_over(client: OpenAI, host: AgentFrameworkHost) -> None:
    keyed = client.with_options(default_headers={CHAT_HEADER: "user-7"})
    keyed.responses.create(model="agent", input="one")
    host.reset_session(responses_isolation_key(IsolationKeys(chat_key="user-7")))
    after = keyed.responses.create(model="agent", input="again")
    assert after.output_text == "Echo: again (turn 1)"


async def test_async_client_streams_too(server: LoopbackServer) -> None:
    client = AsyncOpenAI(
        base_url=server.base_url, api_key="k", max_retries=0, _strict_response_validation=True
    )
    async with client.responses.stream(model="agent", input="async") as stream:
        final = await stream.get_final_response()
    assert final.output_text == "Echo: async (turn 1)"
