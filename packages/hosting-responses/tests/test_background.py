"""Background responses: queued at once, polled, cancelled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI
from openai.types.responses import Response

from ._schema import validate_response


def serve(**client: Any) -> LoopbackServer:
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient(**client)), channels=[ResponsesChannel()]
    )
    return LoopbackServer(host.app)


def sdk(server: LoopbackServer) -> OpenAI:
    return OpenAI(
        base_url=server.base_url, api_key="k", max_retries=0, _strict_response_validation=True
    )


def wait_for(client: OpenAI, response_id: str, statuses: set[str]) -> Response:
    for _ in range(500):
        response = client.responses.retrieve(response_id)
        if response.status in statuses:
            return response
        time.sleep(0.01)
    raise AssertionError(f"{response_id} never reached {statuses}")


@pytest.fixture
def slow() -> Iterator[LoopbackServer]:
    with serve(delay=0.5) as server:
        yield server


def test_a_background_response_is_queued_then_completes() -> None:
    with serve(delay=0.05) as server:
        client = sdk(server)
        queued = client.responses.create(model="m", input="later", background=True)
        assert queued.status == "queued"
        assert queued.background is True
        done = wait_for(client, queued.id, {"completed"})
        assert done.output_text == "Echo: later (turn 1)"
        validate_response(httpx.get(f"{server.base_url}/responses/{queued.id}").json())


def test_cancelling_a_running_response_stops_it(slow: LoopbackServer) -> None:
    client = sdk(slow)
    queued = client.responses.create(model="m", input="too slow", background=True)
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(queued.id).status == "cancelled"


def test_cancelling_a_finished_response_returns_it_unchanged() -> None:
    with serve() as server:
        client = sdk(server)
        queued = client.responses.create(model="m", input="quick", background=True)
        done = wait_for(client, queued.id, {"completed"})
        assert client.responses.cancel(queued.id).status == "completed"
        assert client.responses.cancel(done.id).output_text == done.output_text


def test_a_foreground_response_cannot_be_cancelled() -> None:
    with serve() as server:
        client = sdk(server)
        created = client.responses.create(model="m", input="now")
        with pytest.raises(openai.BadRequestError):
            client.responses.cancel(created.id)


def test_an_unstored_background_response_is_400() -> None:
    with serve() as server:
        url = f"{server.base_url}/responses"
        unstored = httpx.post(url, json={"input": "x", "background": True, "store": False})
    assert unstored.status_code == 400
    assert unstored.json()["error"]["param"] == "store"


def test_a_failing_background_run_ends_failed_without_internals() -> None:
    with serve(error=RuntimeError("hunter2")) as server:
        client = sdk(server)
        queued = client.responses.create(model="m", input="x", background=True)
        failed = wait_for(client, queued.id, {"failed"})
        assert failed.error is not None
        assert "hunter2" not in failed.error.message
