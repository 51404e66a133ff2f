"""Authentication on the Responses channel: bearer keys as the SDK sends them, 401, 403, 429.

Every answer the SDK reads is validated against the spec by the clients of :mod:`._clients`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import (
    AgentFrameworkHost,
    ApiKeyAuthenticator,
    ChannelRequest,
    Principal,
    RunLimits,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from websockets.exceptions import InvalidStatus

from ._clients import completed, connect, refusal, sdk, serve, settled, turn
from ._schema import validate_body

KEYS = {
    "key-alice": "alice",
    "key-bob": "bob",
    "key-writer": Principal("writer", scopes=frozenset({"responses"})),
}


def keyed(**options: Any) -> LoopbackServer:
    return serve(auth=ApiKeyAuthenticator(KEYS), **options)


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with keyed() as running:
        yield running


def refused_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    validate_body(response.json())
    assert response.json()["error"]["code"] == "invalid_api_key"


ENDPOINTS = [
    ("POST", "/responses", {"model": "m", "input": "hi"}),
    ("POST", "/v1/responses", {"model": "m", "input": "hi"}),
    ("GET", "/responses/resp_x", None),
    ("GET", "/responses/resp_x?stream=true", None),
    ("DELETE", "/responses/resp_x", None),
    ("GET", "/responses/resp_x/input_items", None),
    ("POST", "/responses/resp_x/cancel", None),
    ("POST", "/responses/compact", {"model": "m", "input": "hi"}),
    ("POST", "/conversations", {}),
    ("GET", "/conversations/conv_x", None),
    ("POST", "/conversations/conv_x", {"metadata": {}}),
    ("DELETE", "/conversations/conv_x", None),
    ("GET", "/conversations/conv_x/items", None),
    ("POST", "/conversations/conv_x/items", {"items": []}),
    ("GET", "/conversations/conv_x/items/msg_x", None),
    ("DELETE", "/conversations/conv_x/items/msg_x", None),
    ("GET", "/models", None),
    ("GET", "/models/m", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_answers_a_call_without_a_key_401(
    server: LoopbackServer, method: str, path: str, body: Any
) -> None:
    refused_401(httpx.request(method, server.base_url + path, json=body))


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_answers_a_wrong_key_401(
    server: LoopbackServer, method: str, path: str, body: Any
) -> None:
    headers = {"Authorization": "Bearer key-mallory"}
    refused_401(httpx.request(method, server.base_url + path, json=body, headers=headers))


@pytest.mark.parametrize("path", ["/readiness", "/", "/responses/openapi.json"])
def test_the_host_routes_and_the_api_document_stay_open(server: LoopbackServer, path: str) -> None:
    assert httpx.get(server.base_url + path).status_code == 200


def test_the_sdk_with_a_wrong_key_gets_an_authentication_error(server: LoopbackServer) -> None:
    with pytest.raises(openai.AuthenticationError) as error:
        sdk(server, api_key="key-mallory").responses.create(model="m", input="hi")
    assert error.value.code == "invalid_api_key"


def test_the_sdk_with_a_key_is_served(server: LoopbackServer) -> None:
    response = sdk(server, api_key="key-alice").responses.create(model="m", input="hi")
    assert response.output_text == "Echo: hi (turn 1)"


def test_a_streamed_call_without_a_key_is_refused_before_any_event(
    server: LoopbackServer,
) -> None:
    body = {"model": "m", "input": "hi", "stream": True}
    refused_401(httpx.post(f"{server.base_url}/responses", json=body))


def test_a_websocket_handshake_without_a_valid_key_is_refused_with_a_401(
    server: LoopbackServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused, connect(server, api_key="key-mallory"):
        pass
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    with connect(server, api_key="key-alice") as connection:
        connection.response.create(model="m", input="hi")
        assert completed(turn(connection)).output_text == "Echo: hi (turn 1)"


@pytest.fixture(scope="module")
def scoped() -> Iterator[LoopbackServer]:
    with keyed(channel=ResponsesChannel(required_scopes={"responses"})) as running:
        yield running


def test_a_principal_without_a_required_scope_gets_a_403(scoped: LoopbackServer) -> None:
    with pytest.raises(openai.PermissionDeniedError) as error:
        sdk(scoped, api_key="key-alice").responses.create(model="m", input="hi")
    assert error.value.code == "insufficient_permissions"
    assert "responses" in error.value.message


def test_a_principal_with_the_required_scope_is_served(scoped: LoopbackServer) -> None:
    response = sdk(scoped, api_key="key-writer").responses.create(model="m", input="hi")
    assert response.status == "completed"


def test_a_websocket_handshake_without_a_required_scope_is_refused_with_a_403(
    scoped: LoopbackServer,
) -> None:
    with pytest.raises(InvalidStatus) as refused, connect(scoped, api_key="key-alice"):
        pass
    assert refused.value.response.status_code == 403


def test_required_scopes_without_an_authenticator_is_a_configuration_error() -> None:
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=[ResponsesChannel(required_scopes={"x"})]
    )
    with pytest.raises(ValueError, match="authenticator"):
        assert host.app


def test_a_channel_authenticator_replaces_the_host_one() -> None:
    channel = ResponsesChannel(auth=ApiKeyAuthenticator({"channel-key": "carol"}))
    with serve(channel, auth=ApiKeyAuthenticator(KEYS)) as running:
        assert sdk(running, api_key="channel-key").responses.create(model="m", input="x")
        with pytest.raises(openai.AuthenticationError):
            sdk(running, api_key="key-alice").responses.create(model="m", input="x")


class Gate:
    """A run hook holding the first run until released (no timing involved)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.runs = 0

    async def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        import asyncio

        self.runs += 1
        if self.runs == 1:
            self.started.set()
            await asyncio.to_thread(self.release.wait, 30)
        return request


