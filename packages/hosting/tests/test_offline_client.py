from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable
from types import SimpleNamespace
from typing import Any, TypeVar

import agent_framework_hosting.testing._offline_client as offline_module
import pytest
from agent_framework import (
    Agent,
    AgentResponse,
    ChatOptions,
    ChatResponseUpdate,
    Content,
    FunctionTool,
    Message,
    tool,
)
from agent_framework_hosting.testing import OfflineChatClient

T = TypeVar("T")


def user(*contents: Content | str) -> list[Message]:
    return [Message("user", list(contents))]


async def collect(
    client: OfflineChatClient, messages: list[Message], options: ChatOptions[None] | None = None
) -> list[ChatResponseUpdate]:
    stream = client.get_response(messages, stream=True, options=options)
    return [update async for update in stream]


async def drain(stream: AsyncIterable[T], sink: list[T]) -> None:
    async for item in stream:
        sink.append(item)


def text_updates(updates: list[ChatResponseUpdate]) -> list[str]:
    return [update.text for update in updates if update.text]


def make_tools() -> tuple[list[str], FunctionTool, FunctionTool]:
    seen: list[str] = []

    @tool(description="Report the weather in a city.")
    def get_weather(city: str) -> str:
        seen.append(city)
        return f"sunny in {city}"

    @tool(description="Tell the time.")
    def clock() -> str:
        seen.append("clock")
        return "noon"

    return seen, get_weather, clock


# Replies


async def test_echo_reply_counts_the_user_turn() -> None:
    client = OfflineChatClient()
    response = await client.get_response(user("hello there"))
    assert response.text == "Echo: hello there (turn 1)"
    assert response.messages[0].role == "assistant"
    assert response.response_id == "offline-1"


async def test_turn_is_the_number_of_user_messages_seen() -> None:
    client = OfflineChatClient()
    messages = [
        Message("user", ["one"]),
        Message("assistant", ["Echo: one (turn 1)"]),
        Message("user", ["two"]),
    ]
    response = await client.get_response(messages)
    assert response.text == "Echo: two (turn 2)"


async def test_message_without_text_is_described_by_its_contents() -> None:
    client = OfflineChatClient()
    image = Content.from_uri("https://example.com/cat.png", media_type="image/png")
    response = await client.get_response(user(image))
    assert response.text == "Echo: [image] (turn 1)"

    pdf = Content.from_data(b"%PDF-1.4", "application/pdf")
    response = await client.get_response(user(image, pdf))
    assert response.text == "Echo: [image] [file] (turn 1)"


async def test_text_wins_over_attachments() -> None:
    client = OfflineChatClient()
    image = Content.from_uri("https://example.com/cat.png", media_type="image/png")
    response = await client.get_response(user("look", image))
    assert response.text == "Echo: look (turn 1)"


async def test_usage_counts_words() -> None:
    client = OfflineChatClient()
    response = await client.get_response(user("three little words"))
    assert response.usage_details is not None
    assert response.usage_details.get("input_token_count") == 3
    # "Echo: three little words (turn 1)"
    assert response.usage_details.get("output_token_count") == 6
    assert response.usage_details.get("total_token_count") == 9


async def test_calls_and_last_messages_are_recorded() -> None:
    client = OfflineChatClient()
    assert client.calls == 0
    assert client.last_messages == []
    await client.get_response(user("first"))
    await collect(client, user("second"))
    assert client.calls == 2
    assert [message.text for message in client.last_messages] == ["second"]


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="chunks"):
        OfflineChatClient(chunks=0)
    with pytest.raises(ValueError, match="delay"):
        OfflineChatClient(delay=-1)
    with pytest.raises(ValueError, match="fail_after_updates"):
        OfflineChatClient(fail_after_updates=-1)
    with pytest.raises(ValueError, match="cached_input_tokens"):
        OfflineChatClient(cached_input_tokens=-1)


# Reasoning, refusals, images, usage


async def test_reasoning_comes_before_the_reply_with_an_id_per_call() -> None:
    client = OfflineChatClient(reasoning="Think first")
    response = await client.get_response(user("hi"))
    thought, answer = response.messages[0].contents
    assert (thought.type, thought.text, thought.id) == (
        "text_reasoning",
        "Think first",
        "rs-offline-1",
    )
    assert answer.text == "Echo: hi (turn 1)"
    assert response.usage_details is not None
    assert response.usage_details.get("reasoning_output_token_count") == 2
    # The reasoning words are output tokens too.
    assert response.usage_details.get("output_token_count") == 2 + 4


