"""Generated bad input over a real server: never a 5xx, always the A2A error shape.

Each property sends what hypothesis generates, on both transports — random JSON, a wrong
value in each field of the JSON-RPC envelope, of each method's params and of a message
and its parts, numbers JSON cannot carry, deep nesting, huge strings, bytes that are not
UTF-8, other content types, odd task and config ids in REST paths and odd queries — and
checks every answer: below 500; a JSON-RPC error object with a code in the reserved
range, or an HTTP+JSON error body ``{"error": {"code", "status", "message", "details"}}``,
when it is not a success; a success (and every streamed event) parsed as the protocol
message its method answers. Around each property, a task completed before reads back
unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from a2a.types.a2a_pb2 import (
    AgentCard,
    ListTaskPushNotificationConfigsResponse,
    ListTasksResponse,
    SendMessageResponse,
    StreamResponse,
    Task,
    TaskPushNotificationConfig,
)
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import (
    BAD_INPUT_PROFILE,
    LoopbackServer,
    OfflineChatClient,
    header_text,
    json_values,
    not_utf8,
    odd_text,
    path_segment,
    server_sent_events,
    unsendable_json,
    url_text,
)
from agent_framework_hosting_a2a import A2AChannel
from google.protobuf.empty_pb2 import Empty
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message as ProtoMessage
from hypothesis import example, given
from hypothesis import strategies as st

ENVELOPE = ["jsonrpc", "id", "method", "params"]
MESSAGE_FIELDS = [
    "messageId",
    "role",
    "parts",
    "contextId",
    "taskId",
    "metadata",
    "extensions",
    "referenceTaskIds",
]
PART_FIELDS = ["text", "raw", "url", "data", "mediaType", "filename", "metadata"]
SEND_FIELDS = ["message", "configuration", "metadata", "tenant"]
CONFIGURATION_FIELDS = [
    "acceptedOutputModes",
    "historyLength",
    "returnImmediately",
    "taskPushNotificationConfig",
]
values = json_values(
    [*ENVELOPE, *MESSAGE_FIELDS, *PART_FIELDS, *SEND_FIELDS, *CONFIGURATION_FIELDS, "id", "url"]
)

ANSWERS: dict[str, type[ProtoMessage]] = {
    "SendMessage": SendMessageResponse,
    "SendStreamingMessage": StreamResponse,
    "SubscribeToTask": StreamResponse,
    "GetTask": Task,
    "ListTasks": ListTasksResponse,
    "CancelTask": Task,
    "CreateTaskPushNotificationConfig": TaskPushNotificationConfig,
    "GetTaskPushNotificationConfig": TaskPushNotificationConfig,
    "ListTaskPushNotificationConfigs": ListTaskPushNotificationConfigsResponse,
    "DeleteTaskPushNotificationConfig": Empty,
    "GetExtendedAgentCard": AgentCard,
}
"""The protocol message each JSON-RPC method answers with."""

REST_ROUTES: list[tuple[str, str, type[ProtoMessage]]] = [
    ("POST", "/message:send", SendMessageResponse),
    ("POST", "/message:stream", StreamResponse),
    ("GET", "/tasks/{}", Task),
    ("POST", "/tasks/{}:cancel", Task),
    ("GET", "/tasks/{}:subscribe", StreamResponse),
    ("POST", "/tasks/{}:subscribe", StreamResponse),
    ("POST", "/tasks/{}/pushNotificationConfigs", TaskPushNotificationConfig),
    ("GET", "/tasks/{}/pushNotificationConfigs", ListTaskPushNotificationConfigsResponse),
    ("GET", "/tasks/{}/pushNotificationConfigs/{}", TaskPushNotificationConfig),
    ("DELETE", "/tasks/{}/pushNotificationConfigs/{}", Empty),
    ("GET", "/tasks", ListTasksResponse),
    ("GET", "/extendedAgentCard", AgentCard),
]
"""The HTTP+JSON routes under the channel's path, and the protocol message each answers."""


@dataclass(frozen=True)
class Stored:
    """The running host, and a task completed before the properties ran, as it read."""

    server: LoopbackServer
    task_id: str
    task: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.base_url + "/a2a"


