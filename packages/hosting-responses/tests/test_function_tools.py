"""Caller-declared function tools: the call comes back to the client, which answers it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI
from openai.types.responses import ResponseFunctionToolCall

from ._schema import validate_event, validate_response

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    host = AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[ResponsesChannel()])
    with LoopbackServer(host.app) as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> OpenAI:
    return OpenAI(
        base_url=server.base_url, api_key="k", max_retries=0, _strict_response_validation=True
    )


def test_the_models_call_comes_back_as_a_function_call_item(client: OpenAI) -> None:
    response = client.responses.create(model="m", input="use get_weather", tools=[WEATHER])
    assert response.status == "completed"
    calls = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "use get_weather"}
    assert response.tools[0].type == "function"


def test_the_client_answers_with_function_call_output_and_the_agent_finishes(
    client: OpenAI,
) -> None:
    first = client.responses.create(model="m", input="use get_weather", tools=[WEATHER])
    call = next(item for item in first.output if isinstance(item, ResponseFunctionToolCall))
    answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = client.responses.create(
        model="m", input=answer, previous_response_id=first.id, tools=[WEATHER]
    )
    assert second.output_text == "Tool get_weather returned: sunny"


def test_tool_choice_none_keeps_the_model_from_calling(client: OpenAI) -> None:
    response = client.responses.create(
        model="m", input="use get_weather", tools=[WEATHER], tool_choice="none"
    )
    assert response.output_text.startswith("Echo: use get_weather")
    assert response.tool_choice == "none"


def test_a_streamed_call_arrives_as_its_own_output_item(
    server: LoopbackServer, client: OpenAI
) -> None:
    body = {"model": "m", "input": "use get_weather", "tools": [WEATHER], "stream": True}
    raw = httpx.post(f"{server.base_url}/responses", json=body).text
    events = [
        json.loads(line[len("data: ") :]) for line in raw.splitlines() if line.startswith("data: {")
    ]
    for event in events:
        validate_event(event)
    validate_response(events[-1]["response"])
    kinds = [event["type"] for event in events]
    assert "response.function_call_arguments.done" in kinds
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["name"] == "get_weather"
    with client.responses.stream(model="m", input="use get_weather", tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    # No text: the call is the only item, exactly as without streaming.
    assert [item.type for item in final.output] == ["function_call"]


def test_function_call_output_is_listed_among_the_input_items(client: OpenAI) -> None:
    first = client.responses.create(model="m", input="use get_weather", tools=[WEATHER])
    call = next(item for item in first.output if isinstance(item, ResponseFunctionToolCall))
    answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = client.responses.create(
        model="m", input=answer, previous_response_id=first.id, tools=[WEATHER]
    )
    items = client.responses.input_items.list(second.id).data
    assert [item.type for item in items] == ["function_call_output"]
    assert items[0].id


def test_parallel_tool_calls_false_gets_one_call_at_a_time(client: OpenAI) -> None:
    clock: Any = {"type": "function", "name": "get_time", "parameters": {"type": "object"}}
    both = client.responses.create(
        model="m", input="get_weather and get_time", tools=[WEATHER, clock]
    )
    one = client.responses.create(
        model="m",
        input="get_weather and get_time",
        tools=[WEATHER, clock],
        parallel_tool_calls=False,
    )
    assert [item.type for item in both.output] == ["function_call", "function_call"]
    assert [item.type for item in one.output] == ["function_call"]
    assert one.parallel_tool_calls is False
