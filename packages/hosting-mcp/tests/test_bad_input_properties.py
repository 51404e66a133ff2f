"""Generated bad input over a real server: never a 5xx, always a JSON-RPC error.

Each property sends what hypothesis generates to the endpoint — random JSON, a wrong
value in each field of the JSON-RPC envelope and of each method's params, random
arguments and attachments for the agent tool, numbers JSON cannot carry, deep nesting,
huge strings, bytes that are not UTF-8, other content types, odd session ids, protocol
versions and paths — and checks every answer: below 500, a JSON-RPC error object with a
code in the reserved range when it is not a success, and a JSON-RPC result when it is.
Around each property, a conversation stored before keeps exactly its turns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import (
    BAD_INPUT_PROFILE,
    LoopbackServer,
    header_text,
    json_values,
    not_utf8,
    odd_text,
    path_segment,
    server_sent_events,
    unsendable_json,
    url_text,
)
from agent_framework_hosting_mcp import MCPChannel
from hypothesis import example, given
from hypothesis import strategies as st
from mcp_harness import offline_agent

VERSION = "2025-11-25"
KEPT = "kept-conversation-before-the-properties"
ENVELOPE = ["jsonrpc", "id", "method", "params"]
METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "prompts/list",
    "logging/setLevel",
    "completion/complete",
    "notifications/initialized",
    "notifications/cancelled",
]
TOOL_ARGUMENTS = ["message", "attachments", "conversation_id", "answers"]
values = json_values([*ENVELOPE, "name", "arguments", "_meta", *TOOL_ARGUMENTS])


@dataclass
class Endpoint:
    """The running endpoint, an open session's headers, and the kept conversation's turns."""

    server: LoopbackServer
    session: dict[str, str]
    kept_turns: int = 1

    @property
    def url(self) -> str:
        return self.server.base_url + "/mcp"


def post(
    endpoint: Endpoint, content: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        endpoint.url, content=content, headers={**endpoint.session, **(headers or {})}, timeout=30
    )


def post_json(endpoint: Endpoint, body: Any, headers: dict[str, str] | None = None) -> Any:
    # ensure_ascii keeps lone surrogates sendable, as \ud800 escapes.
    return post(endpoint, json.dumps(body).encode(), headers)


def messages_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an answer, in JSON or as server-sent events."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [json.loads(event.data) for event in server_sent_events(response.text)]
    return [response.json()]


def check(response: httpx.Response) -> None:
    """Below 500; every answer a JSON-RPC message; every error in the reserved code range."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.status_code == 202:
        assert not response.content, response.text
        return
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(("application/json", "text/event-stream")), (
        response.status_code,
        content_type,
        response.text,
    )
    messages = messages_of(response)
    assert messages, response.text
    for message in messages:
        assert message["jsonrpc"] == "2.0", message
        if "method" in message:  # a notification of the server's, such as progress
            assert isinstance(message["method"], str)
            continue
        assert message["id"] is None or isinstance(message["id"], str | int), message
        if response.status_code >= 400:
            assert set(message) == {"jsonrpc", "id", "error"}, message
        assert ("error" in message) != ("result" in message), message
        if "error" in message:
            error = message["error"]
            assert set(error) <= {"code", "message", "data"}, error
            assert type(error["code"]) is int, error
            assert -32768 <= error["code"] <= -32000, error
            assert isinstance(error["message"], str), error
            assert error["message"]
        else:
            assert isinstance(message["result"], dict), message


def call_kept(endpoint: Endpoint, text: str) -> str:
    """Call the agent tool in the kept conversation; the reply's text."""
    arguments = {"message": text, "conversation_id": KEPT}
    params = {"name": "helper", "arguments": arguments}
    response = post_json(
        endpoint, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    )
    check(response)
    result = next(message for message in messages_of(response) if "result" in message)["result"]
    assert not result.get("isError"), result
    return "".join(block["text"] for block in result["content"] if block["type"] == "text")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    host = AgentFrameworkHost(offline_agent(), channels=[MCPChannel()])
    with LoopbackServer(host.app) as server:
        accept = {"accept": "application/json, text/event-stream"}
        headers = {**accept, "content-type": "application/json"}
        initialize = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": VERSION,
                "capabilities": {},
                "clientInfo": {"name": "properties", "version": "1"},
            },
        }
        opened = httpx.post(server.base_url + "/mcp", json=initialize, headers=headers)
        session = {
            **headers,
            "mcp-protocol-version": VERSION,
            "mcp-session-id": opened.headers["mcp-session-id"],
        }
        running = Endpoint(server, session)
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert post_json(running, initialized).status_code == 202
        assert call_kept(running, "first") == "Echo: first (turn 1)"
        yield running


@pytest.fixture(autouse=True)
def the_kept_conversation_keeps_its_turns(endpoint: Endpoint) -> Iterator[None]:
    yield
    endpoint.kept_turns += 1
    assert call_kept(endpoint, "again") == f"Echo: again (turn {endpoint.kept_turns})"


