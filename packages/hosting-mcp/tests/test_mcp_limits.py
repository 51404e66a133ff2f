"""Run limits: a call of the agent tool is admitted before it is answered, until its run ends."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from agent_framework_hosting import ApiKeyAuthenticator, ChannelRequest, RunLimits
from mcp.shared.exceptions import MCPError
from mcp_harness import INITIALIZE, connect, offline_agent, serving, text_of

KEYS = ApiKeyAuthenticator({"alice-key": "alice", "bob-key": "bob"})
ALICE = {"authorization": "Bearer alice-key"}
BOB = {"authorization": "Bearer bob-key"}
ONE_AT_A_TIME = {"auth": KEYS, "limits": RunLimits(max_concurrent_runs=1, retry_after=7)}
ACCEPT = {"accept": "application/json, text/event-stream"}


def call(request_id: int, tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


class FirstRunHeld:
    """A run hook holding the first run until released; the others pass."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    async def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        if not self.started.is_set():
            self.started.set()
            await asyncio.to_thread(self.release.wait, 30)
        return request


async def open_session(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> dict[str, str]:
    """A raw session's headers, after the handshake."""
    opened = await client.post(url, json=INITIALIZE, headers={**ACCEPT, **headers})
    session = {
        **ACCEPT,
        **headers,
        "mcp-session-id": opened.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await client.post(url, json=initialized, headers=session)).status_code == 202
    return session


async def test_a_call_past_the_run_limit_is_429_with_retry_after_and_a_jsonrpc_error() -> None:
    held = FirstRunHeld()
    async with (
        serving(host_options=ONE_AT_A_TIME, run_hook=held) as served,
        connect(served.url, headers=ALICE) as alice,
        httpx.AsyncClient(timeout=30) as client,
    ):
        first = asyncio.create_task(alice.call_tool("helper", {"message": "first"}))
        try:
            assert await asyncio.to_thread(held.started.wait, 30)
            session = await open_session(client, served.url, ALICE)
            refused = await client.post(
                served.url, json=call(2, "helper", message="second"), headers=session
            )
            listed = await client.post(
                served.url,
                json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
                headers=session,
            )
            command = await client.post(served.url, json=call(4, "reset"), headers=session)
        finally:
            held.release.set()
        assert text_of(await first) == "Echo: first (turn 1)"
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    error = refused.json()
    assert error["jsonrpc"] == "2.0"
    assert (
        error["error"]["message"]
        == "This caller already has 1 runs at once: retry once one has ended."
    )
    # Only runs of the target count: listing tools and running a command are served.
    assert (listed.status_code, command.status_code) == (200, 200)


async def test_the_sdk_client_reads_the_refusal_as_an_error_and_another_caller_is_served() -> None:
    held = FirstRunHeld()
    async with (
        serving(host_options=ONE_AT_A_TIME, run_hook=held) as served,
        connect(served.url, headers=ALICE) as alice,
        connect(served.url, headers=BOB) as bob,
    ):
        first = asyncio.create_task(alice.call_tool("helper", {"message": "first"}))
        try:
            assert await asyncio.to_thread(held.started.wait, 30)
            async with connect(served.url, headers=ALICE) as again:
                with pytest.raises(MCPError) as refusal:
                    await again.call_tool("helper", {"message": "second"})
            served_bob = await bob.call_tool("helper", {"message": "bob's"})
        finally:
            held.release.set()
        await first
    assert str(refusal.value) == "This caller already has 1 runs at once: retry once one has ended."
    assert text_of(served_bob) == "Echo: bob's (turn 1)"


async def test_a_failed_run_gives_its_place_back() -> None:
    async with (
        serving(offline_agent(error=RuntimeError("down")), host_options=ONE_AT_A_TIME) as served,
        connect(served.url, headers=ALICE) as alice,
    ):
        results = [await alice.call_tool("helper", {"message": "hi"}) for _ in range(2)]
    assert [bool(result.is_error) for result in results] == [True, True]
    assert [text_of(result) for result in results] == [
        "The agent failed to answer this call. Try again later."
    ] * 2


async def test_a_call_the_server_refuses_before_it_runs_gives_its_place_back() -> None:
    async with (
        serving(host_options=ONE_AT_A_TIME) as served,
        httpx.AsyncClient(timeout=30) as client,
    ):
        # Without a session the server answers the call itself, before any run.
        sessionless = await client.post(
            served.url, json=call(1, "helper", message="hi"), headers={**ACCEPT, **ALICE}
        )
        async with connect(served.url, headers=ALICE) as alice:
            result = await alice.call_tool("helper", {"message": "hi"})
    assert sessionless.status_code == 400
    assert text_of(result) == "Echo: hi (turn 1)"
