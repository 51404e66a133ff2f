"""Runs within the host's per-principal limits: admitted before anything is stored or answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
from agent_framework import Agent, normalize_messages
from agent_framework_hosting import ApiKeyAuthenticator, ChannelRequest, RunLimits
from agent_framework_hosting.testing import OfflineChatClient

from ._agui import follow_run, post_run, run_input, serving, user_message

HOLD = "hold on"
"""A message whose run waits until it is cancelled."""
ALICE = {"Authorization": "Bearer alice-key"}


async def hold(request: ChannelRequest, **_: Any) -> ChannelRequest:
    """The run hook: a run of :data:`HOLD` waits (holding its place) until cancelled."""
    if any(HOLD in said.text for said in normalize_messages(request.input)):
        await asyncio.sleep(3600)
    return request


@asynccontextmanager
async def limited(
    on_disconnect: Literal["keep", "cancel"] = "keep",
) -> AsyncGenerator[httpx.AsyncClient]:
    """A host allowing each principal one run at once; a client of alice."""
    agent = Agent(client=OfflineChatClient(), name="limited")
    options = {
        "auth": ApiKeyAuthenticator({"alice-key": "alice"}),
        "limits": RunLimits(max_concurrent_runs=1, retry_after=7),
    }
    async with serving(agent, host_options=options, run_hook=hold, on_disconnect=on_disconnect) as (
        _,
        client,
    ):
        client.headers.update(ALICE)
        yield client


async def start_and_leave(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Start a run and leave as soon as its first event arrives."""
    async with client.stream("POST", "/ag-ui", json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                return


async def test_a_run_past_the_limit_is_a_429_run_error_with_retry_after_storing_nothing() -> None:
    async with limited() as client:
        await start_and_leave(client, run_input("held", user_message(HOLD), runId="held"))
        body = run_input("other", user_message("hi"), runId="again")
        refused = await client.post("/ag-ui", json=body)
        thread = await client.get("/ag-ui/threads/other")
        await client.post("/ag-ui/runs/held/cancel")
        admitted = await post_run(client, body)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    assert refused.json()["type"] == "RUN_ERROR"
    assert thread.status_code == 404  # no thread, and the run id is still free:
    assert admitted.status == 200, admitted.raw
    assert "Echo: hi" in admitted.text


async def test_a_run_kept_after_its_client_left_holds_its_place_until_it_ends() -> None:
    async with limited(on_disconnect="keep") as client:
        await start_and_leave(client, run_input("held", user_message(HOLD), runId="held"))
        refused = await post_run(client, run_input("other", user_message("meanwhile")))
        cancelled = await client.post("/ag-ui/runs/held/cancel")
        admitted = await post_run(client, run_input("other", user_message("now")))
    assert refused.status == 429, refused.raw
    assert cancelled.json()["cancelled"] is True
    assert admitted.status == 200, admitted.raw


async def test_a_run_cancelled_when_its_client_leaves_gives_its_place_back() -> None:
    async with limited(on_disconnect="cancel") as client:
        await start_and_leave(client, run_input("held", user_message(HOLD), runId="held"))
        ended = await follow_run(client, "held")  # waits for the cancelled run's end
        admitted = await post_run(client, run_input("other", user_message("next")))
    assert ended.types[-1] == "RUN_FINISHED", ended.raw
    assert admitted.status == 200, admitted.raw
    assert "Echo: next" in admitted.text
