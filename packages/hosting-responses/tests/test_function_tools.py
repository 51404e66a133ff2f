"""Caller-declared function tools: the call comes back to the client, which answers it.

The SDK tests run with the strict sync and async clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Self

import openai
import pytest
from agent_framework import Agent, FunctionTool, tool
from agent_framework._mcp import MCPTool  # pyright: ignore[reportPrivateImportUsage]
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from openai.types.responses import Response, ResponseFunctionToolCall

from ._clients import WEATHER, completed, connect, post, refusal, serve, stream_events, turn
from ._sync_and_async import SDKClient, client_of, done, final_of_stream, sync_and_async


async def answered(client: SDKClient, first: Response) -> Response:
    """The turn after ``first``: its ``get_weather`` call answered ``sunny``."""
    call = next(item for item in first.output if isinstance(item, ResponseFunctionToolCall))
    answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    return await done(
        client.responses.create(
            model="m", input=answer, previous_response_id=first.id, tools=[WEATHER]
        )
    )


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
    second = await answered(client, first)
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
    second = await answered(client, first)
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


@tool
def current_time() -> str:
    """Return the current time (the quickstart agent's tool)."""
    return "12:00"


@pytest.fixture
def timed_server() -> Iterator[LoopbackServer]:
    """A server whose agent has a tool of its own, ``current_time``, as the quickstart's."""
    with serve(agent=Agent(client=OfflineChatClient(), tools=[current_time])) as running:
        yield running


def function(name: str, **fields: Any) -> Any:
    """A declared function tool without parameters."""
    return {"type": "function", "name": name, "parameters": {"type": "object"}, **fields}


async def test_two_tools_with_one_name_are_a_400_naming_the_second(client: SDKClient) -> None:
    tools: Any = [WEATHER, function("get_time"), {**WEATHER, "description": "again"}]
    with pytest.raises(openai.BadRequestError) as caught:
        await done(client.responses.create(model="m", input="use get_weather", tools=tools))
    assert caught.value.status_code == 400
    assert caught.value.param == "tools[2].name"
    assert caught.value.code == "invalid_value"
    assert "tools[0]" in caught.value.message


@sync_and_async
async def test_a_tool_named_like_one_of_the_agents_own_is_a_400_naming_it(
    timed_server: LoopbackServer, kind: str
) -> None:
    client = client_of(kind, timed_server)
    with pytest.raises(openai.BadRequestError) as caught:
        await done(client.responses.create(model="m", input="hi", tools=[function("current_time")]))
    assert caught.value.param == "tools[0].name"
    assert "current_time" in caught.value.message
    assert "agent's own tools" in caught.value.message


@pytest.mark.parametrize(
    "tools",
    [[WEATHER, WEATHER], [function("current_time")]],
    ids=["duplicate", "the agent's own"],
)
def test_a_streamed_request_with_a_clashing_tool_name_is_a_400_not_a_failed_stream(
    timed_server: LoopbackServer, tools: list[Any]
) -> None:
    body = {"model": "m", "input": "hi", "tools": tools, "stream": True}
    status, answer = post(timed_server, "/responses", body)
    assert status == 400
    assert answer["error"]["param"] == f"tools[{len(tools) - 1}].name"


class LateServer(MCPTool):
    """An MCP server stand-in whose tool, ``lookup``, is listed once the agent connects it."""

    def __init__(self) -> None:
        super().__init__(name="late", load_prompts=False)
        self._listed = [FunctionTool(name="lookup", description="", func=lambda: "found")]

    async def __aenter__(self) -> Self:
        self.is_connected = True
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.is_connected = False

    @property
    def functions(self) -> list[FunctionTool]:
        return self._listed if self.is_connected else []


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_named_like_an_mcp_tool_known_only_once_connected_is_a_400(stream: bool) -> None:
    """Before its first run the agent's MCP server is not connected, so the name is unknown
    to the check before the run; the run fails on the clash, and the caller learns why."""
    with serve(agent=Agent(client=OfflineChatClient(), tools=[LateServer()])) as server:
        body = {"model": "m", "input": "hi", "tools": [function("lookup")]}
        if stream:
            events = stream_events(server, body)
            [error] = [event for event in events if event["type"] == "error"]
            assert (error["code"], error["param"]) == ("invalid_value", "tools[0].name")
            assert error["error"]["type"] == "invalid_request_error"
            assert "lookup" in error["message"]
            assert events[-1]["type"] == "response.failed"
        else:
            status, answer = post(server, "/responses", body)
            assert status == 400
            assert (answer["error"]["param"], answer["error"]["code"]) == (
                "tools[0].name",
                "invalid_value",
            )
        # Connected now: the name is refused before anything runs, streamed or not.
        for again in (body, {**body, "stream": True}):
            status, answer = post(server, "/responses", again)
            assert (status, answer["error"]["param"]) == (400, "tools[0].name")
        # The agent's own MCP tool still runs server-side.
        status, answer = post(server, "/responses", {"model": "m", "input": "use lookup"})
        assert status == 200
        assert answer["output"][-1]["content"][0]["text"] == "Tool lookup returned: found"


def test_a_tool_named_like_the_agents_own_is_refused_on_a_websocket_too(
    timed_server: LoopbackServer,
) -> None:
    with connect(timed_server) as connection:
        connection.response.create(input="hi", tools=[function("current_time")])
        error = refusal(turn(connection))
        connection.response.create(input="what is the current_time")
        after = completed(turn(connection))
    assert (error.status, error.error.param) == (400, "tools[0].name")
    assert after.output_text == "Tool current_time returned: 12:00"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "invalid_value"),
        ("get weather", "invalid_value"),
        ("wetter_für_heute", "invalid_value"),
        ("a" * 65, "invalid_value"),
        ("get.weather", "invalid_value"),
        (7, "invalid_type"),
        (None, "invalid_type"),
    ],
)
def test_a_tool_name_outside_the_specs_pattern_is_a_400(
    server: LoopbackServer, name: Any, code: str
) -> None:
    status, answer = post(server, "/responses", {"input": "x", "tools": [function(name)]})
    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == ("tools[0].name", code)


