"""What a run streams, read as the protocol's typed events: order, tools, reasoning, state."""

from __future__ import annotations

from typing import Any

from ag_ui.core import (
    MessagesSnapshotEvent,
    RunStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    TextMessageStartEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from agent_framework import Agent, tool
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_ag_ui import shared_state

from ._agui import post_run, run_input, serving, user_message


def agent(**options: Any) -> Agent:
    return Agent(client=OfflineChatClient(**options), name="events", tools=[current_time, count])


@tool
def current_time() -> str:
    """Report the time."""
    return "noon"


@tool
def count() -> str:
    """Count one more in the thread's shared state."""
    state = shared_state()
    state["count"] = state.get("count", 0) + 1
    return f"count is {state['count']}"


async def test_a_turn_streams_its_text_between_run_started_and_run_finished() -> None:
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("hello")))
    assert answer.types == [
        "RUN_STARTED",
        "STATE_SNAPSHOT",
        "TEXT_MESSAGE_START",
        *["TEXT_MESSAGE_CONTENT"] * 4,
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    assert answer.text == "Echo: hello (turn 1)"


async def test_every_event_has_an_id_counting_from_zero() -> None:
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("hello")))
    assert answer.ids == list(range(len(answer.events)))


async def test_run_started_echoes_the_messages_the_run_adds() -> None:
    sent = user_message("hello")
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", sent, runId="run-1"))
    [started] = answer.of(RunStartedEvent)
    assert (started.thread_id, started.run_id) == ("t", "run-1")
    assert started.input is not None
    assert [message.id for message in started.input.messages] == [sent["id"]]


async def test_a_thread_continues_from_its_earlier_turns_with_only_new_messages_run() -> None:
    first, second = user_message("one"), user_message("two")
    async with serving(agent()) as (_, client):
        await post_run(client, run_input("t", first))
        # The client sends the whole thread again; only what it adds runs.
        answer = await post_run(client, run_input("t", first, second))
    assert answer.text == "Echo: two (turn 2)"


async def test_an_agent_tool_call_streams_its_call_and_its_result_before_the_text() -> None:
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("current_time please")))
    assert answer.types[2:7] == [
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "TEXT_MESSAGE_START",
    ]
    [start] = answer.of(ToolCallStartEvent)
    [result] = answer.of(ToolCallResultEvent)
    assert start.tool_call_name == "current_time"
    assert (result.tool_call_id, result.content) == (start.tool_call_id, "noon")
    assert answer.text == "Tool current_time returned: noon"


async def test_message_ids_are_new_in_every_run() -> None:
    async with serving(agent()) as (_, client):
        first = await post_run(client, run_input("a", user_message("one")))
        second = await post_run(client, run_input("b", user_message("two")))
    ids = {
        e.message_id
        for e in [*first.events, *second.events]
        if isinstance(e, TextMessageStartEvent)
    }
    assert len(ids) == 2


async def test_reasoning_streams_as_a_reasoning_message_before_the_text() -> None:
    async with serving(agent(reasoning="Let me think.")) as (_, client):
        answer = await post_run(client, run_input("t", user_message("hi")))
    reasoning = [t for t in answer.types if t.startswith("REASONING")]
    assert reasoning[:2] == ["REASONING_START", "REASONING_MESSAGE_START"]
    assert reasoning[-2:] == ["REASONING_MESSAGE_END", "REASONING_END"]
    assert answer.types.index("REASONING_END") < answer.types.index("TEXT_MESSAGE_START")


async def test_a_tool_changing_the_shared_state_streams_a_state_delta() -> None:
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("count"), state={"count": 4}))
    [snapshot] = answer.of(StateSnapshotEvent)
    [delta] = answer.of(StateDeltaEvent)
    assert snapshot.snapshot == {"count": 4}
    assert [op.model_dump(by_alias=True) for op in delta.delta] == [
        {"op": "replace", "path": "/count", "value": 5}
    ]


async def test_the_thread_keeps_the_state_its_last_run_ended_with() -> None:
    async with serving(agent()) as (_, client):
        await post_run(client, run_input("t", user_message("count"), state={"count": 1}))
        answer = await post_run(client, run_input("t", user_message("count again")))
        thread = (await client.get("/ag-ui/threads/t")).json()
    [snapshot] = answer.of(StateSnapshotEvent)
    assert snapshot.snapshot == {"count": 2}
    assert thread["state"] == {"count": 3}


async def test_a_thread_gives_back_its_history_in_the_protocols_message_shape() -> None:
    sent = user_message("current_time please")
    async with serving(agent()) as (_, client):
        await post_run(client, run_input("t", sent))
        thread = (await client.get("/ag-ui/threads/t")).json()
    roles = [message["role"] for message in thread["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert thread["messages"][0] == sent
    assert thread["messages"][-1]["content"] == "Tool current_time returned: noon"
    assert thread["title"] == "current_time please"
    MessagesSnapshotEvent.model_validate({"messages": thread["messages"]})


async def test_threads_are_listed_newest_first() -> None:
    async with serving(agent()) as (_, client):
        await post_run(client, run_input("older", user_message("first")))
        await post_run(client, run_input("newer", user_message("second")))
        listed = (await client.get("/ag-ui/threads")).json()["threads"]
    assert [thread["threadId"] for thread in listed] == ["newer", "older"]


async def test_a_deleted_thread_is_gone_and_its_id_starts_afresh() -> None:
    async with serving(agent()) as (_, client):
        await post_run(client, run_input("t", user_message("one")))
        deleted = await client.delete("/ag-ui/threads/t")
        missing = await client.get("/ag-ui/threads/t")
        again = await post_run(client, run_input("t", user_message("two")))
    assert deleted.json() == {"threadId": "t", "deleted": True}
    assert missing.status_code == 404
    assert again.text == "Echo: two (turn 1)"


async def test_an_image_reaches_the_agent() -> None:
    image = {
        "type": "image",
        "source": {"type": "data", "value": "iVBORw0KGgo=", "mimeType": "image/png"},
    }
    message = {"id": "m", "role": "user", "content": [image]}
    async with serving(agent()) as (_, client):
        answer = await post_run(client, run_input("t", message))
    assert answer.text == "Echo: [image] (turn 1)"
