"""A run's log in the state store: bounded past ``max_log_events``, replayed intact."""

from __future__ import annotations

import asyncio
import threading

import pytest
from ag_ui.core import TextMessageContentEvent
from agent_framework import Agent, AgentResponseUpdate
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_ag_ui import AGUIChannel

from ._agui import follow_run, post_run, run_input, serving, user_message

TEXT = "a reply long enough to pass the log's cap many times over"


def test_max_log_events_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_log_events"):
        AGUIChannel(max_log_events=0)


async def test_a_long_run_s_log_stays_bounded_and_a_reconnect_gets_the_whole_text() -> None:
    cap = 5
    agent = Agent(client=OfflineChatClient(chunk_chars=1), name="chatty")
    async with serving(agent, max_log_events=cap) as (_, client):
        live = await post_run(client, run_input("t", user_message(TEXT), runId="run-1"))
        replay = await follow_run(client, "run-1")
    expected = f"Echo: {TEXT} (turn 1)"
    assert live.text == replay.text == expected
    assert replay.types == live.types
    assert replay.types[-1] == "RUN_FINISHED"
    # Past the cap, the rest of the text is one delta; every other event is still there.
    past_cap = replay.events[cap:]
    assert len([e for e in past_cap if isinstance(e, TextMessageContentEvent)]) == 1
    assert len(replay.events) <= cap + 3  # the cap, the merged rest, the two ends


def test_run_ttl_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="run_ttl_seconds"):
        AGUIChannel(run_ttl_seconds=0)


async def test_an_ended_run_expires_after_run_ttl_seconds_and_its_thread_stays() -> None:
    agent = Agent(client=OfflineChatClient(), name="quick")
    async with serving(agent, run_ttl_seconds=1.0) as (_, client):
        await post_run(client, run_input("t", user_message("hello"), runId="run-1"))
        kept = await follow_run(client, "run-1")
        await asyncio.sleep(1.5)
        gone = await client.get("/ag-ui/runs/run-1")
        thread = (await client.get("/ag-ui/threads/t")).json()
    assert kept.text == "Echo: hello (turn 1)"
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert thread["messages"][-1]["content"] == "Echo: hello (turn 1)"


async def test_deleting_a_thread_deletes_its_runs_logs() -> None:
    agent = Agent(client=OfflineChatClient(), name="quick")
    async with serving(agent, run_ttl_seconds=None) as (host, client):
        await post_run(client, run_input("t", user_message("one"), runId="run-1"))
        await post_run(client, run_input("t", user_message("two"), runId="run-2"))
        await post_run(client, run_input("other", user_message("three"), runId="run-3"))
        deleted = await client.delete("/ag-ui/threads/t")
        gone = [await client.get(f"/ag-ui/runs/{run}") for run in ("run-1", "run-2")]
        kept = await follow_run(client, "run-3")
        keys = list(host.state_store._data)  # type: ignore[attr-defined]
    assert deleted.status_code == 200
    assert [response.status_code for response in gone] == [404, 404]
    assert gone[0].json() == {
        "type": "RUN_ERROR",
        "message": "No run 'run-1'.",
        "code": "not_found",
    }
    assert kept.text == "Echo: three (turn 1)"
    assert not [key for key in keys if "run-1" in key or "run-2" in key]


async def test_deleting_a_thread_stops_its_run_in_progress_and_deletes_its_log() -> None:
    release = threading.Event()
    updates = 0

    async def hold(update: AgentResponseUpdate) -> AgentResponseUpdate:
        nonlocal updates
        updates += 1
        if updates == 2:
            await asyncio.to_thread(release.wait)  # the run goes on until it is stopped
        return update

    agent = Agent(client=OfflineChatClient(chunks=8), name="held")
    try:
        async with serving(agent, stream_update_hook=hold) as (_, client):
            body = run_input("t", user_message("one two three four"), runId="run-1")
            async with client.stream("POST", "/ag-ui", json=body) as response:
                async for line in response.aiter_lines():
                    if "TEXT_MESSAGE_CONTENT" in line:
                        break  # the run is held after its first delta
            running = (await client.get("/ag-ui/threads/t")).json()["runIds"]
            deleted = await client.delete("/ag-ui/threads/t")
            gone = await client.get("/ag-ui/runs/run-1")
            cancelled = await client.post("/ag-ui/runs/run-1/cancel")
            release.set()  # the worker thread the hook waited in ends before the host stops
    finally:
        release.set()
    assert running == ["run-1"]
    assert deleted.status_code == 200
    assert (gone.status_code, cancelled.status_code) == (404, 404)
    assert gone.json()["type"] == "RUN_ERROR"
