"""The input boundary: each class of bad input is a 4xx in the OpenAI shape, and changes nothing.

One case per class the channel refuses: numbers JSON cannot carry, values of the wrong
kind where a string is looked up, nesting past the limit, unknown fields and enumerated
values inside items, invalid base64, a body that is not declared JSON, an answer to a
call the conversation never made. Each is refused on every path that takes it (plain,
streamed and background turns, compaction, the Conversations API, the WebSocket) before
anything is committed: no stored response, no session turn, no conversation item.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_framework import AgentResponseUpdate, Content, Message
from agent_framework_hosting import ISOLATION_HEADER_USER, HostedRunResult
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_responses import ResponsesChannel
from agent_framework_hosting_responses._render import SSEWriter  # pyright: ignore[reportPrivateUsage]

from ._clients import WEATHER, connect, refusal, sdk, serve, turn, user_item
from ._schema import sse_events

_minted: list[str] = []
_counter = itertools.count()


def _new_id() -> str:
    response_id = f"resp_boundary_{next(_counter)}"
    _minted.append(response_id)
    return response_id


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with serve(ResponsesChannel(response_id_factory=_new_id)) as running:
        yield running


def _deep(levels: int) -> Any:
    value: Any = {"type": "string"}
    for _ in range(levels):
        value = {"type": "object", "properties": {"x": value}}
    return value


def _tool(parameters: Any) -> Any:
    return {"type": "function", "name": "f", "parameters": parameters}


def _message(**fields: Any) -> Any:
    return {"type": "message", "role": "user", "content": "x", **fields}


def _part(**fields: Any) -> Any:
    return {"type": "message", "role": "user", "content": [{"text": "x", **fields}]}


def _image(url: str, **fields: Any) -> Any:
    part = {"type": "input_image", "image_url": url, **fields}
    return {"type": "message", "role": "user", "content": [part]}


PNG = "data:image/png;base64,iVBORw0KGgo="

# Raw bodies, as a client that does not check them sends them.
BAD: dict[str, tuple[bytes, str, str | None]] = {
    "1e400 in a tool's schema": (
        b'{"input": "hi", "tools": [{"type": "function", "name": "f", '
        b'"parameters": {"type": "number", "maximum": 1e400}}]}',
        "invalid_json",
        None,
    ),
    "a NaN literal": (b'{"input": "hi", "temperature": NaN}', "invalid_json", None),
    "an Infinity literal": (b'{"input": "hi", "metadata": {"a": Infinity}}', "invalid_json", None),
    "a part type that is a list": (
        json.dumps({"input": [_part(type=[])]}).encode(),
        "invalid_type",
        "input[0].content[0].type",
    ),
    "a part type that is an object": (
        json.dumps({"input": [_part(type={"a": 1})]}).encode(),
        "invalid_type",
        "input[0].content[0].type",
    ),
    "an item type that is a list": (
        json.dumps({"input": [{"type": [], "role": "user", "content": "x"}]}).encode(),
        "invalid_type",
        "input[0].type",
    ),
    "a role that is an object": (
        json.dumps({"input": [_message(role={})]}).encode(),
        "invalid_value",
        "input[0].role",
    ),
    "a tool schema nested past the limit": (
        json.dumps({"input": "hi", "tools": [_tool(_deep(200))]}).encode(),
        "nesting_too_deep",
        None,
    ),
    "an unknown field in an item": (
        json.dumps({"input": [_message(colour="red")]}).encode(),
        "unknown_parameter",
        "input[0].colour",
    ),
    "an unknown field in a part": (
        json.dumps({"input": [_part(type="input_text", colour="red")]}).encode(),
        "unknown_parameter",
        "input[0].content[0].colour",
    ),
    "an item status outside its values": (
        json.dumps({"input": [_message(status="AAA")]}).encode(),
        "invalid_value",
        "input[0].status",
    ),
    "an image detail outside its values": (
        json.dumps({"input": [_image(PNG, detail="max")]}).encode(),
        "invalid_value",
        "input[0].content[0].detail",
    ),
    "invalid base64 in a data URL": (
        json.dumps({"input": [_image("data:image/png;base64,@@not==b64")]}).encode(),
        "invalid_value",
        "input[0].content[0].image_url",
    ),
    "an unknown field in a conversation reference": (
        json.dumps({"input": "hi", "conversation": {"id": "conv_x", "more": 1}}).encode(),
        "unknown_parameter",
        "conversation.more",
    ),
    "an answer to a call the conversation never made": (
        json.dumps(
            {"input": [{"type": "function_call_output", "call_id": "call_none", "output": "1"}]}
        ).encode(),
        "invalid_value",
        "input[0]",
    ),
    "a body that is not an object": (b"[1, 2]", "invalid_type", None),
}


def _post(server: LoopbackServer, path: str, raw: bytes, user: str) -> httpx.Response:
    headers = {"content-type": "application/json", ISOLATION_HEADER_USER: user}
    return httpx.post(f"{server.base_url}{path}", content=raw, headers=headers, timeout=30)


def _openai_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]


def _with_mode(raw: bytes, mode: str) -> bytes:
    if mode == "plain" or not raw.startswith(b"{"):
        return raw
    flags = b'"stream": true, ' if mode == "stream" else b'"background": true, '
    return b"{" + flags + raw[1:]


@pytest.mark.parametrize("mode", ["plain", "stream", "background"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_turn_is_a_400_naming_the_field_and_leaves_nothing_behind(
    server: LoopbackServer, case: str, mode: str
) -> None:
    raw, code, param = BAD[case]
    user = f"{case} {mode}"
    minted = len(_minted)
    refused = _post(server, "/responses", _with_mode(raw, mode), user)
    error = _openai_error(refused)
    headers = {ISOLATION_HEADER_USER: user}
    stored = [
        httpx.get(f"{server.base_url}/responses/{rid}", headers=headers) for rid in _minted[minted:]
    ]
    after = sdk(server, user=user).responses.create(model="m", input="next")
    assert refused.status_code == 400
    assert (error["code"], error["param"]) == (code, param)
    assert [answer.status_code for answer in stored] == [404] * len(stored)
    assert after.output_text == "Echo: next (turn 1)"  # no session turn before it


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_turn_in_a_conversation_adds_no_item(server: LoopbackServer, case: str) -> None:
    raw, _code, _param = BAD[case]
    client = sdk(server, user="conversations")
    conversation = client.conversations.create(items=[user_item("kept")])
    if raw.startswith(b"{") and b'"conversation"' not in raw:
        raw = b'{"conversation": "' + conversation.id.encode() + b'", ' + raw[1:]
    refused = _post(server, "/responses", raw, "conversations")
    items = client.conversations.items.list(conversation.id)
    assert refused.status_code == 400
    _openai_error(refused)
    assert [item.type for item in items.data] == ["message"]


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (
            "/responses/compact",
            {"model": "m", "input": [_part(type=[])]},
            "input[0].content[0].type",
        ),
        ("/conversations", {"items": [_part(type=[])]}, "items[0].content[0].type"),
        ("/conversations", {"items": [_message(status="AAA")]}, "items[0].status"),
        ("/conversations", {"items": [_message(colour="red")]}, "items[0].colour"),
    ],
)
def test_other_bodies_with_bad_items_are_a_400_naming_the_field(
    server: LoopbackServer, path: str, body: Any, param: str
) -> None:
    refused = _post(server, path, json.dumps(body).encode(), "others")
    assert refused.status_code == 400
    assert _openai_error(refused)["param"] == param


def test_adding_bad_items_to_a_conversation_is_a_400_and_adds_nothing(
    server: LoopbackServer,
) -> None:
    client = sdk(server, user="adder")
    conversation = client.conversations.create()
    body = json.dumps({"items": [user_item("fine"), _part(type={"nested": True})]}).encode()
    refused = _post(server, f"/conversations/{conversation.id}/items", body, "adder")
    items = client.conversations.items.list(conversation.id)
    assert refused.status_code == 400
    assert _openai_error(refused)["param"] == "items[1].content[0].type"
    assert items.data == []


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_websocket_message_is_an_error_event_on_a_connection_that_stays_open(
    server: LoopbackServer, case: str
) -> None:
    raw, code, param = BAD[case]
    message = b'{"type": "response.create", ' + raw[1:] if raw.startswith(b"{") else raw
    with connect(server, user=f"ws {case}") as connection:
        connection.send_raw(message.decode())
        error = refusal(turn(connection))
        connection.response.create(input="still here")
        after = turn(connection)[-1]
    assert (error.status, error.error.code, error.error.param) == (400, code, param)
    assert after.type == "response.completed"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_declared_as_something_other_than_json_is_a_415(
    server: LoopbackServer, content_type: str
) -> None:
    response = httpx.post(
        f"{server.base_url}/responses",
        content=b'{"input": "hi"}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert _openai_error(response)["code"] == "unsupported_media_type"


def test_a_json_body_with_a_charset_or_a_json_suffix_is_accepted(server: LoopbackServer) -> None:
    for content_type in ["application/json; charset=utf-8", "application/vnd.test+json"]:
        response = httpx.post(
            f"{server.base_url}/responses",
            content=b'{"input": "hi"}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, (content_type, response.text)


@pytest.mark.parametrize("limit", ["\uff15", "\u0663", "1e1", " 5", "+5"])  # full-width, Arabic
def test_a_paging_limit_takes_ascii_digits_only(server: LoopbackServer, limit: str) -> None:
    created = sdk(server).responses.create(model="m", input="page me")
    response = httpx.get(
        f"{server.base_url}/responses/{created.id}/input_items", params={"limit": limit}
    )
    assert response.status_code == 400
    assert _openai_error(response)["param"] == "limit"


def test_a_body_that_is_not_an_object_has_a_code_on_every_path(server: LoopbackServer) -> None:
    conversation = sdk(server, user="codes").conversations.create()
    for path in [
        "/responses",
        "/responses/compact",
        "/conversations",
        f"/conversations/{conversation.id}",
        f"/conversations/{conversation.id}/items",
    ]:
        error = _openai_error(_post(server, path, b'"text"', "codes"))
        assert error["code"] == "invalid_type", path


def test_an_answer_to_a_call_of_the_previous_response_runs(server: LoopbackServer) -> None:
    client = sdk(server)
    asked = client.responses.create(model="m", input="get_weather in Paris", tools=[WEATHER])
    call = asked.output[-1]
    assert call.type == "function_call"
    answered = client.responses.create(
        model="m",
        previous_response_id=asked.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
    )
    assert answered.status == "completed"


def test_an_answer_to_a_call_of_another_response_is_a_400(server: LoopbackServer) -> None:
    client = sdk(server)
    asked = client.responses.create(model="m", input="get_weather in Paris", tools=[WEATHER])
    other = client.responses.create(model="m", input="unrelated")
    call = asked.output[-1]
    assert call.type == "function_call"
    answer = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}
    refused = httpx.post(
        f"{server.base_url}/responses",
        json={"previous_response_id": other.id, "input": [answer]},
    )
    assert refused.status_code == 400
    assert "No tool call found" in _openai_error(refused)["message"]


@pytest.mark.parametrize("store", [True, False])
def test_an_answer_to_the_header_conversations_last_call_runs(
    server: LoopbackServer, store: bool
) -> None:
    client = sdk(server, user=f"header answers {store}")
    asked = client.responses.create(
        model="m", input="get_weather in Paris", tools=[WEATHER], store=store
    )
    call = asked.output[-1]
    assert call.type == "function_call"
    answered = client.responses.create(
        model="m",
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER],
    )
    assert answered.status == "completed"


def test_an_answer_no_call_of_the_header_conversation_made_is_a_400(
    server: LoopbackServer,
) -> None:
    client = sdk(server, user="header strangers")
    client.responses.create(model="m", input="hello")
    answer = {"type": "function_call_output", "call_id": "call_none", "output": "sunny"}
    refused = _post(
        server, "/responses", json.dumps({"input": [answer]}).encode(), "header strangers"
    )
    assert refused.status_code == 400
    assert _openai_error(refused)["param"] == "input[0]"


def test_an_answer_with_its_call_in_the_same_input_runs(server: LoopbackServer) -> None:
    call = {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"}
    answer = {"type": "function_call_output", "call_id": "c1", "output": "sunny"}
    response = httpx.post(f"{server.base_url}/responses", json={"input": [call, answer]})
    assert response.status_code == 200, response.text


# What the host answers itself under the channel's paths, in the OpenAI shape.


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/responses/resp%0Aid", 404),
        ("GET", "/responses/resp%0Did/input_items", 404),
        ("DELETE", "/responses/a%0D%0Ab", 404),
        ("GET", "/conversations/conv%0Aid", 404),
        ("GET", "/conversations/conv%0Did/items/x%0A", 404),
        ("GET", "/responses/a/b/c", 404),
        ("GET", "/responses/resp_x/", 404),
        ("TRACE", "/responses", 405),
        ("PUT", "/responses", 405),
        ("GET", "/responses", 405),
        ("PATCH", "/conversations", 405),
        ("PUT", "/responses/resp_x", 405),
    ],
)
def test_routing_errors_are_in_the_openai_shape(
    server: LoopbackServer, method: str, path: str, status: int
) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", follow_redirects=False)
    assert response.status_code == status
    error = _openai_error(response)
    assert error["code"] == ("not_found" if status == 404 else "method_not_allowed")
    if status == 405:
        assert response.headers["allow"]


def test_a_404_from_routing_names_the_invalid_url_as_openai_does(server: LoopbackServer) -> None:
    response = httpx.get(f"{server.base_url}/responses/a/b")
    assert _openai_error(response)["message"] == "Invalid URL (GET /responses/a/b)."


# Early answers leave the keep-alive connection usable, with the client sending the
# body only after the answer (the order in which a server that skips the body breaks).


def _early_answer(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes
) -> http.client.HTTPResponse:
    connection.putrequest(method, path)
    connection.putheader("content-type", "application/json")
    connection.putheader("content-length", str(len(body)))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.send(body)
    return response


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/conversations/conv_unknown/items", b'{"items": []}', 404),
        ("POST", "/conversations/conv_unknown", b'{"metadata": {}}', 404),
        ("DELETE", "/responses/resp_unknown", b"{}", 404),
        ("PUT", "/responses", b'{"input": "x"}', 405),
        ("POST", "/responses", b'{"input": "' + b"x" * 2000 + b'"}', 413),
    ],
)
def test_the_connection_serves_the_next_request_after_an_early_error(
    method: str, path: str, body: bytes, status: int
) -> None:
    with serve(ResponsesChannel(max_body_bytes=1024)) as running:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        connection.connect()
        socket = connection.sock
        answered = _early_answer(connection, method, path, body).status
        connection.request("GET", "/readiness")
        ready = connection.getresponse().read()
        reused = connection.sock is socket
        connection.close()
    assert (answered, ready, reused) == (status, b"ok", True)


@pytest.mark.parametrize("body", [b'{"items": 5}', b"{not json", b'{"input": "x"}'])
def test_the_connection_serves_the_next_request_after_a_refused_body(body: bytes) -> None:
    with serve() as running:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        connection.request("POST", "/conversations", body, {"content-type": "application/json"})
        refused = connection.getresponse()
        refused.read()
        socket = connection.sock
        connection.request("GET", "/readiness")
        ready = connection.getresponse().read()
        reused = connection.sock is socket
        connection.close()
    assert (refused.status, ready, reused) == (400, b"ok", True)


# Every encoder refuses numbers JSON cannot carry.


def test_an_event_holding_a_non_finite_number_is_refused_before_it_takes_a_number() -> None:
    writer = SSEWriter()
    with pytest.raises(ValueError, match="JSON"):
        writer.event("response.output_text.delta", {"delta": float("inf")})
    assert writer.event("response.created", {}).startswith(
        b'event: response.created\ndata: {"type":"response.created","sequence_number":0}'
    )


def _nan_call(update: AgentResponseUpdate) -> AgentResponseUpdate:
    call = Content.from_function_call(call_id="c", name="f", arguments={"x": float("nan")})
    return AgentResponseUpdate(contents=[*update.contents, call], role="assistant")


def _nan_result(result: HostedRunResult, **_: Any) -> HostedRunResult:
    call = Content.from_function_call(call_id="c", name="f", arguments={"x": float("nan")})
    result.result.messages.append(Message("assistant", [call]))
    return result


def test_an_output_json_cannot_carry_fails_the_turn_and_is_not_stored() -> None:
    channel = ResponsesChannel(response_hook=_nan_result, response_id_factory=_new_id)
    with serve(channel) as running:
        minted = len(_minted)
        response = httpx.post(f"{running.base_url}/responses", json={"input": "hi"})
        stored = httpx.get(f"{running.base_url}/responses/{_minted[minted]}")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert stored.status_code == 404


def test_a_streamed_output_json_cannot_carry_fails_the_turn_with_valid_events() -> None:
    with serve(ResponsesChannel(stream_update_hook=_nan_call)) as running:
        response = httpx.post(
            f"{running.base_url}/responses",
            json={"input": "hi", "stream": True, "tools": [WEATHER]},
        )
        events = sse_events(response.text)
    assert [event["type"] for event in events][-2:] == ["error", "response.failed"]