def test_the_longest_name_the_spec_allows_is_accepted(server: LoopbackServer) -> None:
    name = "Az09_-" + "x" * 58
    status, answer = post(server, "/responses", {"input": "x", "tools": [function(name)]})
    assert status == 200
    assert answer["tools"][0]["name"] == name


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("description", 5, "invalid_type"),
        ("parameters", [], "invalid_type"),
        ("strict", "yes", "invalid_type"),
        ("defer_loading", True, "unknown_parameter"),
    ],
)
def test_a_tool_field_of_the_wrong_type_or_unknown_is_a_400_naming_it(
    server: LoopbackServer, field: str, value: Any, code: str
) -> None:
    tool_with = function("get_time", **{field: value})
    status, answer = post(server, "/responses", {"input": "x", "tools": [tool_with]})
    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (f"tools[0].{field}", code)


@pytest.mark.parametrize(("strict", "echoed"), [(None, True), (True, True), (False, False)])
async def test_strict_is_echoed_as_given_and_true_when_unset(
    client: SDKClient, strict: bool | None, echoed: bool
) -> None:
    response = await done(
        client.responses.create(model="m", input="x", tools=[function("get_time", strict=strict)])
    )
    assert response.tools[0].type == "function"
    assert response.tools[0].strict is echoed


def test_a_tool_without_strict_is_echoed_strict(server: LoopbackServer) -> None:
    status, answer = post(server, "/responses", {"input": "x", "tools": [function("get_time")]})
    assert status == 200
    assert answer["tools"][0]["strict"] is True


@sync_and_async
async def test_a_call_of_the_agents_own_tool_beside_a_declared_one_is_not_the_callers(
    timed_server: LoopbackServer, kind: str
) -> None:
    client = client_of(kind, timed_server)
    ask: Any = {"model": "m", "input": "current_time and get_weather", "tools": [WEATHER]}
    first = await done(client.responses.create(**ask))
    streamed = await final_of_stream(client, **ask)
    for response in (first, streamed):
        calls = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
        assert [call.name for call in calls] == ["get_weather"]
    second = await answered(client, first)
    assert second.status == "completed"
    assert not [item for item in second.output if isinstance(item, ResponseFunctionToolCall)]
    assert second.output_text.startswith("Tool ")