def read_task(server: LoopbackServer, task_id: str) -> Any:
    """A task with its whole history, over HTTP+JSON."""
    response = httpx.get(f"{server.base_url}/a2a/tasks/{task_id}", params={"historyLength": 100})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def stored() -> Iterator[Stored]:
    agent = Agent(client=OfflineChatClient(), name="helper")
    host = AgentFrameworkHost(agent, channels=[A2AChannel()])
    with LoopbackServer(host.app) as server:
        message = {"messageId": "kept-1", "role": "ROLE_USER", "parts": [{"text": "kept"}]}
        sent = httpx.post(f"{server.base_url}/a2a/message:send", json={"message": message})
        assert sent.status_code == 200, sent.text
        task = sent.json()["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED", task
        yield Stored(server, task["id"], read_task(server, task["id"]))


@pytest.fixture(autouse=True)
def the_stored_task_is_unchanged(stored: Stored) -> Iterator[None]:
    yield
    assert read_task(stored.server, stored.task_id) == stored.task


def post(stored: Stored, path: str, content: bytes, content_type: str = "application/json") -> Any:
    return httpx.post(
        stored.url + path, content=content, headers={"content-type": content_type}, timeout=30
    )


def post_json(stored: Stored, path: str, body: Any) -> httpx.Response:
    # ensure_ascii keeps lone surrogates sendable, as \ud800 escapes.
    return post(stored, path, json.dumps(body).encode())


def sse_data(text: str) -> list[tuple[str, Any]]:
    """Each event of an SSE body: its name (``message`` by default) and its JSON data."""
    return [(event.event, json.loads(event.data)) for event in server_sent_events(text)]


def parses_as(value: Any, kind: type[ProtoMessage]) -> None:
    """``value`` is the JSON form of a ``kind`` (unknown fields included: none are allowed)."""
    assert isinstance(value, dict), value
    ParseDict(cast("dict[str, Any]", value), kind())


def check_jsonrpc_error(message: Any) -> None:
    assert set(message) == {"jsonrpc", "id", "error"}, message
    error = message["error"]
    assert set(error) == {"code", "message", "data"}, error
    assert type(error["code"]) is int, error
    assert -32768 <= error["code"] <= -32000, error
    assert isinstance(error["message"], str), error
    assert error["message"]
    check_details(error["data"])


def check_rest_error(body: Any, status: int) -> None:
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "status", "message", "details"}, error
    assert error["code"] == status, (error, status)
    assert isinstance(error["status"], str), error
    assert error["status"].isupper(), error
    assert isinstance(error["message"], str), error
    assert error["message"]
    check_details(error["details"])


def check_details(details: Any) -> None:
    assert isinstance(details, list), details
    for detail in cast("list[Any]", details):
        assert detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo", detail
        assert isinstance(detail["reason"], str), detail
        assert detail["domain"] == "a2a-protocol.org", detail


def check_jsonrpc(response: httpx.Response, method: Any) -> None:
    """Below 500; JSON-RPC errors in the reserved range; results the method's message."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    content_type = response.headers.get("content-type", "")
    answer = ANSWERS.get(method) if isinstance(method, str) else None
    if content_type.startswith("text/event-stream"):
        assert response.status_code == 200
        assert answer is StreamResponse, (method, response.text)
        for _, message in sse_data(response.text):
            assert message["jsonrpc"] == "2.0", message
            if "error" in message:
                check_jsonrpc_error(message)
            else:
                assert set(message) == {"jsonrpc", "id", "result"}, message
                parses_as(message["result"], StreamResponse)
        return
    assert content_type.startswith("application/json"), (response.status_code, response.text)
    message = response.json()
    assert message["jsonrpc"] == "2.0", message
    if response.status_code != 200 or "error" in message:
        check_jsonrpc_error(message)
        return
    assert set(message) == {"jsonrpc", "id", "result"}, message
    assert answer is not None, (method, message)
    if answer is Empty and message["result"] is None:
        return  # the channel answers a deleted push config with a null result
    parses_as(message["result"], answer)


def check_rest(response: httpx.Response, answer: type[ProtoMessage] | None) -> None:
    """Below 500; errors the HTTP+JSON error body; successes the route's message."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        assert response.status_code == 200
        assert answer is StreamResponse, response.text
        for name, data in sse_data(response.text):
            if name == "error":
                check_rest_error(data, data["error"]["code"])
            else:
                parses_as(data, StreamResponse)
        return
    assert content_type.startswith("application/json"), (response.status_code, response.text)
    body = response.json()
    if response.status_code >= 400:
        check_rest_error(body, response.status_code)
        return
    assert response.status_code == 200, response.text
    assert answer is not None, response.text
    parses_as(body, answer)