def test_background_runs_past_the_limit_are_a_429_with_retry_after() -> None:
    gate = Gate()
    limits = RunLimits(max_background_runs=1, retry_after=3)
    with keyed(channel=ResponsesChannel(run_hook=gate), limits=limits) as running:
        alice = sdk(running, api_key="key-alice")
        first = alice.responses.create(model="m", input="one", background=True)
        assert gate.started.wait(30)
        try:
            with pytest.raises(openai.RateLimitError) as refused:
                alice.responses.create(model="m", input="two", background=True)
            # Runs alice waits on, and bob's background runs, are counted apart.
            assert alice.responses.create(model="m", input="now").status == "completed"
            bob = sdk(running, api_key="key-bob")
            assert bob.responses.create(model="m", input="b", background=True).status == "queued"
        finally:
            gate.release.set()
        settled(alice, first.id)
        assert alice.responses.create(model="m", input="three", background=True)
    assert refused.value.response.headers["retry-after"] == "3"
    assert refused.value.code == "rate_limit_exceeded"


def test_a_refused_background_run_leaves_nothing_stored() -> None:
    gate = Gate()
    limits = RunLimits(max_background_runs=1)
    with keyed(channel=ResponsesChannel(run_hook=gate), limits=limits) as running:
        alice = sdk(running, api_key="key-alice")
        conversation = alice.conversations.create()
        alice.responses.create(model="m", input="one", background=True)
        assert gate.started.wait(30)
        try:
            with pytest.raises(openai.RateLimitError):
                alice.responses.create(
                    model="m", input="two", background=True, conversation=conversation.id
                )
            items = alice.conversations.items.list(conversation.id)
        finally:
            gate.release.set()
    assert items.data == []


def test_runs_waited_on_past_the_limit_are_a_429_on_every_transport() -> None:
    gate = Gate()
    limits = RunLimits(max_concurrent_runs=1)
    with keyed(channel=ResponsesChannel(run_hook=gate), limits=limits) as running:
        alice = sdk(running, api_key="key-alice")
        holder = threading.Thread(target=lambda: alice.responses.create(model="m", input="holding"))
        holder.start()
        assert gate.started.wait(30)
        try:
            with pytest.raises(openai.RateLimitError):
                alice.responses.create(model="m", input="plain")
            with pytest.raises(openai.RateLimitError):
                alice.responses.create(model="m", input="streamed", stream=True)
            with connect(running, api_key="key-alice") as connection:
                connection.response.create(model="m", input="socket")
                error = refusal(turn(connection))
        finally:
            gate.release.set()
            holder.join()
        assert alice.responses.create(model="m", input="after").status == "completed"
    assert (error.status, error.error.code) == (429, "rate_limit_exceeded")
