"""Caller-declared function tools: the call comes back to the client, which answers it.

The SDK tests run with the strict sync and async clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from agent_framework_hosting.testing import LoopbackServer
from openai.types.responses import ResponseFunctionToolCall

from ._clients import serve, stream_events
from ._sync_and_async import SDKClient, client_of, done, final_of_stream

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
    with serve() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def client(server: LoopbackServer, request: pytest.FixtureRequest) -> SDKClient:
    """The strict sync client, then the strict async one."""
    return client_of(request.param, server)


async def test_the_models_call_comes_back_as_a_function_call_item(client: SDKClient) -> None:
    response = await done(
        client.responses.create(model="m", input="use get_weather", tools=[WEATHER])
    )
    assert response.status == "completed"
    calls = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "use get_weather"}
    assert response.tools[0].type == "function"


async def test_the_client_answers_with_function_call_output_and_the_agent_finishes(
    client: SDKClient,
) -> None:
    first = await done(client.responses.create(model="m", input="use get_weather", tools=[WEATHER]))
    call = next(item for item in first.output if isinstance(item, ResponseFunctionToolCall))
    answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = await done(
        client.responses.create(
            model="m", input=answer, previous_response_id=first.id, tools=[WEATHER]
        )
    )
    assert second.output_text == "Tool get_weather returned: sunny"


async def test_tool_choice_none_keeps_the_model_from_calling(client: SDKClient) -> None:
    response = await done(
        client.responses.create(
            model="m", input="use get_weather", tools=[WEATHER], tool_choice="none"
        )
    )
    assert response.output_text.startswith("Echo: use get_weather")
    assert response.tool_choice == "none"


async def test_a_streamed_call_arrives_as_its_own_output_item(
    server: LoopbackServer, client: SDKClient
) -> None:
    events = stream_events(server, {"model": "m", "input": "use get_weather", "tools": [WEATHER]})
    kinds = [event["type"] for event in events]
    assert "response.function_call_arguments.done" in kinds
    arguments = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert arguments["name"] == "get_weather"
    final = await final_of_stream(client, model="m", input="use get_weather", tools=[WEATHER])
    # No text: the call is the only item, exactly as without streaming.
    assert [item.type for item in final.output] == ["function_call"]


async def test_function_call_output_is_listed_among_the_input_items(client: SDKClient) -> None:
    first = await done(client.responses.create(model="m", input="use get_weather", tools=[WEATHER]))
    call = next(item for item in first.output if isinstance(item, ResponseFunctionToolCall))
    answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = await done(
        client.responses.create(
            model="m", input=answer, previous_response_id=first.id, tools=[WEATHER]
        )
    )
    items = (await done(client.responses.input_items.list(second.id))).data
    assert [item.type for item in items] == ["function_call_output"]
    assert items[0].id


async def test_parallel_tool_calls_false_gets_one_call_at_a_time(client: SDKClient) -> None:
    clock: Any = {"type": "function", "name": "get_time", "parameters": {"type": "object"}}
    both = await done(
        client.responses.create(model="m", input="get_weather and get_time", tools=[WEATHER, clock])
    )
    one = await done(
        client.responses.create(
            model="m",
            input="get_weather and get_time",
            tools=[WEATHER, clock],
            parallel_tool_calls=False,
        )
    )
    assert [item.type for item in both.output] == ["function_call", "function_call"]
    assert [item.type for item in one.output] == ["function_call"]
    assert one.parallel_tool_calls is False
