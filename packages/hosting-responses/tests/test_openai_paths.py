"""Where OpenAI-compatible clients look: ``/v1`` beside the channel's path, and the models."""

from __future__ import annotations

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI


def sdk(base_url: str) -> OpenAI:
    return OpenAI(
        base_url=base_url, api_key="unused", max_retries=0, _strict_response_validation=True
    )


def host(*channels: ResponsesChannel, name: str | None = "helper") -> AgentFrameworkHost:
    return AgentFrameworkHost(Agent(client=OfflineChatClient(), name=name), channels=channels)


def test_a_v1_base_url_reaches_the_default_channel() -> None:
    with LoopbackServer(host(ResponsesChannel()).app) as server:
        client = sdk(f"{server.base_url}/v1")
        first = client.responses.create(model="agent", input="Hello")
        with client.responses.stream(
            model="agent", input="Again", previous_response_id=first.id
        ) as stream:
            final = stream.get_final_response()
        retrieved = client.responses.retrieve(first.id)
        conversation = client.conversations.create()
    assert final.output_text == "Echo: Again (turn 2)"
    assert retrieved.output_text == "Echo: Hello (turn 1)"
    assert conversation.id.startswith("conv_")


@pytest.mark.parametrize("prefix", ["", "/v1"])
def test_models_list_the_target_by_its_name(prefix: str) -> None:
    with LoopbackServer(host(ResponsesChannel()).app) as server:
        client = sdk(server.base_url + prefix)
        listed = client.models.list()
        model = client.models.retrieve("helper")
    assert [m.id for m in listed.data] == ["helper"]
    assert model.id == "helper"
    assert model.owned_by == "agent-framework-hosting"


def test_an_unnamed_agent_is_listed_as_agent() -> None:
    with LoopbackServer(host(ResponsesChannel(), name=None).app) as server:
        assert [m.id for m in sdk(f"{server.base_url}/v1").models.list().data] == ["agent"]


def test_an_unknown_model_is_a_404_in_the_openai_error_shape() -> None:
    with (
        LoopbackServer(host(ResponsesChannel()).app) as server,
        pytest.raises(openai.NotFoundError) as raised,
    ):
        sdk(f"{server.base_url}/v1").models.retrieve("gpt-4o")
    assert raised.value.code == "model_not_found"


def test_without_an_alias_prefix_only_the_channel_path_answers() -> None:
    with LoopbackServer(host(ResponsesChannel(alias_prefix=None)).app) as server:
        plain = httpx.post(f"{server.base_url}/responses", json={"input": "hi"})
        aliased = httpx.post(f"{server.base_url}/v1/responses", json={"input": "hi"})
    assert plain.status_code == 200
    assert aliased.status_code == 404


def test_a_channel_already_under_v1_is_not_aliased_again() -> None:
    channel = ResponsesChannel(path="/v1/responses")
    with LoopbackServer(host(channel).app) as server:
        index = httpx.get(server.base_url).json()
    assert index["channels"] == [
        {"name": "responses", "paths": ["/v1/responses", "/v1/conversations", "/v1/models"]}
    ]


def test_two_named_channels_coexist_and_share_stored_responses() -> None:
    public = ResponsesChannel(alias_prefix=None)
    internal = ResponsesChannel(name="internal", path="/internal/responses")
    with LoopbackServer(host(public, internal).app) as server:
        made = sdk(server.base_url).responses.create(model="agent", input="Hi")
        continued = sdk(f"{server.base_url}/internal").responses.create(
            model="agent", input="More", previous_response_id=made.id
        )
    assert continued.output_text == "Echo: More (turn 2)"


def test_the_default_alias_colliding_with_another_channel_is_named() -> None:
    both = host(ResponsesChannel(), ResponsesChannel(name="v1", path="/v1/responses"))
    with pytest.raises(ValueError, match=r"'v1' and 'responses' \(mount '/v1/responses'\)"):
        _ = both.app
