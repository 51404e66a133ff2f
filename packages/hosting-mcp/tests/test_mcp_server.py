"""The MCP channel through the SDK's own client: sessions, tools, conversations, commands."""

from __future__ import annotations

import base64
from typing import cast

from agent_framework import Agent, AgentResponse, Content, Message
from agent_framework_hosting import (
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelContribution,
    HostedRunResult,
)
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_mcp import MCPChannel
from mcp_harness import connect, offline_agent, serving, text_of
from pydantic import BaseModel

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def test_initialize_names_the_agent_and_gives_its_description_as_instructions() -> None:
    async with serving() as served, connect(served.url) as session:
        assert session.server_info is not None
        assert session.server_info.name == "helper"
        assert session.instructions == "Answers questions about the weather."


async def test_the_tools_are_the_agent_and_the_host_commands() -> None:
    async with serving() as served, connect(served.url) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert list(tools) == ["helper", "new", "reset"]
        assert tools["helper"].description == "Answers questions about the weather."
        assert "message" in tools["helper"].input_schema["properties"]


async def test_the_tool_name_and_description_can_be_set() -> None:
    async with (
        serving(tool_name="ask_weather", tool_description="Ask about the weather.") as served,
        connect(served.url) as session,
    ):
        [tool, *_] = (await session.list_tools()).tools
        assert (tool.name, tool.description) == ("ask_weather", "Ask about the weather.")
        assert text_of(await session.call_tool("ask_weather", {"message": "hi"})).startswith(
            "Echo: hi"
        )


async def test_turns_of_one_session_continue_its_conversation() -> None:
    async with serving() as served, connect(served.url) as session:
        for turn in (1, 2, 3):
            result = await session.call_tool("helper", {"message": f"turn {turn}"})
            assert text_of(result) == f"Echo: turn {turn} (turn {turn})"


async def test_each_session_is_its_own_conversation() -> None:
    async with serving() as served:
        async with connect(served.url) as first:
            await first.call_tool("helper", {"message": "one"})
        async with connect(served.url) as second:
            result = await second.call_tool("helper", {"message": "two"})
        assert text_of(result) == "Echo: two (turn 1)"


async def test_a_conversation_id_continues_a_conversation_across_sessions() -> None:
    async with serving() as served:
        async with connect(served.url) as first:
            await first.call_tool("helper", {"message": "one", "conversation_id": "trip"})
        async with connect(served.url) as second:
            result = await second.call_tool("helper", {"message": "two", "conversation_id": "trip"})
            own = await second.call_tool("helper", {"message": "three"})
        assert text_of(result) == "Echo: two (turn 2)"
        assert text_of(own) == "Echo: three (turn 1)"


async def test_the_reset_tool_starts_the_conversation_over() -> None:
    async with serving() as served, connect(served.url) as session:
        await session.call_tool("helper", {"message": "one"})
        reset = await session.call_tool("reset", {})
        result = await session.call_tool("helper", {"message": "two"})
        assert text_of(reset) == "Started a new conversation."
        assert text_of(result) == "Echo: two (turn 1)"


async def test_reset_names_a_conversation_too() -> None:
    async with serving() as served, connect(served.url) as session:
        await session.call_tool("helper", {"message": "one", "conversation_id": "trip"})
        await session.call_tool("reset", {"conversation_id": "trip"})
        result = await session.call_tool("helper", {"message": "two", "conversation_id": "trip"})
        assert text_of(result) == "Echo: two (turn 1)"


async def test_an_attachment_reaches_the_agent() -> None:
    image = {"data": base64.b64encode(PNG).decode(), "mimeType": "image/png", "name": "dot.png"}
    client = OfflineChatClient()
    async with (
        serving(Agent(client=client, name="helper")) as served,
        connect(served.url) as session,
    ):
        await session.call_tool("helper", {"message": "look", "attachments": [image]})
    [data] = [c for c in client.last_messages[-1].contents if c.type == "data"]
    assert (data.media_type, data.uri) == ("image/png", "data:image/png;base64," + image["data"])


