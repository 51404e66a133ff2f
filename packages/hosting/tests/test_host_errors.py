"""Errors the host answers itself: in the shape of the channel that owns the path.

Routing (404, 405), the framework's ``HTTPException``s and unexpected failures are
answered with the renderer a channel contributes for its path and its mounts, the
host's plain JSON elsewhere; a client gone mid-upload ends the exchange quietly.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
from typing import Any

import httpx
import pytest
from agent_framework import Agent
from agent_framework_hosting import (
    AgentFrameworkHost,
    ChannelContribution,
    HostError,
    json_response,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message


def _shaped(error: HostError) -> Response:
    problem = {"status": error.status, "kind": error.code, "text": error.message}
    return json_response({"problem": problem}, status_code=error.status)


async def _refuse(_request: Request) -> Response:
    raise HTTPException(400, "The widget is upside down.")


async def _gone(_request: Request) -> Response:
    raise HTTPException(404, "The widget is gone.")


async def _fail(_request: Request) -> Response:
    raise RuntimeError("internal-detail-5c1e")


async def _read(request: Request) -> Response:
    return json_response({"read": len(await request.body())})


async def _sibling(_request: Request) -> Response:
    return json_response({"sibling": True})


class _ShapedChannel:
    """A channel whose errors look like ``{"problem": {"status", "kind", "text"}}``."""

    name = "shaped"

    def __init__(self, path: str = "/shaped", *, renderer: Any = _shaped) -> None:
        self.path = path
        self._renderer = renderer

    def contribute(self, context: Any) -> ChannelContribution:
        return ChannelContribution(
            routes=[
                Route("/", _read, methods=["POST"]),
                Route("/refuse", _refuse, methods=["POST"]),
                Route("/fail", _fail, methods=["POST"]),
                Route("/gone", _gone, methods=["GET"]),
                Route("/items/{item_id}", _read, methods=["GET"]),
                Route("/items/{item_id}", _read, methods=["DELETE"]),
            ],
            mounts={"/siblings": [Route("/{name}", _sibling, methods=["GET"])]},
            error_response=self._renderer,
        )


def _serve(*channels: Any) -> LoopbackServer:
    agent = Agent(client=OfflineChatClient())
    return LoopbackServer(AgentFrameworkHost(agent, channels=list(channels)).app)


@pytest.fixture(scope="module")
def server() -> Any:
    with _serve(_ShapedChannel()) as running:
        yield running


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    return response.json()["problem"]


def test_an_unknown_path_under_a_channel_is_its_404(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/shaped/nowhere/at/all")
    assert response.status_code == 404
    assert _problem(response)["kind"] == "not_found"


def test_an_unknown_path_under_a_channels_mount_is_its_404(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/siblings/a/b")
    assert (response.status_code, _problem(response)["kind"]) == (404, "not_found")


def test_a_wrong_method_is_the_channels_405_naming_the_allowed_ones(
    server: LoopbackServer,
) -> None:
    response = httpx.put(f"{server.base_url}/shaped", content=b"{}")
    assert response.status_code == 405
    assert _problem(response)["kind"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


def test_a_405_names_the_methods_of_every_route_at_the_path(server: LoopbackServer) -> None:
    response = httpx.put(f"{server.base_url}/shaped/items/a", content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD"
    text = _problem(response)["text"]
    assert text == "PUT is not allowed on /shaped/items/a; allowed: DELETE, GET, HEAD."


def test_trace_is_the_channels_405(server: LoopbackServer) -> None:
    response = httpx.request("TRACE", f"{server.base_url}/shaped")
    assert (response.status_code, _problem(response)["kind"]) == (405, "method_not_allowed")


@pytest.mark.parametrize("escape", ["%0A", "%0D", "%0D%0A", "%00"])
def test_an_id_with_a_control_character_is_the_channels_404(
    server: LoopbackServer, escape: str
) -> None:
    response = httpx.get(f"{server.base_url}/shaped/items/a{escape}b/more")
    assert (response.status_code, _problem(response)["kind"]) == (404, "not_found")


def test_a_trailing_slash_is_answered_not_redirected(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/shaped/items/one/", follow_redirects=False)
    assert (response.status_code, _problem(response)["kind"]) == (404, "not_found")


def test_a_frameworks_http_exception_is_in_the_channels_shape(server: LoopbackServer) -> None:
    response = httpx.post(f"{server.base_url}/shaped/refuse")
    assert response.status_code == 400
    assert _problem(response) == {
        "status": 400,
        "kind": "invalid_request",
        "text": "The widget is upside down.",
    }


def test_a_handlers_own_404_keeps_its_message(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/shaped/gone")
    assert (response.status_code, _problem(response)["text"]) == (404, "The widget is gone.")


def test_an_unexpected_failure_is_the_channels_500_without_internals(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="agent_framework.hosting"):
        response = httpx.post(f"{server.base_url}/shaped/fail")
    assert (response.status_code, _problem(response)["kind"]) == (500, "server_error")
    assert "internal-detail" not in response.text
    assert "internal-detail-5c1e" in caplog.text


def test_a_path_no_channel_claims_is_the_hosts_plain_json(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/elsewhere")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Nothing is served at GET /elsewhere."}
    }


def test_a_channel_without_a_renderer_gets_the_hosts_plain_json() -> None:
    with _serve(_ShapedChannel(renderer=None)) as running:
        response = httpx.get(f"{running.base_url}/shaped/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_channel_at_the_root_answers_for_unclaimed_paths() -> None:
    with _serve(_ShapedChannel(path="")) as running:
        response = httpx.get(f"{running.base_url}/anything/else")
    assert (response.status_code, _problem(response)["kind"]) == (404, "not_found")


def test_a_client_gone_mid_upload_ends_the_exchange_quietly() -> None:
    """The app returns instead of raising, so the server has no traceback to log."""
    host = AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[_ShapedChannel()])
    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"partial', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/shaped",
        "raw_path": b"/shaped",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-length", b"1000"), (b"host", b"test")],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
        "state": {},
    }
    asyncio.run(host.app(scope, receive, send))
    assert sent == []


# One connection, two requests: an answer given before the body was read must not cost
# the client its connection, even when the client sends the body only after the answer.


def _connection(server: LoopbackServer) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.connect()
    return connection


def _body_after_answer(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes
) -> http.client.HTTPResponse:
    """Send the headers, read the answer, then send the body."""
    connection.putrequest(method, path)
    connection.putheader("content-type", "application/json")
    connection.putheader("content-length", str(len(body)))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.send(body)
    return response


def _exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes
) -> http.client.HTTPResponse:
    connection.request(method, path, body=body, headers={"content-type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/shaped/nowhere", 404),
        ("PUT", "/shaped", 405),
        ("POST", "/shaped/refuse", 400),
        ("POST", "/shaped/fail", 500),
    ],
)
def test_the_connection_serves_a_second_request_after_an_early_answer(
    server: LoopbackServer, method: str, path: str, status: int
) -> None:
    connection = _connection(server)
    socket = connection.sock
    first = _body_after_answer(connection, method, path, b'{"text": "' + b"x" * 20_000 + b'"}')
    second = _exchange(connection, "POST", "/shaped", b'{"text": "again"}')
    reused = connection.sock is socket
    connection.close()
    assert (first.status, second.status) == (status, 200)
    assert first.getheader("connection") is None
    assert reused


def test_a_body_declared_larger_than_the_drain_limit_closes_the_connection_explicitly(
    server: LoopbackServer,
) -> None:
    connection = _connection(server)
    connection.putrequest("POST", "/shaped/nowhere")
    connection.putheader("content-length", str(64 * 1024 * 1024))
    connection.endheaders(b"{}")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 404
    assert response.getheader("connection") == "close"
