"""Request fields: each is type-checked, reaches the agent and is echoed, or is a 400.

The agent under test has two tools of its own and records the chat options of every model
call, so what a field asks for is seen where the model would see it. The SDK tests run
with the strict sync and async clients; malformed bodies go raw.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent, ChatContext, ChatMiddleware, tool
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from openai.types.responses import Response, ToolChoiceFunction

from ._clients import post, serve
from ._schema import validate_response
from ._sync_and_async import SDKClient, client_of, done, final_of_stream

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": True,
}


class SeenOptions(ChatMiddleware):
    """Records the chat options (without the tools) of every model call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def process(self, context: ChatContext, call_next: Callable[[], Awaitable[None]]) -> None:
        options = context.options or {}
        self.calls.append({k: v for k, v in options.items() if k != "tools"})
        await call_next()


@tool
def current_time() -> str:
    """Return the current time."""
    return "12:00"


@tool
def current_date() -> str:
    """Return the current date."""
    return "1 May"


@pytest.fixture
def seen() -> SeenOptions:
    return SeenOptions()


@pytest.fixture
def server(seen: SeenOptions) -> Iterator[LoopbackServer]:
    client = OfflineChatClient(middleware=[seen])
    with serve(agent=Agent(client=client, tools=[current_time, current_date])) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def client(server: LoopbackServer, request: pytest.FixtureRequest) -> SDKClient:
    """The strict sync client, then the strict async one."""
    return client_of(request.param, server)


async def test_sampling_fields_reach_the_agent_and_are_echoed(
    client: SDKClient, seen: SeenOptions
) -> None:
    sampling: Any = {
        "temperature": 0.5,
        "top_p": 0.25,
        "extra_body": {"presence_penalty": 1.5, "frequency_penalty": -2},
    }
    response = await done(client.responses.create(model="m", input="hi", **sampling))
    expected = {
        "temperature": 0.5,
        "top_p": 0.25,
        "presence_penalty": 1.5,
        "frequency_penalty": -2.0,
    }
    assert {name: seen.calls[0].get(name) for name in expected} == expected
    assert (response.temperature, response.top_p) == (0.5, 0.25)
    echoed = response.model_dump()
    assert (echoed["presence_penalty"], echoed["frequency_penalty"]) == (1.5, -2.0)


async def test_unset_penalties_are_not_passed_and_echo_zero(
    client: SDKClient, seen: SeenOptions
) -> None:
    response = await done(client.responses.create(model="m", input="hi"))
    assert "presence_penalty" not in seen.calls[0]
    assert "frequency_penalty" not in seen.calls[0]
    echoed = response.model_dump()
    assert (echoed["presence_penalty"], echoed["frequency_penalty"]) == (0.0, 0.0)


async def test_identifiers_are_echoed_and_kept_with_the_stored_response(
    client: SDKClient,
) -> None:
    response = await done(
        client.responses.create(
            model="m",
            input="hi",
            safety_identifier="user-7f3a",
            prompt_cache_key="greetings",
            user="alice",
        )
    )
    stored = await done(client.responses.retrieve(response.id))
    for echoed in (response, stored):
        assert echoed.safety_identifier == "user-7f3a"
        assert echoed.prompt_cache_key == "greetings"
        assert echoed.user == "alice"


async def test_unset_identifiers_echo_null(client: SDKClient) -> None:
    response = await done(client.responses.create(model="m", input="hi"))
    assert (response.safety_identifier, response.prompt_cache_key, response.user) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize("tier", ["auto", "default", "flex", "priority"])
async def test_every_tier_of_the_spec_is_served_by_the_default_one(
    client: SDKClient, tier: Any
) -> None:
    response = await done(client.responses.create(model="m", input="hi", service_tier=tier))
    assert response.service_tier == "default"


async def test_tool_choice_none_keeps_the_agent_from_its_own_tools(
    client: SDKClient, seen: SeenOptions
) -> None:
    free = await done(client.responses.create(model="m", input="current_time please"))
    held = await done(
        client.responses.create(model="m", input="current_time please", tool_choice="none")
    )
    assert free.output_text == "Tool current_time returned: 12:00"
    assert held.output_text == "Echo: current_time please (turn 1)"
    assert seen.calls[-1]["tool_choice"] == "none"
    assert (free.tool_choice, held.tool_choice) == ("auto", "none")


async def test_tool_choice_required_reaches_the_agent_with_only_its_own_tools(
    client: SDKClient, seen: SeenOptions
) -> None:
    response = await done(
        client.responses.create(model="m", input="current_time", tool_choice="required")
    )
    assert seen.calls[0]["tool_choice"] == "required"
    assert response.tool_choice == "required"


async def test_tool_choice_naming_a_declared_function_requires_that_function(
    client: SDKClient, seen: SeenOptions
) -> None:
    response = await done(
        client.responses.create(
            model="m",
            input="use get_weather",
            tools=[WEATHER],
            tool_choice={"type": "function", "name": "get_weather"},
        )
    )
    mode = {"mode": "required", "required_function_name": "get_weather"}
    assert seen.calls[0]["tool_choice"] == mode
    assert isinstance(response.tool_choice, ToolChoiceFunction)
    assert response.tool_choice.name == "get_weather"


async def test_parallel_tool_calls_false_reaches_the_agent_without_declared_tools(
    client: SDKClient, seen: SeenOptions
) -> None:
    both = await done(client.responses.create(model="m", input="current_time and current_date"))
    one = await done(
        client.responses.create(
            model="m", input="current_time and current_date", parallel_tool_calls=False
        )
    )
    assert both.output_text == (
        "Tool current_time returned: 12:00; Tool current_date returned: 1 May"
    )
    assert one.output_text == "Tool current_time returned: 12:00"
    assert seen.calls[-1]["allow_multiple_tool_calls"] is False
    assert (both.parallel_tool_calls, one.parallel_tool_calls) == (True, False)