async def test_streamed_reasoning_comes_in_pieces_that_join_to_it() -> None:
    client = OfflineChatClient(reasoning="one two three four five", chunks=2)
    updates = await collect(client, user("hi"))
    pieces = [c for u in updates for c in u.contents if c.type == "text_reasoning"]
    assert [piece.text for piece in pieces] == ["one two ", "three four five"]
    assert {piece.id for piece in pieces} == {"rs-offline-1"}
    assert "".join(text_updates(updates)) == "Echo: hi (turn 1)"


async def test_reasoning_also_precedes_tool_calls() -> None:
    _, get_weather, _ = make_tools()
    client = OfflineChatClient(reasoning="Use the tool")
    response = await client.get_response(user("get_weather"), options={"tools": [get_weather]})
    kinds = [content.type for content in response.messages[0].contents]
    assert kinds == ["text_reasoning", "function_call"]


async def test_refusal_replaces_the_echo_and_is_marked_like_the_frameworks() -> None:
    client = OfflineChatClient(refusal="I won't.", image=Content.from_data(b"x", "image/png"))
    response = await client.get_response(user("do it"))
    (refusal,) = response.messages[0].contents
    assert refusal.text == "I won't."
    assert refusal.additional_properties["core"] == {"model_output_kind": "refusal"}
    assert refusal.additional_properties["model_output_kind"] == "refusal"


async def test_streamed_refusal_pieces_keep_the_mark() -> None:
    updates = await collect(OfflineChatClient(refusal="No way at all.", chunks=2), user("x"))
    pieces = [c for u in updates for c in u.contents if c.type == "text"]
    assert "".join(piece.text or "" for piece in pieces) == "No way at all."
    assert all(p.additional_properties.get("model_output_kind") == "refusal" for p in pieces)


async def test_image_ends_a_text_reply_streamed_or_not() -> None:
    image = Content.from_data(b"\x89PNG", "image/png")
    client = OfflineChatClient(image=image)
    response = await client.get_response(user("draw"))
    assert [c.type for c in response.messages[0].contents] == ["text", "data"]
    assert response.messages[0].contents[1].uri == image.uri
    updates = await collect(client, user("draw"))
    kinds = [c.type for u in updates for c in u.contents]
    assert kinds[-2:] == ["data", "usage"]


async def test_usage_can_be_switched_off_and_report_cached_tokens() -> None:
    silent = await OfflineChatClient(usage=False).get_response(user("a b"))
    assert not silent.usage_details
    updates = await collect(OfflineChatClient(usage=False), user("a b"))
    assert not any(c.type == "usage" for u in updates for c in u.contents)
    cached = await OfflineChatClient(cached_input_tokens=5).get_response(user("a b c"))
    assert cached.usage_details is not None
    # Never more than the input.
    assert cached.usage_details.get("cache_read_input_token_count") == 3


# The token limit


async def test_a_reply_over_max_tokens_is_cut_and_finishes_with_length() -> None:
    client = OfflineChatClient(image=Content.from_data(b"\x89PNG", "image/png"))
    response = await client.get_response(user("a b c d"), options={"max_tokens": 3})
    assert response.finish_reason == "length"
    assert [c.type for c in response.messages[0].contents] == ["text"]  # no image after it
    assert response.text == "Echo: a b"
    assert response.usage_details is not None
    assert response.usage_details.get("output_token_count") == 3


async def test_a_reply_within_max_tokens_is_whole() -> None:
    client = OfflineChatClient()
    response = await client.get_response(user("a b"), options={"max_tokens": 5})
    assert response.finish_reason == "stop"
    assert response.text == "Echo: a b (turn 1)"


async def test_reasoning_counts_toward_max_tokens() -> None:
    client = OfflineChatClient(reasoning="one two three")
    cut_in_reasoning = await client.get_response(user("x"), options={"max_tokens": 2})
    (thought,) = cut_in_reasoning.messages[0].contents
    assert (thought.type, thought.text) == ("text_reasoning", "one two")
    cut_in_text = await client.get_response(user("x"), options={"max_tokens": 4})
    assert [c.text for c in cut_in_text.messages[0].contents] == ["one two three", "Echo:"]


async def test_a_streamed_reply_is_cut_the_same_and_its_last_update_says_length() -> None:
    client = OfflineChatClient(chunks=2)
    updates = await collect(client, user("a b c d"), {"max_tokens": 3})
    assert "".join(text_updates(updates)) == "Echo: a b"
    assert updates[-1].finish_reason == "length"


