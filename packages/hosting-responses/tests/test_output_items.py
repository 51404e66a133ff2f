"""Output beyond plain text: reasoning, refusals, images and usage, streamed and not.

Every body and event is validated against the spec (the image item against the SDK's
model, as the spec leaves it to providers), and the SDK reads them in strict mode.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from agent_framework import Agent, AgentResponse, Content, Message, tool
from agent_framework_hosting import HostedRunResult
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai.types.responses import (
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseReasoningItem,
)
from openai.types.responses.response_output_item import ImageGenerationCall

from ._clients import async_sdk, id_of, post, sdk, serve, stream_events, user_item

THOUGHT = "The user greets me so I greet back"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PNG = Content.from_data(PNG_BYTES, "image/png")


@pytest.fixture
def thinking() -> Iterator[LoopbackServer]:
    with serve(reasoning=THOUGHT, image=PNG, cached_input_tokens=1) as server:
        yield server


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def item_lifecycle(events: list[dict[str, Any]], output_index: int) -> list[str]:
    """The types of the events of one output item, in order."""
    return [
        event["type"]
        for event in events
        if event.get("output_index") == output_index
        and event["type"] not in ("response.created", "response.in_progress")
    ]


# Reasoning


def test_reasoning_comes_first_as_a_reasoning_item_with_its_summary(
    thinking: LoopbackServer,
) -> None:
    response = sdk(thinking).responses.create(model="m", input="hello")
    reasoning, message, image = response.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert [part.text for part in reasoning.summary] == [THOUGHT]
    assert reasoning.id.startswith("rs_")
    assert isinstance(message, ResponseOutputMessage)
    assert response.output_text == "Echo: hello (turn 1)"
    assert isinstance(image, ImageGenerationCall)


def test_streamed_reasoning_uses_the_summary_events_in_the_spec_order(
    thinking: LoopbackServer,
) -> None:
    events = stream_events(thinking, {"input": "hello"})
    deltas = types_of(events).count("response.reasoning_summary_text.delta")
    assert deltas > 1
    assert item_lifecycle(events, 0) == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        *["response.reasoning_summary_text.delta"] * deltas,
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    summary = [e for e in events if e["type"].startswith("response.reasoning_summary")]
    assert {e["item_id"] for e in summary} == {events[2]["item"]["id"]}
    assert {e["summary_index"] for e in summary} == {0}
    text = "".join(e["delta"] for e in summary if e["type"].endswith("text.delta"))
    assert text == THOUGHT
    assert events[-1]["response"]["output"][0]["summary"] == [
        {"type": "summary_text", "text": THOUGHT}
    ]


def test_items_stream_one_after_another_with_consecutive_output_indexes(
    thinking: LoopbackServer,
) -> None:
    events = stream_events(thinking, {"input": "hello"})
    lifecycle = [
        (event["type"], event["output_index"])
        for event in events
        if event["type"] in ("response.output_item.added", "response.output_item.done")
    ]
    assert lifecycle == [
        ("response.output_item.added", 0),
        ("response.output_item.done", 0),
        ("response.output_item.added", 1),
        ("response.output_item.done", 1),
        ("response.output_item.added", 2),
        ("response.output_item.done", 2),
    ]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == events[-1]["response"]["output"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("client", ["sync", "async"])
async def test_the_sdk_stream_helper_accumulates_every_item(
    thinking: LoopbackServer, client: str
) -> None:
    if client == "sync":
        with sdk(thinking).responses.stream(model="m", input="hello") as stream:
            streamed = list(stream)
            final = stream.get_final_response()
        stored = sdk(thinking).responses.retrieve(final.id)
    else:
        async with async_sdk(thinking).responses.stream(model="m", input="hello") as stream:
            streamed = [event async for event in stream]
            final = await stream.get_final_response()
        stored = await async_sdk(thinking).responses.retrieve(final.id)
    assert "response.reasoning_summary_text.delta" in [event.type for event in streamed]
    # The text the SDK accumulated from the deltas is the final text.
    snapshots = [e.snapshot for e in streamed if e.type == "response.output_text.delta"]
    assert snapshots[-1] == final.output_text
    assert [item.type for item in final.output] == [
        "reasoning",
        "message",
        "image_generation_call",
    ]
    assert final.output_text == "Echo: hello (turn 1)"
    assert [id_of(item) for item in stored.output] == [id_of(item) for item in final.output]
    assert stored.output_text == final.output_text
    assert (stored.output[0], stored.output[2]) == (final.output[0], final.output[2])


# Refusals


def test_a_refusal_is_a_refusal_part_of_the_message() -> None:
    with serve(refusal="I cannot help with that.") as server:
        response = sdk(server).responses.create(model="m", input="something bad")
    (message,) = response.output
    assert isinstance(message, ResponseOutputMessage)
    assert message.content == [
        ResponseOutputRefusal(type="refusal", refusal="I cannot help with that.")
    ]
    assert response.output_text == ""


def test_a_streamed_refusal_uses_the_refusal_events() -> None:
    with serve(refusal="I cannot help with that.", chunks=3) as server:
        events = stream_events(server, {"input": "something bad"})
        with sdk(server).responses.stream(model="m", input="something bad") as stream:
            final = stream.get_final_response()
    assert item_lifecycle(events, 0) == [
        "response.output_item.added",
        "response.content_part.added",
        *["response.refusal.delta"] * 3,
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.refusal.delta")
    assert deltas == "I cannot help with that."
    part = next(e["part"] for e in events if e["type"] == "response.content_part.added")
    assert part == {"type": "refusal", "refusal": ""}
    message = final.output[0]
    assert isinstance(message, ResponseOutputMessage)
    assert message.content[0].type == "refusal"


def test_a_refusal_sent_back_as_input_is_kept_as_a_refusal() -> None:
    history: Any = [
        user_item("something bad"),
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        user_item("fine, hello"),
    ]
    with serve() as server:
        client = sdk(server)
        response = client.responses.create(model="m", input=history)
        items = client.responses.input_items.list(response.id, order="asc").data
    assert response.output_text == "Echo: fine, hello (turn 2)"
    assert items[1].type == "message"
    assert items[1].content[0].type == "refusal"


# Images


def test_an_image_the_agent_produced_is_an_image_generation_call_with_the_base64_result(
    thinking: LoopbackServer,
) -> None:
    image = sdk(thinking).responses.create(model="m", input="draw").output[-1]
    assert isinstance(image, ImageGenerationCall)
    assert image.status == "completed"
    assert image.output_format == "png"
    assert image.id.startswith("ig_")
    assert image.result is not None
    assert base64.b64decode(image.result) == PNG_BYTES


def test_a_streamed_image_is_announced_and_completed_with_its_events(
    thinking: LoopbackServer,
) -> None:
    events = stream_events(thinking, {"input": "draw"})
    assert item_lifecycle(events, 2) == [
        "response.output_item.added",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.completed",
        "response.output_item.done",
    ]
    added = next(
        e for e in events if e["type"] == "response.output_item.added" and e["output_index"] == 2
    )
    assert added["item"]["status"] == "in_progress"
    assert added["item"]["result"] is None


def test_an_image_by_url_has_no_place_in_the_output() -> None:
    linked = Content.from_uri("https://example.com/cat.png", media_type="image/png")
    with serve(image=linked) as server:
        response = sdk(server).responses.create(model="m", input="draw")
    assert [item.type for item in response.output] == ["message"]


# Usage


def test_usage_reports_cached_and_reasoning_tokens(thinking: LoopbackServer) -> None:
    response = sdk(thinking).responses.create(model="m", input="hello there")
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens == 2
    assert usage.input_tokens_details.cached_tokens == 1
    assert usage.output_tokens_details.reasoning_tokens == len(THOUGHT.split())
    reply_words = 5  # Echo: hello there (turn 1)
    assert usage.output_tokens == len(THOUGHT.split()) + reply_words
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_streamed_usage_is_on_the_completed_response(thinking: LoopbackServer) -> None:
    completed = stream_events(thinking, {"input": "hello there"})[-1]["response"]
    assert completed["usage"]["output_tokens_details"]["reasoning_tokens"] == len(THOUGHT.split())
    assert completed["usage"]["input_tokens_details"]["cached_tokens"] == 1


def test_without_reported_usage_the_response_has_none() -> None:
    with serve(usage=False) as server:
        plain = sdk(server).responses.create(model="m", input="hello")
        streamed = stream_events(server, {"input": "hello"})[-1]["response"]
    assert plain.usage is None
    assert streamed["usage"] is None


# Continuing from such output


def test_a_response_with_every_kind_of_item_can_be_continued_and_branched(
    thinking: LoopbackServer,
) -> None:
    client = sdk(thinking)
    first = client.responses.create(model="m", input="one")
    second = client.responses.create(model="m", input="two", previous_response_id=first.id)
    # Naming the older response again branches: its reasoning and image are replayed.
    branch = client.responses.create(model="m", input="other", previous_response_id=first.id)
    assert second.output_text == "Echo: two (turn 2)"
    assert branch.output_text == "Echo: other (turn 2)"


def test_output_sent_back_as_input_continues_the_transcript(thinking: LoopbackServer) -> None:
    client = sdk(thinking)
    first = client.responses.create(model="m", input="one")
    history: Any = [user_item("one"), *[item.to_dict() for item in first.output], user_item("two")]
    second = client.responses.create(model="m", input=history)
    items = client.responses.input_items.list(second.id, order="asc").data
    assert second.output_text == "Echo: two (turn 2)"
    assert [item.type for item in items] == [
        "message",
        "reasoning",
        "message",
        "image_generation_call",
        "message",
    ]
    # Reasoning and image items keep their ids; messages sent as input get new ones.
    assert (items[1].id, items[3].id) == (first.output[0].id, first.output[2].id)


def test_a_conversation_keeps_reasoning_and_image_items(thinking: LoopbackServer) -> None:
    client = sdk(thinking)
    conversation = client.conversations.create()
    client.responses.create(model="m", input="one", conversation=conversation.id)
    again = client.responses.create(model="m", input="two", conversation=conversation.id)
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert again.output_text == "Echo: two (turn 2)"
    assert [item.type for item in items][:4] == [
        "message",
        "reasoning",
        "message",
        "image_generation_call",
    ]


@pytest.mark.parametrize(
    ("item", "param"),
    [
        ({"type": "reasoning", "summary": "no"}, "input[0].summary"),
        ({"type": "reasoning", "summary": [{"type": "other"}]}, "input[0].summary[0]"),
        (
            {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text"}]},
            "input[0].content",
        ),
        ({"type": "image_generation_call", "status": "completed"}, "input[0].id"),
        (
            {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "!"},
            "input[0].result",
        ),
    ],
)
def test_malformed_reasoning_and_image_items_are_a_400(
    thinking: LoopbackServer, item: dict[str, Any], param: str
) -> None:
    status, body = post(thinking, "/responses", {"input": [item, user_item("x")]})
    assert status == 400
    assert body["error"]["param"] == param


# What is not output


def test_the_agents_own_tool_calls_are_not_output_items() -> None:
    @tool
    def clock() -> str:
        """Tell the time."""
        return "noon"

    agent = Agent(client=OfflineChatClient(), tools=[clock])
    with serve(agent=agent) as server:
        plain = sdk(server).responses.create(model="m", input="use clock")
        events = stream_events(server, {"input": "use clock"})
    assert [item.type for item in plain.output] == ["message"]
    assert plain.output_text == "Tool clock returned: noon"
    assert [item["type"] for item in events[-1]["response"]["output"]] == ["message"]
    assert "response.function_call_arguments.done" not in types_of(events)


def test_a_response_hook_decides_the_completed_output_and_the_last_items_close() -> None:
    def plain_text(result: HostedRunResult, **_: Any) -> HostedRunResult:
        text = result.result.text.replace("hello", "[redacted]")
        return result.replace(result=AgentResponse(messages=[Message("assistant", [text])]))

    channel = ResponsesChannel(response_hook=plain_text)
    with serve(channel, reasoning=THOUGHT) as server:
        events = stream_events(server, {"input": "hello"})
        with sdk(server).responses.stream(model="m", input="hello") as stream:
            final = stream.get_final_response()
    completed = events[-1]["response"]
    assert [item["type"] for item in completed["output"]] == ["message"]
    message_done = [e["item"] for e in events if e["type"] == "response.output_item.done"][-1]
    # The message was still open when the run ended: it closes with the final text.
    assert message_done == completed["output"][0]
    assert message_done["content"][0]["text"] == "Echo: [redacted] (turn 1)"
    assert [item.type for item in final.output] == ["message"]