async def test_a_stream_echoes_the_fields_as_a_plain_response_does(client: SDKClient) -> None:
    fields: Any = {
        "temperature": 0.5,
        "tool_choice": "none",
        "parallel_tool_calls": False,
        "safety_identifier": "user-7f3a",
        "prompt_cache_key": "greetings",
        "service_tier": "flex",
        "extra_body": {"presence_penalty": 0.5},
    }
    plain = await done(client.responses.create(model="m", input="hi", **fields))
    streamed = await final_of_stream(client, model="m", input="hi", **fields)
    assert _echo(streamed) == _echo(plain)


def _echo(response: Response) -> dict[str, Any]:
    """The fields a response echoes from its request."""
    names = (
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "tool_choice",
        "parallel_tool_calls",
        "safety_identifier",
        "prompt_cache_key",
        "service_tier",
        "user",
    )
    dumped = response.model_dump()
    return {name: dumped[name] for name in names}


WRONG: list[tuple[str, Any, str]] = [
    ("temperature", 2.5, "invalid_value"),
    ("temperature", -0.1, "invalid_value"),
    ("top_p", 1.01, "invalid_value"),
    ("presence_penalty", "high", "invalid_type"),
    ("presence_penalty", 2.5, "invalid_value"),
    ("frequency_penalty", True, "invalid_type"),
    ("frequency_penalty", -3, "invalid_value"),
    ("max_output_tokens", 15, "invalid_value"),
    ("service_tier", "fast", "invalid_value"),
    ("service_tier", 1, "invalid_value"),
    ("prompt_cache_key", 5, "invalid_type"),
    ("prompt_cache_key", "k" * 65, "invalid_value"),
    ("safety_identifier", ["user"], "invalid_type"),
    ("safety_identifier", "s" * 65, "invalid_value"),
    ("user", {"id": "alice"}, "invalid_type"),
    ("parallel_tool_calls", "yes", "invalid_type"),
    ("stream_options", "obfuscate", "invalid_type"),
    ("metadata", {"n": 1}, "invalid_value"),
    ("metadata", {f"k{index}": "v" for index in range(17)}, "invalid_value"),
    ("metadata", {"k" * 65: "v"}, "invalid_value"),
    ("metadata", {"k": "v" * 513}, "invalid_value"),
    ("tools", {"type": "function", "name": "a"}, "invalid_type"),
    ("tool_choice", "sometimes", "invalid_value"),
    ("tool_choice", {"type": "function", "name": "current_time"}, "invalid_value"),
    ("tool_choice", {"type": "function", "name": ["a"]}, "invalid_value"),
    ("tool_choice", {"type": "file_search"}, "invalid_value"),
]


@pytest.mark.parametrize(("field", "value", "code"), WRONG)
def test_a_wrong_type_or_value_is_a_400_naming_the_field(
    server: LoopbackServer, seen: SeenOptions, field: str, value: Any, code: str
) -> None:
    status, answer = post(server, "/responses", {"input": "hi", field: value})
    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (field, code)
    assert seen.calls == []


@pytest.mark.parametrize(
    ("stream_options", "param", "code"),
    [
        ({"include_obfuscation": "no"}, "stream_options.include_obfuscation", "invalid_type"),
        ({"include_usage": True}, "stream_options.include_usage", "unknown_parameter"),
    ],
)
def test_stream_options_hold_only_a_boolean_include_obfuscation(
    server: LoopbackServer, stream_options: Any, param: str, code: str
) -> None:
    body = {"input": "hi", "stream": True, "stream_options": stream_options}
    status, answer = post(server, "/responses", body)
    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (param, code)


def test_stream_options_with_include_obfuscation_are_accepted(server: LoopbackServer) -> None:
    body = {"input": "hi", "stream": True, "stream_options": {"include_obfuscation": False}}
    response = httpx.post(f"{server.base_url}/responses", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")


def test_tool_choice_allowed_tools_is_refused_as_unsupported(server: LoopbackServer) -> None:
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function"}]}
    body = {"input": "hi", "tools": [WEATHER], "tool_choice": choice}
    status, answer = post(server, "/responses", body)
    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (
        "tool_choice",
        "unsupported_parameter",
    )


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_number_json_does_not_have_is_a_400(server: LoopbackServer, constant: bytes) -> None:
    response = httpx.post(
        f"{server.base_url}/responses",
        content=b'{"input": "hi", "temperature": ' + constant + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_the_sdk_raises_bad_request_naming_the_field(client: SDKClient) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await done(client.responses.create(model="m", input="hi", temperature=3))
    assert (caught.value.param, caught.value.code) == ("temperature", "invalid_value")


def test_every_echo_validates_against_the_spec(server: LoopbackServer) -> None:
    body = {
        "input": "hi",
        "temperature": 0,
        "top_p": 1,
        "presence_penalty": -2,
        "frequency_penalty": 2,
        "tools": [{"type": "function", "name": "get_weather", "strict": None}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
        "service_tier": "priority",
        "safety_identifier": "s" * 64,
        "prompt_cache_key": "k" * 64,
        "user": "alice",
        "stream_options": {"include_obfuscation": True},
        "metadata": {f"k{index}": "v" * 512 for index in range(16)},
    }
    status, answer = post(server, "/responses", body)
    assert status == 200
    validate_response(answer)
    assert answer["presence_penalty"] == -2.0
    assert answer["tools"][0]["strict"] is True