def test_random_json_rpc_bodies(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(body={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "\ud800": None})
    @example(body=[{"jsonrpc": "2.0", "id": 1, "method": "ListTasks"}])
    @given(body=values)
    def send(body: Any) -> None:
        method = cast("dict[str, Any]", body).get("method") if isinstance(body, dict) else None
        check_jsonrpc(post_json(stored, "", body), method)

    send()


def test_a_wrong_value_in_each_envelope_field(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(method="ListTasks", field="id", value=1.5)
    @example(method="ListTasks", field="id", value=True)
    @example(method="ListTasks", field="jsonrpc", value="1.0")
    @given(method=st.sampled_from(sorted(ANSWERS)), field=st.sampled_from(ENVELOPE), value=values)
    def send(method: str, field: str, value: Any) -> None:
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {}, field: value}
        check_jsonrpc(post_json(stored, "", body), body["method"])

    send()


def test_random_params_of_each_method(stored: Stored) -> None:
    ids = st.sampled_from(["no-such-task", stored.task_id]) | odd_text
    params = values | st.fixed_dictionaries(
        {},
        optional={
            "id": ids | values,
            "taskId": ids | values,
            "historyLength": st.integers() | values,
            "pageSize": st.integers() | values,
            "pageToken": values,
            "contextId": values,
            "status": values,
            "includeArtifacts": values,
            "url": st.just("http://127.0.0.1:9/hook") | values,
        },
    )

    @BAD_INPUT_PROFILE
    @example(method="GetTask", params={"id": stored.task_id, "historyLength": -1})
    @example(method="ListTasks", params={"pageSize": 2**40})
    @example(method="CancelTask", params={"id": stored.task_id})
    @given(method=st.sampled_from(sorted(ANSWERS)), params=params)
    def send(method: str, params: Any) -> None:
        body = {"jsonrpc": "2.0", "id": "call", "method": method, "params": params}
        check_jsonrpc(post_json(stored, "", body), method)

    send()


def _messages(stored: Stored) -> st.SearchStrategy[Any]:
    parts = st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "text": odd_text | values,
                "raw": st.sampled_from(["aGk=", "%%%"]) | values,
                "url": st.sampled_from(["https://example.com/a.png", "file:///etc"]) | values,
                "data": values,
                "mediaType": st.sampled_from(["image/png", "text/plain"]) | values,
                "filename": values,
                "metadata": values,
            },
        )
        | values,
        max_size=3,
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "messageId": odd_text | values,
            "role": st.sampled_from(["ROLE_USER", "ROLE_AGENT", "ROLE_UNSPECIFIED", "user"])
            | values,
            "parts": parts | values,
            "contextId": odd_text | values,
            "taskId": st.sampled_from([stored.task_id, "no-such-task"]) | values,
            "metadata": values,
            "extensions": values,
            "referenceTaskIds": values,
        },
    )


def _configurations() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "acceptedOutputModes": st.lists(st.sampled_from(["text/plain", "image/png"])) | values,
            "historyLength": st.integers() | values,
            "returnImmediately": values,
            "taskPushNotificationConfig": values,
        },
    )


