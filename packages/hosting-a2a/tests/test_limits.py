"""Runs within the host's per-principal limits: every task run is admitted before it is stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from a2a_harness import Served, serving
from agent_framework import normalize_messages
from agent_framework_hosting import ApiKeyAuthenticator, ChannelRequest, RunLimits
from agent_framework_hosting_a2a import A2AChannel

KEYS = {"alice-key": "alice", "bob-key": "bob"}
HOLD = "hold on"
"""A message whose run waits until it is cancelled."""


async def hold(request: ChannelRequest, **_: Any) -> ChannelRequest:
    """The run hook: a run of :data:`HOLD` waits (holding its place) until cancelled."""
    if any(HOLD in said.text for said in normalize_messages(request.input)):
        await asyncio.sleep(3600)
    return request


@asynccontextmanager
async def limited(**limits: Any) -> AsyncGenerator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A host with the holding channel and ``limits``; clients of alice and bob."""
    host = serving(
        channel=A2AChannel(run_hook=hold),
        auth=ApiKeyAuthenticator(KEYS),
        limits=RunLimits(retry_after=7, **limits),
    )
    async with (
        host as served,
        client(served, "alice-key") as alice,
        client(served, "bob-key") as bob,
    ):
        yield alice, bob


def client(served: Served, key: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}", "A2A-Version": "1.0"}
    return httpx.AsyncClient(base_url=served.base_url, headers=headers, timeout=30)


def message(text: str, **configuration: Any) -> dict[str, Any]:
    said = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"text": text}]}
    return {"message": said, "configuration": configuration}


def rpc(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": "call-1", "method": method, "params": params}


async def send_rpc(http: httpx.AsyncClient, text: str, **configuration: Any) -> httpx.Response:
    return await http.post("/a2a", json=rpc("SendMessage", message(text, **configuration)))


async def send_rest(http: httpx.AsyncClient, text: str, **configuration: Any) -> httpx.Response:
    return await http.post("/a2a/message:send", json=message(text, **configuration))


def task_of(answer: httpx.Response) -> dict[str, Any]:
    """The task a send answered with, in either transport's shape."""
    body = answer.json()
    return body.get("result", body)["task"]


async def task_ids(http: httpx.AsyncClient) -> list[str]:
    listed = await http.get("/a2a/tasks")
    return [task["id"] for task in listed.json()["tasks"]]


async def cancel(http: httpx.AsyncClient, task_id: str) -> str:
    cancelled = await http.post(f"/a2a/tasks/{task_id}:cancel")
    return cancelled.json()["status"]["state"]


async def test_a_refused_json_rpc_call_is_429_with_retry_after_and_the_callers_id() -> None:
    async with limited(max_background_runs=1) as (alice, _):
        first = await send_rpc(alice, HOLD, returnImmediately=True)
        refused = await send_rpc(alice, "one more", returnImmediately=True)
    assert first.status_code == 200, first.text
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    body = refused.json()
    assert (body["jsonrpc"], body["id"], body["error"]["code"]) == ("2.0", "call-1", -32000)
    assert body["error"]["data"][0]["reason"] == "RUN_LIMIT_REACHED"


async def test_a_refused_rest_call_is_429_with_retry_after_in_the_rest_shape() -> None:
    async with limited(max_background_runs=1) as (alice, _):
        await send_rest(alice, HOLD, returnImmediately=True)
        refused = await send_rest(alice, "one more", returnImmediately=True)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    error = refused.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["reason"] == "RUN_LIMIT_REACHED"


@pytest.mark.parametrize("send", [send_rpc, send_rest])
async def test_a_background_task_counts_against_background_runs_until_it_settles(
    send: Any,
) -> None:
    async with limited(max_background_runs=1, max_concurrent_runs=1) as (alice, bob):
        first = await send(alice, HOLD, returnImmediately=True)
        task_id = task_of(first)["id"]
        refused = await send(alice, "in the background too", returnImmediately=True)
        waited_on = await send(alice, "while I wait")
        others = await send(bob, "bob's", returnImmediately=True)
        stored = await task_ids(alice)
        assert await cancel(alice, task_id) == "TASK_STATE_CANCELED"
        again = await send(alice, "after it settled", returnImmediately=True)
    assert refused.status_code == 429, refused.text
    assert waited_on.status_code == 200, waited_on.text
    assert others.status_code == 200, others.text
    assert len(stored) == 2  # the held task and the one waited on: nothing of the refused
    assert again.status_code == 200, again.text


async def test_a_streamed_task_holds_its_place_after_its_client_leaves_until_it_ends() -> None:
    call = rpc("SendStreamingMessage", message(HOLD))
    async with limited(max_concurrent_runs=1) as (alice, _):
        async with alice.stream("POST", "/a2a", json=call) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    break  # the task's first event: leave
        [task_id] = await task_ids(alice)
        refused = await send_rpc(alice, "meanwhile")
        assert await cancel(alice, task_id) == "TASK_STATE_CANCELED"
        again = await send_rpc(alice, "once it ended")
    assert refused.status_code == 429, refused.text
    assert again.status_code == 200, again.text
    assert again.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