async def test_an_image_in_the_reply_is_image_content() -> None:
    agent = Agent(
        client=OfflineChatClient(image=Content.from_data(data=PNG, media_type="image/png")),
        name="painter",
    )
    async with serving(agent) as served, connect(served.url) as session:
        result = await session.call_tool("painter", {"message": "draw"})
        [image] = [block for block in result.content if block.type == "image"]
        assert (base64.b64decode(image.data), image.mime_type) == (PNG, "image/png")


async def test_an_agent_calling_its_own_tools_answers_with_their_result() -> None:
    def current_time() -> str:
        """Return the time."""
        return "noon"

    agent = Agent(client=OfflineChatClient(), name="clock", tools=[current_time])
    async with serving(agent) as served, connect(served.url) as session:
        result = await session.call_tool("clock", {"message": "current_time please"})
    assert not result.is_error, text_of(result)
    assert text_of(result).endswith("Tool current_time returned: noon")


class Weather(BaseModel):
    city: str
    sunny: bool


async def test_structured_output_is_structured_content() -> None:
    def structured(result: HostedRunResult, **_: object) -> HostedRunResult:
        reply = '{"city": "Paris", "sunny": true}'
        response = AgentResponse(
            messages=[Message("assistant", [reply])], value=Weather(city="Paris", sunny=True)
        )
        return result.replace(result=cast("AgentResponse", response))

    async with serving(response_hook=structured) as served, connect(served.url) as session:
        result = await session.call_tool("helper", {"message": "weather in Paris"})
    assert result.structured_content == {"city": "Paris", "sunny": True}
    assert text_of(result) == '{"city": "Paris", "sunny": true}'


async def test_bad_arguments_are_a_tool_error_naming_the_fault() -> None:
    async with serving() as served, connect(served.url) as session:
        for arguments, fault in (
            ({}, "'message'"),
            ({"message": "hi", "colour": "red"}, "'colour'"),
            ({"message": "hi", "attachments": [{"data": "!!", "mimeType": "image/png"}]}, "base64"),
            ({"message": "hi", "conversation_id": ""}, "conversation_id"),
            ({"answers": {"x": True}, "message": "hi"}, "answers"),
        ):
            result = await session.call_tool("helper", arguments)
            assert result.is_error, arguments
            assert fault in text_of(result)


async def test_an_agent_failure_is_a_tool_error_without_internals() -> None:
    agent = offline_agent(error=RuntimeError("database password is hunter2"))
    async with serving(agent) as served, connect(served.url) as session:
        result = await session.call_tool("helper", {"message": "hi"})
        assert result.is_error
        assert "hunter2" not in text_of(result)
        assert "failed" in text_of(result)


async def test_one_channel_serves_two_hosts() -> None:
    from agent_framework_hosting import AgentFrameworkHost
    from agent_framework_hosting.testing import LoopbackServer

    channel = MCPChannel()
    hosts = [AgentFrameworkHost(offline_agent(), channels=[channel]) for _ in range(2)]
    servers = [LoopbackServer(host.app).start() for host in hosts]
    try:
        for server in servers:
            async with connect(server.base_url + "/mcp") as session:
                result = await session.call_tool("helper", {"message": "hi"})
                assert text_of(result) == "Echo: hi (turn 1)"
    finally:
        for server in servers:
            server.stop()


class CommandsOnly:
    """A channel that serves nothing and contributes one command that fails."""

    name = "commands"
    path = ""

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        async def explode(ctx: ChannelCommandContext) -> None:
            raise RuntimeError("secret detail 42")

        return ChannelContribution(commands=[ChannelCommand("explode", "Fails.", explode)])


async def test_a_failing_command_is_a_tool_error_without_internals() -> None:
    from agent_framework_hosting import AgentFrameworkHost
    from agent_framework_hosting.testing import LoopbackServer

    host = AgentFrameworkHost(offline_agent(), channels=[MCPChannel(), CommandsOnly()])
    server = LoopbackServer(host.app).start()
    try:
        async with connect(server.base_url + "/mcp") as session:
            names = [tool.name for tool in (await session.list_tools()).tools]
            result = await session.call_tool("explode", {})
    finally:
        server.stop()
    assert names == ["helper", "new", "reset", "explode"]
    assert result.is_error
    assert text_of(result) == "The explode command failed. Try again later."