def test_random_messages_and_parts_on_both_transports(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(
        message={"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
        configuration={"historyLength": -5},
        method="SendMessage",
    )
    @example(
        message={"messageId": "m", "role": "ROLE_USER", "taskId": stored.task_id, "parts": []},
        configuration={},
        method="SendStreamingMessage",
    )
    @given(
        message=_messages(stored) | values,
        configuration=_configurations() | values,
        method=st.sampled_from(["SendMessage", "SendStreamingMessage"]),
    )
    def send(message: Any, configuration: Any, method: str) -> None:
        params = {"message": message, "configuration": configuration}
        body = {"jsonrpc": "2.0", "id": 5, "method": method, "params": params}
        check_jsonrpc(post_json(stored, "", body), method)
        route = "/message:send" if method == "SendMessage" else "/message:stream"
        answer = SendMessageResponse if method == "SendMessage" else StreamResponse
        check_rest(post_json(stored, route, params), answer)

    send()


def test_random_rest_bodies(stored: Stored) -> None:
    posts = [(path, answer) for method, path, answer in REST_ROUTES if method == "POST"]

    @BAD_INPUT_PROFILE
    @example(route=("/message:send", SendMessageResponse), body={"message": {"parts": "x"}})
    @given(route=st.sampled_from(posts), body=values)
    def send(route: tuple[str, type[ProtoMessage]], body: Any) -> None:
        path, answer = route
        path = path.format(*[path_segment(stored.task_id)] * path.count("{}"))
        check_rest(post_json(stored, path, body), answer)

    send()


def test_odd_and_huge_strings(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(text="a\u2028b\x85c", repeat=1, where="text")
    @given(
        text=odd_text,
        repeat=st.sampled_from([1, 1000, 100_000]),
        where=st.sampled_from(["text", "messageId", "contextId", "method", "id"]),
    )
    def send(text: str, repeat: int, where: str) -> None:
        value = text * repeat
        part: dict[str, Any] = {"text": "hello"}
        message: dict[str, Any] = {"messageId": "m", "role": "ROLE_USER", "parts": [part]}
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 9, "method": "SendMessage"}
        if where == "text":
            part["text"] = value
        elif where in ("messageId", "contextId"):
            message[where] = value
        else:
            body[where] = value
        body["params"] = {"message": message}
        check_jsonrpc(post_json(stored, "", body), body["method"])
        check_rest(post_json(stored, "/message:send", body["params"]), SendMessageResponse)

    send()


def test_bodies_that_are_not_utf8_json(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @given(content=not_utf8 | unsendable_json, path=st.sampled_from(["", "/message:send"]))
    def send(content: bytes, path: str) -> None:
        response = post(stored, path, content)
        assert 400 <= response.status_code < 500, response.text
        if path:
            check_rest(response, None)
        else:
            check_jsonrpc(response, None)

    send()


def test_other_content_types(stored: Stored) -> None:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks"}).encode()

    @BAD_INPUT_PROFILE
    @given(
        content_type=st.sampled_from(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "json"]
        )
        | header_text,
        path=st.sampled_from(["", "/message:send"]),
    )
    def send(content_type: str, path: str) -> None:
        response = post(stored, path, call, content_type)
        if path:
            check_rest(response, SendMessageResponse)
        else:
            check_jsonrpc(response, "ListTasks")

    send()


def test_odd_ids_in_rest_paths_and_odd_queries(stored: Stored) -> None:
    ids = url_text.filter(bool) | st.sampled_from(
        ["%00", "a/b", "..", "no-such-task", "x" * 10_000, stored.task_id]
    )
    query_keys = st.sampled_from(
        ["historyLength", "pageSize", "pageToken", "contextId", "status", "includeArtifacts"]
    )
    query_values = (
        st.sampled_from(["-1", "0", "1e3", "true", "TASK_STATE_COMPLETED", "٣", "99999999999"])
        | st.integers().map(str)
        | url_text
    )

    @BAD_INPUT_PROFILE
    @example(route=("GET", "/tasks/{}", Task), task_id="a/b", query=[])
    @example(route=("GET", "/tasks/{}", Task), task_id="..", query=[])
    @example(route=("POST", "/tasks/{}:cancel", Task), task_id=stored.task_id, query=[])
    @example(route=("GET", "/tasks", ListTasksResponse), task_id="", query=[("pageSize", "0")])
    @given(
        route=st.sampled_from(REST_ROUTES),
        task_id=ids,
        query=st.lists(st.tuples(query_keys | url_text, query_values), max_size=3),
    )
    def send(
        route: tuple[str, str, type[ProtoMessage]], task_id: str, query: list[tuple[str, str]]
    ) -> None:
        method, template, answer = route
        quoted = path_segment(task_id)
        path = template.format(*[quoted] * template.count("{}"))
        params: list[tuple[str, str | int | float | bool | None]] = [
            (key, value) for key, value in query
        ]
        content = b"{}" if method == "POST" else None
        response = httpx.request(
            method,
            stored.url + path,
            params=params,
            content=content,
            headers={"content-type": "application/json"},
            timeout=30,
        )
        check_rest(response, answer)

    send()