def test_random_json_bodies(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @example(body={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "\ud800": None})
    @example(body=[{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    @given(body=values)
    def send(body: Any) -> None:
        check(post_json(endpoint, body))

    send()


def test_a_wrong_value_in_each_envelope_field(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @example(method="ping", field="id", value=1.5)
    @example(method="tools/list", field="id", value=True)
    @example(method="tools/list", field="jsonrpc", value="1.0")
    @given(
        method=st.sampled_from(METHODS),
        field=st.sampled_from(ENVELOPE),
        value=values,
    )
    def send(method: str, field: str, value: Any) -> None:
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {}, field: value}
        check(post_json(endpoint, body))

    send()


def test_random_params_of_each_method(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @example(method="tools/call", params={"name": ["helper"]})
    @example(method="initialize", params={"protocolVersion": 2025})
    @given(method=st.sampled_from(METHODS), params=values)
    def send(method: str, params: Any) -> None:
        body = {"jsonrpc": "2.0", "id": "call", "method": method, "params": params}
        check(post_json(endpoint, body))

    send()


def test_random_arguments_of_the_agent_tool_and_the_commands(endpoint: Endpoint) -> None:
    attachments = st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "data": st.sampled_from(["aGk=", "%%%", ""]) | values,
                "mimeType": st.sampled_from(["image/png", "audio/wav", "x"]) | values,
                "name": values,
            },
        )
        | values,
        max_size=3,
    )
    arguments = st.fixed_dictionaries(
        {},
        optional={
            "message": odd_text | values,
            "attachments": attachments | values,
            "conversation_id": odd_text | st.just("x" * 300) | values,
            "answers": values,
        },
    )

    @BAD_INPUT_PROFILE
    @example(tool="helper", arguments={"message": "hi", "attachments": [{"data": "%%%"}]})
    @example(tool="helper", arguments={"message": "hi", "conversation_id": "\ud800"})
    @example(tool="reset", arguments={"conversation_id": 5})
    @given(
        tool=st.sampled_from(["helper", "new", "reset"]) | odd_text,
        arguments=arguments | values,
    )
    def send(tool: str, arguments: Any) -> None:
        params = {"name": tool, "arguments": arguments}
        body = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}
        check(post_json(endpoint, body))

    send()


def test_odd_and_huge_strings(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @example(text="a\u2028b\x85c", repeat=1, where="message")
    @given(
        text=odd_text,
        repeat=st.sampled_from([1, 1000, 100_000]),
        where=st.sampled_from(["message", "conversation_id", "method", "id", "name"]),
    )
    def send(text: str, repeat: int, where: str) -> None:
        value = text * repeat
        arguments: dict[str, Any] = {"message": "hello"}
        params: dict[str, Any] = {"name": "helper", "arguments": arguments}
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 9, "method": "tools/call"}
        if where in ("message", "conversation_id"):
            arguments[where] = value
        elif where == "name":
            params["name"] = value
        else:
            body[where] = value
        body["params"] = params
        check(post_json(endpoint, body))

    send()


def test_bodies_that_are_not_utf8_json(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @given(content=not_utf8 | unsendable_json, session=st.booleans())
    def send(content: bytes, session: bool) -> None:
        headers = None if session else {"mcp-session-id": ""}
        response = post(endpoint, content, headers)
        assert 400 <= response.status_code < 500, response.text
        check(response)

    send()


def test_other_content_types(endpoint: Endpoint) -> None:
    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()

    @BAD_INPUT_PROFILE
    @given(
        content_type=st.sampled_from(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "json"]
        )
        | header_text,
    )
    def send(content_type: str) -> None:
        response = post(endpoint, request, {"content-type": content_type})
        check(response)

    send()


def test_odd_session_ids_versions_and_paths(endpoint: Endpoint) -> None:
    @BAD_INPUT_PROFILE
    @example(header="mcp-session-id", value="../..", path="", method="POST")
    @example(header="mcp-protocol-version", value="2026-07-28", path="", method="POST")
    @example(header="last-event-id", value="x", path="", method="POST")
    @given(
        header=st.sampled_from(["mcp-session-id", "mcp-protocol-version", "last-event-id"]),
        value=header_text,
        path=st.just("") | url_text.map(lambda text: "/" + path_segment(text)),
        method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    )
    def send(header: str, value: str, path: str, method: str) -> None:
        headers = {**endpoint.session, header: value}
        if method == "DELETE" and header != "mcp-session-id":
            headers["mcp-session-id"] = "not-the-open-session"  # which a DELETE would end
        if method == "GET":
            headers["accept"] = "text/event-stream"
        ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
        # A GET that opens the session's stream is served until the client leaves.
        with httpx.stream(
            method,
            endpoint.url + path,
            content=ping if method in ("POST", "PUT") else None,
            headers=headers,
            timeout=30,
        ) as response:
            if response.status_code == 200 and method == "GET":
                return
            response.read()
        check(response)

    send()
