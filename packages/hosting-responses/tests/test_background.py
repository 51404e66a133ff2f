"""Background responses: queued at once, polled, cancelled.

Each behaviour with the SDK runs with the strict sync and async clients.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import (
    AgentFrameworkHost,
    ChannelContext,
    ChannelContribution,
    ChannelRequest,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai.types.responses import ResponseCreatedEvent, ResponseIncompleteEvent

from ._clients import sdk, serve
from ._sync_and_async import client_of, done, sync_and_async, wait_for


@pytest.fixture
def slow() -> Iterator[LoopbackServer]:
    with serve(delay=0.5) as server:
        yield server


@sync_and_async
async def test_a_background_response_is_queued_then_completes(kind: str) -> None:
    with serve(delay=0.05) as server:
        client = client_of(kind, server)
        queued = await done(client.responses.create(model="m", input="later", background=True))
        assert queued.status == "queued"
        assert queued.background is True
        completed = await wait_for(client, queued.id, {"completed"})
        assert completed.output_text == "Echo: later (turn 1)"


@sync_and_async
async def test_cancelling_a_running_response_stops_it(slow: LoopbackServer, kind: str) -> None:
    client = client_of(kind, slow)
    queued = await done(client.responses.create(model="m", input="too slow", background=True))
    cancelled = await done(client.responses.cancel(queued.id))
    assert cancelled.status == "cancelled"
    assert (await done(client.responses.retrieve(queued.id))).status == "cancelled"


@sync_and_async
async def test_cancelling_a_finished_response_returns_it_unchanged(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        queued = await done(client.responses.create(model="m", input="quick", background=True))
        finished = await wait_for(client, queued.id, {"completed"})
        again = await done(client.responses.cancel(queued.id))
        assert again.status == "completed"
        assert again.output_text == finished.output_text


@sync_and_async
async def test_a_foreground_response_cannot_be_cancelled(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        created = await done(client.responses.create(model="m", input="now"))
        with pytest.raises(openai.BadRequestError):
            await done(client.responses.cancel(created.id))


def test_an_unstored_background_response_is_400() -> None:
    with serve() as server:
        url = f"{server.base_url}/responses"
        unstored = httpx.post(url, json={"input": "x", "background": True, "store": False})
    assert unstored.status_code == 400
    assert unstored.json()["error"]["param"] == "store"


@sync_and_async
async def test_a_failing_background_run_ends_failed_without_internals(kind: str) -> None:
    with serve(error=RuntimeError("hunter2")) as server:
        client = client_of(kind, server)
        queued = await done(client.responses.create(model="m", input="x", background=True))
        failed = await wait_for(client, queued.id, {"failed"})
        assert failed.error is not None
        assert "hunter2" not in failed.error.message


class Endless:
    """A run hook that never lets a run go on: only a cancel ends it, noted in ``stops``."""

    def __init__(self, stops: list[str]) -> None:
        self.entered = threading.Event()
        self._stops = stops

    async def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        finally:
            self._stops.append("the run")
        return request


class LastToStop:
    """A channel listed first, so the host stops it last; it notes when it stops."""

    name = "last"
    path = "/last"

    def __init__(self, stops: list[str]) -> None:
        self._stops = stops

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        return ChannelContribution(on_shutdown=[self.stop])

    async def stop(self) -> None:
        self._stops.append("the host's last channel")


def stopping_host(state_dir: Path, stops: list[str], endless: Endless) -> LoopbackServer:
    """A host whose runs never end by themselves, noting in ``stops`` what stops when."""
    channels = [LastToStop(stops), ResponsesChannel(run_hook=endless)]
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=channels, state_dir=state_dir
    )
    return LoopbackServer(host.app)


def test_a_host_shutting_down_cancels_its_background_runs(tmp_path: Path) -> None:
    stops: list[str] = []
    endless = Endless(stops)
    with stopping_host(tmp_path, stops, endless) as server:
        running = sdk(server).responses.create(model="m", input="x", background=True)
        assert endless.entered.wait(30)
    # The host stopped with the run in flight; another over the same state reads it.
    with serve(state_dir=tmp_path) as server:
        stored = sdk(server).responses.retrieve(running.id)
    assert stops == ["the run", "the host's last channel"]  # cancelled by the shutdown
    assert stored.status == "cancelled"


def test_a_host_shutting_down_ends_the_logs_of_its_background_streams(tmp_path: Path) -> None:
    stops: list[str] = []
    endless = Endless(stops)
    with stopping_host(tmp_path, stops, endless) as server:
        client = sdk(server)
        with client.responses.create(model="m", input="x", background=True, stream=True) as live:
            created = next(iter(live))
            assert isinstance(created, ResponseCreatedEvent)
            assert endless.entered.wait(30)
    with serve(state_dir=tmp_path) as server:
        log = list(sdk(server).responses.retrieve(created.response.id, stream=True))
    assert stops == ["the run", "the host's last channel"]
    assert isinstance(log[-1], ResponseIncompleteEvent)
    assert log[-1].response.status == "cancelled"