async def test_the_agent_gets_the_cut_reply_and_its_length_finish() -> None:
    agent = Agent(client=OfflineChatClient())
    response = await agent.run("a b c d", options={"max_tokens": 2})
    assert response.text == "Echo: a"
    # Older framework versions keep a run's finish reason on the model's response only.
    raw: Any = response.raw_representation
    assert raw.finish_reason == "length"
    stream = agent.run("a b c d", options={"max_tokens": 2}, stream=True)
    final = await stream.get_final_response()
    assert (final.text, final.finish_reason) == ("Echo: a", "length")


# Streaming


async def test_stream_splits_the_reply_into_chunks() -> None:
    client = OfflineChatClient()
    messages = user("one two three four five six seven")
    updates = await collect(client, messages)
    pieces = text_updates(updates)
    assert len(pieces) == 4
    assert "".join(pieces) == "Echo: one two three four five six seven (turn 1)"
    assert all(update.role == "assistant" for update in updates)
    assert {update.message_id for update in updates} == {"msg-offline-1"}
    assert {update.response_id for update in updates} == {"offline-1"}


async def test_stream_final_response_is_the_whole_reply_with_usage() -> None:
    client = OfflineChatClient(chunks=3)
    stream = client.get_response(user("a b c d e f"), stream=True)
    updates = [update async for update in stream]
    final = await stream.get_final_response()
    assert final.text == "".join(text_updates(updates)) == "Echo: a b c d e f (turn 1)"
    assert final.usage_details is not None
    assert final.usage_details.get("input_token_count") == 6


async def test_stream_chunk_count_is_configurable_and_exact() -> None:
    client = OfflineChatClient(chunks=20)
    words = " ".join(f"w{index}" for index in range(30))
    pieces = text_updates(await collect(client, user(words)))
    assert len(pieces) == 20
    assert "".join(pieces) == f"Echo: {words} (turn 1)"


async def test_stream_keeps_whitespace_exactly() -> None:
    client = OfflineChatClient(chunks=3)
    text = "  spaced   out\ttext\n with  gaps  "
    pieces = text_updates(await collect(client, user(text)))
    assert "".join(pieces) == f"Echo: {text} (turn 1)"


async def test_short_reply_streams_in_fewer_updates() -> None:
    client = OfflineChatClient(chunks=10)
    pieces = text_updates(await collect(client, user("hi")))
    assert pieces == ["Echo: ", "hi ", "(turn ", "1)"]


# Sessions through an agent


async def test_session_continuity_shows_turn_two() -> None:
    agent = Agent(client=OfflineChatClient(), name="offline")
    session = agent.create_session()
    first = await agent.run("hello", session=session)
    second = await agent.run("again", session=session)
    assert first.text == "Echo: hello (turn 1)"
    assert second.text == "Echo: again (turn 2)"


async def test_without_a_session_every_run_is_turn_one() -> None:
    agent = Agent(client=OfflineChatClient())
    assert (await agent.run("hello")).text == "Echo: hello (turn 1)"
    assert (await agent.run("again")).text == "Echo: again (turn 1)"


async def test_agent_stream_concatenates_to_the_reply() -> None:
    agent = Agent(client=OfflineChatClient())
    session = agent.create_session()
    await agent.run("first", session=session)
    pieces = [
        update.text async for update in agent.run("second turn", session=session, stream=True)
    ]
    assert len([piece for piece in pieces if piece]) > 1
    assert "".join(pieces) == "Echo: second turn (turn 2)"


# Tools


async def test_named_tool_is_invoked_through_the_agent() -> None:
    seen, get_weather, clock = make_tools()
    client = OfflineChatClient()
    agent = Agent(client=client, tools=[get_weather, clock])
    response = await agent.run("What does GET_WEATHER say?")
    text = "What does GET_WEATHER say?"
    assert seen == [text]
    assert response.text == f"Tool get_weather returned: sunny in {text}"
    assert client.calls == 2
    call = next(
        content
        for message in response.messages
        for content in message.contents
        if content.type == "function_call"
    )
    assert call.call_id == "call_1_0"
    assert call.name == "get_weather"
    assert json.loads(str(call.arguments)) == {"city": text}


async def test_tool_without_parameters_gets_empty_arguments() -> None:
    seen, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    response = await agent.run("what does the clock say")
    assert seen == ["clock"]
    assert response.text == "Tool clock returned: noon"


async def test_every_named_tool_is_called() -> None:
    seen, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    response = await agent.run("clock and get_weather")
    assert sorted(seen) == ["clock", "clock and get_weather"]
    assert "Tool get_weather returned: sunny in clock and get_weather" in response.text
    assert "Tool clock returned: noon" in response.text


