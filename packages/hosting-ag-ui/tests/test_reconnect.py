"""Runs outlive their request: followed again after a drop, from where the client left off."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from ag_ui.core import RunFinishedCancelledOutcome, RunFinishedSuccessOutcome
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

from ._agui import follow_run, parse_sse, run_input, serving, user_message

WORDS = " ".join(f"w{n}" for n in range(40))


def slow_agent() -> Agent:
    return Agent(client=OfflineChatClient(delay=0.05, chunks=40), name="slow")


async def read_some(client: httpx.AsyncClient, body: dict[str, Any], events: int) -> str:
    """Start a run and leave after ``events`` events: what arrived until then."""
    received = ""
    async with client.stream("POST", "/ag-ui", json=body) as response:
        async for chunk in response.aiter_text():
            received += chunk
            if received.count("\n\n") >= events:
                break
    return received[: received.rfind("\n\n") + 2]


async def test_a_reconnect_after_the_last_event_id_misses_nothing_and_repeats_nothing() -> None:
    body = run_input("t", user_message(WORDS), runId="run-1")
    async with serving(slow_agent()) as (_, client):
        first, first_ids = parse_sse(await read_some(client, body, 5))
        rest = await follow_run(client, "run-1", after=first_ids[-1])
    ids = first_ids + rest.ids
    assert ids == list(range(len(ids)))
    text = "".join(
        getattr(e, "delta", "")
        for e in [*first, *rest.events]
        if e.type.value == "TEXT_MESSAGE_CONTENT"
    )
    assert text == f"Echo: {WORDS} (turn 1)"
    assert isinstance(rest.finished.outcome, RunFinishedSuccessOutcome)


async def test_a_reconnect_without_an_id_replays_the_run_from_its_start() -> None:
    body = run_input("t", user_message("hello"), runId="run-1")
    async with serving(slow_agent()) as (_, client):
        await read_some(client, body, 3)
        replay = await follow_run(client, "run-1")
    assert replay.types[0] == "RUN_STARTED"
    assert replay.text == "Echo: hello (turn 1)"


async def test_a_run_goes_on_when_its_client_leaves() -> None:
    body = run_input("t", user_message(WORDS), runId="run-1")
    async with serving(slow_agent()) as (_, client):
        await read_some(client, body, 3)
        await follow_run(client, "run-1", after=0)  # waits for the end
        thread = (await client.get("/ag-ui/threads/t")).json()
    assert thread["runIds"] == []
    assert thread["messages"][-1]["content"] == f"Echo: {WORDS} (turn 1)"


async def test_a_thread_names_its_run_in_progress_so_a_reloaded_page_can_follow_it() -> None:
    body = run_input("t", user_message(WORDS), runId="run-1")
    async with serving(slow_agent()) as (_, client):
        await read_some(client, body, 3)
        thread = (await client.get("/ag-ui/threads/t")).json()
        await follow_run(client, "run-1")
    assert thread["runIds"] == ["run-1"]


async def test_with_cancel_on_disconnect_a_run_stops_when_its_client_leaves() -> None:
    body = run_input("t", user_message(WORDS), runId="run-1")
    async with serving(slow_agent(), on_disconnect="cancel") as (_, client):
        await read_some(client, body, 3)
        replay = await follow_run(client, "run-1")
    assert isinstance(replay.finished.outcome, RunFinishedCancelledOutcome)
    assert len(replay.text) < len(f"Echo: {WORDS} (turn 1)")


async def test_cancel_stops_a_run_and_its_followers_see_it_end_cancelled() -> None:
    body = run_input("t", user_message(WORDS), runId="run-1")
    async with serving(slow_agent()) as (_, client):
        await read_some(client, body, 3)
        following = asyncio.ensure_future(follow_run(client, "run-1"))
        cancelled = await client.post("/ag-ui/runs/run-1/cancel")
        replay = await following
        again = await client.post("/ag-ui/runs/run-1/cancel")
    assert cancelled.json() == {"runId": "run-1", "cancelled": True}
    assert isinstance(replay.finished.outcome, RunFinishedCancelledOutcome)
    assert again.json() == {"runId": "run-1", "cancelled": False}


async def test_a_run_id_used_before_is_a_conflict() -> None:
    async with serving(slow_agent()) as (_, client):
        first = await client.post("/ag-ui", json=run_input("t", user_message("a"), runId="same"))
        second = await client.post("/ag-ui", json=run_input("t", user_message("b"), runId="same"))
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["type"] == "RUN_ERROR"


async def test_an_unknown_run_is_not_found() -> None:
    async with serving(slow_agent()) as (_, client):
        followed = await client.get("/ag-ui/runs/nope")
        cancelled = await client.post("/ag-ui/runs/nope/cancel")
    assert (followed.status_code, cancelled.status_code) == (404, 404)
    assert followed.json() == {
        "type": "RUN_ERROR",
        "message": "No run 'nope'.",
        "code": "not_found",
    }
