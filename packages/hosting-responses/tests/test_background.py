"""Background responses: queued at once, polled, cancelled.

Each behaviour with the SDK runs with the strict sync and async clients.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from agent_framework_hosting.testing import LoopbackServer

from ._clients import serve
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