async def test_tool_name_must_be_a_whole_word() -> None:
    seen, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    response = await agent.run("clockwork get_weathers")
    assert seen == []
    assert response.text == "Echo: clockwork get_weathers (turn 1)"


async def test_tool_is_invoked_when_streaming() -> None:
    seen, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    stream = agent.run("ask the clock", stream=True)
    pieces = [update.text async for update in stream]
    final = await stream.get_final_response()
    assert seen == ["clock"]
    assert "".join(pieces) == "Tool clock returned: noon"
    assert final.text == "Tool clock returned: noon"


async def test_tool_session_keeps_counting_turns() -> None:
    _, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    session = agent.create_session()
    await agent.run("clock", session=session)
    response = await agent.run("thanks", session=session)
    assert response.text == "Echo: thanks (turn 2)"


async def test_tool_choice_none_disables_calls() -> None:
    seen, get_weather, clock = make_tools()
    agent = Agent(client=OfflineChatClient(), tools=[get_weather, clock])
    response: AgentResponse[Any] = await agent.run("clock", options={"tool_choice": "none"})
    assert seen == []
    assert response.text == "Echo: clock (turn 1)"


async def test_tool_result_is_answered_by_call_name() -> None:
    client = OfflineChatClient()
    messages = [
        Message("user", ["weather?"]),
        Message("assistant", [Content.from_function_call("c1", "get_weather", arguments="{}")]),
        Message("tool", [Content.from_function_result("c1", result="rain")]),
    ]
    response = await client.get_response(messages)
    assert response.text == "Tool get_weather returned: rain"


# Errors


async def test_error_is_raised_when_not_streaming() -> None:
    client = OfflineChatClient(error=RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        await client.get_response(user("hi"))
    with pytest.raises(RuntimeError, match="boom"):
        await client.get_response(user("hi"))
    assert client.calls == 2


async def test_error_is_raised_before_any_update_by_default() -> None:
    client = OfflineChatClient(error=RuntimeError("boom"))
    updates: list[ChatResponseUpdate] = []
    with pytest.raises(RuntimeError, match="boom"):
        await drain(client.get_response(user("a b c d e f"), stream=True), updates)
    assert updates == []


async def test_error_mid_stream_after_some_updates() -> None:
    client = OfflineChatClient(error=ValueError("mid"), fail_after_updates=2)
    updates: list[ChatResponseUpdate] = []
    with pytest.raises(ValueError, match="mid"):
        await drain(client.get_response(user("a b c d e f"), stream=True), updates)
    assert text_updates(updates) == ["Echo: a ", "b c "]


async def test_error_propagates_through_the_agent() -> None:
    agent = Agent(client=OfflineChatClient(error=RuntimeError("agent boom"), fail_after_updates=1))
    with pytest.raises(RuntimeError, match="agent boom"):
        await agent.run("hi")
    updates: list[Any] = []
    with pytest.raises(RuntimeError, match="agent boom"):
        await drain(agent.run("one two three four", stream=True), updates)
    assert [update.text for update in updates] == ["Echo: "]


# Delay


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record the client's sleeps (and the updates around them) without waiting."""
    events: list[object] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float) -> None:
        events.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(offline_module, "asyncio", SimpleNamespace(sleep=recording_sleep))
    return events


async def test_delay_is_awaited_once_per_call(sleeps: list[object]) -> None:
    client = OfflineChatClient(delay=0.25)
    response = await client.get_response(user("hi"))
    assert response.text == "Echo: hi (turn 1)"
    assert sleeps == [0.25]


async def test_delay_is_awaited_before_each_streamed_update(sleeps: list[object]) -> None:
    client = OfflineChatClient(delay=0.25, chunks=3)
    async for update in client.get_response(user("a b c d e f"), stream=True):
        sleeps.append("usage" if not update.text else "text")
    assert sleeps == [0.25, "text", 0.25, "text", 0.25, "text", "usage"]


async def test_no_delay_never_sleeps(sleeps: list[object]) -> None:
    client = OfflineChatClient()
    await client.get_response(user("hi"))
    await collect(client, user("hi"))
    assert sleeps == []


async def test_real_delay_yields_to_other_tasks() -> None:
    client = OfflineChatClient(delay=0.001)
    order: list[str] = []

    async def ask() -> None:
        await client.get_response(user("hi"))
        order.append("response")

    async def other() -> None:
        order.append("other")

    task = asyncio.create_task(ask())
    await asyncio.gather(task, other())
    assert order == ["other", "response"]
